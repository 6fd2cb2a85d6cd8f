"""Labels to and from annotation tools: doccano, Label Studio, Prodigy, fastText and CSV.

Import turns a tool's export into rows of the project's label JSONL schema (``id``, ``text``,
``label``, ``origin`` = ``imported:<tool>``, and ``doc``/``source`` when the export carries
them), which ``credscore train --labels`` reads. Export writes labelled rows in a tool's own
import format, so a team can review or extend them there.

The shapes read, as the tools document them:

- **doccano** (text classification, JSONL or a JSON array): ``{"text": ..., "label": ["x"]}``;
  ``labels`` for older versions; a label that is ``[start, end, "x"]`` (sequence labelling)
  labels that span of the text. Other keys, or a ``meta`` object, may carry ``id``, ``doc``,
  ``source``.
- **Label Studio** (the "JSON" export: an array of tasks, or one task per line):
  ``{"id", "data": {"text": ...}, "annotations": [{"result": [...], "was_cancelled"}]}``
  (``completions`` in old versions). A ``choices`` result labels the whole text; a ``labels``
  result labels the span ``value.start:value.end`` of the text. Old Label Studio versions
  counted offsets in UTF-16 code units, as JavaScript does: when the span's ``value.text``
  does not match the code-point slice, the UTF-16 slice is tried before the row is refused.
  Cancelled annotations are dropped; when several annotators labelled the same text or span,
  they must agree, or the row is refused. ``predictions`` are never read as labels.
- **Prodigy** (``db-out`` JSONL): ``answer`` is ``accept``, ``reject`` or ``ignore``. Only
  accepted examples become labels: a choice example's ``accept`` list (option ids), or a
  binary example's ``label``, or the labels of its ``spans``. A rejected example is dropped
  and counted, never turned into another label: rejecting "disinformation" says the text is
  not disinformation, not whether it is reporting or opinion. Ignored examples are dropped and
  counted too.
- **fastText**: one example per line, ``__label__x text``.
- **csv**: a header with ``text`` and ``label`` (``.tsv`` is read tab-separated); optional
  ``id``, ``doc``, ``source``, ``note``.

A label map (``{"SUBJ": "opinion"}``) renames a scheme's labels to ours; our own label names are
also recognised in any letter case, and a label mapped to ``-`` drops its rows (counted). Every
row that cannot be imported is reported with ``file:line`` and the reason.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classifier import LABELS
from classifier.atomic import write_atomic
from classifier.errors import InputError, LabelError
from training.dataset import Record, normalise

FORMATS = ("doccano", "label-studio", "prodigy", "fasttext", "csv")
#: A label mapped to this is dropped on purpose (a class outside our scheme).
DROP = "-"
FASTTEXT_PREFIX = "__label__"
_FASTTEXT_LABEL = re.compile(r"__label__(\S+)\s*")
_SPACE = re.compile(r"\s+")
#: The Label Studio labelling config that matches what :func:`export_rows` writes.
LABEL_STUDIO_CONFIG = (
    '<View><Text name="text" value="$text"/><Choices name="label" toName="text" choice="single">'
    + "".join(f'<Choice value="{label}"/>' for label in LABELS)
    + "</Choices></View>"
)


@dataclass(frozen=True)
class ImportResult:
    """What an import read, kept, dropped and could not use."""

    source: str
    fmt: str
    rows: tuple[dict[str, Any], ...]  # in the project's label schema, in file order
    bad: tuple[str, ...]  # "file:line: reason", one per row that cannot be imported
    dropped: dict[str, int] = field(default_factory=dict)  # reason -> rows dropped on purpose
    records: int = 0  # examples read from the file
    written: bool = False

    def summary(self) -> str:
        """One line: examples read, rows imported, rows dropped by reason, bad rows."""
        dropped = ", ".join(f"{n} {why}" for why, n in sorted(self.dropped.items()))
        return (
            f"{self.records} examples read, {len(self.rows)} rows imported"
            + (f", dropped: {dropped}" if dropped else "")
            + f", {len(self.bad)} cannot be imported"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "format": self.fmt,
            "examples": self.records,
            "imported": len(self.rows),
            "dropped": dict(self.dropped),
            "bad": list(self.bad),
            "written": self.written,
        }


@dataclass
class _Reader:
    """State of one import: the rows made so far, and what was dropped or refused."""

    path: Path
    fmt: str
    label_map: Mapping[str, str]
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    bad: list[str] = field(default_factory=list)
    dropped: Counter = field(default_factory=Counter)
    records: int = 0

    def where(self, line: int) -> str:
        return f"{self.path}:{line}"

    def refuse(self, line: int, reason: str) -> None:
        self.bad.append(f"{self.where(line)}: {reason}")

    def label(self, raw: Any, line: int) -> str | None:
        """Our label for a tool's label, or None (row refused, or dropped on purpose)."""
        name = str(raw).strip()
        mapped = self.label_map.get(name, name)
        if mapped == DROP:
            self.dropped[f"mapped to '{DROP}'"] += 1
            return None
        folded = mapped.casefold()
        for ours in LABELS:
            if folded == ours:
                return ours
        self.refuse(
            line,
            f"unknown label '{name}'; map it with --map '{name}=<{'|'.join(LABELS)}>' "
            f"(or '{name}={DROP}' to drop its rows)",
        )
        return None

    def one_label(self, raws: list[Any], line: int) -> str | None:
        """The single label of a row given one or more tool labels, or None."""
        labels = []
        for raw in raws:
            label = self.label(raw, line)
            if label is None:
                return None
            labels.append(label)
        if len(set(labels)) > 1:
            self.refuse(
                line,
                f"several labels ({', '.join(map(str, raws))}); credscore needs one label per row",
            )
            return None
        return labels[0]

    def add(
        self,
        line: int,
        text: Any,
        label: str,
        *,
        ident: Any = None,
        meta: Mapping[str, Any] | None = None,
        suffix: str = "",
    ) -> None:
        """Keep one row in the project's schema."""
        if not isinstance(text, str) or not text.strip():
            self.refuse(line, "empty text" if isinstance(text, str) else "no text")
            return
        meta = meta or {}
        row: dict[str, Any] = {
            "id": f"{self.path.stem}:{ident if ident not in (None, '') else line}{suffix}",
            "text": text.strip(),
            "label": label,
            "origin": f"imported:{self.fmt}",
        }
        for key in ("doc", "source", "note"):
            if meta.get(key) not in (None, ""):
                row[key] = str(meta[key])
        self.rows.append((line, row))


