"""Read the IMDB-WIKI ``wiki_crop`` set (``wiki.mat`` plus image folders) into face records."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import logging
import math
import tarfile
from collections import Counter
from pathlib import Path, PurePosixPath

import numpy as np

from training.records import UNKNOWN, FaceRecord
from training.utkface import SourceError

logger = logging.getLogger(__name__)

DEFAULT_MIN_FACE_SCORE = 3.0
MAX_AGE = 100
# MATLAB's datenum counts days from 0000-01-00, Python's ordinal from 0001-01-01: 366 days apart.
_DATENUM_OFFSET_DAYS = 366
_FIELDS = ("dob", "photo_taken", "full_path", "gender", "face_score", "second_face_score")


def datenum_to_date(datenum: float) -> dt.date:
    """Convert a MATLAB datenum (days since year 0) to a date."""
    return dt.date.fromordinal(int(datenum) - _DATENUM_OFFSET_DAYS)


def age_on_july_first(dob_datenum: float, photo_taken_year: int) -> int:
    """Return the age in whole years on 1 July of the year the photo was taken."""
    birth = datenum_to_date(dob_datenum)
    had_birthday = (birth.month, birth.day) <= (7, 1)
    return photo_taken_year - birth.year - (0 if had_birthday else 1)


@dataclasses.dataclass
class WikiStats:
    """Rows of ``wiki.mat`` read and dropped, by reason."""

    rows_read: int = 0
    dropped: Counter = dataclasses.field(default_factory=Counter)


class _ImageReader:
    """Read images by their ``full_path`` from a folder or a tar archive."""

    def __init__(self, root: Path, tar: tarfile.TarFile | None, prefix: str) -> None:
        self.root = root
        self.tar = tar
        self.prefix = prefix
        self.members = {m.name: m for m in tar.getmembers() if m.isfile()} if tar else {}

    def read(self, full_path: str) -> bytes | None:
        if self.tar is None:
            path = self.root / full_path
            return path.read_bytes() if path.is_file() else None
        member = self.members.get(self.prefix + full_path)
        if member is None:
            return None
        handle = self.tar.extractfile(member)
        return handle.read() if handle else None


def _load_struct(mat_bytes: bytes, origin: str) -> dict[str, np.ndarray]:
    from scipy.io import loadmat

    try:
        mat = loadmat(io.BytesIO(mat_bytes))
    except (ValueError, TypeError, OSError) as error:
        raise SourceError(f"Cannot read {origin} as a MATLAB file: {error}") from error
    if "wiki" not in mat:
        raise SourceError(f"{origin} has no struct named 'wiki' (found {sorted(k for k in mat if not k.startswith('__'))}).")
    struct = mat["wiki"]
    names = struct.dtype.names or ()
    missing = [f for f in _FIELDS if f not in names]
    if missing:
        raise SourceError(f"The 'wiki' struct in {origin} lacks the fields {missing}.")
    record = struct[0, 0]
    return {field: np.asarray(record[field]).reshape(-1) for field in _FIELDS}


def _open_source(source: str) -> tuple[bytes, str, _ImageReader]:
    path = Path(source)
    if path.is_dir():
        mat_path = path / "wiki.mat"
        if not mat_path.is_file():
            raise SourceError(f"{mat_path} not found. Pass the wiki_crop folder that contains wiki.mat.")
        return mat_path.read_bytes(), str(mat_path), _ImageReader(path, None, "")
    if path.is_file():
        try:
            tar = tarfile.open(path, mode="r:*")
        except (tarfile.TarError, OSError) as error:
            raise SourceError(f"Cannot read archive {path}: {error}. Pass the wiki_crop folder or its .tar file.") from error
        mat_member = next((m for m in tar.getmembers() if PurePosixPath(m.name).name == "wiki.mat"), None)
        if mat_member is None:
            raise SourceError(f"wiki.mat not found in archive {path}. Pass the wiki_crop .tar archive.")
        prefix = str(PurePosixPath(mat_member.name).parent)
        prefix = "" if prefix == "." else prefix + "/"
        return tar.extractfile(mat_member).read(), f"{path}:{mat_member.name}", _ImageReader(path, tar, prefix)
    raise SourceError(f"Source not found: {source}. Pass the wiki_crop folder or its .tar archive.")


def _as_text(value: object) -> str:
    array = np.asarray(value).reshape(-1)
    return str(array[0]) if array.size else ""


def read_wiki(source: str, min_face_score: float = DEFAULT_MIN_FACE_SCORE) -> tuple[list[FaceRecord], WikiStats]:
    """Read the rows of ``wiki.mat`` that pass the face, gender, file and age filters.

    Keeps a row when ``face_score`` is finite and at least ``min_face_score``, there is no second
    face (``second_face_score`` is NaN), the gender is known, the image exists and the age on
    1 July of ``photo_taken`` is in [0, 100]. WIKI has no race labels.
    """
    mat_bytes, origin, images = _open_source(source)
    fields = _load_struct(mat_bytes, origin)
    stats = WikiStats()
    records: list[FaceRecord] = []

    for i in range(len(fields["dob"])):
        stats.rows_read += 1
        face_score = float(fields["face_score"][i])
        if not math.isfinite(face_score) or face_score < min_face_score:
            stats.dropped["no face or face score below minimum"] += 1
            continue
        if not math.isnan(float(fields["second_face_score"][i])):
            stats.dropped["second face"] += 1
            continue
        gender = float(fields["gender"][i])
        if math.isnan(gender):
            stats.dropped["unknown gender"] += 1
            continue
        try:
            age = age_on_july_first(float(fields["dob"][i]), int(fields["photo_taken"][i]))
        except (ValueError, OverflowError):
            stats.dropped["invalid date of birth"] += 1
            continue
        if not 0 <= age <= MAX_AGE:
            stats.dropped[f"age outside 0-{MAX_AGE}"] += 1
            continue
        full_path = _as_text(fields["full_path"][i])
        data = images.read(full_path)
        if not data:
            stats.dropped["image file missing"] += 1
            continue
        # WIKI codes gender as 1 = male, 0 = female; records use UTKFace codes (0 = male).
        utk_gender = 0 if gender == 1.0 else 1
        records.append(FaceRecord(full_path, data, age, utk_gender, UNKNOWN, int(fields["photo_taken"][i])))

    if not records:
        raise SourceError(f"No row of {origin} passed the filters: {dict(stats.dropped)}.")
    logger.info("Read %d rows from %s, kept %d", stats.rows_read, origin, len(records))
    return records, stats
