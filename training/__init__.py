"""Dataset builders, model definitions, training and evaluation for FaceDemo."""
