"""Label vocabularies shared by the datasets, the models and the API."""

from __future__ import annotations

# Index order follows UTKFace's own gender codes (0 = male, 1 = female).
GENDERS: tuple[str, ...] = ("male", "female")

AGE_GROUP_WIDTH = 25
AGE_GROUPS: tuple[str, ...] = ("0-24", "25-49", "50-74", "75-99", "100-124")

RACES: tuple[str, ...] = ("white", "black", "asian", "indian", "others")

# Ages the age estimator can output; UTKFace labels run from 1 to 116.
MAX_AGE = 116


def age_group_index(age: float) -> int:
    """Map an age in years to its index in AGE_GROUPS (``age // 25``, clipped)."""
    if age < 0:
        raise ValueError(f"age must be non-negative, got {age}")
    return min(int(age // AGE_GROUP_WIDTH), len(AGE_GROUPS) - 1)