def parse_label_map(pairs: Iterable[str], *, to_ours: bool = True) -> dict[str, str]:
    """``["SUBJ=opinion", "OBJ=reporting"]`` as a dict, FROM=TO in the direction of conversion.

    Parameters
    ----------
    pairs : iterable of str
    to_ours : bool
        True for an import (``THEIRS=OURS``: the target must be one of ours, or ``-`` to drop),
        False for an export (``OURS=THEIRS``: the source must be one of ours).

    Raises
    ------
    InputError
        A pair without ``=``, or one whose label on our side is not one of ours.
    """
    mapping = {}
    for pair in pairs:
        name, sep, target = (part.strip() for part in pair.partition("="))
        if not sep or not name or not target:
            example = "SUBJ=opinion" if to_ours else "opinion=SUBJ"
            side = "THEIRS=OURS" if to_ours else "OURS=THEIRS"
            raise InputError(f"--map {pair!r}: write it as {side}, e.g. {example}")
        ours = target if to_ours else name
        if ours not in LABELS and not (to_ours and ours == DROP):
            drop = f" (or '{DROP}' to drop)" if to_ours else ""
            raise InputError(f"--map {pair!r}: '{ours}' is not one of {', '.join(LABELS)}{drop}")
        mapping[name] = target
    return mapping


# --- Reading files ------------------------------------------------------------------------------


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None


