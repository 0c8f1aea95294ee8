"""Model builders, evaluation maths, a short training run with resume, evaluation and export."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from PIL import Image

from training import metrics
from training.architectures import AGE_BINS, build_model, get_preset
from training.data import age_group_weights, gaussian_age_labels, holdout_mask
from training.train import learning_rate_at


# --- evaluation maths on hand-made predictions ---------------------------------------------------

def test_accuracy_and_balanced_accuracy():
    true = np.array([0, 0, 0, 0, 1, 1, 2])
    predicted = np.array([0, 0, 0, 1, 1, 0, 2])
    assert metrics.accuracy(true, predicted) == pytest.approx(5 / 7)
    # recalls: class 0 = 3/4, class 1 = 1/2, class 2 = 1; classes 3-4 absent are ignored
    assert metrics.balanced_accuracy(true, predicted, 5) == pytest.approx((0.75 + 0.5 + 1.0) / 3)


def test_confusion_matrix_rows_are_truth():
    matrix = metrics.confusion_matrix(np.array([0, 1, 1, 2]), np.array([1, 1, 1, 0]), 3)
    assert matrix.tolist() == [[0, 1, 0], [0, 2, 0], [1, 0, 0]]


def test_mae_cs5_and_bands():
    true = np.array([5, 15, 30, 50, 70])
    predicted = np.array([8, 15, 36, 45, 80])
    assert metrics.mean_absolute_error(true, predicted) == pytest.approx((3 + 0 + 6 + 5 + 10) / 5)
    assert metrics.cumulative_score(true, predicted, 5) == pytest.approx(3 / 5)  # 3, 0 and exactly 5
    bands = metrics.mae_by_band(true, predicted)
    assert bands == {"0-12": {"mae": 3.0, "count": 1}, "13-19": {"mae": 0.0, "count": 1},
                     "20-39": {"mae": 6.0, "count": 1}, "40-59": {"mae": 5.0, "count": 1},
                     "60+": {"mae": 10.0, "count": 1}}


def test_interval_coverage_inclusive():
    assert metrics.interval_coverage(np.array([10, 20, 30, 40]), np.array([10, 25, 20, 0]),
                                     np.array([12, 30, 30, 39])) == pytest.approx(0.5)


def test_accuracy_by_group_names_unknown():
    table = metrics.accuracy_by_group(np.array([0, 1, 1]), np.array([0, 0, 1]), np.array([0, -1, -1]),
                                      ("white", "black"))
    assert table == {"unknown": {"accuracy": 0.5, "count": 2}, "white": {"accuracy": 1.0, "count": 1}}


# --- data helpers ----------------------------------------------------------------------------------

def test_gaussian_labels_peak_at_age():
    labels = gaussian_age_labels(np.array([0, 40, 116]))
    assert labels.shape == (3, AGE_BINS)
    np.testing.assert_allclose(labels.sum(axis=1), 1.0, rtol=1e-5)
    assert labels.argmax(axis=1).tolist() == [0, 40, 116]


def test_age_group_weights_favour_rare_groups():
    groups = np.array([0] * 90 + [1] * 9 + [3] * 1)
    weights = age_group_weights(groups)
    assert weights[3] > weights[1] > weights[0]
    assert weights[groups].mean() == pytest.approx(1.0)
    assert weights[3] / weights[0] == pytest.approx(np.sqrt(90))


def test_holdout_is_stable_and_sized():
    names = np.array([f"{i}_0_0_2017.jpg" for i in range(4000)])
    mask = holdout_mask(names)
    assert 0.035 < mask.mean() < 0.065
    np.testing.assert_array_equal(mask[:100], holdout_mask(names[:100]))


def test_learning_rate_halves_on_schedule():
    assert [learning_rate_at(e, 0.008, 5) for e in (0, 4, 5, 10, 14)] == [0.008, 0.008, 0.004, 0.002, 0.002]


# --- model builders ---------------------------------------------------------------------------------

def _layer_types(model) -> list[str]:
    return [type(layer).__name__ for layer in model.layers]


@pytest.mark.slow
def test_reference_classifier_matches_published_design():
    preset = get_preset("classifier", "reference")
    model = build_model("classifier", preset)
    assert tuple(model.inputs[0].shape) == (None, 198, 198, 3)
    assert dict(zip(model.output_names, (tuple(o.shape) for o in model.outputs))) == {
        "gender": (None, 2), "age_group": (None, 5)}
    types = _layer_types(model)
    assert "Conv2D" not in types
    assert types.count("SeparableConv2D") == types.count("BatchNormalization") == types.count("MaxPooling2D")
    for layer in model.layers:  # spatial dropout follows exactly the stages of 128 filters or more
        if type(layer).__name__ == "SpatialDropout2D":
            stage = layer.name.removeprefix("sdrop")
            assert model.get_layer(f"conv{stage}_0").filters >= 128
            assert 0.1 <= layer.rate <= 0.2
    assert all(0.2 <= layer.rate <= 0.3 for layer in model.layers if type(layer).__name__ == "Dropout")
    assert preset.batch_size == 32
    assert (preset.learning_rate, preset.halve_every) == (0.008, 5)
    assert (preset.rotation_degrees, preset.brightness, preset.shift, preset.zoom) == (30.0, (0.6, 1.4), 0.2, 0.5)


@pytest.mark.slow
def test_reference_age_model_is_plain_regression():
    preset = get_preset("age", "reference")
    model = build_model("age", preset)
    assert tuple(model.inputs[0].shape) == (None, 180, 180, 3)
    assert model.output_names == ["age"]
    assert (preset.learning_rate, preset.halve_every) == (0.006, 12)


@pytest.mark.slow
def test_age_distribution_output_is_expected_value():
    model = build_model("age", get_preset("age", "compact64"))
    images = np.random.default_rng(0).integers(0, 255, (3, 64, 64, 3)).astype("float32")
    outputs = model.predict(images, verbose=0)
    assert outputs["age_probabilities"].shape == (3, AGE_BINS)
    expected = outputs["age_probabilities"] @ np.arange(AGE_BINS)
    np.testing.assert_allclose(outputs["age"].reshape(-1), expected, rtol=1e-4)
    assert not model.get_layer("age").trainable


def test_unknown_preset_lists_valid_names():
    with pytest.raises(ValueError, match=r"valid presets: \['compact64', 'compact64_unbalanced', 'reference'\]"):
        get_preset("classifier", "resnet50")


# --- a short training run ---------------------------------------------------------------------------

def _tiny_dataset(tmp_path):
    """A DatasetDict of 60 synthetic 'faces' whose brightness encodes gender, built by the real builder."""
    from training import datasets as builder

    folder = tmp_path / "chips"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(60):
        gender, age = i % 2, 10 + (i * 7) % 80
        image = rng.integers(0, 60, (200, 200, 3), dtype=np.uint8) + (150 if gender else 20)
        buffer = io.BytesIO()
        Image.fromarray(image.astype(np.uint8)).save(buffer, format="JPEG")
        (folder / f"{age}_{gender}_0_201701010000{i:05d}.jpg.chip.jpg").write_bytes(buffer.getvalue())
    out = tmp_path / "dataset"
    assert builder.main(["utkface", str(folder), str(out)]) == 0
    return out


@pytest.mark.slow
def test_train_checkpoints_resumes_and_evaluates(tmp_path):
    from training.train import main as train_main

    dataset = _tiny_dataset(tmp_path)
    out = tmp_path / "classifier"
    assert train_main(["classifier", str(dataset), str(out), "--epochs", "1", "--threads", "2"]) == 0
    work = tmp_path / "classifier.work"
    assert (work / "last.keras").is_file()
    assert json.loads((work / "state.json").read_text())["completed_epochs"] == 1
    assert (out / "model.keras").is_file()

    assert train_main(["classifier", str(dataset), str(out), "--epochs", "1"]) == 2  # refuses to overwrite work

    assert train_main(["classifier", str(dataset), str(out), "--epochs", "3", "--resume"]) == 0
    assert json.loads((work / "state.json").read_text())["completed_epochs"] == 3
    with (work / "history.csv").open() as handle:
        assert [row["epoch"] for row in csv.DictReader(handle)] == ["0", "1", "2"]

    for name in ("model.keras", "facedemo.json", "history.csv", "curves.png", "splits.json", "metrics.json",
                 "report.md"):
        assert (out / name).is_file(), name
    result = json.loads((out / "metrics.json").read_text())
    assert result["split"] == "validation"
    assert result["count"] == len(json.loads((dataset / "splits.json").read_text())["validation"])
    assert 0.0 <= result["metrics"]["gender_accuracy"] <= 1.0
    metadata = json.loads((out / "facedemo.json").read_text())
    assert metadata["task"] == "classifier"
    assert metadata["dataset"]["fingerprint"] == json.loads((dataset / "summary.json").read_text())["fingerprint"]


@pytest.mark.slow
def test_age_training_calibrates_range_and_exports(tmp_path):
    from facedemo.weights import load_model_dir
    from training.export import export_model
    from training.train import main as train_main

    dataset = _tiny_dataset(tmp_path)
    out = tmp_path / "age"
    assert train_main(["age", str(dataset), str(out), "--epochs", "1"]) == 0
    calibration = json.loads((out / "facedemo.json").read_text())["age_range"]
    assert calibration["method"] == "std_multiple"
    assert calibration["multiplier"] > 0
    report = json.loads((out / "metrics.json").read_text())["metrics"]
    assert set(report["age_mae_by_band"]) <= {"0-12", "13-19", "20-39", "40-59", "60+"}
    assert 0.0 <= report["age_range_coverage"] <= 1.0

    exported = export_model(out, tmp_path / "exported")
    names = {p.name for p in exported.iterdir()}
    assert {"config.json", "facedemo.json", "metadata.json", "metrics.json", "model.weights.h5"} <= names
    assert "model.keras" not in names
    original = load_model_dir(out, "age").model
    reloaded = load_model_dir(exported, "age").model
    images = np.random.default_rng(1).integers(0, 255, (2, 64, 64, 3)).astype("float32")
    np.testing.assert_allclose(reloaded.predict(images, verbose=0)["age"], original.predict(images, verbose=0)["age"],
                               rtol=1e-5)


@pytest.mark.slow
def test_interrupt_keeps_best_checkpoint(tmp_path, monkeypatch):
    from training import train as train_module

    dataset = _tiny_dataset(tmp_path)
    original_save = train_module._EpochState.save

    def save_then_interrupt(self, model, epoch, logs):
        original_save(self, model, epoch, logs)
        if epoch == 1:
            raise KeyboardInterrupt  # what Ctrl-C raises inside model.fit

    monkeypatch.setattr(train_module._EpochState, "save", save_then_interrupt)
    out = tmp_path / "classifier"
    train_module.train("classifier", dataset, out, "compact64", epochs=5, resume=False)

    metadata = json.loads((out / "facedemo.json").read_text())
    assert metadata["training"]["interrupted"] is True
    assert (out / "model.keras").is_file()
    assert not (out / "metrics.json").exists()  # an interrupted run skips the validation report
    assert json.loads((tmp_path / "classifier.work" / "state.json").read_text())["completed_epochs"] == 2
