"""Decoded image arrays cached once per input size, and the tf.data pipelines built on them."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import logging
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from facedemo.labels import AGE_GROUPS
from facedemo.preprocess import resize_chip
from training.architectures import AGE_BINS, Preset

logger = logging.getLogger(__name__)

# Share of the train split kept out of training for checkpoint selection and age-range
# calibration, so that the validation split never steers training.
HOLDOUT_FRACTION = 0.05


@dataclasses.dataclass
class Arrays:
    """One split decoded into memory: images (N, S, S, 3) uint8 and their labels."""

    images: np.ndarray
    age: np.ndarray
    gender: np.ndarray
    age_group: np.ndarray
    race: np.ndarray
    file_name: np.ndarray

    def subset(self, mask: np.ndarray) -> Arrays:
        return Arrays(**{f.name: getattr(self, f.name)[mask] for f in dataclasses.fields(self)})

    def __len__(self) -> int:
        return len(self.age)


def decode_image(data: bytes) -> np.ndarray:
    """Decode image bytes to RGB uint8, applying EXIF orientation."""
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(ImageOps.exif_transpose(image).convert("RGB"))


def _decode_split(split, size: int) -> Arrays:
    import datasets

    split = split.cast_column("image", datasets.Image(decode=False))
    images = np.empty((len(split), size, size, 3), dtype=np.uint8)
    for i, row in enumerate(split["image"]):
        images[i] = resize_chip(decode_image(row["bytes"]), size)
    return Arrays(
        images=images,
        age=np.asarray(split["age"], dtype=np.int32),
        gender=np.asarray(split["gender"], dtype=np.int32),
        age_group=np.asarray(split["age_group"], dtype=np.int32),
        race=np.asarray(split["race"], dtype=np.int32),
        file_name=np.asarray(split["file_name"]),
    )


def load_split(dataset_dir: Path, split_name: str, size: int) -> Arrays:
    """Load one split at one input size, decoding it on first use and caching it beside the dataset."""
    import datasets

    dataset = datasets.load_from_disk(str(dataset_dir))
    if split_name not in dataset:
        raise ValueError(f"{dataset_dir} has no split {split_name!r}; it has {list(dataset)}")
    split = dataset[split_name]
    cache = Path(dataset_dir) / "cache" / f"{split_name}-{size}-{split._fingerprint}.npz"
    if cache.is_file():
        with np.load(cache) as stored:
            return Arrays(**{name: stored[name] for name in stored.files})

    logger.info("Decoding %d %s images at %dx%d (cached in %s)", len(split), split_name, size, size, cache)
    arrays = _decode_split(split, size)
    cache.parent.mkdir(parents=True, exist_ok=True)
    partial = cache.with_suffix(".tmp.npz")
    np.savez(partial, **dataclasses.asdict(arrays))
    partial.replace(cache)
    return arrays


def holdout_mask(file_names: np.ndarray, fraction: float = HOLDOUT_FRACTION) -> np.ndarray:
    """Mark a deterministic share of rows, chosen by a hash of their file names, as holdout."""
    def bucket(name: str) -> float:
        return int(hashlib.sha1(name.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF

    return np.array([bucket(str(n)) < fraction for n in file_names], dtype=bool)


def age_group_weights(age_group: np.ndarray) -> np.ndarray:
    """Per-class weights proportional to 1/sqrt(frequency), normalised to a mean of 1 per sample."""
    counts = np.bincount(age_group, minlength=len(AGE_GROUPS)).astype(np.float64)
    per_class = np.where(counts > 0, 1.0 / np.sqrt(np.maximum(counts, 1)), 0.0)
    per_sample = per_class[age_group]
    return (per_class / per_sample.mean()).astype(np.float32)


def gaussian_age_labels(age: np.ndarray, sigma: float = 2.5) -> np.ndarray:
    """Soft labels over whole years: a Gaussian around each true age, normalised to sum to 1."""
    years = np.arange(AGE_BINS, dtype=np.float32)
    labels = np.exp(-0.5 * ((years[None, :] - age[:, None].astype(np.float32)) / sigma) ** 2)
    return (labels / labels.sum(axis=1, keepdims=True)).astype(np.float32)


def augmentation(preset: Preset, seed: int = 0):
    """Return the Keras preprocessing layers that move, rotate, zoom and flip training batches."""
    import keras
    from keras import layers

    return keras.Sequential(
        [
            layers.RandomFlip("horizontal", seed=seed),
            layers.RandomRotation(preset.rotation_degrees / 360.0, fill_mode="reflect", seed=seed + 1),
            layers.RandomTranslation(preset.shift, preset.shift, fill_mode="reflect", seed=seed + 2),
            layers.RandomZoom((-preset.zoom, preset.zoom), fill_mode="reflect", seed=seed + 3),
        ],
        name="augmentation",
    )


def make_dataset(arrays: Arrays, task: str, preset: Preset, training: bool, seed: int = 0):
    """Build a batched tf.data pipeline of (images, targets[, sample weights]) for a task."""
    import tensorflow as tf

    images = arrays.images
    if task == "classifier":
        targets = {"gender": arrays.gender, "age_group": arrays.age_group}
    elif preset.age_head == "distribution":
        targets = {"age_probabilities": gaussian_age_labels(arrays.age), "age": arrays.age.astype(np.float32)}
    else:
        targets = {"age": arrays.age.astype(np.float32)}

    weights = None
    if training and preset.balance_age_groups:
        per_sample = age_group_weights(arrays.age_group)[arrays.age_group]
        weights = {name: (per_sample if name != "gender" else np.ones_like(per_sample)) for name in targets}

    elements = (images, targets) if weights is None else (images, targets, weights)
    dataset = tf.data.Dataset.from_tensor_slices(elements)
    if training:
        dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(preset.batch_size)
    if training:
        augment = augmentation(preset, seed)

        low, high = preset.brightness

        def apply(x, *rest):
            x = augment(tf.cast(x, tf.float32), training=True)
            # Brightness as a multiplicative factor per image; Keras' RandomBrightness adds an offset.
            factor = tf.random.uniform((tf.shape(x)[0], 1, 1, 1), low, high)
            return (tf.clip_by_value(x * factor, 0.0, 255.0), *rest)

        dataset = dataset.map(apply, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)
