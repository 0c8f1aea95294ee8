"""Hub publishing with recorded commit operations, and model resolution from a prepared cache."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from facedemo import weights
from facedemo.weights import SHIPPED_DIR, resolve_model
from hub import deploy_space, publish
from hub.auth import HubError, get_token

pytestmark = pytest.mark.slow

SECRET = "hf_thisTokenMustNeverBeLogged1234567890"


class RecordingApi:
    """Stands in for HfApi: records repos, branches and the operations of each commit.

    It subclasses HfApi and replaces only the calls that would reach the network.
    """

    def __new__(cls, fail_status: int | None = None):
        from huggingface_hub import HfApi

        class _Api(HfApi):
            def __init__(self) -> None:
                super().__init__(token=SECRET, library_name="facedemo")
                self.repos, self.branches, self.commits = [], [], []

            def create_repo(self, repo_id, **kwargs):
                if fail_status:
                    import httpx2
                    from huggingface_hub.errors import HfHubHTTPError

                    request = httpx2.Request("POST", "https://stand-in.invalid/api/repos/create")
                    raise HfHubHTTPError("Forbidden", response=httpx2.Response(fail_status, request=request))
                self.repos.append((repo_id, kwargs))

            def create_branch(self, repo_id, *, branch, **kwargs):
                self.branches.append((repo_id, branch))

            def create_commit(self, repo_id, operations, *, commit_message, **kwargs):
                files = {}
                for operation in operations:
                    source = operation.path_or_fileobj
                    data = Path(source).read_bytes() if isinstance(source, (str, Path)) else bytes(source)
                    files[operation.path_in_repo] = data
                self.commits.append({"repo_id": repo_id, "message": commit_message, "files": files, **kwargs})

        return _Api()


@pytest.fixture(scope="module")
def trained_dirs(tmp_path_factory):
    """Training outputs rebuilt from the shipped weights, with their metrics, as publish expects."""
    root = tmp_path_factory.mktemp("trained")
    dirs = {}
    for task in ("classifier", "age"):
        target = root / task
        shutil.copytree(SHIPPED_DIR / task, target)
        dirs[task] = target
    return dirs


def test_publish_uploads_keras_layout_and_card(trained_dirs, caplog, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", SECRET)
    api = RecordingApi()
    caplog.set_level(logging.DEBUG)
    publish.publish(trained_dirs["age"], "someone/facedemo-age", revision="v1", api=api)

    assert api.repos == [("someone/facedemo-age", {"private": False, "exist_ok": True})]
    assert api.branches == [("someone/facedemo-age", "v1")]
    commit = api.commits[0]
    assert commit["revision"] == "v1"
    assert {"config.json", "metadata.json", "model.weights.h5", "model.tflite", "facedemo.json", "metrics.json",
            "README.md"} <= set(commit["files"])
    card = commit["files"]["README.md"].decode()
    front = yaml.safe_load(card.split("---")[1])
    assert front["license"] == "other"
    assert front["library_name"] == "keras"
    assert front["pipeline_tag"] == "image-classification"
    assert "age-estimation" in front["tags"]
    assert front["datasets"] == ["facedemo/utkface"]
    result = front["model-index"][0]["results"][0]
    metrics = json.loads(commit["files"]["metrics.json"])
    assert result["dataset"]["split"] == "validation"
    assert result["dataset"]["name"] == "UTKFace"
    reported = {m["type"]: m["value"] for m in result["metrics"]}
    assert reported["mae"] == round(metrics["metrics"]["age_mae"], 4)
    assert reported["coverage"] == round(metrics["metrics"]["age_range_coverage"], 4)
    for section in ("## How to use", "## Training data", "## Results", "## Limitations and intended use"):
        assert section in card
    assert "| 60+ |" in card
    assert "non-commercial research" in card
    assert SECRET not in caplog.text


def test_publish_reports_permission_without_token(trained_dirs, caplog, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", SECRET)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(HubError, match="No permission to write to someone/facedemo-age") as raised:
        publish.publish(trained_dirs["age"], "someone/facedemo-age", api=RecordingApi(fail_status=403))
    assert SECRET not in str(raised.value)
    assert SECRET not in caplog.text


def test_missing_token_says_what_to_do(monkeypatch):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr("huggingface_hub.get_token", lambda: None)
    with pytest.raises(HubError, match="set HF_TOKEN or run `hf auth login`"):
        get_token()


def test_dry_run_loads_with_keras_and_matches(trained_dirs, tmp_path):
    import keras

    out = tmp_path / "dry"
    files = publish.publish(trained_dirs["classifier"], "someone/facedemo-classifier", dry_run=out)
    assert "README.md" in files
    assert "model.tflite" in files
    reloaded = keras.saving.load_model(out, safe_mode=True)
    original = weights.load_model_dir(trained_dirs["classifier"], "classifier").model
    images = np.random.default_rng(0).integers(0, 255, (2, 64, 64, 3)).astype("float32")
    expected, got = original.predict(images, verbose=0), reloaded.predict(images, verbose=0)
    for name in ("gender", "age_group"):
        np.testing.assert_allclose(got[name], expected[name], atol=1e-6)


def test_tflite_matches_keras_by_output_name(trained_dirs, tmp_path):
    import tensorflow as tf

    out = tmp_path / "dry"
    publish.publish(trained_dirs["age"], "someone/facedemo-age", dry_run=out)
    interpreter = tf.lite.Interpreter(model_path=str(out / "model.tflite"))
    runner = interpreter.get_signature_runner("serving_default")
    images = np.random.default_rng(2).integers(0, 255, (1, 64, 64, 3)).astype("float32")
    lite = runner(image=images)
    keras_outputs = weights.load_model_dir(trained_dirs["age"], "age").model.predict(images, verbose=0)
    assert set(lite) == set(keras_outputs)
    for name in keras_outputs:
        np.testing.assert_allclose(lite[name], keras_outputs[name], rtol=1e-4, atol=1e-4)


def test_deploy_space_front_matter(tmp_path):
    files = deploy_space.deploy("someone/facedemo", models_repo="someone/fd", dry_run=tmp_path / "space")
    assert "app.py" in files
    assert "facedemo/analyzer.py" in files
    assert "facedemo/models/age/model.weights.h5" in files
    readme = (tmp_path / "space" / "README.md").read_text()
    requirements = (tmp_path / "space" / "requirements.txt").read_text()
    gradio_pin = next(line for line in requirements.splitlines() if line.startswith("gradio=="))
    assert f"sdk_version: {gradio_pin.split('==')[1]}" in readme
    for line in ("sdk: gradio", "app_file: app.py", "  - someone/fd-classifier", "  - someone/fd-age",
                 "license: other", "short_description:"):
        assert line in readme
    assert "pytest" not in requirements


def test_deploy_space_commit_operations(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", SECRET)
    api = RecordingApi()
    deploy_space.deploy("someone/facedemo", api=api)
    assert api.repos[0][1]["repo_type"] == "space"
    assert api.repos[0][1]["space_sdk"] == "gradio"
    assert "app.py" in api.commits[0]["files"]
    assert api.commits[0]["repo_type"] == "space"


# --- pulling ----------------------------------------------------------------------------------------

def _populate_cache(cache: Path, repo_id: str, revision: str, source: Path) -> Path:
    """Lay out a huggingface_hub cache entry (refs, snapshots) as the library writes it."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo_folder = cache / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo_folder / "snapshots" / commit
    snapshot.mkdir(parents=True)
    (repo_folder / "refs").mkdir()
    (repo_folder / "refs" / revision).write_text(commit)
    (repo_folder / "blobs").mkdir()
    for path in source.iterdir():
        if path.name in weights.HUB_FILES:
            shutil.copy2(path, snapshot / path.name)
    return snapshot


