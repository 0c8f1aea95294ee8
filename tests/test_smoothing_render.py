"""Live-stream smoothing and box drawing."""

from __future__ import annotations

import numpy as np
import pytest

from facedemo.analyzer import Face
from facedemo.render import draw_faces, short_label
from facedemo.smoothing import FaceSmoother, box_iou


def _face(box, age: float, female: float = 0.9) -> Face:
    groups = {"0-24": 0.1, "25-49": 0.7, "50-74": 0.1, "75-99": 0.05, "100-124": 0.05}
    gender = "female" if female >= 0.5 else "male"
    return Face(box=box, score=0.99, landmarks=((0.0, 0.0),) * 5, gender=gender,
                gender_probability=female if gender == "female" else 1 - female,
                age_group="25-49", age_group_probabilities=groups, age=age, age_range=(age - 5, age + 5))


def test_box_iou_known_values():
    assert box_iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert box_iou((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(50 / 150)
    assert box_iou((0, 0, 10, 10), (20, 20, 5, 5)) == 0.0


def test_smoother_averages_matched_face():
    smoother = FaceSmoother(alpha=0.5)
    first = smoother.update([_face((10, 10, 50, 50), 30.0)])
    second = smoother.update([_face((12, 11, 50, 50), 40.0)])
    assert first[0].age == 30.0
    assert second[0].age == pytest.approx(35.0)
    assert second[0].age_range == pytest.approx((30.0, 40.0))


def test_smoother_keeps_faces_apart():
    smoother = FaceSmoother(alpha=0.5)
    smoother.update([_face((0, 0, 50, 50), 20.0), _face((200, 0, 50, 50), 60.0)])
    right, left = smoother.update([_face((202, 0, 50, 50), 70.0), _face((1, 0, 50, 50), 30.0)])
    assert right.age == pytest.approx(65.0)
    assert left.age == pytest.approx(25.0)


def test_smoother_flips_gender_only_when_average_crosses():
    smoother = FaceSmoother(alpha=0.3)
    smoother.update([_face((0, 0, 50, 50), 30.0, female=0.9)])
    after_one_male_frame = smoother.update([_face((0, 0, 50, 50), 30.0, female=0.2)])[0]
    assert after_one_male_frame.gender == "female"
    assert after_one_male_frame.gender_probability == pytest.approx(0.3 * 0.2 + 0.7 * 0.9)


def test_smoother_forgets_lost_tracks():
    smoother = FaceSmoother(alpha=0.5, max_missed=1)
    smoother.update([_face((0, 0, 50, 50), 20.0)])
    smoother.update([])
    smoother.update([])
    assert smoother.update([_face((0, 0, 50, 50), 60.0)])[0].age == 60.0


def test_short_label_format():
    assert short_label(1, _face((0, 0, 10, 10), 31.4)) == "#1 F 25-49, 31 y"


def test_draw_faces_marks_box_and_keeps_input():
    image = np.zeros((200, 300, 3), dtype=np.uint8)
    drawn = draw_faces(image, [_face((50, 60, 100, 80), 31.0)])
    assert drawn.shape == image.shape
    assert image.max() == 0  # the input is untouched
    assert drawn[100, 50].max() > 0  # left edge of the box
    assert drawn[100, 100].max() == 0  # inside the box stays clear
