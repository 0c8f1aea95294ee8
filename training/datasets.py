"""Build the training datasets with Hugging Face ``datasets``.

    python -m training.datasets utkface SOURCE OUT [--push-to-hub REPO_ID]
    python -m training.datasets wiki SOURCE OUT [--min-face-score 3.0] [--push-to-hub REPO_ID]

OUT receives a ``DatasetDict`` (train, validation) in ``save_to_disk`` format, plus
``splits.json`` (the file list of each split) and ``summary.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import datasets

from facedemo.labels import AGE_GROUPS, GENDERS, RACES, age_group_index
from training import splits
from training.records import UNKNOWN, FaceRecord, group_identical
from training.utkface import SourceError, read_utkface
from training.wiki import DEFAULT_MIN_FACE_SCORE, read_wiki

logger = logging.getLogger(__name__)

FEATURES = datasets.Features(
    {
        "image": datasets.Image(),
        "age": datasets.Value("int32"),
        "gender": datasets.ClassLabel(names=list(GENDERS)),
        "race": datasets.ClassLabel(names=list(RACES)),
        "age_group": datasets.ClassLabel(names=list(AGE_GROUPS)),
        "file_name": datasets.Value("string"),
    }
)


def _stratum(record: FaceRecord) -> tuple[int, int]:
    return age_group_index(record.age), record.gender


def _to_dataset(records: list[FaceRecord], with_photo_taken: bool) -> datasets.Dataset:
    columns: dict[str, list[Any]] = {
        "image": [{"bytes": r.image_bytes, "path": r.file_name} for r in records],
        "age": [r.age for r in records],
        "gender": [r.gender for r in records],
        "race": [r.race for r in records],
        "age_group": [age_group_index(r.age) for r in records],
        "file_name": [r.file_name for r in records],
    }
    features = FEATURES
    if with_photo_taken:
        columns["photo_taken"] = [r.photo_taken for r in records]
        features = datasets.Features({**FEATURES, "photo_taken": datasets.Value("int32")})
    return datasets.Dataset.from_dict(columns, features=features)


def split_fingerprint(train: list[str], validation: list[str]) -> str:
    """Hash the two file lists, so a model can record exactly which split it was trained on."""
    digest = hashlib.sha256()
    for name in ("train", *train, "validation", *validation):
        digest.update(name.encode() + b"\n")
    return digest.hexdigest()[:16]


def build(
    records: list[FaceRecord],
    out: Path,
    source_name: str,
    summary: dict[str, Any],
    seed: int = splits.DEFAULT_SEED,
    validation_fraction: float = splits.DEFAULT_VALIDATION_FRACTION,
) -> datasets.DatasetDict:
    """Group duplicates, split, and save the dataset with its split file list and summary."""
    kept, grouping = group_identical(records)
    train, validation = splits.stratified_split(
        kept, _stratum, lambda r: r.file_name, validation_fraction=validation_fraction, seed=seed
    )
    if not train or not validation:
        raise SourceError(
            f"Only {len(kept)} usable images after grouping: too few to give both splits a row "
            f"(validation takes {validation_fraction:.0%} of each age-group and gender stratum). Add more images."
        )
    with_photo_taken = any(r.photo_taken != UNKNOWN for r in kept)
    dataset = datasets.DatasetDict({"train": _to_dataset(train, with_photo_taken),
                                    "validation": _to_dataset(validation, with_photo_taken)})

    train_names = [r.file_name for r in train]
    validation_names = [r.file_name for r in validation]
    summary.update(
        {
            "source": source_name,
            "duplicate_groups": grouping.duplicate_groups,
            "duplicate_files_merged": grouping.duplicate_files_merged,
            "conflict_groups_dropped": grouping.conflict_groups,
            "conflict_files_dropped": grouping.conflict_files_dropped,
            "rows": {"train": len(train), "validation": len(validation)},
            "age_group_counts": {"train": _age_group_counts(train), "validation": _age_group_counts(validation)},
            "seed": seed,
            "validation_fraction": validation_fraction,
            "fingerprint": split_fingerprint(train_names, validation_names),
        }
    )

    out.mkdir(parents=True, exist_ok=True)
    dataset.save_to_disk(str(out))
    (out / "splits.json").write_text(
        json.dumps({"seed": seed, "validation_fraction": validation_fraction,
                    "fingerprint": summary["fingerprint"],
                    "train": train_names, "validation": validation_names}, indent=0) + "\n"
    )
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return dataset


def _age_group_counts(records: list[FaceRecord]) -> dict[str, int]:
    counts = Counter(age_group_index(r.age) for r in records)
    return {AGE_GROUPS[k]: counts[k] for k in sorted(counts)}


def format_summary(summary: dict[str, Any]) -> str:
    """Render the build summary as the lines the CLI prints."""
    lines = [f"source: {summary['source']}", f"files read: {summary['files_read']}"]
    skipped = summary.get("skipped", {})
    lines.append(f"skipped: {sum(skipped.values())}")
    lines += [f"  {count} x {reason}" for reason, count in skipped.items()]
    if "race_unknown" in summary:
        lines.append(f"kept with race unknown: {summary['race_unknown']}")
    lines.append(
        f"duplicates merged: {summary['duplicate_files_merged']} files in {summary['duplicate_groups']} groups"
    )
    lines.append(
        f"conflicts dropped: {summary['conflict_files_dropped']} files in {summary['conflict_groups_dropped']} groups"
    )
    lines.append(f"rows: train {summary['rows']['train']}, validation {summary['rows']['validation']}")
    return "\n".join(lines)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m training.datasets", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="source_kind", required=True)
    for kind, help_text in (
        ("utkface", "a folder of UTKFace chips, the UTKFace.tar.gz archive, or a Hub dataset id"),
        ("wiki", "the wiki_crop folder (with wiki.mat) or its .tar archive"),
    ):
        command = sub.add_parser(kind, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
        command.add_argument("source", metavar="SOURCE", help=help_text)
        command.add_argument("out", metavar="OUT", type=Path, help="output folder for the DatasetDict")
        command.add_argument("--seed", type=int, default=splits.DEFAULT_SEED, help="seed of the split")
        command.add_argument("--validation-fraction", type=float, default=splits.DEFAULT_VALIDATION_FRACTION,
                             help="share of each age-group and gender stratum that goes to validation")
        command.add_argument("--push-to-hub", metavar="REPO_ID", help="also push the dataset to this Hub repo")
        command.add_argument("--private", action="store_true", help="create the Hub repo as private")
        if kind == "wiki":
            command.add_argument("--min-face-score", type=float, default=DEFAULT_MIN_FACE_SCORE,
                                 help="minimum face_score to keep a row (1.75 keeps more, noisier faces)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.source_kind == "utkface":
            records, read_stats = read_utkface(args.source)
            summary: dict[str, Any] = {
                "files_read": read_stats.files_read,
                "skipped": dict(read_stats.skipped),
                "skipped_files": read_stats.skipped_names,
                "race_unknown": sum(1 for r in records if r.race < 0),
            }
        else:
            records, wiki_stats = read_wiki(args.source, args.min_face_score)
            summary = {"files_read": wiki_stats.rows_read, "skipped": dict(wiki_stats.dropped),
                       "min_face_score": args.min_face_score}
        dataset = build(records, args.out, args.source_kind, summary, args.seed, args.validation_fraction)
    except SourceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    print(format_summary(summary))
    if args.push_to_hub:
        from hub.auth import HubError, push_dataset

        try:
            push_dataset(dataset, args.push_to_hub, private=args.private)
        except HubError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        print(f"pushed to https://huggingface.co/datasets/{args.push_to_hub}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