def _json_records(path: Path) -> Iterator[tuple[int, Any]]:
    """(line, value) for each element of a JSON array, or each line of a JSONL file.

    Line numbers are those where each element starts, so a message can point at it.
    """
    content = _text(path)
    start = len(content) - len(content.lstrip())
    if content[start : start + 1] != "[":
        for number, line in enumerate(content.splitlines(), 1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
        return
    decoder = json.JSONDecoder()
    position = start + 1
    while True:
        while position < len(content) and content[position] in " \t\r\n,":
            position += 1
        if position >= len(content):
            raise InputError(f"{path}: the JSON array is not closed")
        if content[position] == "]":
            return
        number = content.count("\n", 0, position) + 1
        try:
            value, position = decoder.raw_decode(content, position)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"{path}:{content.count(chr(10), 0, exc.pos) + 1}: not valid JSON ({exc.msg})"
            ) from None
        yield number, value


def _meta(record: Mapping[str, Any], *nested: str) -> dict[str, Any]:
    """``id``/``doc``/``source``/``note`` from a record's top level and its nested objects."""
    meta: dict[str, Any] = {}
    for key in nested:
        inner = record.get(key)
        if isinstance(inner, Mapping):
            meta.update(inner)
    meta.update({k: record[k] for k in ("id", "doc", "source", "note") if k in record})
    return meta


def _span(text: str, start: Any, end: Any, expected: Any) -> str | None:
    """``text[start:end]`` in code points, or in UTF-16 units when that matches ``expected``."""
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end):
        return None
    by_points = text[start:end]
    if expected is None or by_points == expected:
        return by_points if end <= len(text) else None
    units = text.encode("utf-16-le")
    by_units = units[2 * start : 2 * end].decode("utf-16-le", errors="replace")
    return by_units if by_units == expected else None


def _read_doccano(reader: _Reader) -> None:
    for line, record in _json_records(reader.path):
        reader.records += 1
        if not isinstance(record, dict):
            reader.refuse(line, "expected a JSON object")
            continue
        text = record.get("text", record.get("data"))
        raw = record.get("label", record.get("labels"))
        if raw is None or raw == [] or raw == "":
            reader.dropped["unlabelled"] += 1
            continue
        raws = raw if isinstance(raw, list) else [raw]
        meta = _meta(record, "meta")
        categories = [r for r in raws if not isinstance(r, list)]
        spans = [r for r in raws if isinstance(r, list)]
        if categories:
            label = reader.one_label(categories, line)
            if label is not None:
                reader.add(line, text, label, ident=meta.get("id"), meta=meta)
        for span in spans:
            if len(span) != 3 or not isinstance(text, str):
                reader.refuse(line, f"span {span!r} is not [start, end, label]")
                continue
            piece = _span(text, span[0], span[1], None)
            if piece is None:
                reader.refuse(line, f"span {span!r} lies outside the text")
                continue
            label = reader.label(span[2], line)
            if label is not None:
                suffix = f":{span[0]}-{span[1]}"
                reader.add(line, piece, label, ident=meta.get("id"), meta=meta, suffix=suffix)


def _label_studio_text(data: Any) -> str | None:
    if not isinstance(data, Mapping):
        return None
    if isinstance(data.get("text"), str):
        return data["text"]
    strings = [v for v in data.values() if isinstance(v, str)]
    return strings[0] if len(strings) == 1 else None


#: A Label Studio unit of labelling: None for the whole text, (start, end) for a span.
_Unit = tuple[int, int] | None


