"""Age statistics from a predicted distribution over whole years."""

from __future__ import annotations

import numpy as np


def age_spread(probabilities: np.ndarray) -> np.ndarray:
    """Return the standard deviation in years of each row of a (N, 117) age distribution."""
    years = np.arange(probabilities.shape[-1], dtype=np.float64)
    mean = probabilities @ years
    variance = probabilities @ (years**2) - mean**2
    return np.sqrt(np.maximum(variance, 0.0))
