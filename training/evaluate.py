"""Evaluate a trained model on a dataset split.

    python -m training.evaluate MODEL_DIR DATASET_DIR [--split validation] [--out DIR]

Writes metrics.json and report.md (with plots) into --out, by default MODEL_DIR. Every figure
carries the dataset, split and row count it was measured on.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np

from facedemo.labels import AGE_GROUPS, GENDERS, RACES
from facedemo.predictor import age_ranges
from facedemo.weights import METADATA_FILE, load_model_dir
from training import metrics
from training.data import holdout_mask, load_split

logger = logging.getLogger(__name__)


def _predict(model, images: np.ndarray, flip: bool = False) -> dict[str, np.ndarray]:
    outputs = {name: np.asarray(value) for name, value in model.predict(images, batch_size=256, verbose=0).items()}
    if flip:  # average with the mirrored faces, as facedemo's Predictor does with flip=True
        mirrored = model.predict(np.ascontiguousarray(images[:, :, ::-1, :]), batch_size=256, verbose=0)
        outputs = {name: (value + np.asarray(mirrored[name])) / 2.0 for name, value in outputs.items()}
    return outputs


def classifier_metrics(outputs: dict[str, np.ndarray], arrays) -> dict[str, Any]:
    gender_predicted = outputs["gender"].argmax(axis=1)
    group_predicted = outputs["age_group"].argmax(axis=1)
    return {
        "gender_accuracy": metrics.accuracy(arrays.gender, gender_predicted),
        "gender_balanced_accuracy": metrics.balanced_accuracy(arrays.gender, gender_predicted, len(GENDERS)),
        "age_group_accuracy": metrics.accuracy(arrays.age_group, group_predicted),
        "age_group_balanced_accuracy": metrics.balanced_accuracy(arrays.age_group, group_predicted, len(AGE_GROUPS)),
        "age_group_confusion_matrix": metrics.confusion_matrix(arrays.age_group, group_predicted, len(AGE_GROUPS)).tolist(),
        "age_group_labels": list(AGE_GROUPS),
        "gender_accuracy_by_race": metrics.accuracy_by_group(arrays.gender, gender_predicted, arrays.race, RACES),
    }


def age_metrics(outputs: dict[str, np.ndarray], arrays, metadata: dict[str, Any]) -> dict[str, Any]:
    predicted = outputs["age"].reshape(-1)
    ranges = np.array(age_ranges(metadata, outputs, predicted))
    return {
        "age_mae": metrics.mean_absolute_error(arrays.age, predicted),
        "age_cs5": metrics.cumulative_score(arrays.age, predicted, 5.0),
        "age_mae_by_band": metrics.mae_by_band(arrays.age, predicted),
        "age_range_coverage": metrics.interval_coverage(arrays.age, ranges[:, 0], ranges[:, 1]),
        "age_range_mean_width": float(np.mean(ranges[:, 1] - ranges[:, 0])),
        "age_range_target_coverage": metadata.get("age_range", {}).get("coverage_target"),
    }


def _plots(result: dict[str, Any], outputs: dict[str, np.ndarray], arrays, out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    if "age_group_confusion_matrix" in result:
        matrix = np.array(result["age_group_confusion_matrix"])
        fig, axis = plt.subplots(figsize=(4.5, 4))
        axis.imshow(matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1), cmap="Blues", vmin=0, vmax=1)
        for (i, j), count in np.ndenumerate(matrix):
            axis.text(j, i, str(count), ha="center", va="center", fontsize=8)
        axis.set_xticks(range(len(AGE_GROUPS)), AGE_GROUPS, rotation=45)
        axis.set_yticks(range(len(AGE_GROUPS)), AGE_GROUPS)
        axis.set_xlabel("predicted age group")
        axis.set_ylabel("true age group")
        fig.tight_layout()
        fig.savefig(out / "confusion_matrix.png", dpi=80)
        plt.close(fig)
        written.append("confusion_matrix.png")
    if "age_mae" in result:
        fig, axis = plt.subplots(figsize=(4.5, 4))
        axis.scatter(arrays.age, outputs["age"].reshape(-1), s=2, alpha=0.3)
        axis.plot([0, 116], [0, 116], color="black", linewidth=0.8)
        axis.set_xlabel("true age (years)")
        axis.set_ylabel("predicted age (years)")
        fig.tight_layout()
        fig.savefig(out / "age_scatter.png", dpi=80)
        plt.close(fig)
        written.append("age_scatter.png")
    return written


def _report(result: dict[str, Any], plots: list[str]) -> str:
    where = f"{result['dataset']}, split {result['split']}, {result['count']} faces"
    if result.get("flip"):
        where += ", each averaged with its mirror image"
    lines = [f"# Evaluation of the {result['task']} model", "", f"Measured on {where}.", ""]
    scalar = {k: v for k, v in result["metrics"].items() if isinstance(v, float)}
    lines += ["| metric | value |", "| --- | --- |"]
    lines += [f"| {k} | {v:.4f} |" for k, v in scalar.items()]
    if "age_mae_by_band" in result["metrics"]:
        lines += ["", "Age MAE per band of the true age:", "", "| band | MAE (years) | faces |", "| --- | --- | --- |"]
        lines += [f"| {b} | {v['mae']:.2f} | {v['count']} |" for b, v in result["metrics"]["age_mae_by_band"].items()]
    if "gender_accuracy_by_race" in result["metrics"]:
        lines += ["", "Gender accuracy per race label:", "", "| race | accuracy | faces |", "| --- | --- | --- |"]
        lines += [f"| {r} | {v['accuracy']:.4f} | {v['count']} |"
                  for r, v in result["metrics"]["gender_accuracy_by_race"].items()]
    lines += [""] + [f"![{p}]({p})" for p in plots]
    return "\n".join(lines) + "\n"


def evaluate_model(model_dir: Path, dataset_dir: Path, split: str = "validation", out: Path | None = None,
                   limit: int | None = None, flip: bool = False) -> dict[str, Any]:
    """Evaluate the model in model_dir on one split and write metrics.json and report.md.

    ``split`` may also be "holdout": the rows of train that training kept aside, where choices
    such as test-time flipping can be made without touching the validation split.
    """
    metadata = json.loads((Path(model_dir) / METADATA_FILE).read_text())
    task = metadata["task"]
    loaded = load_model_dir(model_dir, task)
    if split == "holdout":
        arrays = load_split(dataset_dir, "train", loaded.input_size)
        arrays = arrays.subset(holdout_mask(arrays.file_name))
    else:
        arrays = load_split(dataset_dir, split, loaded.input_size)
    if limit:
        arrays = arrays.subset(np.arange(len(arrays)) < limit)
    outputs = _predict(loaded.model, arrays.images, flip)
    values = classifier_metrics(outputs, arrays) if task == "classifier" else age_metrics(outputs, arrays, metadata)

    summary_path = Path(dataset_dir) / "summary.json"
    source = json.loads(summary_path.read_text()).get("source", "unknown") if summary_path.is_file() else "unknown"
    dataset_name = {"utkface": "UTKFace", "wiki": "IMDB-WIKI (wiki_crop)"}.get(source, source)
    result = {"task": task, "dataset": dataset_name, "dataset_dir": str(dataset_dir), "split": split,
              "count": len(arrays), "flip": flip, "metrics": values}

    out = Path(out or model_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(result, indent=2) + "\n")
    plots = _plots(values, outputs, arrays, out)
    (out / "report.md").write_text(_report(result, plots))
    logger.info("Wrote %s", out / "metrics.json")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.evaluate", description=__doc__.split("\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("model_dir", type=Path, help="a model folder written by training.train")
    parser.add_argument("dataset_dir", type=Path, help="a DatasetDict folder written by training.datasets")
    parser.add_argument("--split", default="validation",
                        help="split to evaluate on, or 'holdout' for the rows of train kept out of training")
    parser.add_argument("--flip", action="store_true", help="average each prediction with that of the mirrored face")
    parser.add_argument("--out", type=Path, help="output folder (default: MODEL_DIR)")
    parser.add_argument("--limit", type=int, help="evaluate only the first N rows")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for path, what in ((args.model_dir / METADATA_FILE, "model folder"), (args.dataset_dir, "dataset folder")):
        if not path.exists():
            print(f"error: {what} not found: {path}", file=sys.stderr)
            return 2
    result = evaluate_model(args.model_dir, args.dataset_dir, args.split, args.out, args.limit, args.flip)
    print(json.dumps({k: v for k, v in result["metrics"].items() if isinstance(v, float)}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
