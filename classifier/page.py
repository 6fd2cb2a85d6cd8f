"""Score a page as what it is: the article segment by segment, each comment as one unit.

:func:`score_page` takes the :class:`~classifier.structure.Page` the structure step found and
scores, in one call of the model,

* the article's headline and body blocks, segment by segment (bylines are not scored: names and
  dates are not text the labels describe, see labels/GUIDELINES.md, "Excluded");
* each comment as one unit: its sentences are scored inside it and combined by the rule
  ``credscore label --segment`` uses (length-weighted mean of the scores; ``disinformation``
  when any sentence is, else the label with the highest mean);

and rolls the comments up per commenter. ``other`` blocks are carried through, never scored.

The JSON (:meth:`PageScore.to_dict`) has one documented shape::

    {"model": {...},
     "source": {"kind": "text" | "html", "offsets": "...", ["text": extracted text (HTML)]},
     "article": {"blocks": [{"kind", "text", "start", "end"}],
                 "segments": [{"kind", "text", "start", "end", "label", "scores", "terms"}],
                 "summary": {"segments", "label_shares", "mean_scores", "most_disinformation"}},
     "thread": {"comments", "commenters", "scored", "label_shares", "most_disinformation"},
     "comments": [{"author", "time", "parent", "text", "start", "end", "label", "scores",
                   "segments"}],
     "commenters": [{"author", "comments", "scored", "comment_indexes", "share_reporting",
                     "share_opinion", "share_disinformation", "mean_disinformation_score",
                     "disinformation_share_95ci"}],
     "other": [{"kind": "other", "reason", "text", "start", "end"}]}

Every ``start``/``end`` indexes the page's text (``source.offsets`` says which text); a
comment's ``parent`` is the position of the comment it replies to in ``comments``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from classifier import LABELS
from classifier.decisions import DECISIONS, Policy, strictest
from classifier.decisions import policy as model_policy
from classifier.errors import InputError
from classifier.model import Model
from classifier.records import Segment, SegmentScore
from classifier.score import TERMS, combine, document_score, score_segments
from classifier.segment import segment
from classifier.structure import Comment, Page, source_info
from classifier.summary import wilson_interval

#: Article blocks that are scored; bylines are kept and shown, not scored.
SCORED_BLOCKS = ("headline", "body")
NO_AUTHOR = "(no author)"


@dataclass(frozen=True)
class CommentScore:
    """One comment scored as a unit: ``label``/``scores`` are None when it holds no text."""

    comment: Comment
    label: str | None
    scores: dict[str, float] | None
    segments: tuple[SegmentScore, ...]
    decision: str | None = None  # the strictest of its segments' (None: no text)

    def to_dict(self) -> dict[str, Any]:
        c = self.comment
        record: dict[str, Any] = {
            "author": c.author,
            "time": c.time,
            "parent": c.parent,
            "text": c.text,
            "start": c.start,
            "end": c.end,
            "label": self.label,
            "scores": self.scores,
        }
        record["decision"] = self.decision
        record["segments"] = [s.to_dict() for s in self.segments]
        return record


@dataclass(frozen=True)
class PageScore:
    """A scored page: the article's segments, each comment, the skipped blocks."""

    page: Page
    article: tuple[tuple[str, SegmentScore], ...]  # (block kind, segment score)
    comments: tuple[CommentScore, ...]
    model: dict[str, Any]
    policy: Policy

    def article_summary(self) -> dict[str, Any]:
        """Label shares, mean scores and the most disinformation-like article segment."""
        if not self.article:
            return {
                "segments": 0,
                "label": None,
                "scores": None,
                "label_shares": None,
                "most_disinformation": None,
            }
        return document_score([s for _, s in self.article], self.model, self.policy).summary()

    def thread_summary(self) -> dict[str, Any]:
        """Comments, commenters, label shares over scored comments, the most disinformation-like."""
        scored = [c for c in self.comments if c.label is not None]
        worst = max(scored, key=_disinformation, default=None)
        return {
            "comments": len(self.comments),
            "commenters": len({_author(c) for c in self.comments}),
            "scored": len(scored),
            "decisions": {d: sum(c.decision == d for c in scored) for d in DECISIONS},
            "label_shares": (
                {k: round(sum(c.label == k for c in scored) / len(scored), 4) for k in LABELS}
                if scored
                else None
            ),
            "most_disinformation": (
                {
                    "index": worst.comment.index,
                    "author": worst.comment.author,
                    "score": _disinformation(worst),
                }
                if worst is not None
                else None
            ),
        }

    def commenters(self) -> list[dict[str, Any]]:
        """One record per commenter, most disinformation-style first (share, then comments).

        The interval is the 95% Wilson interval of the share of the commenter's scored comments
        that are labelled ``disinformation``, as in the per-source summary of ``label``.
        """
        groups: dict[str, list[CommentScore]] = {}
        for c in self.comments:
            groups.setdefault(_author(c), []).append(c)
        out = []
        for author, items in groups.items():
            scored = [c for c in items if c.label is not None]
            n = len(scored)
            record: dict[str, Any] = {
                "author": author,
                "comments": len(items),
                "scored": n,
                "comment_indexes": [c.comment.index for c in items],
            }
            for label in LABELS:
                record[f"share_{label}"] = (
                    round(sum(c.label == label for c in scored) / n, 4) if n else None
                )
            record["mean_disinformation_score"] = (
                round(sum(_disinformation(c) for c in scored) / n, 4) if n else None
            )
            low, high = wilson_interval(sum(c.label == "disinformation" for c in scored), n)
            record["disinformation_share_95ci"] = [round(low, 4), round(high, 4)]
            out.append(record)
        return sorted(
            out,
            key=lambda r: (-(r["share_disinformation"] or 0), -r["comments"], r["author"]),
        )

    def to_dict(self) -> dict[str, Any]:
        page = self.page
        return {
            "model": self.model,
            "source": source_info(page, include_text=True),
            "article": {
                "blocks": [
                    {"kind": b.kind, "text": b.text, "start": b.start, "end": b.end}
                    for b in page.article
                ],
                "segments": [{"kind": kind, **s.to_dict()} for kind, s in self.article],
                "summary": self.article_summary(),
            },
            "thread": self.thread_summary(),
            "comments": [c.to_dict() for c in self.comments],
            "commenters": self.commenters(),
            "other": [b.to_dict() for b in page.other],
        }


