"""The predict command: one JSON line per file, errors per file, folders, exit status."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from PIL import Image

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow


def _run(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    return subprocess.run([sys.executable, "-m", "facedemo", *args], capture_output=True, text=True,
                          cwd=REPO_ROOT, env=env, timeout=300)


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory, astronaut, no_face_image):
    folder = tmp_path_factory.mktemp("photos")
    Image.fromarray(astronaut).save(folder / "astronaut.png")
    Image.fromarray(no_face_image).save(folder / "coffee.jpg")
    (folder / "notes.txt").write_text("ignored: not an image suffix")
    return folder


def test_predict_folder_and_bad_file(photo_folder, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    result = _run("predict", str(photo_folder), str(broken))

    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [os.path.basename(line["file"]) for line in lines] == ["astronaut.png", "coffee.jpg", "broken.jpg"]
    astronaut, coffee, bad = lines
    assert len(astronaut["faces"]) == 1
    face = astronaut["faces"][0]
    assert list(face) == ["box", "score", "gender", "gender_probability", "age_group",
                          "age_group_probabilities", "age", "age_range"]
    assert face["gender"] == "female"
    assert list(face["age_group_probabilities"]) == ["0-24", "25-49", "50-74", "75-99", "100-124"]
    assert coffee["faces"] == []
    assert "error" in bad
    assert "broken.jpg" in bad["error"]
    assert result.returncode == 1


def test_predict_all_readable_exits_zero(photo_folder):
    result = _run("predict", "--detector", "haar", str(photo_folder / "astronaut.png"))
    assert result.returncode == 0
    line = json.loads(result.stdout)
    assert len(line["faces"]) == 1


def test_no_detect_treats_image_as_face(photo_folder):
    result = _run("predict", "--no-detect", str(photo_folder / "coffee.jpg"))
    assert result.returncode == 0
    faces = json.loads(result.stdout)["faces"]
    assert len(faces) == 1
    assert faces[0]["box"] == [0, 0, 600, 400]  # the whole 600x400 photo
    assert faces[0]["score"] == 1.0


def test_unknown_detector_rejected():
    result = _run("predict", "--detector", "yolo", "x.jpg")
    assert result.returncode == 2
    assert "invalid choice: 'yolo'" in result.stderr


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--min-score", "2", "must be in [0, 1], got 2"),
    ("--min-face-size", "0", "must be at least 12 pixels, got 0"),
])
def test_out_of_range_options_rejected(option, value, message):
    result = _run("predict", option, value, "x.jpg")
    assert result.returncode == 2
    assert message in result.stderr


def test_folder_without_images_warns(tmp_path):
    (tmp_path / "readme.txt").write_text("no photos here")
    result = _run("predict", str(tmp_path))
    assert result.returncode == 0
    assert result.stdout == ""
    assert "no image files" in result.stderr
    assert str(tmp_path) in result.stderr


def test_missing_model_folder_named(tmp_path):
    result = _run("predict", "--age-model", str(tmp_path / "nowhere"), "x.jpg")
    assert result.returncode == 2
    assert f"Model folder not found: {tmp_path / 'nowhere'}" in result.stderr
