"""Keras model builders for the classifier and the age estimator, and their named presets."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
from keras import layers

from facedemo.labels import AGE_GROUPS, GENDERS, MAX_AGE

AGE_BINS = MAX_AGE + 1  # one softmax bin per whole year, 0..MAX_AGE


@dataclasses.dataclass(frozen=True)
class Preset:
    """Everything that defines one trainable model: architecture, input, schedule, augmentation.

    ``stages`` lists (filters, convolutions) per resolution; each stage ends in 2x2 max pooling.
    The learning rate starts at ``learning_rate`` and halves every ``halve_every`` epochs.
    """

    name: str
    input_size: int
    stages: tuple[tuple[int, int], ...]
    separable: bool
    spatial_dropout: float
    dense_units: tuple[int, ...]
    dropout: float
    learning_rate: float
    halve_every: int
    epochs: int
    batch_size: int
    age_head: str  # "distribution" (softmax over years) or "regression" (one linear unit, MSE)
    rotation_degrees: float
    brightness: tuple[float, float]
    shift: float
    zoom: float
    balance_age_groups: bool


# The published reference design: SeparableConv2D + BN + 2x2 max pooling per layer, spatial
# dropout after layers of 128 filters or more, dense layers with dropout, batch 32.
REFERENCE_CLASSIFIER = Preset(
    name="reference", input_size=198, stages=((32, 1), (64, 1), (128, 1), (256, 1), (256, 1)),
    separable=True, spatial_dropout=0.15, dense_units=(256, 128), dropout=0.3,
    learning_rate=0.008, halve_every=5, epochs=40, batch_size=32, age_head="regression",
    rotation_degrees=30.0, brightness=(0.6, 1.4), shift=0.2, zoom=0.5, balance_age_groups=False,
)
REFERENCE_AGE = dataclasses.replace(
    REFERENCE_CLASSIFIER, input_size=180, learning_rate=0.006, halve_every=12, epochs=60
)

# The default: plain 3x3 convolutions at 64x64 (faster per FLOP on CPU than separable ones),
# milder augmentation because live crops are aligned, and a distribution head for age.
DEFAULT_CLASSIFIER = Preset(
    name="compact64", input_size=64, stages=((32, 1), (64, 1), (96, 1), (128, 1), (256, 1)),
    separable=False, spatial_dropout=0.1, dense_units=(128,), dropout=0.3,
    learning_rate=0.003, halve_every=6, epochs=20, batch_size=64, age_head="distribution",
    rotation_degrees=10.0, brightness=(0.7, 1.3), shift=0.06, zoom=0.1, balance_age_groups=True,
)
DEFAULT_AGE = DEFAULT_CLASSIFIER
# The default without age-group weights, to measure what the weighting changes.
UNBALANCED_CLASSIFIER = dataclasses.replace(DEFAULT_CLASSIFIER, name="compact64_unbalanced", balance_age_groups=False)

PRESETS: dict[str, dict[str, Preset]] = {
    "classifier": {"compact64": DEFAULT_CLASSIFIER, "compact64_unbalanced": UNBALANCED_CLASSIFIER,
                   "reference": REFERENCE_CLASSIFIER},
    "age": {"compact64": DEFAULT_AGE, "reference": REFERENCE_AGE},
}
DEFAULT_PRESET = "compact64"


def get_preset(task: str, name: str) -> Preset:
    """Look up a preset by task and name; an unknown name lists the valid ones."""
    if task not in PRESETS:
        raise ValueError(f"Unknown task {task!r}; valid tasks: {sorted(PRESETS)}")
    if name not in PRESETS[task]:
        raise ValueError(f"Unknown preset {name!r} for {task}; valid presets: {sorted(PRESETS[task])}")
    return PRESETS[task][name]


def _features(preset: Preset, inputs: keras.KerasTensor) -> keras.KerasTensor:
    x = layers.Rescaling(1.0 / 255.0, name="rescale")(inputs)
    for stage, (filters, n_convs) in enumerate(preset.stages):
        for i in range(n_convs):
            conv = layers.SeparableConv2D if preset.separable else layers.Conv2D
            x = conv(filters, 3, padding="same", use_bias=False, name=f"conv{stage}_{i}")(x)
            x = layers.BatchNormalization(name=f"bn{stage}_{i}")(x)
            x = layers.ReLU(name=f"relu{stage}_{i}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{stage}")(x)
        if filters >= 128 and preset.spatial_dropout > 0:
            x = layers.SpatialDropout2D(preset.spatial_dropout, name=f"sdrop{stage}")(x)
    if preset.separable:
        x = layers.Flatten(name="flatten")(x)  # the reference design flattens
    else:
        x = layers.GlobalAveragePooling2D(name="gap")(x)
    return x


def _dense_branch(x: keras.KerasTensor, preset: Preset, prefix: str) -> keras.KerasTensor:
    for i, units in enumerate(preset.dense_units):
        x = layers.Dense(units, activation="relu", name=f"{prefix}_fc{i}")(x)
        x = layers.Dropout(preset.dropout, name=f"{prefix}_drop{i}")(x)
    return x


def _input(preset: Preset) -> keras.KerasTensor:
    return keras.Input((preset.input_size, preset.input_size, 3), name="image")


def build_classifier(preset: Preset) -> keras.Model:
    """Build the gender and age-group classifier: shared features, two softmax heads.

    Input: RGB images (N, S, S, 3) with values 0-255. Outputs: ``gender`` (N, 2) in GENDERS order
    and ``age_group`` (N, 5) in AGE_GROUPS order.
    """
    inputs = _input(preset)
    features = _features(preset, inputs)
    gender = layers.Dense(len(GENDERS), activation="softmax", name="gender")(
        _dense_branch(features, preset, "gender")
    )
    age_group = layers.Dense(len(AGE_GROUPS), activation="softmax", name="age_group")(
        _dense_branch(features, preset, "age_group")
    )
    return keras.Model(inputs, {"gender": gender, "age_group": age_group}, name=f"classifier_{preset.name}")


def build_age_estimator(preset: Preset) -> keras.Model:
    """Build the age estimator.

    Input as for the classifier. With a ``distribution`` head the outputs are
    ``age_probabilities`` (N, 117), a softmax over whole years 0-116, and ``age`` (N, 1), its
    expected value computed by a frozen Dense layer so the model stays plain Keras. With a
    ``regression`` head the only output is ``age`` (N, 1).
    """
    inputs = _input(preset)
    x = _dense_branch(_features(preset, inputs), preset, "age")
    if preset.age_head == "regression":
        age = layers.Dense(1, name="age")(x)
        return keras.Model(inputs, {"age": age}, name=f"age_{preset.name}")

    probabilities = layers.Dense(AGE_BINS, activation="softmax", name="age_probabilities")(x)
    expectation = layers.Dense(1, use_bias=False, trainable=False, name="age")
    age = expectation(probabilities)
    expectation.set_weights([np.arange(AGE_BINS, dtype="float32").reshape(AGE_BINS, 1)])
    return keras.Model(inputs, {"age_probabilities": probabilities, "age": age}, name=f"age_{preset.name}")


def build_model(task: str, preset: Preset) -> keras.Model:
    """Build the model of a task ("classifier" or "age") for a preset."""
    if task == "classifier":
        return build_classifier(preset)
    if task == "age":
        return build_age_estimator(preset)
    raise ValueError(f"Unknown task {task!r}; valid tasks: {sorted(PRESETS)}")
