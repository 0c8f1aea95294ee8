"""Model cards: YAML metadata with a model-index of measured metrics, and the card's sections."""

from __future__ import annotations

import json
from typing import Any

LICENSE_TEXT = (
    "The weights were trained on UTKFace, which its authors release for non-commercial research only; "
    "the copyright of each image stays with its owner. The same limit applies to these weights."
)

_TITLES = {"classifier": "FaceDemo gender and age-group classifier", "age": "FaceDemo age estimator"}


def _metric_entries(task: str, metrics: dict[str, Any]) -> list[dict[str, Any]]:
    values = metrics["metrics"]
    if task == "classifier":
        chosen = [("accuracy", "gender accuracy", "gender_accuracy"),
                  ("accuracy", "age-group accuracy", "age_group_accuracy"),
                  ("balanced_accuracy", "age-group balanced accuracy", "age_group_balanced_accuracy")]
    else:
        chosen = [("mae", "age MAE (years)", "age_mae"), ("cs5", "share within 5 years (CS@5)", "age_cs5"),
                  ("coverage", "age_range coverage (target 0.8)", "age_range_coverage")]
    return [{"type": kind, "name": name, "value": round(float(values[key]), 4)} for kind, name, key in chosen]


def card_metadata(task: str, metrics: dict[str, Any], dataset_id: str) -> dict[str, Any]:
    """Return the YAML front matter of a model card as a dict."""
    return {
        "license": "other",
        "license_name": "utkface-non-commercial-research",
        "library_name": "keras",
        "pipeline_tag": "image-classification",
        "tags": ["keras", "face", "utkface", "age-estimation" if task == "age" else "gender-classification",
                 "facedemo"],
        "datasets": [dataset_id],
        "model-index": [{
            "name": f"facedemo-{task}",
            "results": [{
                "task": {"type": "image-classification", "name": _TITLES[task]},
                "dataset": {"name": metrics["dataset"], "type": dataset_id, "split": metrics["split"]},
                "metrics": _metric_entries(task, metrics),
            }],
        }],
    }


def _yaml(value: Any, indent: int = 0) -> str:
    """Dump the plain dicts, lists and scalars of card metadata as YAML (JSON scalars are valid YAML)."""
    pad = "  " * indent
    if isinstance(value, dict):
        lines = []
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}{key}:\n{_yaml(item, indent + 1)}")
            else:
                lines.append(f"{pad}{key}: {json.dumps(item)}")
        return "\n".join(lines)
    lines = []
    for item in value:
        if isinstance(item, dict):
            body = _yaml(item, indent + 1).lstrip()
            lines.append(f"{pad}- {body}")
        else:
            lines.append(f"{pad}- {json.dumps(item)}")
    return "\n".join(lines)


def _tables(task: str, metrics: dict[str, Any]) -> list[str]:
    values = metrics["metrics"]
    lines = []
    if task == "age":
        lines += ["| age band | MAE (years) | faces |", "| --- | --- | --- |"]
        lines += [f"| {band} | {row['mae']:.2f} | {row['count']} |" for band, row in values["age_mae_by_band"].items()]
    else:
        lines += ["| race label | gender accuracy | faces |", "| --- | --- | --- |"]
        lines += [f"| {race} | {row['accuracy']:.3f} | {row['count']} |"
                  for race, row in values["gender_accuracy_by_race"].items()]
        matrix = values["age_group_confusion_matrix"]
        labels = values["age_group_labels"]
        lines += ["", "Age-group confusion matrix (rows: true group, columns: predicted):", "",
                  "| | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
        lines += [f"| {label} | " + " | ".join(str(v) for v in row) + " |" for label, row in zip(labels, matrix)]
    return lines


def render_card(task: str, repo_id: str, metrics: dict[str, Any], metadata: dict[str, Any], dataset_id: str) -> str:
    """Return the full README.md of a model repo."""
    where = f"{metrics['dataset']}, {metrics['split']} split, {metrics['count']} faces"
    headline = ", ".join(f"{m['name']} {m['value']}" for m in _metric_entries(task, metrics))
    outputs = ("`gender` (2 probabilities: male, female) and `age_group` (5 probabilities: 0-24, 25-49, "
               "50-74, 75-99, 100-124)") if task == "classifier" else (
               "`age` (years) and, for the default preset, `age_probabilities` (117 probabilities, one per "
               "year 0-116); FaceDemo turns their spread into an 80 % `age_range`")
    size = metadata["input_size"]
    lines = [
        "---", _yaml(card_metadata(task, metrics, dataset_id)), "---", "",
        f"# {_TITLES[task]}", "",
        f"A small CNN trained from scratch with Keras (preset `{metadata['preset']['name']}`). Input: an aligned "
        f"face crop, RGB, {size}x{size}, values 0-255 (the model rescales them itself). Outputs: {outputs}.", "",
        "## How to use", "",
        "With FaceDemo, which detects and aligns the faces first:", "",
        "```bash", "pip install -r requirements.txt   # from the FaceDemo repository",
        "python -m facedemo predict photo.jpg", "```", "",
        "```python", "from facedemo import Analyzer", "faces = Analyzer().analyze(\"photo.jpg\")", "```", "",
        "With plain Keras, on a face crop aligned like the UTKFace chips:", "",
        "```python", "import keras, numpy as np",
        f"model = keras.saving.load_model(\"hf://{repo_id}\")",
        f"outputs = model.predict(np.zeros((1, {size}, {size}, 3), dtype=\"float32\"))  # a dict keyed by output name",
        "```", "",
        "`model.tflite` holds the same model for TFLite; its signature `serving_default` keeps the output names.", "",
        "## Training data", "",
        "UTKFace \"Aligned & Cropped Faces\", grouped by identical bytes (conflicting copies dropped) and split "
        "85/15 into train and validation, stratified by age group and gender with a fixed seed. 5 % of the "
        "train split was held out for checkpoint selection" + (" and age-range calibration" if task == "age" else "")
        + "; the validation split was used only for the figures below.", "", LICENSE_TEXT, "",
        "## Results", "", f"Measured on {where}: {headline}.", "",
        *_tables(task, metrics), "",
        "## Limitations and intended use", "",
        "For demonstrations and research on facial analysis. The models predict appearance, not identity: "
        "gender is one of two labels as UTKFace records it; errors grow for children, people over 70 and faces "
        "that are small, blurred, turned or harshly lit, and differ between groups (see the table above). "
        "Do not use them to make decisions about people.", "",
    ]
    return "\n".join(lines)
