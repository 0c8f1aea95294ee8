"""Face detectors behind one interface: MTCNN, OpenCV's Haar cascade, and none (whole image).

Landmarks are five (x, y) points in image pixels. Their order is: the eye on the image's left
(the subject's right eye), the eye on the image's right, the nose tip, then the mouth corners
on the image's left and right.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
from typing import ClassVar, Protocol

import numpy as np

from facedemo.errors import UnknownNameError

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Detection:
    """One detected face: box (x, y, width, height) and landmarks (5, 2) in pixels, score in [0, 1]."""

    box: tuple[float, float, float, float]
    score: float
    landmarks: np.ndarray
    landmarks_estimated: bool = False

    def scaled(self, factor: float) -> Detection:
        """Return the detection with box and landmarks multiplied by factor."""
        box = tuple(float(v * factor) for v in self.box)
        return dataclasses.replace(self, box=box, landmarks=self.landmarks * factor)  # type: ignore[arg-type]

    @property
    def area(self) -> float:
        return self.box[2] * self.box[3]


class Detector(Protocol):
    name: ClassVar[str]

    def detect(self, image: np.ndarray, min_score: float | None = None) -> list[Detection]:
        """Find faces in an RGB uint8 image (H, W, 3), highest score first.

        ``min_score`` drops weaker detections; None uses the detector's DEFAULT_MIN_SCORE.
        """


# Landmark positions relative to a Haar box (x and y as fractions of width and height), for
# detectors without landmarks. Measured with scripts/measure_geometry.py: median MTCNN landmarks
# expressed in the Haar box of the same UTKFace chip (540 chips where both found one face).
HAAR_RELATIVE_LANDMARKS = np.array(
    [[0.268, 0.324], [0.727, 0.326], [0.491, 0.605], [0.291, 0.796], [0.705, 0.797]], dtype=np.float64
)

DEFAULT_MIN_FACE_SIZE = 20
# MTCNN's smallest proposal window; smaller minimum face sizes are rejected.
MIN_FACE_SIZE_LIMIT = 12
DEFAULT_MIN_SCORE = {"mtcnn": 0.9, "haar": 0.0, "none": 0.0}
# mtcnn 1.0.0 counts its image-pyramid levels from the image size alone, so a min_face_size far
# from its default of 20 puts the levels at the wrong scales and loses faces. A minimum of 40 px
# found none in a 640x480 photo with an 80 px face. Detection therefore runs with at most this
# minimum, and larger minimums filter the boxes afterwards.
_MTCNN_PYRAMID_MIN_FACE = 20


def _check_min_face_size(min_face_size: int) -> None:
    if min_face_size < MIN_FACE_SIZE_LIMIT:
        raise ValueError(f"min_face_size must be at least {MIN_FACE_SIZE_LIMIT} pixels, got {min_face_size}")


def _compile_stages(mtcnn) -> None:
    """Run each MTCNN stage's network as a tf.function instead of eagerly.

    mtcnn 1.0.0 calls P-Net eagerly once per image-pyramid level, and Keras' per-call overhead
    there cost more than the convolutions: compiling halved detection time on a 640x480 photo
    (157 to 70 ms) with identical boxes. reduce_retracing lets one graph serve every image size.
    NOTE: this relies on the private ``stages`` / ``_model`` attributes of mtcnn 1.0.0; without
    them detection stays eager.
    """
    import tensorflow as tf

    stages = getattr(mtcnn, "stages", [])
    if not stages or not all(hasattr(stage, "_model") for stage in stages):
        logger.warning("mtcnn has no stage models to compile (version change?); detection runs eagerly")
        return
    for stage in stages:
        stage._model = tf.function(stage._model, reduce_retracing=True)


class MTCNNDetector:
    """MTCNN from the ``mtcnn`` package; its weights ship in the wheel, so it runs offline."""

    name: ClassVar[str] = "mtcnn"
    _lock = threading.Lock()

    def __init__(self, min_face_size: int = DEFAULT_MIN_FACE_SIZE) -> None:
        from mtcnn import MTCNN

        _check_min_face_size(min_face_size)
        self.min_face_size = min_face_size
        self._mtcnn = MTCNN(device="CPU:0")
        _compile_stages(self._mtcnn)

    def detect(self, image: np.ndarray, min_score: float | None = None) -> list[Detection]:
        min_score = DEFAULT_MIN_SCORE["mtcnn"] if min_score is None else min_score
        if min(image.shape[:2]) < MIN_FACE_SIZE_LIMIT:
            return []
        with self._lock:
            rows = self._mtcnn.detect_faces(
                image, box_format="xyxy", output_type="numpy",
                min_face_size=min(self.min_face_size, _MTCNN_PYRAMID_MIN_FACE),
                threshold_onet=min(0.8, min_score),
            )
        detections = []
        for row in np.asarray(rows).reshape(-1, 16):
            x1, y1, x2, y2, score = (float(v) for v in row[1:6])
            if score < min_score or max(x2 - x1, y2 - y1) < self.min_face_size:
                continue
            # The numpy output stores the five x coordinates, then the five y coordinates.
            points = np.stack([row[6:11], row[11:16]], axis=1).astype(np.float64)
            detections.append(Detection((x1, y1, x2 - x1, y2 - y1), score, points))
        detections.sort(key=lambda d: -d.score)
        return detections


class HaarDetector:
    """OpenCV's frontal-face Haar cascade: fast, upright faces only, landmarks estimated from the box.

    The score is the cascade's level weight passed through a logistic function: it ranks
    detections but is not a calibrated probability.
    """

    name: ClassVar[str] = "haar"

    def __init__(self, min_face_size: int = DEFAULT_MIN_FACE_SIZE) -> None:
        import cv2

        _check_min_face_size(min_face_size)
        path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"
        self._cascade = cv2.CascadeClassifier(path)
        if self._cascade.empty():
            raise RuntimeError(f"OpenCV could not load its Haar cascade from {path}; reinstall opencv-python-headless<5.")
        self.min_face_size = min_face_size

    def detect(self, image: np.ndarray, min_score: float | None = None) -> list[Detection]:
        import cv2

        min_score = DEFAULT_MIN_SCORE["haar"] if min_score is None else min_score
        grey = cv2.equalizeHist(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY))
        boxes, _, weights = self._cascade.detectMultiScale3(
            grey, scaleFactor=1.1, minNeighbors=5,
            minSize=(self.min_face_size, self.min_face_size), outputRejectLevels=True,
        )
        detections = []
        for (x, y, w, h), weight in zip(np.asarray(boxes).reshape(-1, 4), np.asarray(weights).reshape(-1)):
            score = 1.0 / (1.0 + math.exp(-float(weight)))
            if score < min_score:
                continue
            landmarks = np.array([x, y]) + HAAR_RELATIVE_LANDMARKS * np.array([w, h])
            detections.append(Detection((float(x), float(y), float(w), float(h)), score, landmarks, True))
        detections.sort(key=lambda d: -d.score)
        return detections


class WholeImageDetector:
    """No detection: the whole image is one face that is already cropped like a training chip."""

    name: ClassVar[str] = "none"

    def __init__(self, min_face_size: int = DEFAULT_MIN_FACE_SIZE) -> None:
        del min_face_size  # accepted for a uniform signature

    def detect(self, image: np.ndarray, min_score: float | None = None) -> list[Detection]:
        from facedemo.alignment import whole_image_landmarks

        height, width = image.shape[:2]
        return [Detection((0.0, 0.0, float(width), float(height)), 1.0, whole_image_landmarks(width, height), True)]


DETECTORS: dict[str, type] = {cls.name: cls for cls in (MTCNNDetector, HaarDetector, WholeImageDetector)}
_cache: dict[tuple[str, int], Detector] = {}
_cache_lock = threading.Lock()


def get_detector(name: str = "mtcnn", min_face_size: int = DEFAULT_MIN_FACE_SIZE) -> Detector:
    """Return a cached detector by name and minimum face size in pixels.

    Raises UnknownNameError, listing the valid names, for an unknown name, and ValueError for a
    minimum face size under MIN_FACE_SIZE_LIMIT.
    """
    if name not in DETECTORS:
        raise UnknownNameError(f"Unknown detector {name!r}; valid detectors: {', '.join(DETECTORS)}")
    key = (name, min_face_size)
    with _cache_lock:
        if key not in _cache:
            logger.info("Loading detector %s (minimum face %d px)", name, min_face_size)
            _cache[key] = DETECTORS[name](min_face_size=min_face_size)
        return _cache[key]