def _author(c: CommentScore) -> str:
    return c.comment.author or NO_AUTHOR


def _disinformation(c: CommentScore) -> float:
    return c.scores["disinformation"] if c.scores else 0.0


def _shifted(pieces: list[Segment], offset: int) -> list[Segment]:
    return [Segment(p.text, p.start + offset, p.end + offset) for p in pieces]


def score_page(
    page: Page, model: Model, *, terms: int = TERMS, policy: Policy | None = None
) -> PageScore:
    """Score a page's article segment by segment and each of its comments as one unit.

    Parameters
    ----------
    page : Page
        From :func:`classifier.structure.parse_page`.
    model : Model
    terms : int
        Driving terms to report per segment.

    Returns
    -------
    PageScore

    Raises
    ------
    InputError
        Neither the article nor any comment holds text to score.
    """
    article: list[tuple[str, Segment]] = []
    for block in page.article:
        if block.kind in SCORED_BLOCKS:
            article += [(block.kind, s) for s in _shifted(segment(block.text), block.start)]
    per_comment = [_shifted(segment(c.text), c.start) for c in page.comments]
    pieces = [s for _, s in article] + [s for parts in per_comment for s in parts]
    if not pieces:
        raise InputError("no text to score: the page has no article text and no comment text")
    rule = policy if policy is not None else model_policy(model.manifest)
    every = score_segments(pieces, model, terms=terms, policy=rule)  # one featurizer pass
    article_scores = tuple((kind, every[n]) for n, (kind, _) in enumerate(article))
    at = len(article)
    comments = []
    for comment, parts in zip(page.comments, per_comment):
        segments = every[at : at + len(parts)]
        at += len(parts)
        if not parts:
            comments.append(CommentScore(comment, None, None, ()))
            continue
        label, mean = combine(
            np.array([[s.scores[k] for k in LABELS] for s in segments]),
            [len(s.text) for s in parts],
        )
        scores = {k: round(float(v), 6) for k, v in zip(LABELS, mean)}
        decision = strictest(s.decision for s in segments)
        comments.append(CommentScore(comment, label, scores, segments, decision))
    return PageScore(page, article_scores, tuple(comments), model.info(), rule)
