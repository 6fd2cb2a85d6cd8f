"""Text -> scored segments -> document summary."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from classifier import LABELS
from classifier.errors import InputError
from classifier.model import Model
from classifier.segment import Segment, segment

TERMS = 5


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
    """Every segment's score and a summary of the whole text."""

    segments: tuple[SegmentScore, ...]
    model: dict[str, Any]

    @property
    def shares(self) -> dict[str, float]:
        """Share of segments with each label."""
        n = len(self.segments)
        return {label: sum(s.label == label for s in self.segments) / n for label in LABELS}

    @property
    def mean_scores(self) -> dict[str, float]:
        """Each label's score averaged over segments, weighted by segment length."""
        total = sum(len(s.segment.text) for s in self.segments)
        return {
            label: sum(s.scores[label] * len(s.segment.text) for s in self.segments) / total
            for label in LABELS
        }

    @property
    def most_disinformation(self) -> SegmentScore:
        """The segment with the highest disinformation score."""
        return max(self.segments, key=lambda s: s.scores["disinformation"])

    def summary(self) -> dict[str, Any]:
        worst = self.most_disinformation
        return {
            "segments": len(self.segments),
            "label_shares": {k: round(v, 4) for k, v in self.shares.items()},
            "mean_scores": {k: round(v, 4) for k, v in self.mean_scores.items()},
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


def score_text(text: str, model: Model, *, terms: int = TERMS) -> DocumentScore:
    """Segment ``text`` and score every segment.

    Parameters
    ----------
    text : str
    model : Model
    terms : int
        Driving terms to report per segment.

    Returns
    -------
    DocumentScore

    Raises
    ------
    InputError
        The text holds nothing to score (empty or white space only).
    """
    segments = segment(text)
    if not segments:
        raise InputError("no text to score: the input is empty")
    proba, explained = model.predict([s.text for s in segments], terms=terms)
    scored = []
    for seg, row, why in zip(segments, proba, explained):
        scores = {label: float(p) for label, p in zip(LABELS, row)}
        scored.append(SegmentScore(seg, LABELS[int(row.argmax())], scores, tuple(why)))
    return DocumentScore(tuple(scored), model.info())
