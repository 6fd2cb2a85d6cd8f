"""Text -> segments -> scores -> a scored document, and the one rule that combines segments.

:func:`combine` is the only place where a text's label and scores are derived from its
segments' scores: ``credscore score``, ``credscore label --segment``, a page's comments and the
server all use it, so the same text is judged the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from classifier import LABELS
from classifier.errors import InputError
from classifier.explain import Explainer
from classifier.model import Model
from classifier.records import DocumentScore, Segment, SegmentScore
from classifier.segment import segment

TERMS = 5
_DISINFORMATION = LABELS.index("disinformation")


def combine(proba: np.ndarray, weights: Sequence[float] | np.ndarray) -> tuple[str, np.ndarray]:
    """A text's label and scores from its segments' probabilities and lengths.

    The scores are the length-weighted mean of the segments' scores; the label is
    ``disinformation`` when any segment is labelled so (one incitement sentence makes a comment
    disinformation-style), else the label with the highest mean score.

    Parameters
    ----------
    proba : ndarray of shape (n_segments, n_labels)
    weights : sequence of float
        Each segment's length.

    Returns
    -------
    (str, ndarray)
    """
    weights = np.asarray(weights, dtype=float)
    mean = weights @ proba / weights.sum()
    if (proba.argmax(axis=1) == _DISINFORMATION).any():
        return "disinformation", mean
    return LABELS[int(mean.argmax())], mean


def score_text(
    text: str, model: Model, *, terms: int = TERMS, explainer: Explainer | None = None
) -> DocumentScore:
    """Segment ``text``, score every segment, and combine them into the text's label.

    Parameters
    ----------
    text : str
    model : Model
    terms : int
        Driving terms to report per segment.
    explainer : Explainer, optional
        Reused across calls (a server scores many texts with one model).

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
    scored = score_segments(segments, model, terms=terms, explainer=explainer)
    return document_score(scored, model.info())


def score_segments(
    segments: Sequence[Segment],
    model: Model,
    *,
    terms: int = TERMS,
    explainer: Explainer | None = None,
) -> tuple[SegmentScore, ...]:
    """Each segment's label, scores and driving terms, all scored in one call."""
    texts = [s.text for s in segments]
    proba = model.predict_proba(texts)
    why = (explainer or Explainer(model)).driving_terms(texts, proba, k=terms)
    return tuple(
        SegmentScore(seg, LABELS[int(row.argmax())], dict(zip(LABELS, row.tolist())), tuple(w))
        for seg, row, w in zip(segments, proba, why)
    )


def document_score(scored: Sequence[SegmentScore], model_info: dict[str, Any]) -> DocumentScore:
    """A text's record from its scored segments, by :func:`combine`."""
    proba = np.array([[s.scores[label] for label in LABELS] for s in scored])
    label, mean = combine(proba, [len(s.segment.text) for s in scored])
    return DocumentScore(tuple(scored), label, dict(zip(LABELS, mean.tolist())), model_info)
