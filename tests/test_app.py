"""The Gradio app served on 127.0.0.1 and driven through gradio_client."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(app_url):
    from gradio_client import Client

    return Client(app_url, verbose=False)


def _save(tmp_path, name: str, image: np.ndarray) -> str:
    path = tmp_path / name
    Image.fromarray(image).save(path)
    return str(path)


def test_api_lists_named_endpoints(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert "/predict" in endpoints
    assert "/analyze" in endpoints


def test_predict_astronaut_one_face(client, tmp_path, astronaut):
    from gradio_client import handle_file

    result = client.predict(handle_file(_save(tmp_path, "astronaut.png", astronaut)), "mtcnn", 0.9, False,
                            api_name="/predict")
    assert len(result["faces"]) == 1
    face = result["faces"][0]
    assert set(face) == {"box", "score", "gender", "gender_probability", "age_group", "age_group_probabilities",
                         "age", "age_range"}
    x, y, w, h = face["box"]
    assert 150 < x + w / 2 < 260
    assert 80 < y + h / 2 < 160
    assert face["gender"] == "female"
    assert sum(face["age_group_probabilities"].values()) == pytest.approx(1.0, abs=1e-3)
    assert face["age_range"][0] <= face["age"] <= face["age_range"][1]
    assert 15 <= face["age"] <= 70


def test_analyze_returns_annotated_photo(client, tmp_path, astronaut):
    from gradio_client import handle_file

    annotated, details, faces = client.predict(handle_file(_save(tmp_path, "a.png", astronaut)), "mtcnn", 0.9,
                                               False, api_name="/analyze")
    picture = np.asarray(Image.open(annotated).convert("RGB"))
    assert picture.shape == astronaut.shape
    assert not np.array_equal(picture, astronaut)  # boxes were drawn
    assert "Face #1" in details
    assert len(faces["faces"]) == 1


def test_no_face_keeps_photo_and_hints(client, tmp_path, no_face_image):
    from gradio_client import handle_file

    annotated, details, faces = client.predict(handle_file(_save(tmp_path, "coffee.png", no_face_image)), "mtcnn",
                                               0.9, False, api_name="/analyze")
    assert faces == {"faces": []}
    assert "No face found" in details
    assert "already a cropped face" in details
    assert np.asarray(Image.open(annotated)).shape[:2] == no_face_image.shape[:2]


def test_non_image_upload_gets_plain_message(client, tmp_path):
    from gradio_client import handle_file

    path = tmp_path / "report.jpg"
    path.write_text("quarterly numbers, not a photo")
    annotated, details, faces = client.predict(handle_file(str(path)), "mtcnn", 0.9, False, api_name="/analyze")
    assert annotated is None
    assert "Not an image" in details
    assert "Traceback" not in details
    assert str(tmp_path) not in details
    assert client.predict(handle_file(str(path)), "mtcnn", 0.9, False, api_name="/predict")["error"].startswith(
        "Not an image")


def test_oversized_image_rejected(client, tmp_path):
    from gradio_client import handle_file

    buffer = io.BytesIO()
    Image.new("L", (8000, 6500), 128).save(buffer, format="PNG")  # 52 million pixels, small file
    path = tmp_path / "huge.png"
    path.write_bytes(buffer.getvalue())
    result = client.predict(handle_file(str(path)), "mtcnn", 0.9, False, api_name="/predict")
    assert "too large" in result["error"]
    assert "8000x6500" in result["error"]


def test_cropped_option_skips_detection(client, tmp_path, astronaut):
    from gradio_client import handle_file

    crop = np.ascontiguousarray(astronaut[40:200, 150:300])
    result = client.predict(handle_file(_save(tmp_path, "crop.png", crop)), "mtcnn", 0.9, True, api_name="/predict")
    assert len(result["faces"]) == 1
    assert result["faces"][0]["box"] == [0, 0, 150, 160]


def test_live_frame_handler_smooths_across_frames(astronaut):
    from facedemo.analyzer import Analyzer
    from facedemo.smoothing import FaceSmoother
    from facedemo.ui import DemoHandlers

    handlers = DemoHandlers(Analyzer())
    first, smoother = handlers.analyze_frame(astronaut, None)
    assert isinstance(smoother, FaceSmoother)
    assert first.shape == astronaut.shape
    assert not np.array_equal(first, astronaut)  # a box was drawn
    shifted = np.ascontiguousarray(np.roll(astronaut, 3, axis=1))
    second, same_smoother = handlers.analyze_frame(shifted, smoother)
    assert same_smoother is smoother
    assert len(smoother._tracks) == 1  # the moved face matched the existing track
    assert handlers.analyze_frame(None, smoother) == (None, smoother)
