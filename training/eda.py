"""Exploratory report of a dataset built by training.datasets.

    python -m training.eda DATASET OUT_DIR

Writes PNG plots and report.md into OUT_DIR. Pixel statistics are computed on the images
resized to 64x64 (the decode cache that training uses), which keeps the full UTKFace set to a
few minutes on two cores.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np

from facedemo.labels import AGE_GROUPS, GENDERS, RACES

logger = logging.getLogger(__name__)

PIXEL_STATS_SIZE = 64
_GENDER_COLOURS = {"male": "#457b9d", "female": "#e76f51"}


def _load(dataset_dir: Path):
    import datasets

    from training.data import load_split

    dataset = datasets.load_from_disk(str(dataset_dir))
    parts = [load_split(dataset_dir, split, PIXEL_STATS_SIZE) for split in dataset]
    photo_taken = None
    if all("photo_taken" in dataset[split].column_names for split in dataset):
        photo_taken = np.concatenate([np.asarray(dataset[split]["photo_taken"]) for split in dataset])
    columns = {name: np.concatenate([getattr(p, name) for p in parts]) for name in ("age", "gender", "race", "age_group")}
    images = np.concatenate([p.images for p in parts]).astype(np.float32)
    columns["pixel_mean"] = images.mean(axis=(1, 2, 3))
    columns["pixel_std"] = images.std(axis=(1, 2, 3))
    return columns, photo_taken, {split: len(dataset[split]) for split in dataset}


def _save(fig, out: Path, name: str) -> str:
    fig.tight_layout()
    fig.savefig(out / name, dpi=72)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return name


def make_report(dataset_dir: Path, out: Path, title: str | None = None) -> Path:
    """Compute the statistics, draw the plots and write report.md; returns its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    data, photo_taken, split_sizes = _load(dataset_dir)
    total = len(data["age"])
    summary_path = dataset_dir / "summary.json"
    source = json.loads(summary_path.read_text()).get("source", "dataset") if summary_path.is_file() else "dataset"
    title = title or {"utkface": "UTKFace", "wiki": "IMDB-WIKI (wiki_crop)"}.get(source, source)
    lines = [f"# {title}: exploratory report", "",
             f"{total:,} faces ({', '.join(f'{k} {v:,}' for k, v in split_sizes.items())}), "
             f"built by `python -m training.datasets` and read from `{dataset_dir.name}`.", ""]

    fig, axis = plt.subplots(figsize=(6, 3))
    axis.hist(data["age"], bins=np.arange(0, 118, 2), color="#457b9d")
    axis.set_xlabel("age (years)")
    axis.set_ylabel("faces")
    plot = _save(fig, out, "age_histogram.png")
    lines += ["## Age", "", f"Median age {np.median(data['age']):.0f}, mean {data['age'].mean():.1f} years, "
              f"range {data['age'].min()}-{data['age'].max()}.", "", f"![age histogram]({plot})", ""]

    lines += ["## Gender", "", "| gender | faces | share | mean age |", "| --- | --- | --- | --- |"]
    counts = []
    for code, name in enumerate(GENDERS):
        mask = data["gender"] == code
        counts.append(int(mask.sum()))
        mean_age = data["age"][mask].mean() if mask.any() else float("nan")
        lines.append(f"| {name} | {mask.sum():,} | {mask.mean():.1%} | {mean_age:.1f} |")
    fig, axis = plt.subplots(figsize=(4, 3))
    axis.bar(GENDERS, counts, color=[_GENDER_COLOURS[g] for g in GENDERS])
    axis.set_ylabel("faces")
    lines += ["", f"![gender counts]({_save(fig, out, 'gender_counts.png')})", ""]

    group_counts = np.bincount(data["age_group"], minlength=len(AGE_GROUPS))
    lines += ["## Age groups", "", "The models' age-group head predicts `age // 25`. The groups are far from "
              "balanced, so training weights them (1/sqrt of frequency) and evaluation reports balanced accuracy.",
              "", "| age group | faces | share |", "| --- | --- | --- |"]
    lines += [f"| {g} | {c:,} | {c / total:.1%} |" for g, c in zip(AGE_GROUPS, group_counts)]
    fig, axis = plt.subplots(figsize=(5, 3))
    axis.bar(AGE_GROUPS, group_counts, color="#2a9d8f")
    axis.set_yscale("log")
    axis.set_ylabel("faces (log scale)")
    lines += ["", f"![age-group counts]({_save(fig, out, 'age_group_counts.png')})", ""]

    known = data["race"] >= 0
    if known.any():
        race_counts = np.bincount(data["race"][known], minlength=len(RACES))
        lines += ["## Race labels", "", f"Known for {known.sum():,} faces; unknown for {(~known).sum():,}.", "",
                  "| race | faces | share of known |", "| --- | --- | --- |"]
        lines += [f"| {r} | {c:,} | {c / known.sum():.1%} |" for r, c in zip(RACES, race_counts)]
        fig, axis = plt.subplots(figsize=(5, 3))
        axis.bar(RACES, race_counts, color="#e9c46a")
        axis.set_ylabel("faces")
        lines += ["", f"![race counts]({_save(fig, out, 'race_counts.png')})", ""]

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), sharex=True)
    for code, name in enumerate(GENDERS):
        mask = data["gender"] == code
        axes[0].scatter(data["age"][mask], data["pixel_mean"][mask], s=1, alpha=0.25, color=_GENDER_COLOURS[name], label=name)
        axes[1].scatter(data["age"][mask], data["pixel_std"][mask], s=1, alpha=0.25, color=_GENDER_COLOURS[name], label=name)
    axes[0].set_ylabel("mean pixel value")
    axes[1].set_ylabel("pixel standard deviation")
    for axis in axes:
        axis.set_xlabel("age (years)")
        axis.legend(markerscale=8)
    plot = _save(fig, out, "pixel_stats_by_age.png")
    ages = np.unique(data["age"])
    mean_by_age = np.array([data["pixel_mean"][data["age"] == a].mean() for a in ages])
    fig, axis = plt.subplots(figsize=(6, 3))
    axis.plot(ages, mean_by_age, color="#264653")
    axis.set_xlabel("age (years)")
    axis.set_ylabel("mean pixel value")
    lines += ["## Pixel statistics", "",
              f"Per image, on {PIXEL_STATS_SIZE}x{PIXEL_STATS_SIZE} copies (values 0-255): mean pixel value "
              f"{data['pixel_mean'].mean():.1f} (SD across images {data['pixel_mean'].std():.1f}), pixel standard "
              f"deviation {data['pixel_std'].mean():.1f}. Correlation of mean pixel value with age: "
              f"{np.corrcoef(data['age'], data['pixel_mean'])[0, 1]:+.3f}.", "",
              f"![pixel statistics against age]({plot})", "",
              f"![mean pixel value by age]({_save(fig, out, 'pixel_mean_by_age.png')})", ""]

    if photo_taken is not None:
        fig, axis = plt.subplots(figsize=(6, 3))
        axis.scatter(photo_taken, data["age"], s=1, alpha=0.2)
        axis.set_xlabel("year the photo was taken")
        axis.set_ylabel("age (years)")
        lines += ["## Age against the year the photo was taken", "",
                  f"![age against year]({_save(fig, out, 'age_by_photo_year.png')})", ""]

    report = out / "report.md"
    report.write_text("\n".join(lines))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.eda", description=__doc__.split("\n")[0])
    parser.add_argument("dataset", type=Path, help="a DatasetDict folder written by training.datasets")
    parser.add_argument("out_dir", type=Path, help="folder for report.md and the PNG plots")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if not (args.dataset / "dataset_dict.json").is_file():
        print(f"error: {args.dataset} is not a dataset folder written by training.datasets", file=sys.stderr)
        return 2
    print(make_report(args.dataset, args.out_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
