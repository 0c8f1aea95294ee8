"""Publishing to the Hugging Face Hub: models with their cards, datasets and the Space."""
