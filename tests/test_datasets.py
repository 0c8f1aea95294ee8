"""Dataset builders: name parsing, duplicate grouping, splits, WIKI filters, errors."""

from __future__ import annotations

import datetime as dt
import io
import json
import tarfile

import numpy as np
import pytest
from PIL import Image

from training import datasets as builder
from training.records import UNKNOWN, FaceRecord, group_identical
from training.splits import stratified_split
from training.utkface import SourceError, parse_file_name, read_utkface
from training.wiki import age_on_july_first, datenum_to_date, read_wiki


def _jpeg(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (24, 24, 3), dtype=np.uint8)).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("25_1_3_20170119171157418.jpg.chip.jpg", (25, 1, 3)),
        ("1_0_0_20161219140623097.jpg.chip.jpg", (1, 0, 0)),
        ("116_1_2_20170112220255503.jpg.chip.jpg", (116, 1, 2)),
        ("14_0_0_2017011022340900.jpg.chip.jpg", (14, 0, 0)),  # short timestamp, labels intact
        ("39_1_20170116174525125.jpg.chip.jpg", (39, 1, UNKNOWN)),  # no race field
    ],
)
def test_parse_valid_names(name, expected):
    parsed = parse_file_name(name)
    assert parsed is not None
    assert (parsed.age, parsed.gender, parsed.race) == expected


@pytest.mark.parametrize(
    "name",
    [
        "24_0_1_20170116220224657 .jpg.chip.jpg",  # space before the extension
        "55_0_0_20170116232725357jpg.chip.jpg",  # missing dot
        "25_2_0_20170116232725357.jpg.chip.jpg",  # gender outside 0-1
        "25_0_7_20170116232725357.jpg.chip.jpg",  # race outside 0-4
        "x_0_0_20170116232725357.jpg.chip.jpg",
        "25_0_0.jpg.chip.jpg",
    ],
)
def test_parse_rejects_malformed_names(name):
    assert parse_file_name(name) is None


def test_group_identical_merges_and_drops_conflicts():
    same, other, clash = _jpeg(1), _jpeg(2), _jpeg(3)
    records = [
        FaceRecord("b.jpg", same, 30, 0, 1),
        FaceRecord("a.jpg", same, 30, 0, 1),       # identical bytes, same labels: merged into a.jpg
        FaceRecord("c.jpg", other, 40, 1, 2),
        FaceRecord("d.jpg", clash, 20, 0, 0),
        FaceRecord("e.jpg", clash, 21, 0, 0),       # identical bytes, different age: both dropped
    ]
    kept, stats = group_identical(records)
    assert [r.file_name for r in kept] == ["a.jpg", "c.jpg"]
    assert stats.duplicate_groups == 1
    assert stats.duplicate_files_merged == 1
    assert stats.conflict_groups == 1
    assert stats.conflict_files_dropped == 2


def test_split_is_deterministic_and_stratified():
    items = [(f"f{i:04d}", i % 5, i % 2) for i in range(1000)]
    stratum = lambda item: (item[1], item[2])  # noqa: E731
    key = lambda item: item[0]  # noqa: E731
    train_a, validation_a = stratified_split(items, stratum, key, 0.15, seed=7)
    train_b, validation_b = stratified_split(list(reversed(items)), stratum, key, 0.15, seed=7)
    _, validation_c = stratified_split(items, stratum, key, 0.15, seed=8)

    assert validation_a == validation_b
    assert train_a == train_b
    assert validation_a != validation_c
    assert len(validation_a) == 150
    assert not set(train_a) & set(validation_a)
    for group in range(5):  # each (group, parity) stratum contains 100 items and gives 15
        assert sum(1 for item in validation_a if item[1] == group) == 30


def _write_chip_folder(folder):
    folder.mkdir()
    names = []
    for i in range(40):
        age, gender = 5 + i * 2, i % 2
        name = f"{age}_{gender}_{i % 5}_2017010{i % 10}1200000{i:02d}.jpg.chip.jpg"
        (folder / name).write_bytes(_jpeg(100 + i))
        names.append(name)
    (folder / names[0].replace("_0_0_", "_0_")).write_bytes(_jpeg(100))  # a duplicate with no race: conflict
    (folder / "30_1_20170116174525125.jpg.chip.jpg").write_bytes(_jpeg(500))  # no race field, kept
    (folder / "55_0_0_20170116232725357jpg.chip.jpg").write_bytes(_jpeg(501))  # malformed, skipped
    (folder / "66_0_0_20170116232725357.jpg.chip.jpg").write_bytes(_jpeg(102))  # same bytes as #2, other age
    return names


