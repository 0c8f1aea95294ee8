"""Detectors on real photos, and the geometry round trip on UTKFace chips."""

from __future__ import annotations

import tarfile
from pathlib import Path

import numpy as np
import pytest

from facedemo.alignment import align_face
from facedemo.detection import get_detector
from facedemo.errors import UnknownNameError
from facedemo.imaging import load_image
from facedemo.smoothing import box_iou

# Eileen Collins' face in scikit-image's astronaut photo, (x, y, width, height), drawn by hand.
ASTRONAUT_FACE = (178.0, 62.0, 88.0, 110.0)

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", ["mtcnn", "haar"])
def test_astronaut_has_one_face(name, astronaut):
    faces = get_detector(name).detect(astronaut)
    assert len(faces) == 1
    assert box_iou(faces[0].box, ASTRONAUT_FACE) > 0.6
    assert 0.0 <= faces[0].score <= 1.0
    left_eye, right_eye = faces[0].landmarks[0], faces[0].landmarks[1]
    assert left_eye[0] < right_eye[0]  # image-left eye first
    assert abs(left_eye[1] - right_eye[1]) < 15


def test_mtcnn_landmarks_are_on_the_face(astronaut):
    face = get_detector("mtcnn").detect(astronaut)[0]
    x, y, w, h = face.box
    for px, py in face.landmarks:
        assert x <= px <= x + w
        assert y <= py <= y + h
    eyes_y = face.landmarks[:2, 1].mean()
    mouth_y = face.landmarks[3:, 1].mean()
    assert eyes_y < face.landmarks[2, 1] < mouth_y  # eyes above nose above mouth


@pytest.mark.parametrize("name", ["mtcnn", "haar"])
def test_photo_without_face_gives_empty_list(name, no_face_image):
    assert get_detector(name).detect(no_face_image) == []


def test_none_detector_is_whole_image(astronaut):
    faces = get_detector("none").detect(astronaut[:300, :200])
    assert len(faces) == 1
    assert faces[0].box == (0.0, 0.0, 200.0, 300.0)
    assert faces[0].score == 1.0


def test_unknown_detector_lists_valid_names():
    with pytest.raises(UnknownNameError, match="valid detectors: mtcnn, haar, none"):
        get_detector("retinaface")


def test_min_score_filters_faces(astronaut):
    small = np.ascontiguousarray(astronaut[::4, ::4])
    assert len(get_detector("mtcnn").detect(small, min_score=0.5)) == 1
    assert get_detector("mtcnn").detect(small, min_score=0.99999999) == []


@pytest.mark.parametrize("size", [12, 20, 40, 60])
def test_min_face_size_keeps_larger_faces(size, astronaut):
    faces = get_detector("mtcnn", min_face_size=size).detect(astronaut)  # her face is about 85 px wide
    assert len(faces) == 1


def test_min_face_size_drops_smaller_faces(astronaut):
    assert get_detector("mtcnn", min_face_size=150).detect(astronaut) == []


@pytest.mark.parametrize("size", [0, -5, 11])
def test_min_face_size_below_limit_rejected(size):
    with pytest.raises(ValueError, match="min_face_size must be at least 12 pixels"):
        get_detector("mtcnn", min_face_size=size)


def test_tilted_face_found_and_aligned_upright(astronaut):
    import cv2

    detector = get_detector("mtcnn")
    upright_face = detector.detect(astronaut)[0]
    upright_chip = align_face(astronaut, upright_face.landmarks)
    centre = tuple(np.mean(upright_face.landmarks, axis=0))
    matrix = cv2.getRotationMatrix2D(centre, 40, 1.0)
    tilted = cv2.warpAffine(astronaut, matrix, (512, 512), borderMode=cv2.BORDER_REPLICATE)

    faces = detector.detect(tilted)
    assert len(faces) >= 1
    chip = align_face(tilted, faces[0].landmarks)
    correlation = np.corrcoef(chip.mean(axis=2).ravel(), upright_chip.mean(axis=2).ravel())[0, 1]
    assert correlation > 0.8


def _read_chips(archive: Path, count: int) -> list[np.ndarray]:
    chips = []
    with tarfile.open(archive) as tar:
        for member in tar:
            if member.isfile() and member.name.endswith(".jpg") and "_" in member.name:
                chips.append(load_image(tar.extractfile(member).read()))
                if len(chips) == count:
                    break
    return chips


def test_geometry_round_trip_on_utkface(utkface_archive):
    """A chip put through detection and alignment comes back close to itself."""
    detector = get_detector("mtcnn")
    correlations = []
    for chip in _read_chips(utkface_archive, 30):
        faces = detector.detect(chip)
        if len(faces) != 1:
            continue
        crop = align_face(chip, faces[0].landmarks)
        inner = (slice(30, 170), slice(30, 170))  # the face, without the padded rim
        correlations.append(np.corrcoef(crop[inner].mean(axis=2).ravel(), chip[inner].mean(axis=2).ravel())[0, 1])
    assert len(correlations) >= 20
    assert np.median(correlations) > 0.9
