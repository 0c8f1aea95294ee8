"""Run the classifier and the age estimator on aligned chips and turn outputs into labelled predictions."""

from __future__ import annotations

import dataclasses
import logging

import numpy as np

from facedemo.ageutil import age_spread
from facedemo.labels import AGE_GROUPS, GENDERS, MAX_AGE
from facedemo.preprocess import resize_chip
from facedemo.weights import LoadedModel

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Prediction:
    """Model outputs for one face. Probabilities are in [0, 1]; ages are in years."""

    gender: str
    gender_probability: float
    age_group: str
    age_group_probabilities: dict[str, float]
    age: float
    age_range: tuple[float, float]


class Predictor:
    """Both models behind one batched call.

    With ``flip`` set, each chip is also predicted mirrored and the two outputs are averaged
    (test-time augmentation at twice the cost).
    """

    def __init__(self, classifier: LoadedModel, age_model: LoadedModel, flip: bool = False) -> None:
        self.classifier = classifier
        self.age_model = age_model
        self.flip = flip
        self._classifier_call = _compiled_call(classifier.model)
        self._age_call = _compiled_call(age_model.model)

    def _run(self, call, size: int, chips: np.ndarray) -> dict[str, np.ndarray]:
        batch = np.stack([resize_chip(chip, size) for chip in chips]).astype(np.float32)
        outputs = {k: np.asarray(v) for k, v in call(batch).items()}
        if self.flip:
            mirrored = {k: np.asarray(v) for k, v in call(batch[:, :, ::-1, :].copy()).items()}
            outputs = {k: (outputs[k] + mirrored[k]) / 2.0 for k in outputs}
        return outputs

    def predict(self, chips: np.ndarray | list[np.ndarray]) -> list[Prediction]:
        """Predict every chip of a batch of aligned RGB uint8 chips (N, H, W, 3)."""
        if len(chips) == 0:
            return []
        classes = self._run(self._classifier_call, self.classifier.input_size, chips)
        ages = self._run(self._age_call, self.age_model.input_size, chips)
        age_values = ages["age"].reshape(-1).astype(np.float64)
        ranges = age_ranges(self.age_model.metadata, ages, age_values)

        predictions = []
        for i in range(len(chips)):
            gender_probabilities = classes["gender"][i]
            gender_index = int(np.argmax(gender_probabilities))
            group_probabilities = classes["age_group"][i]
            predictions.append(
                Prediction(
                    gender=GENDERS[gender_index],
                    gender_probability=float(gender_probabilities[gender_index]),
                    age_group=AGE_GROUPS[int(np.argmax(group_probabilities))],
                    age_group_probabilities={g: float(p) for g, p in zip(AGE_GROUPS, group_probabilities)},
                    age=float(np.clip(age_values[i], 0.0, MAX_AGE)),
                    age_range=ranges[i],
                )
            )
        return predictions


def age_ranges(metadata: dict, outputs: dict[str, np.ndarray], ages: np.ndarray) -> list[tuple[float, float]]:
    """Return the calibrated (low, high) age interval of each prediction, clipped to 0-116 years.

    A distribution model uses ``multiplier`` times the predicted standard deviation; a
    regression model a fixed ``half_width``; both come from the model's facedemo.json.
    """
    calibration = metadata.get("age_range", {})
    if "age_probabilities" in outputs and calibration.get("method") == "std_multiple":
        half_widths = calibration["multiplier"] * age_spread(outputs["age_probabilities"])
    elif calibration.get("method") == "fixed_half_width":
        half_widths = np.full(len(ages), float(calibration["half_width"]))
    else:
        raise ValueError(f"age model metadata has no usable age_range calibration: {calibration}")
    low = np.clip(ages - half_widths, 0.0, MAX_AGE)
    high = np.clip(ages + half_widths, 0.0, MAX_AGE)
    return [(float(a), float(b)) for a, b in zip(low, high)]


def _compiled_call(model):
    """Wrap a Keras model in a tf.function; far faster than eager calls for small batches."""
    import tensorflow as tf

    @tf.function(reduce_retracing=True)
    def call(batch):
        return model(batch, training=False)

    return call
