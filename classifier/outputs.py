"""Render results for people (plain text) and programs (JSON)."""

from __future__ import annotations

import csv
import json
import textwrap
from pathlib import Path
from typing import Any

import orjson

from classifier import LABELS
from classifier.score import DocumentScore

_SHORT = {"reporting": "rep", "opinion": "opi", "disinformation": "dis"}


def render_json(data: Any) -> str:
    """One JSON document (``to_dict()`` is called on results that have it)."""
    if hasattr(data, "to_dict"):
        data = data.to_dict()
    return json.dumps(data, indent=2, ensure_ascii=False)


def render_table(result: DocumentScore, *, width: int = 88) -> str:
    """A readable report: each segment's label, scores, text and terms, then the summary."""
    lines = []
    for n, s in enumerate(result.segments, 1):
        scores = "  ".join(f"{_SHORT[label]} {s.scores[label]:.2f}" for label in LABELS)
        lines.append(f"[{n}] {s.label:<15} {scores}")
        lines += textwrap.wrap(
            s.segment.text, width, initial_indent="    ", subsequent_indent="    "
        )
        if s.terms:
            lines.append("    terms: " + ", ".join(term for term, _ in s.terms))
    shares = ", ".join(f"{label} {share:.0%}" for label, share in result.shares.items())
    worst = result.most_disinformation
    lines += [
        "",
        f"Summary: {len(result.segments)} segments: {shares}",
        f"Most disinformation-like: [{result.segments.index(worst) + 1}] "
        f"{worst.scores['disinformation']:.2f} {textwrap.shorten(worst.segment.text, 60)!r}",
        f"Model: {result.model['path']} (sha256 {result.model['sha256'][:12]}, "
        f"created {result.model['created']})",
    ]
    return "\n".join(lines)


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
    lines.append(" " * 16 + "".join(f"{_SHORT[label]:>7}" for label in LABELS))
    for label, row in zip(LABELS, metrics["confusion"]):
        lines.append(f"{label:<16}" + "".join(f"{n:>7}" for n in row))
    return "\n".join(lines)


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
        ]
    )


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
            + "".join(f"{_SHORT[label]:>6}" for label in LABELS)
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


#: Fields credscore adds to every batch output row.
ADDED_FIELDS = ("label", "scores", "model", "segments", "error")
OUTPUT_FORMATS = ("jsonl", "csv", "tsv")


def output_format(path: str | None, override: str | None) -> str:
    """``override``, else the format named by the output file's suffix, else JSONL."""
    if override:
        return override
    suffix = Path(path).suffix.lstrip(".") if path else ""
    return suffix if suffix in OUTPUT_FORMATS else "jsonl"


def _flat(record: dict[str, Any]) -> dict[str, Any]:
    """A batch record as delimited columns: scores spread out, nested values as JSON."""
    flat = {}
    for key, value in record.items():
        if key == "scores" and isinstance(value, dict):
            flat.update({f"score_{label}": value[label] for label in LABELS})
        elif isinstance(value, (dict, list)):
            flat[key] = json.dumps(value, ensure_ascii=False)
        else:
            flat[key] = value
    return flat


def _json_line(record: dict[str, Any]) -> str:
    """One JSONL line: orjson (a fifth of the standard library's cost in a batch), falling back
    to the standard library for values orjson refuses (integers beyond 64 bits)."""
    try:
        return orjson.dumps(record).decode() + "\n"
    except orjson.JSONEncodeError:
        return json.dumps(record, ensure_ascii=False) + "\n"


class RowWriter:
    """Writes batch records as JSONL, CSV or TSV to an open text stream.

    A delimited file's columns are the fields of the first records written, plus
    ``extra_fields`` (JSON) for keys that appear only later, so no field is ever dropped.
    """

    def __init__(self, handle, fmt: str, *, header: list[str] | None = None):
        self.handle, self.fmt = handle, fmt
        self.header = header
        self._csv = self._quoted = None
        if fmt != "jsonl":
            delimiter = "\t" if fmt == "tsv" else ","
            self._csv = csv.writer(handle, delimiter=delimiter, lineterminator="\n")
            # csv quotes a field holding "\n" (the line terminator) but not one holding a lone
            # "\r", which every reader takes for a line break: such a row is written all quoted.
            self._quoted = csv.writer(
                handle, delimiter=delimiter, lineterminator="\n", quoting=csv.QUOTE_ALL
            )

    def _writerow(self, values: list[Any]) -> None:
        lone_cr = any(isinstance(v, str) and "\r" in v for v in values)
        writer = self._quoted if lone_cr else self._csv
        assert writer is not None  # only delimited formats write rows
        writer.writerow(values)

    def write(self, records: list[dict[str, Any]]) -> None:
        if self.fmt == "jsonl":
            self.handle.write("".join(map(_json_line, records)))
            return
        flat = [_flat(r) for r in records]
        if self.header is None:
            self.header = list(dict.fromkeys(k for r in flat for k in r))
            if "score_disinformation" not in self.header:
                self.header += [f"score_{label}" for label in LABELS]
            for key in ("label", "model", "error", "extra_fields"):
                if key not in self.header:
                    self.header.append(key)
            self._writerow(self.header)
        known = set(self.header)
        for r in flat:
            extra = {k: v for k, v in r.items() if k not in known}
            if extra:
                r["extra_fields"] = json.dumps(extra, ensure_ascii=False)
            self._writerow(["" if r.get(k) is None else r.get(k) for k in self.header])


def write_summary(rows: list[dict[str, Any]], path: str | Path) -> None:
    """Write the per-source summary as CSV, TSV or JSONL by the file's suffix, else as one JSON
    array, atomically."""
    from classifier.atomic import write_atomic

    suffix = Path(path).suffix.lstrip(".")

    def write(tmp: Path) -> None:
        with tmp.open("w", encoding="utf-8", newline="") as handle:
            if suffix in OUTPUT_FORMATS:
                RowWriter(handle, suffix).write(rows)
            else:
                json.dump(rows, handle, indent=2, ensure_ascii=False)
                handle.write("\n")

    write_atomic(path, write)
