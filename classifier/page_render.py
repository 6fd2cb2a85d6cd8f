"""A scored page as readable text: article summary, each comment, commenters, skipped blocks."""

from __future__ import annotations

import textwrap

from classifier import LABELS
from classifier.page import PageScore

_SHORT = {"reporting": "R", "opinion": "O", "disinformation": "D"}


def _shares(shares: dict[str, float] | None) -> str:
    if not shares:
        return "nothing scored"
    return ", ".join(f"{label} {share:.0%}" for label, share in shares.items())


def _scores(scores: dict[str, float]) -> str:
    return "  ".join(f"{_SHORT[label]} {scores[label]:.2f}" for label in LABELS)


def _article(result: PageScore) -> list[str]:
    lines = [
        f"{b.kind.capitalize()}: {b.text}"
        for b in result.page.article
        if b.kind in ("headline", "byline")
    ]
    summary = result.article_summary()
    lines.append(f"Article: {summary['segments']} segments: {_shares(summary['label_shares'])}")
    worst = summary["most_disinformation"]
    if worst is not None:
        lines.append(
            f"  most disinformation-like: {worst['score']:.2f} "
            f"{textwrap.shorten(worst['text'], 70)!r}"
        )
    return lines


def _comments(result: PageScore, width: int) -> list[str]:
    thread = result.thread_summary()
    lines = [
        "",
        f"Comments: {thread['comments']} by {thread['commenters']} commenters: "
        f"{_shares(thread['label_shares'])}",
    ]
    for c in result.comments:
        comment = c.comment
        head = f"[{comment.index + 1}] {comment.author or '(no author)'}"
        if comment.time:
            head += f", {comment.time}"
        if comment.parent is not None:
            head += f", reply to [{comment.parent + 1}]"
        if c.label is None or c.scores is None:
            lines.append(f"{head}: no text to score")
            continue
        lines.append(f"{head}: {c.label}  {_scores(c.scores)}  {c.decision}")
        lines += textwrap.wrap(
            textwrap.shorten(comment.text, 3 * width),
            width,
            initial_indent="    ",
            subsequent_indent="    ",
        )
        flagged = [s for s in c.segments if s.label == "disinformation"]
        if flagged and len(c.segments) > 1:
            top = max(flagged, key=lambda s: s.scores["disinformation"])
            lines.append(
                f"    disinformation-style sentence: {top.scores['disinformation']:.2f} "
                f"{textwrap.shorten(top.segment.text, 60)!r}"
            )
    return lines


def _commenters(result: PageScore) -> list[str]:
    commenters = result.commenters()
    if not commenters:
        return []
    lines = ["", "Commenters (share of disinformation-style comments, 95% interval):"]
    for r in commenters:
        share = r["share_disinformation"]
        low, high = r["disinformation_share_95ci"]
        shown = f"{share:.0%} ({low:.2f}-{high:.2f})" if share is not None else "n/a"
        noun = "comment" if r["comments"] == 1 else "comments"
        lines.append(f"  {r['author']}: {r['comments']} {noun}, disinformation {shown}")
    return lines


def _skipped_and_model(result: PageScore) -> list[str]:
    page = result.page
    lines = []
    if page.other:
        lines += ["", f"Skipped, not scored ({len(page.other)}):"]
        lines += [f"  {b.reason}: {textwrap.shorten(b.text, 70)!r}" for b in page.other]
    model = result.model
    lines += [
        "",
        f"Model: {model['path']} (sha256 {model['sha256'][:12]}, created {model['created']})",
    ]
    if page.source_kind == "html":
        lines.append("Read as HTML: offsets in --json index the page's extracted text.")
    return lines


def render_page(result: PageScore, *, width: int = 88) -> str:
    """The page report: nothing the structure step found is left out.

    Parameters
    ----------
    result : PageScore
    width : int
        Wrap width for quoted text.

    Returns
    -------
    str
    """
    lines = _article(result) + _comments(result, width) + _commenters(result)
    return "\n".join(lines + _skipped_and_model(result))
