"""Train the classifier or the age estimator.

    python -m training.train classifier|age DATASET_DIR OUT_DIR [--preset NAME] [--epochs N] [--resume]

Checkpoints go to OUT_DIR.work/ after every epoch. A finished or interrupted run then writes
OUT_DIR in one rename, so a crash never leaves a half-written model in OUT_DIR.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from facedemo.weights import METADATA_FILE

logger = logging.getLogger(__name__)

AGE_RANGE_COVERAGE = 0.8


def _configure_threads(threads: int | None) -> None:
    import tensorflow as tf

    if not threads:
        return
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError as error:  # TensorFlow already ran an op in this process
        logger.warning("Cannot set %d threads: %s", threads, error)


def _compile(model, task: str, preset, learning_rate: float) -> None:
    import keras

    optimizer = keras.optimizers.Adam(learning_rate)
    if task == "classifier":
        losses = {"gender": "sparse_categorical_crossentropy", "age_group": "sparse_categorical_crossentropy"}
        metrics = {"gender": ["accuracy"], "age_group": ["accuracy"]}
        model.compile(optimizer=optimizer, loss=losses, metrics=metrics)
    elif preset.age_head == "distribution":
        # Cross-entropy against Gaussian soft labels plus a small L1 term on the expected age.
        losses = {"age_probabilities": "categorical_crossentropy", "age": "mean_absolute_error"}
        model.compile(optimizer=optimizer, loss=losses, loss_weights={"age_probabilities": 1.0, "age": 0.1},
                      metrics={"age": ["mean_absolute_error"]})
    else:
        model.compile(optimizer=optimizer, loss={"age": "mean_squared_error"},
                      metrics={"age": ["mean_absolute_error"]})


def learning_rate_at(epoch: int, initial: float, halve_every: int) -> float:
    """Step schedule: the initial rate halved every ``halve_every`` epochs (epoch counts from 0)."""
    return initial * 0.5 ** (epoch // halve_every)


class _EpochState:
    """Keras callback that saves the full model (with optimizer) and the epoch after every epoch."""

    def __init__(self, work: Path) -> None:
        import keras

        outer = self

        class Callback(keras.callbacks.Callback):
            def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
                outer.save(self.model, epoch, logs or {})

        self.work = work
        self.callback = Callback()

    def save(self, model, epoch: int, logs: dict) -> None:
        partial = self.work / "last.tmp.keras"
        model.save(partial)
        partial.replace(self.work / "last.keras")
        state = {"completed_epochs": epoch + 1, "logs": {k: float(v) for k, v in logs.items()}}
        (self.work / "state.json").write_text(json.dumps(state, indent=2) + "\n")
        logger.info("Epoch %d checkpoint saved", epoch + 1)


def _calibrate_age_range(model, arrays, preset) -> dict[str, Any]:
    """Fit the age-range width on the holdout rows so that about 80 % of true ages fall inside."""
    import numpy as np

    from facedemo.ageutil import age_spread

    outputs = model.predict(arrays.images, batch_size=256, verbose=0)
    predicted = np.asarray(outputs["age"]).reshape(-1)
    error = np.abs(arrays.age - predicted)
    if "age_probabilities" in outputs:
        spread = age_spread(np.asarray(outputs["age_probabilities"]))
        multiplier = float(np.quantile(error / np.maximum(spread, 1e-3), AGE_RANGE_COVERAGE))
        return {"method": "std_multiple", "multiplier": multiplier, "coverage_target": AGE_RANGE_COVERAGE,
                "fitted_on": f"holdout of train, {len(error)} rows"}
    half_width = float(np.quantile(error, AGE_RANGE_COVERAGE))
    return {"method": "fixed_half_width", "half_width": half_width, "coverage_target": AGE_RANGE_COVERAGE,
            "fitted_on": f"holdout of train, {len(error)} rows"}


def _plot_curves(history_csv: Path, out_png: Path) -> None:
    import csv

    if not history_csv.is_file():
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with history_csv.open() as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        return
    epochs = [int(r["epoch"]) + 1 for r in rows]
    # Plot the total losses and every metric; per-output losses would crowd the loss panel.
    keys = [k for k in rows[0] if k in ("loss", "val_loss") or not (k.endswith("_loss") or k in ("epoch", "learning_rate"))]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for key in keys:
        values = [float(r[key]) for r in rows]
        axis = axes[0] if "loss" in key else axes[1]
        axis.plot(epochs, values, label=key)
    axes[0].set_title("loss (val_ = holdout of train)")
    axes[1].set_title("metrics")
    for axis in axes:
        axis.set_xlabel("epoch")
        axis.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out_png, dpi=80)
    plt.close(fig)


def _finalize(task: str, preset, work: Path, out: Path, dataset_dir: Path, info: dict[str, Any], holdout) -> None:
    import keras

    best = work / "best.keras" if (work / "best.keras").is_file() else work / "last.keras"
    model = keras.saving.load_model(best, compile=False)
    staging = out.with_name(out.name + ".staging")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    model.save(staging / "model.keras")

    metadata = {
        "task": task,
        "preset": dataclasses.asdict(preset),
        "input_size": preset.input_size,
        "outputs": sorted(model.output_names) if hasattr(model, "output_names") else None,
        "dataset": info["dataset"],
        "training": info["training"],
    }
    if task == "age":
        metadata["age_range"] = _calibrate_age_range(model, holdout, preset)
    (staging / METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n")
    for name in ("history.csv",):
        if (work / name).is_file():
            shutil.copy2(work / name, staging / name)
    if (dataset_dir / "splits.json").is_file():
        shutil.copy2(dataset_dir / "splits.json", staging / "splits.json")
    _plot_curves(work / "history.csv", staging / "curves.png")

    old = out.with_name(out.name + ".old")
    if out.exists():
        shutil.rmtree(old, ignore_errors=True)
        out.rename(old)
    staging.rename(out)
    shutil.rmtree(old, ignore_errors=True)
    logger.info("Model written to %s", out)


def train(task: str, dataset_dir: Path, out: Path, preset_name: str, epochs: int | None,
          resume: bool, threads: int | None = None, limit: int | None = None, evaluate: bool = True) -> Path:
    """Train one model and write OUT; returns OUT. ``limit`` caps the rows of each split (for tests)."""
    _configure_threads(threads)
    import keras
    import numpy as np

    from training.architectures import build_model, get_preset
    from training.data import load_split, holdout_mask, make_dataset

    preset = get_preset(task, preset_name)
    epochs = epochs or preset.epochs
    work = out.with_name(out.name + ".work")
    if work.exists() and not resume:
        raise FileExistsError(f"{work} contains an earlier run. Pass --resume to continue it, or delete it.")
    work.mkdir(parents=True, exist_ok=True)

    arrays = load_split(dataset_dir, "train", preset.input_size)
    if limit:
        arrays = arrays.subset(np.arange(len(arrays)) < limit)
    mask = holdout_mask(arrays.file_name)
    train_rows, holdout = arrays.subset(~mask), arrays.subset(mask)
    logger.info("Training %s (%s) on %d rows, holdout %d rows", task, preset.name, len(train_rows), len(holdout))

    keras.utils.set_random_seed(1234)
    initial_epoch = 0
    if resume and (work / "last.keras").is_file():
        model = keras.saving.load_model(work / "last.keras")
        initial_epoch = json.loads((work / "state.json").read_text())["completed_epochs"]
        logger.info("Resuming from epoch %d", initial_epoch)
    else:
        model = build_model(task, preset)
        _compile(model, task, preset, preset.learning_rate)

    callbacks = [
        keras.callbacks.LearningRateScheduler(
            lambda epoch: learning_rate_at(epoch, preset.learning_rate, preset.halve_every)),
        keras.callbacks.CSVLogger(str(work / "history.csv"), append=initial_epoch > 0),
        keras.callbacks.ModelCheckpoint(str(work / "best.keras"), monitor="val_loss", save_best_only=True),
        _EpochState(work).callback,
    ]
    train_data = make_dataset(train_rows, task, preset, training=True)
    holdout_data = make_dataset(holdout, task, preset, training=False)
    interrupted = False
    started = time.perf_counter()
    try:
        if initial_epoch < epochs:
            model.fit(train_data, validation_data=holdout_data, epochs=epochs, initial_epoch=initial_epoch,
                      callbacks=callbacks, verbose=2)
    except KeyboardInterrupt:
        interrupted = True
        logger.warning("Interrupted; writing the best checkpoint so far to %s", out)
    elapsed = time.perf_counter() - started

    summary_path = dataset_dir / "summary.json"
    dataset_summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
    info = {
        "dataset": {"path": str(dataset_dir), "fingerprint": dataset_summary.get("fingerprint"),
                    "source": dataset_summary.get("source"), "train_rows": len(train_rows),
                    "holdout_rows": len(holdout)},
        "training": {"epochs_requested": epochs, "interrupted": interrupted,
                     "seconds_this_run": round(elapsed, 1), "threads": threads or os.cpu_count()},
    }
    _finalize(task, preset, work, out, dataset_dir, info, holdout)

    if evaluate and not interrupted:
        from training.evaluate import evaluate_model

        evaluate_model(out, dataset_dir, "validation", limit=limit)
    return out


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m training.train", description=__doc__.split("\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("task", choices=["classifier", "age"], help="which model to train")
    parser.add_argument("dataset_dir", type=Path, help="a DatasetDict folder written by training.datasets")
    parser.add_argument("out_dir", type=Path, help="output folder for the trained model")
    parser.add_argument("--preset", default="compact64",
                        help="preset name: compact64 (default), compact64_unbalanced (no age-group weights) or reference")
    parser.add_argument("--epochs", type=int, help="number of epochs (default: the preset's)")
    parser.add_argument("--resume", action="store_true", help="continue from the last checkpoint in OUT_DIR.work")
    parser.add_argument("--threads", type=int, help="CPU threads for TensorFlow (default: all cores)")
    parser.add_argument("--limit", type=int, help="use only the first N rows of each split (quick checks)")
    parser.add_argument("--no-evaluate", action="store_true", help="skip the validation report at the end")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.dataset_dir.is_dir():
        print(f"error: dataset folder not found: {args.dataset_dir}. Build it with python -m training.datasets.",
              file=sys.stderr)
        return 2
    try:
        train(args.task, args.dataset_dir, args.out_dir, args.preset, args.epochs, args.resume,
              args.threads, args.limit, evaluate=not args.no_evaluate)
    except (ValueError, FileExistsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
