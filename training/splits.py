"""Deterministic, stratified train/validation splits."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

T = TypeVar("T")

DEFAULT_SEED = 1337
DEFAULT_VALIDATION_FRACTION = 0.15


def stratified_split(
    items: Sequence[T],
    stratum: Callable[[T], Hashable],
    sort_key: Callable[[T], str],
    validation_fraction: float = DEFAULT_VALIDATION_FRACTION,
    seed: int = DEFAULT_SEED,
) -> tuple[list[T], list[T]]:
    """Split items into (train, validation), drawing the same share from every stratum.

    The result depends only on the items' sort keys, strata and the seed, never on input order.
    Each stratum gives ``round(n * validation_fraction)`` items to validation, so a stratum of
    one item stays in train.
    """
    if not 0.0 < validation_fraction < 1.0:
        raise ValueError(f"validation_fraction must be in (0, 1), got {validation_fraction}")

    strata: dict[Hashable, list[T]] = defaultdict(list)
    for item in sorted(items, key=sort_key):
        strata[stratum(item)].append(item)

    rng = random.Random(seed)
    train: list[T] = []
    validation: list[T] = []
    for key in sorted(strata, key=repr):
        members = strata[key]
        rng.shuffle(members)
        n_validation = round(len(members) * validation_fraction)
        validation.extend(members[:n_validation])
        train.extend(members[n_validation:])

    train.sort(key=sort_key)
    validation.sort(key=sort_key)
    return train, validation
