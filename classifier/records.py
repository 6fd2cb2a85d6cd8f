"""The records every stage passes on: segments, their scores, a scored document.

Frozen dataclasses, built by :mod:`classifier.segment` and :mod:`classifier.score` and read
by the renderers, the batch row format and the server alike; ``to_dict`` gives the JSON shape
that ``credscore score --json`` prints and ``POST /v1/score`` returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from classifier import LABELS
from classifier.decisions import DECISIONS


@dataclass(frozen=True)
class Segment:
    """A piece of the input text: ``text == source[start:end]``."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class SegmentScore:
    """One segment's label, scores (summing to 1), the terms behind its label, and the
    decision the operating points make on its scores (:mod:`classifier.decisions`)."""

    segment: Segment
    label: str
    scores: dict[str, float]
    terms: tuple[tuple[str, float], ...]
    decision: str = "accept"

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.segment.text,
            "start": self.segment.start,
            "end": self.segment.end,
            "label": self.label,
            "scores": self.scores,
            "decision": self.decision,
            "terms": [{"term": t, "weight": w} for t, w in self.terms],
        }


@dataclass(frozen=True)
class DocumentScore:
    """Every segment's score, and the whole text's label and scores by the aggregation rule
    (:func:`classifier.score.combine`); its decision is the strictest of its segments'
    (:func:`classifier.decisions.strictest`), by the operating points in ``policy``."""

    segments: tuple[SegmentScore, ...]
    label: str
    scores: dict[str, float]
    model: dict[str, Any]
    decision: str = "accept"
    policy: dict[str, Any] = field(default_factory=dict)

    @property
    def decisions(self) -> dict[str, int]:
        """How many segments got each decision."""
        return {d: sum(s.decision == d for s in self.segments) for d in DECISIONS}

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
            "decision": self.decision,
            "decisions": self.decisions,
            "most_disinformation": {
                "index": self.segments.index(worst),
                "text": worst.segment.text,
                "score": worst.scores["disinformation"],
            },
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "policy": self.policy,
            "segments": [s.to_dict() for s in self.segments],
            "summary": self.summary(),
        }
