"""The one resize from an aligned face chip to a model's input, shared by training and inference."""

from __future__ import annotations

import numpy as np
from PIL import Image

# Side of the aligned chip that alignment produces and that UTKFace publishes, in pixels.
CHIP_SIZE = 200


def resize_chip(chip: np.ndarray, size: int) -> np.ndarray:
    """Resize an RGB uint8 chip of shape (H, W, 3) to (size, size, 3) uint8.

    Uses Pillow's bilinear filter, which low-pass filters when shrinking, so training chips and
    live crops are resampled identically.
    """
    if chip.ndim != 3 or chip.shape[2] != 3:
        raise ValueError(f"chip must have shape (H, W, 3), got {chip.shape}")
    if chip.shape[0] == size and chip.shape[1] == size:
        return np.ascontiguousarray(chip, dtype=np.uint8)
    image = Image.fromarray(np.asarray(chip, dtype=np.uint8))
    return np.asarray(image.resize((size, size), Image.Resampling.BILINEAR), dtype=np.uint8)