def test_build_from_folder_end_to_end(tmp_path, capsys):
    _write_chip_folder(tmp_path / "chips")
    out = tmp_path / "dataset"
    assert builder.main(["utkface", str(tmp_path / "chips"), str(out)]) == 0

    import datasets

    dataset = datasets.load_from_disk(str(out))
    summary = json.loads((out / "summary.json").read_text())
    splits = json.loads((out / "splits.json").read_text())
    assert summary["files_read"] == 44
    assert sum(summary["skipped"].values()) == 1
    assert summary["conflict_groups_dropped"] == 2
    assert summary["conflict_files_dropped"] == 4
    assert summary["race_unknown"] == 2
    assert len(dataset["train"]) + len(dataset["validation"]) == 44 - 1 - 4
    assert set(dataset["train"].column_names) == {"image", "age", "gender", "race", "age_group", "file_name"}
    assert dataset["train"].features["age_group"].names == ["0-24", "25-49", "50-74", "75-99", "100-124"]
    assert splits["validation"] == sorted(dataset["validation"]["file_name"])
    row = next(r for r in dataset["train"] if r["file_name"].startswith("30_1_2017"))
    assert row["race"] == -1
    assert row["age_group"] == 1
    assert "rows: train" in capsys.readouterr().out


def test_build_from_archive_matches_folder(tmp_path):
    _write_chip_folder(tmp_path / "chips")
    archive = tmp_path / "chips.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "chips", arcname="UTKFace")
    from_folder, _ = read_utkface(str(tmp_path / "chips"))
    from_archive, _ = read_utkface(str(archive))
    assert sorted(r.file_name for r in from_folder) == sorted(r.file_name for r in from_archive)


def test_missing_source_names_it(tmp_path, capsys):
    missing = tmp_path / "nowhere"
    assert builder.main(["utkface", str(missing), str(tmp_path / "out")]) == 2
    assert f"Source not found: {missing}" in capsys.readouterr().err


def test_archive_without_chips_rejected(tmp_path):
    archive = tmp_path / "empty.tar.gz"
    readme = tmp_path / "README.txt"
    readme.write_text("no faces here")
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(readme, arcname="README.txt")
    with pytest.raises(SourceError, match=r"No UTKFace chips .* found in .*empty\.tar\.gz"):
        read_utkface(str(archive))


def test_not_an_archive_rejected(tmp_path):
    bogus = tmp_path / "bogus.tar.gz"
    bogus.write_text("plain text")
    with pytest.raises(SourceError, match=r"Cannot read archive .*bogus\.tar\.gz"):
        read_utkface(str(bogus))


# --- WIKI ---------------------------------------------------------------------------------------

def _datenum(date: dt.date) -> float:
    return float(date.toordinal() + 366)


def test_datenum_conversion_known_values():
    # MATLAB: datenum(2000, 1, 1) = 730486 and datenum(1970, 1, 1) = 719529.
    assert datenum_to_date(730486) == dt.date(2000, 1, 1)
    assert datenum_to_date(719529.75) == dt.date(1970, 1, 1)


@pytest.mark.parametrize(
    ("born", "taken", "age"),
    [
        (dt.date(1980, 7, 1), 2010, 30),   # birthday on 1 July counts
        (dt.date(1980, 7, 2), 2010, 29),   # one day later: not yet
        (dt.date(1980, 1, 15), 2010, 30),
        (dt.date(1999, 12, 31), 2000, 0),
    ],
)
def test_age_on_july_first(born, taken, age):
    assert age_on_july_first(_datenum(born), taken) == age


