"""Compare predictions with gold labels: per-class precision/recall/F1, macro-F1, confusion."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from classifier import LABELS
from classifier.model import Model
from training.dataset import Dataset


@dataclass(frozen=True)
class ClassMetrics:
    """Precision, recall, F1 and support of one label."""

    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Metrics:
    """Scores of predictions against gold labels."""

    rows: int
    accuracy: float
    macro_f1: float
    per_class: dict[str, ClassMetrics]
    confusion: list[list[int]]  # rows: gold label, columns: predicted, both in LABELS order

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def compute_metrics(gold: Sequence[str], predicted: Sequence[str]) -> Metrics:
    """Metrics of ``predicted`` against ``gold``.

    Macro-F1 averages over the labels present in ``gold`` (a label nobody wrote cannot be
    recalled), so an evaluation file of two labels gets a two-label macro-F1.

    Parameters
    ----------
    gold, predicted : sequences of label names, of equal length

    Returns
    -------
    Metrics
    """
    index = {label: i for i, label in enumerate(LABELS)}
    confusion = [[0] * len(LABELS) for _ in LABELS]
    for g, p in zip(gold, predicted, strict=True):
        confusion[index[g]][index[p]] += 1
    per_class = {}
    for i, label in enumerate(LABELS):
        tp = confusion[i][i]
        predicted_n = sum(row[i] for row in confusion)
        support = sum(confusion[i])
        precision = tp / predicted_n if predicted_n else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = ClassMetrics(
            round(precision, 4), round(recall, 4), round(f1, 4), support
        )
    present = [m.f1 for m in per_class.values() if m.support]
    rows = len(gold)
    return Metrics(
        rows=rows,
        accuracy=round(sum(confusion[i][i] for i in range(len(LABELS))) / rows, 4) if rows else 0.0,
        macro_f1=round(sum(present) / len(present), 4) if present else 0.0,
        per_class=per_class,
        confusion=confusion,
    )


def evaluate(model: Model, dataset: Dataset) -> Metrics:
    """Score every record of ``dataset`` with ``model`` and compare with its labels."""
    return compute_metrics(dataset.labels, model.predict(dataset.texts))
