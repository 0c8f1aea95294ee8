"""Find and load the two models: an explicit local folder, the Hub, or the weights in the package.

A model folder contains the Keras 3 files (``config.json``, ``metadata.json``, ``model.weights.h5``,
the layout ``keras.saving.load_model`` reads from a folder or from ``hf://``), or a single
``model.keras`` archive, plus ``facedemo.json``: the task, input size and age-range calibration.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from pathlib import Path
from typing import Any

from facedemo.errors import ModelLoadError
from facedemo.labels import AGE_GROUPS, GENDERS, MAX_AGE

logger = logging.getLogger(__name__)

METADATA_FILE = "facedemo.json"
SHIPPED_DIR = Path(__file__).resolve().parent / "models"
TASKS = ("classifier", "age")

# One Hub repo per model, because keras.saving.load_model("hf://...") reads a repo's root:
# "{FACEDEMO_MODEL_REPO}-classifier" and "{FACEDEMO_MODEL_REPO}-age".
DEFAULT_MODEL_REPO = "facedemo/facedemo"
DEFAULT_MODEL_REVISION = "v1"
HUB_FILES = ["config.json", "metadata.json", "model.weights.h5", METADATA_FILE, "metrics.json"]
HUB_TIMEOUT_SECONDS = 5.0

EXPECTED_OUTPUTS = {
    "classifier": {"gender": len(GENDERS), "age_group": len(AGE_GROUPS)},
    "age": {"age": 1},
}


@dataclasses.dataclass
class LoadedModel:
    """A Keras model with its FaceDemo metadata and a description of where it came from."""

    task: str
    model: Any
    metadata: dict[str, Any]
    source: str

    @property
    def input_size(self) -> int:
        return int(self.metadata["input_size"])


def _check_shapes(task: str, model: Any, origin: str) -> None:
    input_shape = tuple(model.inputs[0].shape)
    if len(input_shape) != 4 or input_shape[3] != 3 or input_shape[1] != input_shape[2]:
        raise ModelLoadError(f"{origin}: expected a square RGB input (None, S, S, 3), got {input_shape}")
    outputs = dict(zip(model.output_names, (tuple(o.shape) for o in model.outputs)))
    for name, width in EXPECTED_OUTPUTS[task].items():
        if name not in outputs:
            raise ModelLoadError(f"{origin}: the {task} model has no output named {name!r} (outputs: {sorted(outputs)})")
        if outputs[name][-1] != width:
            raise ModelLoadError(f"{origin}: output {name!r} has shape {outputs[name]}, expected last axis {width}")
    if "age_probabilities" in outputs and outputs["age_probabilities"][-1] != MAX_AGE + 1:
        raise ModelLoadError(f"{origin}: output 'age_probabilities' must have {MAX_AGE + 1} bins")


def load_model_dir(path: str | os.PathLike, task: str, source: str | None = None) -> LoadedModel:
    """Load a model folder, checking its metadata, input and output shapes; raise ModelLoadError if unusable."""
    import keras

    folder = Path(path)
    origin = source or str(folder)
    if not folder.is_dir():
        raise ModelLoadError(f"Model folder not found: {folder}. Pass a folder written by training.train or hub.publish.")
    metadata_path = folder / METADATA_FILE
    if not metadata_path.is_file():
        raise ModelLoadError(f"{origin}: {METADATA_FILE} not found; pass a folder written by training.train or hub.publish")
    try:
        metadata = json.loads(metadata_path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ModelLoadError(f"{origin}: invalid {METADATA_FILE}: {error}") from error
    if metadata.get("task") != task:
        raise ModelLoadError(f"{origin}: contains a {metadata.get('task')!r} model, expected {task!r}")

    archive = folder / "model.keras"
    target = archive if archive.is_file() else folder
    try:
        # safe_mode stays on: no Lambda layers or pickled code are deserialized.
        model = keras.saving.load_model(target, compile=False, safe_mode=True)
    except Exception as error:  # Keras raises many types for corrupt or foreign files
        raise ModelLoadError(f"{origin}: Keras could not load the model: {error}") from error
    _check_shapes(task, model, origin)
    if int(model.inputs[0].shape[1]) != int(metadata.get("input_size", -1)):
        raise ModelLoadError(f"{origin}: {METADATA_FILE} sets input_size {metadata.get('input_size')}, "
                             f"the model takes {model.inputs[0].shape[1]}")
    return LoadedModel(task, model, metadata, origin)


def _download(repo_id: str, revision: str) -> Path:
    from huggingface_hub import snapshot_download

    folder = snapshot_download(repo_id, revision=revision, allow_patterns=HUB_FILES,
                               etag_timeout=HUB_TIMEOUT_SECONDS, library_name="facedemo")
    return Path(folder)


def _offline_without_cache(error: Exception) -> bool:
    from huggingface_hub.errors import LocalEntryNotFoundError

    offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")
    return offline and isinstance(error, LocalEntryNotFoundError)


def _hub_failure(error: Exception) -> str:
    if _offline_without_cache(error):
        return "HF_HUB_OFFLINE is set and the huggingface_hub cache has no copy of this revision"
    first_line = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {first_line[:200]}"


def resolve_model(task: str, local_path: str | os.PathLike | None = None, repo: str | None = None,
                  revision: str | None = None) -> LoadedModel:
    """Load the model of a task from the first source that works.

    The first source is ``local_path`` if given, whose failure raises because the caller asked for
    it. Next comes the Hub repo ``{repo}-{task}`` at ``revision``, through the huggingface_hub
    cache, and last the weights shipped in the package. ``repo`` defaults to FACEDEMO_MODEL_REPO or DEFAULT_MODEL_REPO, and an
    empty string skips the Hub. A Hub failure logs one warning and falls back.
    """
    if task not in TASKS:
        raise ValueError(f"Unknown task {task!r}; valid tasks: {', '.join(TASKS)}")
    if local_path is not None:
        loaded = load_model_dir(local_path, task)
        logger.info("Loaded %s model from local path %s", task, local_path)
        return loaded

    repo = os.environ.get("FACEDEMO_MODEL_REPO", DEFAULT_MODEL_REPO) if repo is None else repo
    revision = revision or os.environ.get("FACEDEMO_MODEL_REVISION", DEFAULT_MODEL_REVISION)
    if repo:
        repo_id = f"{repo}-{task}"
        try:
            folder = _download(repo_id, revision)
            loaded = load_model_dir(folder, task, source=f"hf://{repo_id}@{revision}")
            logger.info("Loaded %s model from the Hub: %s", task, loaded.source)
            return loaded
        except Exception as error:  # network, missing repo, bad files: all fall back the same way
            # Offline with nothing cached is the expected case of an offline start, not a failure.
            log = logger.info if _offline_without_cache(error) else logger.warning
            log("Using the shipped %s model: could not use hf://%s@%s: %s", task, repo_id, revision, _hub_failure(error))

    shipped = SHIPPED_DIR / task
    loaded = load_model_dir(shipped, task, source=f"shipped:{shipped}")
    logger.info("Loaded %s model shipped in the package (%s)", task, shipped)
    return loaded