def _write_wiki(folder, rows):
    from scipy.io import savemat

    folder.mkdir(parents=True)
    for row in rows:
        if row.get("exists", True):
            path = folder / row["full_path"]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(_jpeg(hash(row["full_path"]) % 1000))
    n = len(rows)
    full_path = np.empty((1, n), dtype=object)
    name = np.empty((1, n), dtype=object)
    face_location = np.empty((1, n), dtype=object)
    for i, row in enumerate(rows):
        full_path[0, i] = np.array([row["full_path"]])
        name[0, i] = np.array(["Someone"])
        face_location[0, i] = np.array([[10.0, 10.0, 50.0, 50.0]])
    struct = {
        "dob": np.array([[_datenum(r["born"]) for r in rows]]),
        "photo_taken": np.array([[r["taken"] for r in rows]], dtype=np.int32),
        "full_path": full_path,
        "gender": np.array([[r["gender"] for r in rows]], dtype=np.float64),
        "name": name,
        "face_location": face_location,
        "face_score": np.array([[r["score"] for r in rows]], dtype=np.float64),
        "second_face_score": np.array([[r.get("second", np.nan) for r in rows]], dtype=np.float64),
    }
    savemat(folder / "wiki.mat", {"wiki": struct})


WIKI_ROWS = [
    {"full_path": "00/keep_male.jpg", "born": dt.date(1950, 3, 1), "taken": 2000, "gender": 1.0, "score": 4.5},
    {"full_path": "00/keep_female.jpg", "born": dt.date(1990, 8, 1), "taken": 2010, "gender": 0.0, "score": 3.2},
    {"full_path": "01/no_face.jpg", "born": dt.date(1970, 1, 1), "taken": 2000, "gender": 1.0, "score": -np.inf},
    {"full_path": "01/low_score.jpg", "born": dt.date(1970, 1, 1), "taken": 2000, "gender": 1.0, "score": 2.0},
    {"full_path": "02/two_faces.jpg", "born": dt.date(1970, 1, 1), "taken": 2000, "gender": 1.0, "score": 5.0,
     "second": 2.5},
    {"full_path": "02/no_gender.jpg", "born": dt.date(1970, 1, 1), "taken": 2000, "gender": np.nan, "score": 5.0},
    {"full_path": "03/too_old.jpg", "born": dt.date(1880, 1, 1), "taken": 2000, "gender": 0.0, "score": 5.0},
    {"full_path": "03/born_later.jpg", "born": dt.date(2005, 1, 1), "taken": 2000, "gender": 0.0, "score": 5.0},
    {"full_path": "04/missing.jpg", "born": dt.date(1970, 1, 1), "taken": 2000, "gender": 0.0, "score": 5.0,
     "exists": False},
]


def test_wiki_filters_and_ages(tmp_path):
    _write_wiki(tmp_path / "wiki_crop", WIKI_ROWS)
    records, stats = read_wiki(str(tmp_path / "wiki_crop"))
    by_path = {r.file_name: r for r in records}
    assert sorted(by_path) == ["00/keep_female.jpg", "00/keep_male.jpg"]
    assert by_path["00/keep_male.jpg"].age == 50
    assert by_path["00/keep_male.jpg"].gender == 0  # WIKI 1 = male, stored as UTKFace 0 = male
    assert by_path["00/keep_female.jpg"].age == 19
    assert by_path["00/keep_female.jpg"].gender == 1
    assert stats.rows_read == 9
    assert stats.dropped["no face or face score below minimum"] == 2
    assert stats.dropped["second face"] == 1
    assert stats.dropped["unknown gender"] == 1
    assert stats.dropped["age outside 0-100"] == 2
    assert stats.dropped["image file missing"] == 1


def test_wiki_lower_face_score_keeps_more(tmp_path):
    _write_wiki(tmp_path / "wiki_crop", WIKI_ROWS)
    records, _ = read_wiki(str(tmp_path / "wiki_crop"), min_face_score=1.75)
    assert "01/low_score.jpg" in {r.file_name for r in records}


def test_wiki_from_tar_archive(tmp_path):
    _write_wiki(tmp_path / "wiki_crop", WIKI_ROWS)
    archive = tmp_path / "wiki_crop.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(tmp_path / "wiki_crop", arcname="wiki_crop")
    records, _ = read_wiki(str(archive))
    assert len(records) == 2


# Four more kept rows in one stratum (male, 50-74), so the split gives validation one row.
WIKI_ROWS_SPLITTABLE = WIKI_ROWS + [
    {"full_path": f"05/extra_{i}.jpg", "born": dt.date(1950, 3, 1), "taken": 2005, "gender": 1.0, "score": 4.0}
    for i in range(4)
]


