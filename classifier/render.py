"""Render scoring results for people (plain text) and programs (JSON)."""

from __future__ import annotations

import json
import textwrap
from typing import Any

from classifier import LABELS
from classifier.records import DocumentScore

SHORT = {"reporting": "rep", "opinion": "opi", "disinformation": "dis"}


def render_json(data: Any) -> str:
    """One JSON document (``to_dict()`` is called on results that have it)."""
    if hasattr(data, "to_dict"):
        data = data.to_dict()
    return json.dumps(data, indent=2, ensure_ascii=False)


def wrap(text: str, width: int, *, indent: str = "") -> list[str]:
    """``text`` in lines of at most ``width`` characters (a longer word gets its own line).

    A greedy fill over the words, as ``textwrap.wrap`` does for plain prose, at a fraction of its
    cost: a pasted page of a million characters is rendered in well under a second.
    """
    lines: list[str] = []
    line: list[str] = []
    room = width - len(indent)
    used = -1
    for word in text.split():
        if line and used + 1 + len(word) > room:
            lines.append(indent + " ".join(line))
            line, used = [], -1
        line.append(word)
        used += 1 + len(word)
    if line:
        lines.append(indent + " ".join(line))
    return lines


def render_table(result: DocumentScore, *, width: int = 88) -> str:
    """A readable report: each segment's label, scores, text and terms, then the summary."""
    lines = []
    for n, s in enumerate(result.segments, 1):
        scores = "  ".join(f"{SHORT[label]} {s.scores[label]:.2f}" for label in LABELS)
        lines.append(f"[{n}] {s.label:<15} {scores}  {s.decision}")
        lines += wrap(s.segment.text, width, indent="    ")
        if s.terms:
            lines.append("    terms: " + ", ".join(term for term, _ in s.terms))
    shares = ", ".join(f"{label} {share:.0%}" for label, share in result.shares.items())
    whole = "  ".join(f"{SHORT[label]} {result.scores[label]:.2f}" for label in LABELS)
    worst = result.most_disinformation
    counts = ", ".join(f"{n} {decision}" for decision, n in result.decisions.items())
    lines += [
        "",
        f"Summary: {len(result.segments)} segments: {shares}",
        f"Whole text: {result.label} ({whole}); decision: {result.decision}",
        f"Decisions: {counts} ({_rule(result.policy)})",
        f"Most disinformation-like: [{result.segments.index(worst) + 1}] "
        f"{worst.scores['disinformation']:.2f} {textwrap.shorten(worst.segment.text, 60)!r}",
        f"Model: {result.model['path']} (sha256 {result.model['sha256'][:12]}, "
        f"created {result.model['created']})",
    ]
    return "\n".join(lines)


def _rule(points: dict[str, Any]) -> str:
    """The operating points of a result, in a few words."""
    from classifier.decisions import policy

    return policy({"operating_points": points}).describe()


def render_info(manifest: dict[str, Any], path: str) -> str:
    """The model in use and its manifest, as ``key: value`` lines."""
    data = manifest.get("training_data", {})
    metrics = manifest.get("cv_metrics") or {}
    versions = ", ".join(f"{k} {v}" for k, v in manifest.get("versions", {}).items())
    return "\n".join(
        [
            f"model: {path}",
            f"created: {manifest.get('created', '?')}",
            *(f"{name}: sha256 {sha}" for name, sha in manifest.get("files", {}).items()),
            f"versions: {versions}",
            f"labels: {', '.join(manifest.get('labels', []))}",
            f"training data: {data.get('rows', '?')} rows from {data.get('documents', '?')} documents "
            f"({', '.join(data.get('files', []))}), sha256 {data.get('sha256', '?')[:12]}",
            f"label counts: {data.get('label_counts', {})}",
            f"cross-validation: {manifest.get('cv', '?')}, macro-F1 {metrics.get('macro_f1', '?')}",
            f"operating points: {_rule(manifest.get('operating_points') or {})}",
        ]
    )
