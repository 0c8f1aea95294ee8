"""Align a face to the geometry of the UTKFace chips with a similarity transform, then crop it."""

from __future__ import annotations

import numpy as np

from facedemo.preprocess import CHIP_SIZE

# Median MTCNN landmarks on UTKFace's 200x200 "aligned & cropped" chips, in chip pixels, in the
# landmark order of facedemo.detection. Measured by scripts/measure_geometry.py on 1,000 random
# chips (MTCNN found exactly one face in 982; interquartile range 3.5-9.7 pixels per coordinate).
# Putting a live face's landmarks here makes its crop look like a training image.
CHIP_LANDMARKS = np.array(
    [[59.5, 57.8], [137.1, 58.2], [97.5, 103.6], [63.6, 137.2], [132.5, 137.3]], dtype=np.float64
)


def similarity_transform(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Return the 2x3 matrix of the least-squares similarity (rotation, uniform scale, shift) from source to target points.

    Umeyama's method without reflection; source and target are (N, 2) arrays with N >= 2.
    """
    source = np.asarray(source, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    if source.shape != target.shape or source.ndim != 2 or source.shape[1] != 2 or len(source) < 2:
        raise ValueError(f"expected two (N, 2) point arrays with N >= 2, got {source.shape} and {target.shape}")
    source_mean, target_mean = source.mean(axis=0), target.mean(axis=0)
    source_centred, target_centred = source - source_mean, target - target_mean
    covariance = target_centred.T @ source_centred / len(source)
    u, singular, vt = np.linalg.svd(covariance)
    sign = np.diag([1.0, np.sign(np.linalg.det(u) * np.linalg.det(vt)) or 1.0])
    rotation = u @ sign @ vt
    variance = (source_centred**2).sum() / len(source)
    scale = (singular * np.diag(sign)).sum() / variance if variance > 0 else 1.0
    shift = target_mean - scale * rotation @ source_mean
    return np.hstack([scale * rotation, shift[:, None]])


def align_face(image: np.ndarray, landmarks: np.ndarray, size: int = CHIP_SIZE) -> np.ndarray:
    """Warp an RGB image so the five landmarks land on CHIP_LANDMARKS, and return a (size, size, 3) crop.

    A tilted face comes out upright. Pixels outside the image are filled by repeating the
    nearest edge pixel, so the face is never shifted to stay inside the frame.
    """
    import cv2

    target = CHIP_LANDMARKS * (size / CHIP_SIZE)
    landmarks = np.asarray(landmarks, dtype=np.float64)
    matrix = similarity_transform(landmarks, target)

    # warpAffine samples bilinearly without low-pass filtering, so shrink with INTER_AREA first
    # when the face is much larger than the chip; otherwise the crop aliases.
    scale = float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
    if scale < 0.5:
        height, width = image.shape[:2]
        new_size = (max(1, round(width * scale * 2)), max(1, round(height * scale * 2)))
        factors = np.array([new_size[0] / width, new_size[1] / height])
        image = cv2.resize(image, new_size, interpolation=cv2.INTER_AREA)
        matrix = similarity_transform(landmarks * factors, target)

    return cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def whole_image_landmarks(width: int, height: int) -> np.ndarray:
    """Return landmarks that map a whole image, taken as a ready chip, onto CHIP_LANDMARKS.

    A non-square image is centred on a square of its longer side.
    """
    side = max(width, height)
    offset = np.array([(width - side) / 2.0, (height - side) / 2.0])
    return CHIP_LANDMARKS * (side / CHIP_SIZE) + offset
