"""Smooth per-face predictions across the frames of a live stream, so numbers do not flicker."""

from __future__ import annotations

import dataclasses

from facedemo.analyzer import Face
from facedemo.labels import AGE_GROUPS, GENDERS


def box_iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over union of two (x, y, width, height) boxes."""
    width = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    intersection = width * height
    union = a[2] * a[3] + b[2] * b[3] - intersection
    return intersection / union if union > 0 else 0.0


@dataclasses.dataclass
class _Track:
    face: Face
    female_probability: float
    missed: int = 0


class FaceSmoother:
    """Match faces to the previous frame's by box overlap and average their predictions over time.

    Each matched face gets an exponential moving average with weight ``alpha`` on the new frame
    for age, age range, female probability and age-group probabilities. A track unseen for
    ``max_missed`` frames is dropped.
    """

    def __init__(self, alpha: float = 0.3, min_iou: float = 0.3, max_missed: int = 5) -> None:
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f"alpha must be in (0, 1], got {alpha}")
        self.alpha = alpha
        self.min_iou = min_iou
        self.max_missed = max_missed
        self._tracks: list[_Track] = []

    def update(self, faces: list[Face]) -> list[Face]:
        """Return the faces of a new frame with smoothed predictions, in the same order."""
        unmatched = list(range(len(self._tracks)))
        smoothed: list[Face] = []
        new_tracks: list[_Track] = []
        for face in faces:
            best, best_iou = None, self.min_iou
            for i in unmatched:
                overlap = box_iou(self._tracks[i].face.box, face.box)
                if overlap >= best_iou:
                    best, best_iou = i, overlap
            female = face.gender_probability if face.gender == "female" else 1.0 - face.gender_probability
            if best is None:
                track = _Track(face, female)
            else:
                unmatched.remove(best)
                track = self._blend(self._tracks[best], face, female)
            new_tracks.append(track)
            smoothed.append(track.face)

        for i in unmatched:
            track = self._tracks[i]
            track.missed += 1
            if track.missed <= self.max_missed:
                new_tracks.append(track)
        self._tracks = new_tracks
        return smoothed

    def _blend(self, track: _Track, face: Face, female: float) -> _Track:
        a = self.alpha
        old = track.face
        female = a * female + (1 - a) * track.female_probability
        groups = {g: a * face.age_group_probabilities[g] + (1 - a) * old.age_group_probabilities[g] for g in AGE_GROUPS}
        gender = GENDERS[1] if female >= 0.5 else GENDERS[0]
        blended = dataclasses.replace(
            face,
            gender=gender,
            gender_probability=female if gender == "female" else 1.0 - female,
            age_group=max(groups, key=groups.get),
            age_group_probabilities=groups,
            age=a * face.age + (1 - a) * old.age,
            age_range=(a * face.age_range[0] + (1 - a) * old.age_range[0],
                       a * face.age_range[1] + (1 - a) * old.age_range[1]),
        )
        return _Track(blended, female)