def _read_label_studio(reader: _Reader) -> None:
    for line, task in _json_records(reader.path):
        reader.records += 1
        if not isinstance(task, dict) or "data" not in task:
            reader.refuse(
                line,
                "not a Label Studio task (no 'data'); export the project as JSON, not JSON-MIN",
            )
            continue
        text = _label_studio_text(task["data"])
        if text is None:
            reader.refuse(line, "the task's data has no 'text' field")
            continue
        annotations = task.get("annotations", task.get("completions")) or []
        kept = [a for a in annotations if isinstance(a, dict) and not a.get("was_cancelled")]
        if len(kept) < len(annotations):
            reader.dropped["cancelled annotations"] += len(annotations) - len(kept)
        found = _label_studio_units(reader, line, text, kept)
        if found is None:
            continue
        units, pieces = found
        if not units:
            reader.dropped["unlabelled"] += 1
            continue
        meta = _meta(task, "meta")
        ident = task.get("id", task["data"].get("id") if isinstance(task["data"], dict) else None)
        meta.update({k: task["data"][k] for k in ("doc", "source") if k in task["data"]})
        for unit, given in units.items():
            piece = text if unit is None else pieces[unit]
            _add_label_studio_unit(reader, line, unit, piece, given, ident=ident, meta=meta)


def _label_studio_units(
    reader: _Reader, line: int, text: str, annotations: list[dict[str, Any]]
) -> tuple[dict[_Unit, list[list[Any]]], dict[tuple[int, int], str]] | None:
    """The labels each annotation gave each unit, and each span's text; None (the row
    refused) when a span does not match the text."""
    units: dict[_Unit, list[list[Any]]] = {}
    pieces: dict[tuple[int, int], str] = {}
    broken = False
    for annotation in annotations:
        for result in annotation.get("result") or []:
            value = result.get("value") if isinstance(result, dict) else None
            if not isinstance(value, dict):
                continue
            if "choices" in value:
                units.setdefault(None, []).append(list(value["choices"]))
            elif "labels" in value:
                piece = _span(text, value.get("start"), value.get("end"), value.get("text"))
                if piece is None:
                    reader.refuse(
                        line,
                        f"span {value.get('start')}-{value.get('end')} does not match the "
                        f"text{' ' + repr(value['text']) if 'text' in value else ''}",
                    )
                    broken = True
                    continue
                span = (int(value["start"]), int(value["end"]))
                pieces[span] = piece
                units.setdefault(span, []).append(list(value["labels"]))
    return None if broken else (units, pieces)


def _add_label_studio_unit(
    reader: _Reader,
    line: int,
    unit: _Unit,
    text: str,
    given: list[list[Any]],
    *,
    ident: Any,
    meta: Mapping[str, Any],
) -> None:
    """Keep one unit's row when its annotators gave it one label between them."""
    answers = [g for g in given if g]
    if not answers:
        reader.dropped["unlabelled"] += 1
        return
    chosen = [reader.one_label(g, line) for g in answers]
    labels = [label for label in chosen if label is not None]
    if len(labels) < len(chosen):
        return
    if len(set(labels)) > 1:
        what = "the text" if unit is None else f"span {unit[0]}-{unit[1]}"
        reader.refuse(line, f"annotators disagree on {what}: {', '.join(map(str, labels))}")
        return
    suffix = "" if unit is None else f":{unit[0]}-{unit[1]}"
    reader.add(line, text, labels[0], ident=ident, meta=meta, suffix=suffix)


def _read_prodigy(reader: _Reader) -> None:
    for line, record in _json_records(reader.path):
        reader.records += 1
        if not isinstance(record, dict):
            reader.refuse(line, "expected a JSON object")
            continue
        answer = record.get("answer")
        if answer in ("reject", "ignore"):
            reader.dropped["rejected" if answer == "reject" else "ignored"] += 1
            continue
        if answer != "accept":
            reader.refuse(line, f"'answer' is {answer!r}, not accept, reject or ignore")
            continue
        meta = _meta(record, "meta")
        text = record.get("text")
        if "accept" in record and "options" in record:
            ids = {o.get("id"): o for o in record["options"] if isinstance(o, dict)}
            chosen = record["accept"] or []
            if not chosen:
                reader.dropped["accepted without a choice"] += 1
                continue
            names = [i if isinstance(i, str) else ids.get(i, {}).get("text", i) for i in chosen]
            label = reader.one_label(names, line)
            if label is not None:
                reader.add(line, text, label, ident=meta.get("id"), meta=meta)
        elif record.get("label") not in (None, ""):
            label = reader.label(record["label"], line)
            if label is not None:
                reader.add(line, text, label, ident=meta.get("id"), meta=meta)
        elif record.get("spans"):
            for span in record["spans"]:
                piece = _span(text or "", span.get("start"), span.get("end"), None)
                if piece is None or "label" not in span:
                    reader.refuse(line, f"span {span!r} has no label or lies outside the text")
                    continue
                label = reader.label(span["label"], line)
                if label is not None:
                    suffix = f":{span['start']}-{span['end']}"
                    reader.add(line, piece, label, ident=meta.get("id"), meta=meta, suffix=suffix)
        else:
            reader.refuse(line, "accepted, but no 'accept' choice, 'label' or 'spans'")


