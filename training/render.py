"""Render training results for people: metrics, the label audit, the strongest terms."""

from __future__ import annotations

import textwrap
from typing import Any

from classifier import LABELS
from classifier.render import SHORT


def render_metrics(metrics: dict[str, Any], *, title: str) -> str:
    """Per-label precision/recall/F1, macro-F1 and the confusion matrix as text."""
    lines = [title, f"{'label':<16}{'precision':>10}{'recall':>8}{'f1':>8}{'support':>9}"]
    for label, m in metrics["per_class"].items():
        lines.append(
            f"{label:<16}{m['precision']:>10.3f}{m['recall']:>8.3f}{m['f1']:>8.3f}{m['support']:>9}"
        )
    lines.append(
        f"macro-F1 {metrics['macro_f1']:.3f}   accuracy {metrics['accuracy']:.3f}   rows {metrics['rows']}"
    )
    lines.append("confusion (rows: gold, columns: predicted)")
    lines.append(" " * 16 + "".join(f"{SHORT[label]:>7}" for label in LABELS))
    for label, row in zip(LABELS, metrics["confusion"]):
        lines.append(f"{label:<16}" + "".join(f"{n:>7}" for n in row))
    return "\n".join(lines)


def render_shortcuts(report: dict[str, list[Any]]) -> str:
    """Strongest terms per label; ``*`` marks a term whose rows cluster in one topic or source."""
    lines = ["Strongest terms per label (* = over 60% of its rows from one topic or source):"]
    for label, terms in report.items():
        shown = ", ".join(f"{s.term}{'*' if s.flagged else ''}" for s in terms)
        lines.append(f"  {label}: {shown}")
    return "\n".join(lines)


def render_audit(audit: Any, *, limit: int = 20) -> str:
    """The label audit as text: problems, near duplicates, balance, review queue."""
    lines = [f"{audit.rows} rows in {len(audit.files)} files"]
    for title, items in (("errors", audit.errors), ("warnings", audit.warnings)):
        lines.append(f"{len(items)} {title}")
        lines += [f"  {item}" for item in items[:limit]]
        if len(items) > limit:
            lines.append(f"  ... and {len(items) - limit} more")
    lines.append(f"{len(audit.near_duplicates)} near-duplicate pairs (word 3-gram Jaccard)")
    for pair in audit.near_duplicates[:limit]:
        lines.append(
            f"  {pair.similarity:.2f} {pair.first} ~ {pair.second}: {textwrap.shorten(pair.text, 60)!r}"
        )
    for field, rows in audit.balance.items():
        if not rows:
            continue
        lines.append(
            f"labels per {field}"
            + " " * max(1, 24 - len(field))
            + "".join(f"{SHORT[label]:>6}" for label in LABELS)
        )
        for key, counts in rows.items():
            lines.append(f"  {key:<30}" + "".join(f"{counts[label]:>6}" for label in LABELS))
    if audit.review:
        lines.append("review queue: given label least likely to the out-of-fold model")
        for item in audit.review:
            lines.append(
                f"  {item.given_probability:.2f} {item.where} [{item.label} -> {item.predicted}] "
                f"{textwrap.shorten(item.text, 70)!r}"
            )
    return "\n".join(lines)