def test_resolve_from_prepared_cache(tmp_path, monkeypatch, caplog):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    snapshot = _populate_cache(tmp_path, "someone/fd-age", "v2", SHIPPED_DIR / "age")
    caplog.set_level(logging.INFO)
    loaded = resolve_model("age", repo="someone/fd", revision="v2")
    assert loaded.source == "hf://someone/fd-age@v2"
    assert "Loaded age model from the Hub" in caplog.text
    assert Path(snapshot / "config.json").is_file()


def test_broken_hub_model_falls_back_once(tmp_path, monkeypatch, caplog):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    snapshot = _populate_cache(tmp_path, "someone/fd-classifier", "v1", SHIPPED_DIR / "classifier")
    (snapshot / "facedemo.json").write_text(json.dumps({"task": "age", "input_size": 64}))  # wrong task
    caplog.set_level(logging.INFO)
    loaded = resolve_model("classifier", repo="someone/fd", revision="v1")
    assert loaded.source.startswith("shipped:")
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "contains a 'age' model, expected 'classifier'" in warnings[0].getMessage()


def test_empty_repo_setting_skips_hub(caplog):
    caplog.set_level(logging.INFO)
    loaded = resolve_model("age", repo="")
    assert loaded.source.startswith("shipped:")
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]


def test_explicit_bad_path_raises(tmp_path):
    from facedemo.errors import ModelLoadError

    with pytest.raises(ModelLoadError, match="facedemo.json not found"):
        resolve_model("age", local_path=tmp_path)


def test_dataset_push_uses_shared_token(monkeypatch, caplog):
    from hub.auth import push_dataset

    class RecordingDataset:
        """Stands in for a DatasetDict; records the push_to_hub call that datasets would send."""

        calls: list = []

        def push_to_hub(self, repo_id, **kwargs):
            self.calls.append((repo_id, kwargs))

    monkeypatch.setenv("HF_TOKEN", SECRET)
    caplog.set_level(logging.DEBUG)
    dataset = RecordingDataset()
    push_dataset(dataset, "someone/utkface", private=True)
    assert dataset.calls == [("someone/utkface", {"private": True, "token": SECRET})]
    assert SECRET not in caplog.text
