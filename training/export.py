"""Export a trained model folder to the layout shipped in the package and published on the Hub.

    python -m training.export MODEL_DIR DEST [--tflite]

DEST receives ``config.json``, ``metadata.json`` and ``model.weights.h5`` (what
``keras.saving.load_model`` reads from a folder or from ``hf://``), ``facedemo.json``,
``metrics.json`` when MODEL_DIR has one, and with --tflite a ``model.tflite``.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
from pathlib import Path

from facedemo.weights import METADATA_FILE, load_model_dir

logger = logging.getLogger(__name__)

COPIED_FILES = (METADATA_FILE, "metrics.json")


def export_tflite(model, path: Path) -> None:
    """Convert a Keras model to a TFLite flatbuffer at path; outputs keep their Keras names."""
    import tensorflow as tf

    model.export(str(path.with_suffix(".savedmodel")), format="tf_saved_model", verbose=False)
    try:
        converter = tf.lite.TFLiteConverter.from_saved_model(str(path.with_suffix(".savedmodel")))
        path.write_bytes(converter.convert())
    finally:
        shutil.rmtree(path.with_suffix(".savedmodel"), ignore_errors=True)


def export_model(model_dir: Path, dest: Path, tflite: bool = False) -> Path:
    """Write the model of model_dir to dest in the Keras folder layout, replacing dest."""
    import json

    import keras

    task = json.loads((Path(model_dir) / METADATA_FILE).read_text())["task"]
    loaded = load_model_dir(model_dir, task)
    staging = dest.with_name(dest.name + ".staging")
    shutil.rmtree(staging, ignore_errors=True)
    keras.saving.save_model(loaded.model, staging, zipped=False)
    for name in COPIED_FILES:
        if (Path(model_dir) / name).is_file():
            shutil.copy2(Path(model_dir) / name, staging / name)
    if tflite:
        export_tflite(loaded.model, staging / "model.tflite")
    if dest.exists():
        shutil.rmtree(dest)
    staging.rename(dest)
    logger.info("Exported %s model to %s", task, dest)
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.export", description=__doc__.split("\n")[0])
    parser.add_argument("model_dir", type=Path, help="a model folder written by training.train")
    parser.add_argument("dest", type=Path, help="output folder, replaced if it exists")
    parser.add_argument("--tflite", action="store_true", help="also write model.tflite")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if not (args.model_dir / METADATA_FILE).is_file():
        print(f"error: {args.model_dir} is not a model folder ({METADATA_FILE} not found)", file=sys.stderr)
        return 2
    export_model(args.model_dir, args.dest, args.tflite)
    return 0


if __name__ == "__main__":
    sys.exit(main())
