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
from classifier.decisions import Policy, strictest
from classifier.decisions import policy as model_policy
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
    text: str,
    model: Model,
    *,
    terms: int = TERMS,
    explainer: Explainer | None = None,
    policy: Policy | None = None,
) -> DocumentScore:
    """Segment ``text``, score every segment, decide on each, and combine them into the text's
    label and decision.

    Parameters
    ----------
    text : str
    model : Model
    terms : int
        Driving terms to report per segment.
    explainer : Explainer, optional
        Reused across calls (a server scores many texts with one model).
    policy : Policy, optional
        The operating points to decide by [default: the model's own, from its manifest].

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
    rule = policy if policy is not None else model_policy(model.manifest)
    scored = score_segments(segments, model, terms=terms, explainer=explainer, policy=rule)
    return document_score(scored, model.info(), rule)


def score_segments(
    segments: Sequence[Segment],
    model: Model,
    *,
    terms: int = TERMS,
    explainer: Explainer | None = None,
    policy: Policy | None = None,
) -> tuple[SegmentScore, ...]:
    """Each segment's label, scores, driving terms and decision, all scored in one call."""
    texts = [s.text for s in segments]
    proba = model.predict_proba(texts)
    why = (explainer or Explainer(model)).driving_terms(texts, proba, k=terms)
    rule = policy if policy is not None else model_policy(model.manifest)
    return tuple(
        SegmentScore(
            seg, LABELS[int(row.argmax())], dict(zip(LABELS, row.tolist())), tuple(w), decision
        )
        for seg, row, w, decision in zip(segments, proba, why, rule.decide_rows(proba))
    )


def document_score(
    scored: Sequence[SegmentScore], model_info: dict[str, Any], rule: Policy
) -> DocumentScore:
    """A text's record from its scored segments: label and scores by :func:`combine`, the
    decision the strictest of its segments' (:func:`classifier.decisions.strictest`)."""
    proba = np.array([[s.scores[label] for label in LABELS] for s in scored])
    label, mean = combine(proba, [len(s.segment.text) for s in scored])
    return DocumentScore(
        tuple(scored),
        label,
        dict(zip(LABELS, mean.tolist())),
        model_info,
        strictest(s.decision for s in scored),
        rule.to_dict(),
    )
