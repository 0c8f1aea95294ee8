"""Labelled face records and the grouping of byte-identical images."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable

logger = logging.getLogger(__name__)

UNKNOWN = -1


@dataclasses.dataclass(frozen=True)
class FaceRecord:
    """One labelled image before splitting.

    ``gender`` uses UTKFace codes (0 = male, 1 = female) and ``race`` the UTKFace codes 0-4;
    ``UNKNOWN`` (-1) marks a missing race.
    """

    file_name: str
    image_bytes: bytes
    age: int
    gender: int
    race: int = UNKNOWN
    photo_taken: int = UNKNOWN  # year the photo was taken, where the source records it (WIKI)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.image_bytes).hexdigest()


@dataclasses.dataclass
class GroupingStats:
    """Counts from ``group_identical``."""

    duplicate_groups: int = 0
    duplicate_files_merged: int = 0
    conflict_groups: int = 0
    conflict_files_dropped: int = 0


def group_identical(records: Iterable[FaceRecord]) -> tuple[list[FaceRecord], GroupingStats]:
    """Merge byte-identical images and drop the groups whose copies disagree on a label.

    A merged group keeps the copy with the smallest file name, so the result does not depend on
    the order in which the source was read. Returns the kept records sorted by file name.
    """
    by_hash: dict[str, list[FaceRecord]] = defaultdict(list)
    for record in records:
        by_hash[record.sha256].append(record)

    stats = GroupingStats()
    kept: list[FaceRecord] = []
    for group in by_hash.values():
        group.sort(key=lambda r: r.file_name)
        if len(group) == 1:
            kept.append(group[0])
            continue
        labels = {(r.age, r.gender, r.race) for r in group}
        if len(labels) > 1:
            stats.conflict_groups += 1
            stats.conflict_files_dropped += len(group)
            logger.debug("Dropped conflicting group: %s", [r.file_name for r in group])
            continue
        stats.duplicate_groups += 1
        stats.duplicate_files_merged += len(group) - 1
        kept.append(group[0])

    kept.sort(key=lambda r: r.file_name)
    return kept, stats


def count_by(records: Iterable[FaceRecord], key: str) -> dict[int, int]:
    """Count records by the value of one of their integer fields."""
    return dict(sorted(Counter(getattr(r, key) for r in records).items()))
