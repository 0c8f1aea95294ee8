"""Read UTKFace chips and their labels from a folder, the published archive or the Hub."""

from __future__ import annotations

import dataclasses
import logging
import re
import tarfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from training.records import UNKNOWN, FaceRecord

logger = logging.getLogger(__name__)

# age_gender_race_timestamp.jpg.chip.jpg; the timestamp length varies in the published set.
_NAME_WITH_RACE = re.compile(r"^(?P<age>\d{1,3})_(?P<gender>[01])_(?P<race>[0-4])_\d{8,}\.jpg\.chip\.jpg$")
# Three published names lack the race field: age_gender_timestamp.jpg.chip.jpg.
_NAME_WITHOUT_RACE = re.compile(r"^(?P<age>\d{1,3})_(?P<gender>[01])_\d{8,}\.jpg\.chip\.jpg$")


class SourceError(ValueError):
    """A dataset source that is missing or contains no usable images."""


@dataclasses.dataclass(frozen=True)
class ParsedName:
    age: int
    gender: int
    race: int


def parse_file_name(name: str) -> ParsedName | None:
    """Parse a UTKFace chip name into its labels, or return None when it does not match."""
    match = _NAME_WITH_RACE.match(name) or _NAME_WITHOUT_RACE.match(name)
    if match is None:
        return None
    groups = match.groupdict()
    race = int(groups["race"]) if "race" in groups else UNKNOWN
    return ParsedName(age=int(groups["age"]), gender=int(groups["gender"]), race=race)


@dataclasses.dataclass
class ReadStats:
    """Counts from ``read_utkface``: files read, and files skipped by reason."""

    files_read: int = 0
    skipped: Counter = dataclasses.field(default_factory=Counter)
    skipped_names: list[str] = dataclasses.field(default_factory=list)


def _to_record(name: str, data: bytes, stats: ReadStats) -> FaceRecord | None:
    stats.files_read += 1
    parsed = parse_file_name(name)
    if parsed is None:
        stats.skipped["file name does not match age_gender_race_timestamp.jpg.chip.jpg"] += 1
        stats.skipped_names.append(name)
        logger.debug("Skipped %r: name does not parse", name)
        return None
    if not data:
        stats.skipped["empty file"] += 1
        stats.skipped_names.append(name)
        return None
    return FaceRecord(name, data, parsed.age, parsed.gender, parsed.race)


def _is_image_name(name: str) -> bool:
    return name.lower().endswith((".jpg", ".jpeg", ".png")) and not PurePosixPath(name).name.startswith(".")


def _iter_folder(folder: Path) -> Iterator[tuple[str, bytes]]:
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and _is_image_name(p.name)):
        yield path.name, path.read_bytes()


def _iter_archive(archive: Path) -> Iterator[tuple[str, bytes]]:
    try:
        with tarfile.open(archive, mode="r:*") as tar:
            for member in tar:
                if not member.isfile() or not _is_image_name(member.name):
                    continue
                handle = tar.extractfile(member)
                if handle is not None:
                    yield PurePosixPath(member.name).name, handle.read()
    except (tarfile.TarError, EOFError, OSError) as error:
        raise SourceError(f"Cannot read archive {archive}: {error}. Pass a valid .tar or .tar.gz file.") from error


def _iter_hub(repo_id: str) -> Iterator[tuple[str, bytes]]:
    import datasets

    dataset = datasets.load_dataset(repo_id)
    for split in dataset.values():
        if "file_name" not in split.column_names or "image" not in split.column_names:
            raise SourceError(
                f"Hub dataset {repo_id} has columns {split.column_names}; "
                "expected 'image' and 'file_name' holding UTKFace chip names."
            )
        split = split.cast_column("image", datasets.Image(decode=False))
        for row in split:
            yield row["file_name"], row["image"]["bytes"] or Path(row["image"]["path"]).read_bytes()


def iter_source(source: str) -> Iterator[tuple[str, bytes]]:
    """Yield (file name, bytes) for each image in a folder, a tar archive or a Hub dataset id."""
    path = Path(source)
    if path.is_dir():
        return _iter_folder(path)
    if path.is_file():
        return _iter_archive(path)
    if re.fullmatch(r"[\w.-]+/[\w.-]+", source) and not source.startswith((".", "/")):
        return _iter_hub(source)
    raise SourceError(f"Source not found: {source}. Pass a folder of chips, a .tar.gz archive or a Hub dataset id.")


def read_utkface(source: str) -> tuple[list[FaceRecord], ReadStats]:
    """Read every chip of a UTKFace source into records, skipping names that do not parse."""
    stats = ReadStats()
    records = []
    for name, data in iter_source(source):
        record = _to_record(name, data, stats)
        if record is not None:
            records.append(record)
    if stats.files_read == 0:
        raise SourceError(f"No UTKFace chips (.jpg files) found in {source}.")
    if not records:
        raise SourceError(
            f"None of the {stats.files_read} images in {source} is named like a UTKFace chip "
            "(age_gender_race_timestamp.jpg.chip.jpg)."
        )
    logger.info("Read %d files from %s, %d usable", stats.files_read, source, len(records))
    return records, stats
