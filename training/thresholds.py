"""Threshold tables and operating points, from a training run's out-of-fold scores.

For one label, every threshold ``t`` on its score flags the rows scoring ``t`` or more; the
table gives, per threshold, the precision and recall of the flag, the false-positive rate, the
share of rows flagged (``match_rate``) and the share let through (``filter_rate``: as in ORES,
what a moderator no longer needs to look at). An operating point is the threshold a constraint
picks from that table, in the syntax Wikimedia's ORES made familiar::

    maximum recall @ precision >= 0.9       the most disinformation caught at 90% precision
    maximum filter_rate @ recall >= 0.9     the least review work that still catches 90%

The scores are out of fold (each row scored by a model that did not see its group), so what a
point achieved is an estimate for new groups of the same kind of text, not for other people's
text: ``docs/benchmarks.md`` measures that gap.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from classifier import LABELS
from classifier.decisions import POINTS, OperatingPoint
from classifier.errors import ModelError, OptionError
from classifier.model import MANIFEST_FILE, Model, load_array

#: What a threshold achieves; ``fpr`` is the false-positive rate.
METRICS: tuple[str, ...] = ("precision", "recall", "filter_rate", "match_rate", "fpr")
#: Thresholds tried: 0.000, 0.001, ..., 1.000 (finer steps would only fit the noise).
GRID = np.round(np.arange(1001) / 1000, 3)
#: The rows ``credscore thresholds`` prints.
SHOWN = np.round(np.arange(1, 20) / 20, 2)
#: The operating points a new model gets: (label, constraint).
DEFAULT_POINTS: dict[str, tuple[str, str]] = {
    "hold": ("disinformation", "maximum recall @ precision >= 0.9"),
    "review": ("disinformation", "maximum recall @ precision >= 0.6"),
}
#: The out-of-fold arrays a model folder keeps (see :func:`training.train.train`).
OOF_PROBA = "oof_proba.npy"
OOF_GOLD = "oof_gold.npy"

_CONSTRAINT = re.compile(
    r"^\s*(maximum|minimum)\s+([a-z_]+)\s*@\s*([a-z_]+)\s*(>=|<=)\s*([0-9]*\.?[0-9]+)\s*$"
)
_EPSILON = 1e-12  # a rate computed as exactly the bound must meet it despite rounding


@dataclass(frozen=True)
class Constraint:
    """``maximum recall @ precision >= 0.9``: optimise one metric where another meets a bound."""

    goal: str  # "maximum" or "minimum"
    target: str
    metric: str
    op: str  # ">=" or "<="
    bound: float

    def __str__(self) -> str:
        return f"{self.goal} {self.target} @ {self.metric} {self.op} {self.bound:g}"


def parse_constraint(text: str) -> Constraint:
    """Parse an ORES-style constraint.

    Parameters
    ----------
    text : str
        ``maximum|minimum METRIC @ METRIC >=|<= NUMBER``, METRIC one of :data:`METRICS` and
        NUMBER between 0 and 1.

    Returns
    -------
    Constraint

    Raises
    ------
    OptionError
        Anything else.
    """
    match = _CONSTRAINT.match(text)
    usage = (
        f"'{text}' is not a constraint; write e.g. 'maximum recall @ precision >= 0.9' "
        f"(maximum or minimum, then one of {', '.join(METRICS)}, '@', a metric, >= or <=, "
        "and a number between 0 and 1)"
    )
    if not match:
        raise OptionError(usage)
    goal, target, metric, op, number = match.groups()
    bound = float(number)
    if target not in METRICS or metric not in METRICS or not 0 <= bound <= 1:
        raise OptionError(usage)
    return Constraint(goal, target, metric, op, bound)


@dataclass(frozen=True)
class ThresholdTable:
    """What each threshold of :data:`GRID` achieves for one label (NaN where undefined:
    precision when nothing is flagged, recall without positives, fpr without negatives)."""

    label: str
    rows: int
    positives: int
    thresholds: np.ndarray
    values: dict[str, np.ndarray]

    def at(self, index: int) -> dict[str, float | None]:
        """The metrics at one threshold, None where undefined, rounded to 4 decimals."""
        return {name: _rounded(self.values[name][index]) for name in METRICS}

    def rows_at(self, thresholds: np.ndarray) -> list[dict[str, float | None]]:
        """``{"threshold", metrics...}`` at each of ``thresholds`` (taken from :data:`GRID`)."""
        out = []
        for t in thresholds:
            index = int(np.searchsorted(self.thresholds, t - 1e-9))
            out.append({"threshold": float(self.thresholds[index]), **self.at(index)})
        return out


def _rounded(value: float) -> float | None:
    return None if np.isnan(value) else round(float(value), 4)


def _ratio(top: np.ndarray, bottom: np.ndarray | int) -> np.ndarray:
    bottom = np.broadcast_to(np.asarray(bottom, dtype=float), top.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(bottom > 0, top / np.where(bottom > 0, bottom, 1), np.nan)


def threshold_table(scores: np.ndarray, positive: np.ndarray, *, label: str) -> ThresholdTable:
    """Precision, recall, filter rate, match rate and false-positive rate at every threshold.

    Parameters
    ----------
    scores : ndarray of shape (n,)
        One label's scores.
    positive : ndarray of bool, shape (n,)
        Whether each row's gold label is that label.
    label : str

    Returns
    -------
    ThresholdTable
    """
    scores = np.asarray(scores, dtype=float)
    positive = np.asarray(positive, dtype=bool)
    n, pos = len(scores), int(positive.sum())
    # flagged(t) = rows scoring >= t: counted for every threshold at once from sorted scores
    flagged = n - np.searchsorted(np.sort(scores), GRID, side="left")
    hits = pos - np.searchsorted(np.sort(scores[positive]), GRID, side="left")
    values = {
        "precision": _ratio(hits, flagged),
        "recall": _ratio(hits, pos),
        "filter_rate": _ratio(n - flagged, n),
        "match_rate": _ratio(flagged, n),
        "fpr": _ratio(flagged - hits, n - pos),
    }
    return ThresholdTable(label, n, pos, GRID, values)


def choose(table: ThresholdTable, constraint: Constraint) -> int | None:
    """The index of the threshold that best meets ``constraint``, or None when none meets it.

    Of equally good thresholds, the ones flagging the fewest rows win; and of the thresholds
    flagging exactly those rows, the middle one: it sits halfway across the gap between the
    lowest score flagged and the highest score let through, rather than on the edge of either,
    so a model whose scores move a little (the final model is not the cross-validation's fold
    models) still flags the same rows.
    """
    bound = table.values[constraint.metric]
    target = table.values[constraint.target]
    with np.errstate(invalid="ignore"):
        meets = (
            bound >= constraint.bound - _EPSILON
            if constraint.op == ">="
            else bound <= constraint.bound + _EPSILON
        )
    meets &= ~np.isnan(target)
    if not meets.any():
        return None
    best = np.where(meets, target if constraint.goal == "maximum" else -target, -np.inf)
    top = int(np.flatnonzero(best >= best.max() - _EPSILON)[-1])
    # the flagged share only falls as the threshold rises: the thresholds flagging the same rows
    # as ``top`` are one run of the grid, ending at ``top``
    same = np.flatnonzero(table.values["match_rate"][: top + 1] != table.values["match_rate"][top])
    low = int(same[-1]) + 1 if len(same) else 0
    return (low + top) // 2


def _gold_index(gold: Any) -> np.ndarray:
    gold = np.asarray(gold)
    if gold.dtype.kind in "iu":
        return gold
    return np.array([LABELS.index(str(g)) for g in gold], dtype=np.int64)


def tables(proba: np.ndarray, gold: Any) -> dict[str, ThresholdTable]:
    """One :class:`ThresholdTable` per label of ``proba`` (columns in LABELS order).

    ``gold`` holds label names or indices into :data:`classifier.LABELS`.
    """
    index = _gold_index(gold)
    return {
        label: threshold_table(proba[:, i], index == i, label=label)
        for i, label in enumerate(LABELS)
    }


def operating_point(
    name: str, label: str, spec: str | float, proba: np.ndarray, gold: Any
) -> OperatingPoint:
    """The point ``spec`` picks for ``label``: a constraint, or a threshold given as a number.

    Returns
    -------
    OperatingPoint
        With what it achieved on these rows; threshold None when no threshold meets the
        constraint (the point then never fires).

    Raises
    ------
    OptionError
        ``spec`` is neither a constraint nor a number between 0 and 1.
    """
    if isinstance(spec, float):
        if not 0 <= spec <= 1:
            raise OptionError(f"--set {name}={spec}: a threshold must be between 0 and 1")
        measured = point_metrics(proba[:, LABELS.index(label)], table_positive(gold, label), spec)
        return OperatingPoint(
            name,
            label,
            spec,
            f"fixed threshold {spec:g}",
            measured["precision"],
            measured["recall"],
            measured["filter_rate"],
        )
    constraint = parse_constraint(spec)
    table = tables(proba, gold)[label]
    index = choose(table, constraint)
    if index is None:
        return OperatingPoint(name, label, None, str(constraint))
    achieved = table.at(index)
    return OperatingPoint(
        name,
        label,
        float(table.thresholds[index]),
        str(constraint),
        achieved["precision"],
        achieved["recall"],
        achieved["filter_rate"],
    )


def table_positive(gold: Any, label: str) -> np.ndarray:
    """Whether each gold label is ``label``."""
    return _gold_index(gold) == LABELS.index(label)


def point_metrics(
    scores: np.ndarray, positive: np.ndarray, threshold: float | None
) -> dict[str, float | int | None]:
    """Precision, recall, filter rate, false-positive rate and rows flagged at one threshold
    (None where undefined; nothing is flagged when ``threshold`` is None)."""
    scores = np.asarray(scores, dtype=float)
    positive = np.asarray(positive, dtype=bool)
    flagged = scores >= threshold if threshold is not None else np.zeros(len(scores), dtype=bool)
    n, pos, count = len(scores), int(positive.sum()), int(flagged.sum())
    hits = int((flagged & positive).sum())

    def share(top: int, bottom: int) -> float | None:
        return round(top / bottom, 4) if bottom else None

    return {
        "flagged": count,
        "precision": share(hits, count),
        "recall": share(hits, pos),
        "filter_rate": share(n - count, n),
        "fpr": share(count - hits, n - pos),
    }


def default_points(proba: np.ndarray, gold: Any) -> dict[str, OperatingPoint]:
    """The :data:`DEFAULT_POINTS` chosen on these rows."""
    return {
        name: operating_point(name, label, spec, proba, gold)
        for name, (label, spec) in DEFAULT_POINTS.items()
    }


def parse_set(value: str) -> tuple[str, str | float]:
    """``hold=0.93`` or ``hold=maximum recall @ precision >= 0.95`` as (name, spec).

    Raises
    ------
    OptionError
        An unknown point name, or a value that is neither a number in [0, 1] nor a constraint.
    """
    name, sep, spec = value.partition("=")
    name = name.strip()
    if not sep or name not in POINTS:
        raise OptionError(
            f"--set {value}: give NAME=THRESHOLD or NAME=CONSTRAINT, NAME one of {', '.join(POINTS)}"
        )
    try:
        number = float(spec)
    except ValueError:
        parse_constraint(spec)  # fail here, naming the constraint, rather than later
        return name, spec.strip()
    if not 0 <= number <= 1:
        raise OptionError(f"--set {value}: a threshold must be between 0 and 1")
    return name, number


def check_oof(proba: Any, gold: Any, where: str) -> tuple[np.ndarray, np.ndarray]:
    """The out-of-fold arrays, refused unless they are probabilities and label indices.

    Raises
    ------
    ModelError
    """
    proba, gold = np.asarray(proba), np.asarray(gold)
    if (
        proba.ndim != 2
        or proba.shape[1] != len(LABELS)
        or proba.dtype.kind != "f"
        or gold.shape != (len(proba),)
        or gold.dtype.kind not in "iu"
        or not np.isfinite(proba).all()
        or (len(gold) and (gold.min() < 0 or gold.max() >= len(LABELS)))
    ):
        raise ModelError(
            f"{where}: out-of-fold arrays are not probabilities and label indices; retrain"
        )
    return proba, gold


def update_points(
    manifest: Mapping[str, Any], sets: Mapping[str, str | float], proba: Any, gold: Any
) -> dict[str, Any]:
    """The manifest with ``sets`` (point name -> constraint or threshold) chosen anew on the
    out-of-fold rows; other points are kept as they were.

    Raises
    ------
    OptionError
        A bad constraint or threshold.
    """
    stored = dict(manifest.get("operating_points") or {})
    for name, spec in sets.items():
        label = (stored.get(name) or {}).get("label") or DEFAULT_POINTS[name][0]
        stored[name] = operating_point(name, label, spec, proba, gold).to_dict()
    return {**manifest, "operating_points": {k: stored[k] for k in POINTS if k in stored}}


def out_of_fold(model: Model) -> tuple[np.ndarray, np.ndarray]:
    """A model's out-of-fold probabilities and gold label indices, checksums checked.

    Raises
    ------
    ModelError
        The model keeps none (trained before credscore kept them), or they are missing,
        tampered with or malformed.
    """
    files = model.manifest["files"]
    if OOF_PROBA not in files or OOF_GOLD not in files:
        raise ModelError(
            f"{model.path}: this model keeps no out-of-fold scores to choose thresholds from; "
            "retrain it with 'credscore train'"
        )
    proba, gold = load_array(model, OOF_PROBA), load_array(model, OOF_GOLD)
    return check_oof(proba, gold, str(model.path))


def set_points(model: Model, sets: Mapping[str, str | float]) -> dict[str, Any]:
    """Choose ``sets``' operating points anew on the model's out-of-fold scores and rewrite its
    manifest atomically (readers see the old manifest or the new one), without retraining.

    Parameters
    ----------
    model : Model
        A checked, loaded model (its arrays are not changed, so its checksum stays the same).
    sets : mapping
        Point name -> constraint (``maximum recall @ precision >= 0.95``) or threshold.

    Returns
    -------
    dict
        The manifest as written.

    Raises
    ------
    ModelError
        No usable out-of-fold scores (see :func:`out_of_fold`).
    OptionError
        A bad constraint or threshold.
    """
    import json

    from classifier.atomic import write_atomic

    proba, gold = out_of_fold(model)
    manifest = update_points(model.manifest, sets, proba, gold)
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    write_atomic(model.path / MANIFEST_FILE, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return manifest


def report(model: Model, labels: tuple[str, ...] | None = None) -> dict[str, Any]:
    """What ``credscore thresholds`` shows: the operating points and, per label, the table at
    every 0.01 (``labels``: which labels [default: those the operating points use]).

    Raises
    ------
    ModelError
        See :func:`out_of_fold`.
    """
    proba, gold = out_of_fold(model)
    points = model.manifest.get("operating_points") or {}
    chosen = labels or tuple(dict.fromkeys(p["label"] for p in points.values())) or LABELS
    every = tables(proba, gold)
    steps = np.round(np.arange(101) / 100, 2)
    return {
        "model": str(model.path),
        "out_of_fold_rows": len(gold),
        "cv": model.manifest.get("cv"),
        "operating_points": points,
        "positives": {label: every[label].positives for label in chosen},
        "tables": {label: every[label].rows_at(steps) for label in chosen},
    }