def test_wiki_build_cli(tmp_path, capsys):
    _write_wiki(tmp_path / "wiki_crop", WIKI_ROWS_SPLITTABLE)
    assert builder.main(["wiki", str(tmp_path / "wiki_crop"), str(tmp_path / "out")]) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["rows"] == {"train": 5, "validation": 1}
    assert summary["min_face_score"] == 3.0


def test_too_few_rows_for_split_rejected(tmp_path, capsys):
    _write_wiki(tmp_path / "wiki_crop", WIKI_ROWS)
    assert builder.main(["wiki", str(tmp_path / "wiki_crop"), str(tmp_path / "out")]) == 2
    assert "Only 2 usable images after grouping" in capsys.readouterr().err


def test_mat_without_wiki_struct_rejected(tmp_path):
    from scipy.io import savemat

    folder = tmp_path / "wiki_crop"
    folder.mkdir()
    savemat(folder / "wiki.mat", {"imdb": np.zeros((1, 1))})
    with pytest.raises(SourceError, match=r"wiki\.mat has no struct named 'wiki'"):
        read_wiki(str(folder))


def test_wiki_folder_without_mat_rejected(tmp_path):
    (tmp_path / "wiki_crop").mkdir()
    with pytest.raises(SourceError, match=r"wiki\.mat not found"):
        read_wiki(str(tmp_path / "wiki_crop"))


# --- the real archive ---------------------------------------------------------------------------

@pytest.mark.slow
def test_build_real_utkface_archive(tmp_path, utkface_archive):
    out = tmp_path / "utkface"
    assert builder.main(["utkface", str(utkface_archive), str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["files_read"] == 20708
    assert summary["skipped"] == {"file name does not match age_gender_race_timestamp.jpg.chip.jpg": 2}
    assert summary["race_unknown"] == 3
    assert summary["conflict_groups_dropped"] == 259
    assert summary["duplicate_groups"] + summary["conflict_groups_dropped"] == 375

    import datasets

    dataset = datasets.load_from_disk(str(out))
    hashes = {}
    for split in ("train", "validation"):
        column = dataset[split].cast_column("image", datasets.Image(decode=False))["image"]
        hashes[split] = {hash(row["bytes"]) for row in column}
    assert not hashes["train"] & hashes["validation"]
    assert len(dataset["train"]) + len(dataset["validation"]) == summary["rows"]["train"] + summary["rows"]["validation"]
    share = summary["rows"]["validation"] / (summary["rows"]["train"] + summary["rows"]["validation"])
    assert 0.14 < share < 0.16


def test_wiki_dataset_keeps_photo_year(tmp_path):
    import datasets

    _write_wiki(tmp_path / "wiki_crop", WIKI_ROWS_SPLITTABLE)
    assert builder.main(["wiki", str(tmp_path / "wiki_crop"), str(tmp_path / "out")]) == 0
    dataset = datasets.load_from_disk(str(tmp_path / "out"))
    years = sorted(list(dataset["train"]["photo_taken"]) + list(dataset["validation"]["photo_taken"]))
    assert years == [2000, 2005, 2005, 2005, 2005, 2010]


def test_eda_report_on_wiki_build(tmp_path):
    from training.eda import make_report

    _write_wiki(tmp_path / "wiki_crop", WIKI_ROWS_SPLITTABLE)
    assert builder.main(["wiki", str(tmp_path / "wiki_crop"), str(tmp_path / "out")]) == 0
    report = make_report(tmp_path / "out", tmp_path / "eda").read_text()
    assert "6 faces (train 5, validation 1)" in report
    assert "| male | 5 | 83.3% | 54.0 |" in report  # ages 50, 55, 55, 55, 55
    assert "| female | 1 | 16.7% | 19.0 |" in report
    assert "## Age against the year the photo was taken" in report
    assert "## Race labels" not in report  # WIKI has none
    for png in ("age_histogram.png", "gender_counts.png", "age_group_counts.png", "pixel_stats_by_age.png",
                "pixel_mean_by_age.png", "age_by_photo_year.png"):
        assert (tmp_path / "eda" / png).is_file(), png
