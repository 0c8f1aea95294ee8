"""The Analyzer: load, detect, align, predict, for every face of a photo."""

from __future__ import annotations

import dataclasses
import logging
import os
from typing import Any

import numpy as np

from facedemo.alignment import align_face
from facedemo.detection import DEFAULT_MIN_FACE_SIZE, Detection, get_detector
from facedemo.imaging import ImageInput, downscale_for_detection, load_image
from facedemo.predictor import Prediction, Predictor
from facedemo.preprocess import CHIP_SIZE
from facedemo.weights import resolve_model

logger = logging.getLogger(__name__)

DEFAULT_MAX_FACES = 20


@dataclasses.dataclass(frozen=True)
class Face:
    """One analysed face.

    ``box`` is (x, y, width, height) in original-image pixels, and ``landmarks`` are five (x, y)
    points in the order of facedemo.detection. ``score`` is the detector's confidence, and
    probabilities are in [0, 1]. ``age`` and ``age_range`` are in years; the range is meant to
    contain the true age 80 % of the time.
    """

    box: tuple[float, float, float, float]
    score: float
    landmarks: tuple[tuple[float, float], ...]
    gender: str
    gender_probability: float
    age_group: str
    age_group_probabilities: dict[str, float]
    age: float
    age_range: tuple[float, float]

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON fields of the CLI and the app's API, rounded for display."""
        return {
            "box": [round(v) for v in self.box],
            "score": round(self.score, 4),
            "gender": self.gender,
            "gender_probability": round(self.gender_probability, 4),
            "age_group": self.age_group,
            "age_group_probabilities": {k: round(v, 4) for k, v in self.age_group_probabilities.items()},
            "age": round(self.age, 1),
            "age_range": [round(self.age_range[0], 1), round(self.age_range[1], 1)],
        }


class Analyzer:
    """Find every face in a photo and estimate its gender, age group and age.

    Models resolve as in facedemo.weights.resolve_model: explicit paths, then the Hub, then the
    shipped weights. ``max_faces`` keeps the largest faces. ``min_face_size`` is in pixels of the
    copy that detection runs on, which is the photo shrunk to 1280 pixels on its longer side.
    """

    def __init__(
        self,
        detector: str = "mtcnn",
        min_face_size: int = DEFAULT_MIN_FACE_SIZE,
        min_score: float | None = None,
        max_faces: int = DEFAULT_MAX_FACES,
        classifier_path: str | os.PathLike | None = None,
        age_model_path: str | os.PathLike | None = None,
        flip: bool = False,
    ) -> None:
        if max_faces < 1:
            raise ValueError(f"max_faces must be at least 1, got {max_faces}")
        self.detector_name = detector
        self.min_face_size = min_face_size
        self.min_score = min_score
        self.max_faces = max_faces
        get_detector(detector, min_face_size)  # fail early on an unknown name or a bad size
        if min_score is not None and not 0.0 <= min_score <= 1.0:
            raise ValueError(f"min_score must be in [0, 1], got {min_score}")
        classifier = resolve_model("classifier", classifier_path)
        age_model = resolve_model("age", age_model_path)
        self.predictor = Predictor(classifier, age_model, flip=flip)

    @property
    def model_sources(self) -> dict[str, str]:
        return {"classifier": self.predictor.classifier.source, "age": self.predictor.age_model.source}

    def detect(self, image: np.ndarray, detector: str | None = None, min_score: float | None = None) -> list[Detection]:
        """Detect faces on a working-size copy and return them in original pixels, largest first."""
        name = detector or self.detector_name
        score = self.min_score if min_score is None else min_score
        small, scale = downscale_for_detection(image)
        detections = get_detector(name, self.min_face_size).detect(small, score)
        detections = [d.scaled(scale) for d in detections] if scale != 1.0 else detections
        detections.sort(key=lambda d: -d.area)
        return detections[: self.max_faces]

    def analyze(self, image: ImageInput, detector: str | None = None, min_score: float | None = None) -> list[Face]:
        """Analyse every face in an image (path, bytes, PIL image or RGB array); [] when none is found."""
        pixels = load_image(image)
        detections = self.detect(pixels, detector, min_score)
        chips = [align_face(pixels, d.landmarks, CHIP_SIZE) for d in detections]
        predictions = self.predictor.predict(np.stack(chips)) if chips else []
        return [_to_face(d, p) for d, p in zip(detections, predictions)]


def _to_face(detection: Detection, prediction: Prediction) -> Face:
    return Face(
        box=detection.box,
        score=detection.score,
        landmarks=tuple((float(x), float(y)) for x, y in detection.landmarks),
        **dataclasses.asdict(prediction),
    )
