"""Evaluation maths on arrays of labels and predictions."""

from __future__ import annotations

import numpy as np

# Age bands of the per-band error table: (name, lowest age, highest age), inclusive.
AGE_BANDS: tuple[tuple[str, int, int], ...] = (
    ("0-12", 0, 12), ("13-19", 13, 19), ("20-39", 20, 39), ("40-59", 40, 59), ("60+", 60, 10_000),
)


def accuracy(true: np.ndarray, predicted: np.ndarray) -> float:
    true, predicted = np.asarray(true), np.asarray(predicted)
    if len(true) == 0:
        raise ValueError("accuracy of an empty set is undefined")
    return float(np.mean(true == predicted))


def confusion_matrix(true: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    """Return counts (n_classes, n_classes) with rows as true classes and columns as predictions."""
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(true), np.asarray(predicted)), 1)
    return matrix


def balanced_accuracy(true: np.ndarray, predicted: np.ndarray, n_classes: int) -> float:
    """Mean recall over the classes present in ``true``."""
    matrix = confusion_matrix(true, predicted, n_classes)
    support = matrix.sum(axis=1)
    present = support > 0
    return float(np.mean(np.diag(matrix)[present] / support[present]))


def mean_absolute_error(true: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.mean(np.abs(np.asarray(true, dtype=np.float64) - np.asarray(predicted, dtype=np.float64))))


def cumulative_score(true: np.ndarray, predicted: np.ndarray, years: float = 5.0) -> float:
    """CS@years: the share of predictions within ``years`` of the true age (inclusive)."""
    error = np.abs(np.asarray(true, dtype=np.float64) - np.asarray(predicted, dtype=np.float64))
    return float(np.mean(error <= years))


def mae_by_band(true: np.ndarray, predicted: np.ndarray) -> dict[str, dict[str, float]]:
    """Return MAE and count per age band of the true age; bands with no rows are left out."""
    true = np.asarray(true, dtype=np.float64)
    predicted = np.asarray(predicted, dtype=np.float64)
    table = {}
    for name, low, high in AGE_BANDS:
        mask = (true >= low) & (true <= high)
        if mask.any():
            table[name] = {"mae": mean_absolute_error(true[mask], predicted[mask]), "count": int(mask.sum())}
    return table


def interval_coverage(true: np.ndarray, low: np.ndarray, high: np.ndarray) -> float:
    """Share of true values inside [low, high]."""
    true = np.asarray(true, dtype=np.float64)
    return float(np.mean((true >= np.asarray(low)) & (true <= np.asarray(high))))


def accuracy_by_group(true: np.ndarray, predicted: np.ndarray, groups: np.ndarray,
                      names: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """Return accuracy and count per group code (codes index ``names``; negative codes are 'unknown')."""
    table = {}
    groups = np.asarray(groups)
    for code in sorted(set(groups.tolist())):
        mask = groups == code
        name = names[code] if 0 <= code < len(names) else "unknown"
        table[name] = {"accuracy": accuracy(np.asarray(true)[mask], np.asarray(predicted)[mask]), "count": int(mask.sum())}
    return table
