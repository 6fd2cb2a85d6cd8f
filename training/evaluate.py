"""Compare a model with gold labels: per-class precision/recall/F1, macro-F1, confusion;
calibration (Brier score, expected calibration error, reliability table); the operating
points on the file next to what the manifest promised; and the quality gate."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

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


CALIBRATION_BINS = 10


@dataclass(frozen=True)
class ReliabilityBin:
    """Rows whose score for a label falls in ``[low, high)`` (the last bin includes 1), their
    mean score and the share of them that carry the label."""

    low: float
    high: float
    rows: int
    mean_score: float | None
    observed: float | None


@dataclass(frozen=True)
class LabelCalibration:
    """How well one label's scores match how often the label is right."""

    brier: float  # mean squared difference between the score and 1 (label) or 0 (not)
    ece: float  # expected calibration error: rows-weighted mean |mean score - observed share|
    bins: tuple[ReliabilityBin, ...]


@dataclass(frozen=True)
class Calibration:
    """Calibration of a set of probabilities against gold labels, per label."""

    rows: int
    brier: float  # multi-class Brier score: the per-label Brier scores summed
    per_label: dict[str, LabelCalibration]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values (lists, not tuples, so that a manifest read back compares equal)."""
        return {
            "rows": self.rows,
            "brier": self.brier,
            "per_label": {
                label: {"brier": c.brier, "ece": c.ece, "bins": [asdict(b) for b in c.bins]}
                for label, c in self.per_label.items()
            },
        }


def compute_calibration(
    gold: Sequence[str] | np.ndarray, proba: np.ndarray, *, bins: int = CALIBRATION_BINS
) -> Calibration:
    """Brier score, expected calibration error and a reliability table per label.

    A score of 0.8 is calibrated when about 80% of the rows scoring about 0.8 carry the label:
    each label's scores are cut into ``bins`` equal-width bins, and a bin's mean score is set
    beside the share of its rows that carry the label.

    Parameters
    ----------
    gold : sequence of label names, or of indices into :data:`classifier.LABELS`
    proba : ndarray of shape (n, len(LABELS))
    bins : int

    Returns
    -------
    Calibration
    """
    proba = np.asarray(proba, dtype=float)
    gold = np.asarray(gold)
    index = gold if gold.dtype.kind in "iu" else np.array([LABELS.index(str(g)) for g in gold])
    n = len(proba)
    per_label = {}
    for i, label in enumerate(LABELS):
        scores, truth = proba[:, i], (index == i).astype(float)
        where = np.minimum(np.floor(scores * bins).astype(int), bins - 1)
        table, gap = [], 0.0
        for b in range(bins):
            inside = where == b
            count = int(inside.sum())
            mean = float(scores[inside].mean()) if count else None
            observed = float(truth[inside].mean()) if count else None
            if count:
                gap += count / n * abs(mean - observed)  # type: ignore[operator]
            table.append(
                ReliabilityBin(
                    round(b / bins, 4),
                    round((b + 1) / bins, 4),
                    count,
                    None if mean is None else round(mean, 4),
                    None if observed is None else round(observed, 4),
                )
            )
        brier = float(np.mean((scores - truth) ** 2)) if n else 0.0
        per_label[label] = LabelCalibration(round(brier, 4), round(gap, 4), tuple(table))
    total = round(sum(c.brier for c in per_label.values()), 4)
    return Calibration(n, total, per_label)


@dataclass(frozen=True)
class PointCheck:
    """An operating point on an evaluation file, beside what the manifest promised."""

    name: str
    label: str
    threshold: float | None
    constraint: str
    promised: dict[str, float | None]  # precision, recall, filter_rate out of fold
    measured: dict[str, float | int | None]  # flagged, precision, recall, filter_rate, fpr


@dataclass(frozen=True)
class Evaluation:
    """Everything ``credscore evaluate`` reports about a model on a labelled file."""

    metrics: Metrics
    calibration: Calibration
    points: tuple[PointCheck, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "metrics": self.metrics.to_dict(),
            "calibration": self.calibration.to_dict(),
            "operating_points": {p.name: asdict(p) for p in self.points},
        }


def evaluate_file(model: Model, dataset: Dataset, *, rule: Any = None) -> Evaluation:
    """Score every record of ``dataset`` and measure labels, calibration and operating points.

    Parameters
    ----------
    model : Model
    dataset : Dataset
    rule : classifier.decisions.Policy, optional
        The operating points to check [default: the model's own].

    Returns
    -------
    Evaluation
    """
    from classifier.decisions import policy
    from training.thresholds import point_metrics, table_positive

    proba = model.predict_proba(dataset.texts)
    metrics = compute_metrics(dataset.labels, [LABELS[i] for i in proba.argmax(axis=1)])
    checks = []
    for point in (rule or policy(model.manifest)).points:
        measured = point_metrics(
            proba[:, LABELS.index(point.label)],
            table_positive(dataset.labels, point.label),
            point.threshold,
        )
        promised = {
            "precision": point.precision,
            "recall": point.recall,
            "filter_rate": point.filter_rate,
        }
        checks.append(
            PointCheck(
                point.name, point.label, point.threshold, point.constraint, promised, measured
            )
        )
    return Evaluation(metrics, compute_calibration(dataset.labels, proba), tuple(checks))


def gate_failures(
    evaluation: Evaluation,
    *,
    min_macro_f1: float | None = None,
    min_precision: Mapping[str, float] | None = None,
) -> list[str]:
    """Why the model falls short of the gate, one reason per line (empty: it passes).

    A point that flags no row of the file has no precision to check, and fails: the gate asks
    for evidence, and there is none.
    """
    failures = []
    if min_macro_f1 is not None and evaluation.metrics.macro_f1 < min_macro_f1:
        failures.append(f"macro-F1 {evaluation.metrics.macro_f1:.3f} is below {min_macro_f1:g}")
    points = {p.name: p for p in evaluation.points}
    for name, bound in (min_precision or {}).items():
        point = points.get(name)
        if point is None or point.threshold is None:
            failures.append(
                f"the model sets no '{name}' threshold: no precision to check against {bound:g}"
            )
            continue
        precision = point.measured["precision"]
        if precision is None:
            failures.append(
                f"'{name}' (threshold {point.threshold:g}) flags no row of the file: its precision "
                f"cannot be checked against {bound:g}"
            )
        elif precision < bound:
            failures.append(
                f"'{name}' precision {precision:.3f} (threshold {point.threshold:g}) is below {bound:g}"
            )
    return failures


def parse_min_precision(values: Sequence[str]) -> dict[str, float]:
    """``--min-precision hold=0.9`` values as ``{"hold": 0.9}``.

    Raises
    ------
    OptionError
        An unknown point name or a bound outside [0, 1].
    """
    from classifier.decisions import parse_point_values

    return parse_point_values(list(values), option="--min-precision")
