"""Scores -> decisions: ``hold``, ``review`` or ``accept``, by a model's operating points.

An operating point is a threshold on one label's score, chosen at training time by a
constraint in the syntax Wikimedia's ORES made familiar (``maximum recall @ precision >= 0.9``)
and stored in the model's manifest with the precision, recall and filter rate it achieved out
of fold (see :mod:`training.thresholds`). The rule: a text is ``hold`` when its score reaches
the ``hold`` point's threshold, else ``review`` when it reaches the ``review`` point's, else
``accept``. A point the manifest leaves unset (no threshold met its constraint) never fires.
A text of several segments takes the strictest of its segments' decisions (:func:`strictest`),
as one disinformation segment makes the whole text disinformation (:func:`classifier.score.combine`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from classifier import LABELS
from classifier.errors import ModelError, OptionError

#: Decisions, strictest first; ``accept`` is what no operating point claims.
DECISIONS: tuple[str, ...] = ("hold", "review", "accept")
POINTS: tuple[str, ...] = ("hold", "review")


@dataclass(frozen=True)
class OperatingPoint:
    """A threshold on one label's score and what it achieved where it was chosen."""

    name: str
    label: str
    threshold: float | None  # None: no threshold met the constraint; the point never fires
    constraint: str = ""
    precision: float | None = None
    recall: float | None = None
    filter_rate: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "threshold": self.threshold,
            "constraint": self.constraint,
            "precision": self.precision,
            "recall": self.recall,
            "filter_rate": self.filter_rate,
        }


@dataclass(frozen=True)
class Policy:
    """The operating points a run decides by."""

    points: tuple[OperatingPoint, ...] = ()

    def decide(self, scores: Mapping[str, float]) -> str:
        """``hold``, ``review`` or ``accept`` for one text's scores."""
        for point in self.points:
            if point.threshold is not None and scores[point.label] >= point.threshold:
                return point.name
        return "accept"

    def decide_rows(self, proba: Any) -> list[str]:
        """The decision of each row of a probability array (columns in LABELS order)."""
        return [DECISIONS[code] for code in self.decide_codes(proba).tolist()]

    def decide_codes(self, proba: Any) -> Any:
        """The decision of each row of a probability array as its index in DECISIONS (an
        integer array: a chunk's decisions without a Python string per row)."""
        import numpy as np

        out = np.full(len(proba), DECISIONS.index("accept"), dtype=np.int8)
        for point in reversed(self.points):  # strictest last, so it wins
            if point.threshold is not None:
                hit = proba[:, LABELS.index(point.label)] >= point.threshold
                out[hit] = DECISIONS.index(point.name)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {point.name: point.to_dict() for point in self.points}

    def describe(self) -> str:
        """The rule in a few words: ``hold: disinformation >= 0.91; review: ... >= 0.62``."""
        parts = [
            f"{p.name}: {p.label} >= {p.threshold:g}"
            if p.threshold is not None
            else f"{p.name}: unset"
            for p in self.points
        ]
        return "; ".join(parts) or "no operating points: every text is accepted"


def strictest(decisions: Iterable[str]) -> str:
    """The strictest of some segments' decisions: the text's decision (``accept`` for none)."""
    found = set(decisions)
    return next((d for d in DECISIONS if d in found), "accept")


def _point(name: str, data: Any) -> OperatingPoint:
    if not isinstance(data, dict) or data.get("label") not in LABELS:
        raise ModelError(f"operating point '{name}' must name one of {list(LABELS)}")
    threshold = data.get("threshold")
    if threshold is not None and not (isinstance(threshold, (int, float)) and 0 <= threshold <= 1):
        raise ModelError(f"operating point '{name}': threshold {threshold!r} is not in [0, 1]")
    return OperatingPoint(
        name,
        data["label"],
        None if threshold is None else float(threshold),
        str(data.get("constraint", "")),
        data.get("precision"),
        data.get("recall"),
        data.get("filter_rate"),
    )


def parse_point_values(values: tuple[str, ...] | list[str], *, option: str) -> dict[str, float]:
    """``OPTION hold=0.95`` values (a number in [0, 1] per operating point) as ``{"hold": 0.95}``.

    Raises
    ------
    OptionError
        An unknown point name or a value outside [0, 1], naming ``option``.
    """
    out = {}
    for value in values:
        name, _, number = value.partition("=")
        try:
            number_value = float(number)
        except ValueError:
            number_value = -1.0
        if name not in POINTS or not 0 <= number_value <= 1:
            raise OptionError(
                f"{option} {value}: give NAME=VALUE with NAME one of {', '.join(POINTS)} and "
                "VALUE between 0 and 1"
            )
        out[name] = number_value
    return out


def parse_overrides(values: tuple[str, ...] | list[str]) -> dict[str, float]:
    """``--threshold hold=0.95`` values as ``{"hold": 0.95}`` (see :func:`parse_point_values`)."""
    return parse_point_values(values, option="--threshold")


def policy(manifest: Mapping[str, Any], overrides: Mapping[str, float] | None = None) -> Policy:
    """The policy of a model's manifest, with ``overrides`` (point name -> threshold) for one run.

    A model without operating points (trained before decisions existed) holds and reviews
    nothing unless a threshold is given; an override of a point the manifest lacks applies to
    the disinformation score.

    Raises
    ------
    ModelError
        An operating point of the wrong shape.
    """
    stored = manifest.get("operating_points") or {}
    points = []
    for name in POINTS:
        point = _point(name, stored[name]) if name in stored else None
        if overrides and name in overrides:
            base = point or OperatingPoint(name, "disinformation", None)
            point = OperatingPoint(
                name, base.label, overrides[name], f"--threshold {name}={overrides[name]}"
            )
        if point is not None:
            points.append(point)
    return Policy(tuple(points))