def _read_fasttext(reader: _Reader) -> None:
    for number, line in enumerate(_text(reader.path).splitlines(), 1):
        if not line.strip():
            continue
        reader.records += 1
        position, raws = 0, []
        while match := _FASTTEXT_LABEL.match(line, position):
            raws.append(match.group(1))
            position = match.end()
        if not raws:
            reader.refuse(number, f"no {FASTTEXT_PREFIX} prefix")
            continue
        label = reader.one_label(raws, number)
        if label is not None:
            reader.add(number, line[position:], label)


def _read_csv(reader: _Reader) -> None:
    handle = io.StringIO(_text(reader.path), newline="")
    delimiter = "\t" if reader.path.suffix.lower() == ".tsv" else ","
    rows = csv.DictReader(handle, delimiter=delimiter)
    missing = {"text", "label"} - set(rows.fieldnames or ())
    if missing:
        raise InputError(
            f"{reader.path}: no column {' or '.join(sorted(missing))} "
            f"(columns: {', '.join(rows.fieldnames or [])})"
        )
    try:
        for row in rows:
            reader.records += 1
            line = rows.line_num
            if None in row or None in row.values():
                reader.refuse(line, "wrong number of fields")
                continue
            if not row["label"].strip():
                reader.dropped["unlabelled"] += 1
                continue
            label = reader.label(row["label"], line)
            if label is not None:
                reader.add(line, row["text"], label, ident=row.get("id"), meta=row)
    except csv.Error as exc:
        raise InputError(f"{reader.path}:{rows.line_num}: not valid CSV ({exc})") from None


_READERS = {
    "doccano": _read_doccano,
    "label-studio": _read_label_studio,
    "prodigy": _read_prodigy,
    "fasttext": _read_fasttext,
    "csv": _read_csv,
}


def _checked_rows(reader: _Reader) -> list[dict[str, Any]]:
    """The rows ``credscore train`` would accept together, as :func:`find_problems` checks
    them: a duplicate id or the same text with two labels is refused, an exact copy dropped."""
    ids: dict[str, int] = {}
    texts: dict[str, tuple[int, str]] = {}
    kept = []
    for line, row in reader.rows:
        if row["id"] in ids:
            reader.refuse(line, f"duplicate id '{row['id']}' (first at line {ids[row['id']]})")
            continue
        ids[row["id"]] = line
        key = normalise(row["text"])
        if key in texts:
            first_line, first_label = texts[key]
            if first_label != row["label"]:
                reader.refuse(
                    line,
                    f"same text as line {first_line} but labelled '{row['label']}', "
                    f"not '{first_label}'",
                )
            else:
                reader.dropped["exact duplicates"] += 1
            continue
        texts[key] = (line, row["label"])
        kept.append(row)
    return kept


