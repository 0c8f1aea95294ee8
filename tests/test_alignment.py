"""Alignment: the similarity transform, upright crops of tilted faces, border padding."""

from __future__ import annotations

import numpy as np
import pytest

from facedemo.alignment import CHIP_LANDMARKS, align_face, similarity_transform, whole_image_landmarks
from facedemo.preprocess import CHIP_SIZE


def _rotation(degrees: float, scale: float, shift: tuple[float, float]) -> np.ndarray:
    theta = np.deg2rad(degrees)
    linear = scale * np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    return np.hstack([linear, np.array(shift)[:, None]])


def _apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ matrix[:, :2].T + matrix[:, 2]


def test_similarity_recovers_known_transform():
    expected = _rotation(33.0, 1.7, (12.0, -40.0))
    source = CHIP_LANDMARKS
    matrix = similarity_transform(source, _apply(expected, source))
    np.testing.assert_allclose(matrix, expected, atol=1e-9)


def test_similarity_rejects_bad_shapes():
    with pytest.raises(ValueError, match="two \\(N, 2\\) point arrays"):
        similarity_transform(np.zeros((5, 2)), np.zeros((4, 2)))


def _face_pattern(size: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """A synthetic 'face': a bright square at each landmark of a face centred in the image."""
    image = np.full((size, size, 3), 40, dtype=np.uint8)
    landmarks = CHIP_LANDMARKS * 1.2 + (size / 2 - 120)
    for i, (x, y) in enumerate(landmarks):
        image[int(y) - 6:int(y) + 6, int(x) - 6:int(x) + 6] = (60 + 40 * i, 255 - 40 * i, 128)
    return image, landmarks


@pytest.mark.parametrize("degrees", [-45.0, -20.0, 0.0, 30.0, 45.0])
def test_tilted_face_comes_out_upright(degrees):
    import cv2

    image, landmarks = _face_pattern()
    upright = align_face(image, landmarks)

    centre = (image.shape[1] / 2, image.shape[0] / 2)
    matrix = cv2.getRotationMatrix2D(centre, degrees, 1.0)
    tilted = cv2.warpAffine(image, matrix, image.shape[1::-1], flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    crop = align_face(tilted, _apply(matrix, landmarks))

    assert crop.shape == (CHIP_SIZE, CHIP_SIZE, 3)
    difference = np.abs(crop.astype(int) - upright.astype(int))
    assert difference.mean() < 4.0
    for x, y in CHIP_LANDMARKS.astype(int):  # each landmark's marker sits at its template spot
        np.testing.assert_allclose(crop[y, x], upright[y, x], atol=40)


def test_crop_past_border_is_padded_not_shifted():
    image = np.zeros((300, 300, 3), dtype=np.uint8)
    image[:, :, 0] = 200
    landmarks = CHIP_LANDMARKS * 0.5 - 20  # face partly above and left of the image
    crop = align_face(image, landmarks)
    matrix = similarity_transform(landmarks, CHIP_LANDMARKS)
    np.testing.assert_allclose(_apply(matrix, landmarks), CHIP_LANDMARKS, atol=1e-6)
    # The top-left of the chip maps outside the image: filled from the edge, same colour.
    assert crop[0, 0].tolist() == [200, 0, 0]


def test_large_face_is_shrunk_without_aliasing():
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 255, (1200, 1200, 3), dtype=np.uint8)
    landmarks = CHIP_LANDMARKS * 6.0  # face six times the chip size
    crop = align_face(noise, landmarks)
    # Area averaging of uniform noise leaves values near the mean; point sampling would not.
    assert crop.std() < 30


def test_whole_image_landmarks_square_is_identity():
    rng = np.random.default_rng(1)
    chip = rng.integers(0, 255, (CHIP_SIZE, CHIP_SIZE, 3), dtype=np.uint8)
    crop = align_face(chip, whole_image_landmarks(CHIP_SIZE, CHIP_SIZE))
    np.testing.assert_array_equal(crop, chip)


def test_whole_image_landmarks_centre_wide_image():
    landmarks = whole_image_landmarks(300, 200)
    # The square of side 300 is centred vertically, 50 pixels above the image.
    np.testing.assert_allclose(landmarks, CHIP_LANDMARKS * 1.5 + [0.0, -50.0])
