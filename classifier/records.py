"""The records every stage passes on: segments, their scores, a scored document.

Frozen dataclasses, built by :mod:`classifier.segment` and :mod:`classifier.score` and read
by the renderers, the batch row format and the server alike; ``to_dict`` gives the JSON shape
that ``credscore score --json`` prints and ``POST /v1/score`` returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from classifier import LABELS


@dataclass(frozen=True)
class Segment:
    """A piece of the input text: ``text == source[start:end]``."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class SegmentScore:
    """One segment's label, scores (summing to 1) and the terms behind its label."""

    segment: Segment
    label: str
    scores: dict[str, float]
    terms: tuple[tuple[str, float], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.segment.text,
            "start": self.segment.start,
            "end": self.segment.end,
            "label": self.label,
            "scores": self.scores,
            "terms": [{"term": t, "weight": w} for t, w in self.terms],
        }


@dataclass(frozen=True)
class DocumentScore:
    """Every segment's score, and the whole text's label and scores by the aggregation rule
    (:func:`classifier.score.combine`)."""

    segments: tuple[SegmentScore, ...]
    label: str
    scores: dict[str, float]
    model: dict[str, Any]

    @property
    def shares(self) -> dict[str, float]:
        """Share of segments with each label."""
        n = len(self.segments)
        return {label: sum(s.label == label for s in self.segments) / n for label in LABELS}

    @property
    def most_disinformation(self) -> SegmentScore:
        """The segment with the highest disinformation score."""
        return max(self.segments, key=lambda s: s.scores["disinformation"])

    def summary(self) -> dict[str, Any]:
        worst = self.most_disinformation
        return {
            "segments": len(self.segments),
            "label": self.label,
            "scores": {k: round(v, 4) for k, v in self.scores.items()},
            "label_shares": {k: round(v, 4) for k, v in self.shares.items()},
            "most_disinformation": {
                "index": self.segments.index(worst),
                "text": worst.segment.text,
                "score": worst.scores["disinformation"],
            },
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "segments": [s.to_dict() for s in self.segments],
            "summary": self.summary(),
        }
