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


def _number(value: Any, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def render_calibration(calibration: dict[str, Any], *, title: str) -> str:
    """Brier score and expected calibration error per label, then the reliability table:
    per score bin, each label's mean score beside the share of those rows that carry it."""
    per_label = calibration["per_label"]
    lines = [
        f"{title}: Brier score {calibration['brier']:.3f} over {calibration['rows']} rows",
        f"{'label':<16}{'Brier':>8}{'ECE':>8}",
    ]
    for label, c in per_label.items():
        lines.append(f"{label:<16}{c['brier']:>8.3f}{c['ece']:>8.3f}")
    lines.append("reliability: mean score / observed share (rows) in each score bin")
    lines.append(f"{'bin':<11}" + "".join(f"{label:>24}" for label in per_label))
    for b in range(len(next(iter(per_label.values()))["bins"])):
        cells = []
        first = None
        for c in per_label.values():
            cell = c["bins"][b]
            first = first or cell
            text = (
                f"{cell['mean_score']:.2f} / {cell['observed']:.2f} ({cell['rows']})"
                if cell["rows"]
                else "-"
            )
            cells.append(f"{text:>24}")
        assert first is not None
        lines.append(f"{first['low']:.1f}-{first['high']:.1f}    " + "".join(cells))
    return "\n".join(lines)


def render_points(points: dict[str, Any], *, title: str) -> str:
    """Operating points: label, threshold, constraint and what they achieved where chosen."""
    lines = [
        title,
        f"{'point':<8}{'label':<16}{'threshold':>10}{'precision':>11}{'recall':>8}"
        f"{'filter_rate':>13}  constraint",
    ]
    for name, p in points.items():
        threshold = "unset" if p["threshold"] is None else f"{p['threshold']:.3f}"
        lines.append(
            f"{name:<8}{p['label']:<16}{threshold:>10}{_number(p.get('precision')):>11}"
            f"{_number(p.get('recall')):>8}{_number(p.get('filter_rate')):>13}  {p['constraint']}"
        )
        if p["threshold"] is None:
            lines.append(f"        no threshold meets '{p['constraint']}': '{name}' never fires")
    if not points:
        lines.append("  (none: every text is accepted)")
    return "\n".join(lines)


def render_thresholds(tables: dict[str, list[dict[str, Any]]], *, rows: dict[str, int]) -> str:
    """Threshold tables: per threshold, precision, recall, share of rows flagged, filter rate
    (the share let through) and false-positive rate."""
    lines = []
    for label, table in tables.items():
        lines += [
            "",
            f"{label} ({rows[label]} of the rows out of fold carry it): a row is flagged when "
            "its score reaches the threshold",
            f"{'threshold':>10}{'precision':>11}{'recall':>8}{'share_flagged':>15}"
            f"{'filter_rate':>13}{'fpr':>7}",
        ]
        for row in table:
            lines.append(
                f"{row['threshold']:>10.2f}{_number(row['precision']):>11}"
                f"{_number(row['recall']):>8}{_number(row['match_rate']):>15}"
                f"{_number(row['filter_rate']):>13}{_number(row['fpr']):>7}"
            )
    return "\n".join(lines)


def render_point_checks(checks: list[Any], *, where: str) -> str:
    """The operating points on an evaluation file, next to what the manifest promised."""
    lines = [
        f"Operating points on {where} (in brackets: what the manifest promised, out of fold)",
        f"{'point':<8}{'threshold':>10}{'flagged':>9}{'precision':>17}{'recall':>17}"
        f"{'filter_rate':>17}",
    ]
    for c in checks:
        threshold = "unset" if c.threshold is None else f"{c.threshold:.3f}"
        cells = "".join(
            f"{_number(c.measured[k]) + ' (' + _number(c.promised[k]) + ')':>17}"
            for k in ("precision", "recall", "filter_rate")
        )
        lines.append(f"{c.name:<8}{threshold:>10}{c.measured['flagged']:>9}{cells}")
    if not checks:
        lines.append("  (the model has no operating points)")
    return "\n".join(lines)