def read_annotations(
    path: str | Path, fmt: str, *, label_map: Mapping[str, str] | None = None
) -> ImportResult:
    """Read a tool's export into rows of the project's label schema.

    Parameters
    ----------
    path : str or Path
        The exported file.
    fmt : str
        One of :data:`FORMATS`.
    label_map : mapping, optional
        The tool's label names to ours (see :func:`parse_label_map`).

    Returns
    -------
    ImportResult
        Rows in file order, every refused row with its reason, and the rows dropped on purpose
        (rejected, ignored, cancelled, unlabelled, exact duplicates) counted by reason. Rows are
        also checked as ``credscore train`` checks them: the same text with two labels and a
        duplicate id are refused; an exact duplicate with the same label is dropped.

    Raises
    ------
    InputError
        The file cannot be read or parsed at all (not UTF-8, broken JSON, no text column).
    """
    if fmt not in _READERS:
        raise InputError(f"unknown annotation format '{fmt}'; use one of {', '.join(FORMATS)}")
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    reader = _Reader(path, fmt, dict(label_map or {}))
    _READERS[fmt](reader)
    rows = _checked_rows(reader)
    return ImportResult(
        source=str(path),
        fmt=fmt,
        rows=tuple(rows),
        bad=tuple(reader.bad),
        dropped={why: n for why, n in reader.dropped.items() if n},
        records=reader.records,
    )


def _write_jsonl(rows: Iterable[Mapping[str, Any]]):
    def write(tmp: Path) -> None:
        with tmp.open("w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")

    return write


def check_output(output: Path, *inputs: Path) -> None:
    """Refuse an output path that is not a regular file, or that is one of the inputs.

    Raises
    ------
    InputError
    """
    if output.exists() and not output.is_file():
        raise InputError(f"{output}: exists and is not a regular file; choose another output")
    if not output.parent.is_dir():
        raise InputError(f"{output.parent}: no such folder")
    for path in inputs:
        if output.exists() and path.exists() and output.samefile(path):
            raise InputError(f"{output}: is also an input; write to another file")


def import_labels(
    path: str | Path,
    fmt: str,
    output: str | Path,
    *,
    label_map: Mapping[str, str] | None = None,
    skip_bad: bool = False,
) -> ImportResult:
    """Import a tool's export into a label JSONL file, atomically.

    Nothing is written when any row cannot be imported, unless ``skip_bad``.

    Parameters
    ----------
    path, fmt, label_map
        As for :func:`read_annotations`.
    output : str or Path
        The label file to write (``.jsonl``).
    skip_bad : bool
        Write the rows that can be imported even when others cannot.

    Returns
    -------
    ImportResult
        ``written`` says whether ``output`` was written.

    Raises
    ------
    InputError
        Unreadable input, or an output that is not a ``.jsonl`` regular file.
    LabelError
        No row at all could be imported.
    """
    path, output = Path(path), Path(output)
    if output.suffix != ".jsonl":
        raise InputError(f"{output}: label files are written as .jsonl; name it *.jsonl")
    check_output(output, path)
    result = read_annotations(path, fmt, label_map=label_map)
    if result.bad and not skip_bad:
        return result
    if not result.rows:
        raise LabelError(f"{path}: no row could be imported ({result.summary()})")
    write_atomic(output, _write_jsonl(result.rows))
    return ImportResult(**{**result.__dict__, "written": True})


# --- Writing files ------------------------------------------------------------------------------


def _one_line(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def export_rows(
    rows: Iterable[Mapping[str, Any]], fmt: str, *, labels: Iterable[str] = LABELS
) -> str:
    """Rows as the text of a file in a tool's import format.

    Each row needs ``text``; ``label`` is written as the annotation when present (a row
    without one is a task still to label); ``id``, ``doc``, ``source`` and any ``meta`` mapping
    travel in the tool's metadata, and ``prediction`` (``{"label", "score", "model"}``) becomes a
    Label Studio pre-annotation.

    Parameters
    ----------
    rows : iterable of mappings
    fmt : str
        One of :data:`FORMATS`. fastText and CSV need labelled rows; fastText joins a text's
        lines with spaces.
    labels : iterable of str
        The label names offered as Prodigy options (ours, or the tool's after a label map).

    Returns
    -------
    str
    """
    rows, labels = list(rows), list(labels)
    if fmt == "label-studio":
        tasks = [_label_studio_task(row) for row in rows]
        return json.dumps(tasks, indent=1, ensure_ascii=False) + "\n"
    if fmt == "csv":
        return _csv_text(rows)
    if fmt == "fasttext":
        return "".join(_fasttext_line(row) + "\n" for row in rows)
    if fmt == "doccano":
        out = [_doccano_row(row) for row in rows]
    elif fmt == "prodigy":
        out = [_prodigy_row(row, labels) for row in rows]
    else:
        raise InputError(f"unknown annotation format '{fmt}'; use one of {', '.join(FORMATS)}")
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in out)


