"""The weights shipped in the package: they load, match their metadata and get gender right."""

from __future__ import annotations

import json

import numpy as np
import pytest

from facedemo.weights import SHIPPED_DIR, load_model_dir
from tests.conftest import FEMALE_CHIPS, MALE_CHIPS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def analyzer():
    from facedemo import Analyzer

    return Analyzer()


@pytest.mark.parametrize("task", ["classifier", "age"])
def test_shipped_model_loads_with_metrics(task):
    loaded = load_model_dir(SHIPPED_DIR / task, task)
    metrics = json.loads((SHIPPED_DIR / task / "metrics.json").read_text())
    assert metrics["task"] == task
    assert metrics["dataset"] == "UTKFace"
    assert metrics["split"] == "validation"
    assert metrics["count"] > 2000
    assert loaded.input_size == json.loads((SHIPPED_DIR / task / "facedemo.json").read_text())["input_size"]


def test_shipped_weights_fit_size_budget():
    total = sum(p.stat().st_size for p in SHIPPED_DIR.rglob("*") if p.is_file())
    assert total < 20 * 1024 * 1024


def test_astronaut_is_female(analyzer, astronaut):
    faces = analyzer.analyze(astronaut)
    assert len(faces) == 1
    assert faces[0].gender == "female"


def test_utkface_chips_gender(analyzer, utkface_chips):
    for names, expected in ((MALE_CHIPS, "male"), (FEMALE_CHIPS, "female")):
        for name in names:
            faces = analyzer.analyze(utkface_chips[name], detector="none")
            assert faces[0].gender == expected, name


def test_age_range_contains_age(analyzer, astronaut):
    face = analyzer.analyze(astronaut)[0]
    low, high = face.age_range
    assert low <= face.age <= high
    assert 2 < high - low < 60
    assert sum(face.age_group_probabilities.values()) == pytest.approx(1.0, abs=1e-4)
    assert np.isclose(face.gender_probability, max(face.gender_probability, 1 - face.gender_probability))