def _label_studio_task(row: Mapping[str, Any]) -> dict[str, Any]:
    """A Label Studio task: the text, its label as an annotation, the model's as a prediction."""
    task: dict[str, Any] = {"data": {"text": row["text"], **_carried(row)}}
    if row.get("label"):
        task["annotations"] = [{"result": [_choice(row["label"])]}]
    if row.get("prediction"):
        guess = row["prediction"]
        task["predictions"] = [
            {
                "model_version": guess.get("model", ""),
                "score": guess["score"],
                "result": [_choice(guess["label"])],
            }
        ]
    return task


def _doccano_row(row: Mapping[str, Any]) -> dict[str, Any]:
    label = row.get("label")
    return {"text": row["text"], "label": [label] if label else [], **_carried(row)}


def _prodigy_row(row: Mapping[str, Any], labels: list[str]) -> dict[str, Any]:
    """A Prodigy choice example; an accepted answer when the row has a label."""
    out: dict[str, Any] = {
        "text": row["text"],
        "options": [{"id": name, "text": name} for name in labels],
        "meta": _carried(row),
    }
    if row.get("label"):
        out.update(accept=[row["label"]], answer="accept")
    return out


def _fasttext_line(row: Mapping[str, Any]) -> str:
    if not row.get("label"):
        raise InputError("fastText rows need a label")
    return f"{FASTTEXT_PREFIX}{row['label']} {_one_line(row['text'])}"


def _csv_text(rows: list[Mapping[str, Any]]) -> str:
    buffer = io.StringIO()
    columns = ["text", "label", "id", "doc", "source", "origin"]
    writer = csv.DictWriter(buffer, columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows({c: row.get(c, "") for c in columns} for row in rows)
    return buffer.getvalue()


def _carried(row: Mapping[str, Any]) -> dict[str, Any]:
    """The fields that travel with a row through a tool: id, doc, source and its meta."""
    carried = {k: row[k] for k in ("id", "doc", "source") if row.get(k) not in (None, "")}
    carried.update(row.get("meta") or {})
    return carried


def _choice(label: str) -> dict[str, Any]:
    return {
        "from_name": "label",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": [label]},
    }


def export_labels(
    records: Iterable[Record],
    fmt: str,
    output: str | Path | None,
    *,
    label_map: Mapping[str, str] | None = None,
) -> str:
    """Write labelled records in a tool's format (atomically), or return the text.

    Parameters
    ----------
    records : iterable of Record
        Validated rows, e.g. ``load_dataset(paths).records``.
    fmt : str
        One of :data:`FORMATS`.
    output : str or Path, optional
        The file to write; when None the text is only returned.
    label_map : mapping, optional
        Our label names to the tool's (``{"opinion": "SUBJ"}``).

    Returns
    -------
    str
        The file's text.
    """
    label_map = dict(label_map or {})
    rows = [
        {
            "id": r.id,
            "text": r.text,
            "label": label_map.get(r.label, r.label),
            "doc": r.doc,
            "source": r.source,
            "origin": r.origin,
        }
        for r in records
    ]
    text = export_rows(rows, fmt, labels=[label_map.get(label, label) for label in LABELS])
    if output is not None:
        output = Path(output)
        check_output(output)
        write_atomic(output, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return text
