"""The batch row format: what ``credscore label`` writes for each input row, as JSONL or CSV.

Every output row carries the input row's fields (a field named like an added one is kept as
``input_<name>``) plus :data:`ADDED_FIELDS`: among them ``decision`` (``hold``, ``review`` or
``accept`` by the operating points, :mod:`classifier.decisions`; with sentences, the strictest
of the sentences'). A delimited file spreads the scores into ``score_<label>`` columns and writes
nested values as JSON.
"""

from __future__ import annotations

import csv
import json
from operator import itemgetter, methodcaller
from pathlib import Path
from typing import IO, Any

import numpy as np
import orjson

from classifier import LABELS, __version__
from classifier.decisions import DECISIONS, Policy, strictest
from classifier.inputs import Row
from classifier.model import Model
from classifier.score import combine

#: Fields credscore adds to every batch output row.
ADDED_FIELDS = ("label", "scores", "decision", "model", "segments", "error")
OUTPUT_FORMATS = ("jsonl", "csv", "tsv")
Spans = list[list[tuple[int, int]]]


def output_format(path: str | None, override: str | None) -> str:
    """``override``, else the format named by the output file's suffix, else JSONL."""
    if override:
        return override
    suffix = Path(path).suffix.lstrip(".") if path else ""
    return suffix if suffix in OUTPUT_FORMATS else "jsonl"


def model_tag(model: Model) -> str:
    """The ``model`` value of every output row: credscore version and model checksum."""
    version = model.manifest["versions"].get("credscore", __version__)
    return f"credscore-{version}+{model.sha256[:12]}"


def _base(row: Row) -> dict[str, Any]:
    """The row's input fields; one that clashes with an added field is kept as ``input_<name>``."""
    return {(f"input_{k}" if k in ADDED_FIELDS else k): v for k, v in row.fields.items()}


def records(
    rows: list[Row], proba: np.ndarray, spans: Spans | None, tag: str, *, policy: Policy
) -> list[dict]:
    """Output records for ``rows`` from the probabilities of their scorable texts.

    Parameters
    ----------
    rows : list of Row
    proba : ndarray
        One row per scorable text, or with ``spans`` one row per sentence of those texts.
    spans : list, optional
        Per scorable text, its sentences' ``(start, end)`` offsets; the row's label and scores
        then come from :func:`classifier.score.combine`.
    tag : str
        :func:`model_tag`.
    policy : Policy
        The operating points that decide each row (and each sentence).

    Returns
    -------
    list of dict
        One record per row, in order.
    """
    # Round and convert once per chunk: per-row float() and round() calls cost more than scoring.
    rounded = np.round(proba, 6).tolist()
    tops = proba.argmax(axis=1).tolist()
    decisions = policy.decide_rows(proba)
    out = []
    at = 0
    scorable = 0
    for row in rows:
        record = _base(row)
        if row.error is not None:
            record["error"] = row.error
        elif spans is None:
            record.update(
                label=LABELS[tops[at]],
                scores=dict(zip(LABELS, rounded[at])),
                decision=decisions[at],
                model=tag,
            )
            at += 1
        else:
            parts = spans[scorable]
            label, mean = combine(proba[at : at + len(parts)], [b - a for a, b in parts])
            record.update(label=label, scores=dict(zip(LABELS, np.round(mean, 6).tolist())))
            record["decision"] = strictest(decisions[at : at + len(parts)])
            record["model"] = tag
            record["segments"] = _segments(row.text or "", parts, at, tops, rounded, decisions)
            at += len(parts)
        scorable += row.error is None
        out.append(record)
    return out


def _segments(
    text: str,
    parts: list[tuple[int, int]],
    at: int,
    tops: list[int],
    rounded: list[list[float]],
    decisions: list[str],
) -> list[dict[str, Any]]:
    """The ``segments`` of a row scored sentence by sentence (its sentences start at ``at``)."""
    return [
        {
            "text": text[a:b],
            "start": a,
            "end": b,
            "label": LABELS[tops[at + i]],
            "scores": dict(zip(LABELS, rounded[at + i])),
            "decision": decisions[at + i],
        }
        for i, (a, b) in enumerate(parts)
    ]


def outcome(record: dict[str, Any]) -> tuple[str | None, float | None]:
    """(label, disinformation score) of a written record; label None for an error row."""
    if record.get("error"):
        return None, None
    scores = record.get("scores")
    if isinstance(scores, dict):
        return record["label"], scores["disinformation"]
    return record["label"], float(record["score_disinformation"])


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


#: What makes a spreadsheet read a cell as a formula (OWASP's list for CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def guard_formula(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula, with a leading ``'``: the cell
    then shows as the text it is (OWASP's advice); numbers and other cells unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def header_of(flat: list[dict[str, Any]]) -> list[str]:
    """A delimited file's columns: those of its first chunk's flat records, in order of first
    appearance, then the score, label, decision, model, error and extra-fields columns missing."""
    header = list(dict.fromkeys(k for r in flat for k in r))
    if "score_disinformation" not in header:
        header += [f"score_{label}" for label in LABELS]
    header += [
        k for k in ("label", "decision", "model", "error", "extra_fields") if k not in header
    ]
    return header


def header_line(fmt: str, header: list[str]) -> bytes:
    """A delimited file's header line as :class:`RowWriter` writes it, in UTF-8."""
    import io

    handle = io.StringIO(newline="")
    RowWriter(handle, fmt, header=header).write_header()
    return handle.getvalue().encode("utf-8")


def delimited_header(rows: list[Row], *, segments: bool, tag: str) -> list[str]:
    """The columns :class:`RowWriter` gives a delimited file whose first chunk is ``rows``,
    worked out before scoring (the columns depend on the rows' fields and errors, not scores),
    so that the chunks can be written anywhere, in any order."""
    scorable = [r for r in rows if r.text is not None and r.error is None]
    proba = np.zeros((len(scorable), len(LABELS)))
    spans = [[(0, len(r.text or ""))] for r in scorable] if segments else None
    return header_of([_flat(r) for r in records(rows, proba, spans, tag, policy=Policy())])


_ADDED = frozenset(ADDED_FIELDS)
_LABEL_JSON = np.array([orjson.dumps(label) for label in LABELS], dtype=object)
_DECISION_JSON = np.array([orjson.dumps(decision) for decision in DECISIONS], dtype=object)


def _line_pieces(tag: str) -> list[bytes]:
    """What a scored row's JSONL line holds between its variable parts: before the label, before
    each score, before the decision, and the model and line end."""
    keys = [orjson.dumps(label) + b":" for label in LABELS]
    model = b',"model":' + orjson.dumps(tag) + b"}\n"
    return [
        b',"label":',
        b',"scores":{' + keys[0],
        *(b"," + k for k in keys[1:]),
        b'},"decision":',
        model,
    ]


def jsonl_text(
    rows: list[Row],
    scored: list[Row],
    errors_at: list[int],
    proba: np.ndarray,
    codes: np.ndarray,
    tag: str,
    *,
    policy: Policy,
) -> bytes:
    """The JSONL lines :class:`RowWriter` writes for ``records(rows, proba, None, tag)``, byte
    for byte (UTF-8), without a record per row.

    ``scored`` are the rows without an error, ``errors_at`` the others' positions. A scored
    row's line is its fields' orjson with the added fields spliced in. The pieces of every
    scored line are laid out in one list by slices, the label, score and decision text
    formatted once per chunk (``codes``: the decisions, :meth:`Policy.decide_codes`), and
    joined once. An error row's line goes before the next scored line's pieces. A row with a
    field named like an added one, or a value orjson cannot write, takes its whole line from
    :func:`records`.
    """
    heads, odd = _heads(scored)
    width = _WIDTH
    out = _layout(len(scored), proba, codes, tag)
    for at in odd:  # the whole line, by way of a record
        (record,) = records([scored[at]], proba[at : at + 1], None, tag, policy=policy)
        heads[at] = _json_line(record).encode()
        out[at * width + 1 : (at + 1) * width] = [b""] * (width - 1)
    tail = _error_lines(rows, errors_at, heads)
    out[0::width] = heads
    return b"".join(out) + tail


_WIDTH = 2 * len(LABELS) + 6  # pieces of a spliced line: its head, then as _line_pieces says


def _layout(count: int, proba: np.ndarray, codes: np.ndarray, tag: str) -> list[bytes]:
    """The pieces of ``count`` spliced lines, their heads left empty (every ``_WIDTH``-th)."""
    width = _WIDTH
    out: list[bytes] = [b""] * (width * count)
    if not count:
        return out
    pieces = _line_pieces(tag)
    scores = orjson.dumps(np.round(proba, 6).ravel().tolist())[1:-1].split(b",")
    for k, piece in enumerate(pieces[:-1]):
        out[1 + 2 * k :: width] = [piece] * count
    out[2::width] = _LABEL_JSON[proba.argmax(axis=1)].tolist()
    for k in range(len(LABELS)):
        out[4 + 2 * k :: width] = scores[k :: len(LABELS)]
    out[width - 2 :: width] = _DECISION_JSON[codes].tolist()
    out[width - 1 :: width] = [pieces[-1]] * count
    return out


def clean_jsonl_text(
    fields: list[dict[str, Any]], proba: np.ndarray, codes: np.ndarray, tag: str
) -> bytes:
    """:func:`jsonl_text` of rows that are all scored, whose fields hold only strings,
    integers, booleans and nulls and no field named like an added one
    (:func:`classifier.inputs.clean_jsonl`): no record, no error line, no Python loop."""
    out = _layout(len(fields), proba, codes, tag)
    out[0::_WIDTH] = map(_OPEN, map(orjson.dumps, fields))
    return b"".join(out)


_OPEN = methodcaller("__getitem__", slice(None, -1))  # an object's JSON without its last brace


def _error_lines(rows: list[Row], errors_at: list[int], heads: list[bytes]) -> bytes:
    """Put each error row's line before the head of the scored row after it (``heads``, in
    place); the error lines after the last scored row are returned."""
    before: dict[int, list[bytes]] = {}
    for rank, i in enumerate(errors_at):
        line = _json_line({**_base(rows[i]), "error": rows[i].error}).encode()
        before.setdefault(i - rank, []).append(line)  # i - rank: the scored rows before it
    tail = before.pop(len(heads), [])
    for at, lines in before.items():
        heads[at] = b"".join(lines) + heads[at]
    return b"".join(tail)


def _heads(rows: list[Row]) -> tuple[list[bytes], list[int]]:
    """Each row's fields as orjson without the closing brace, and which rows cannot be spliced
    (a field named like an added one, a value orjson refuses): those get an empty head."""
    dumps, isdisjoint = orjson.dumps, _ADDED.isdisjoint
    fields = list(map(itemgetter(0), rows))  # Row.fields
    if all(map(isdisjoint, fields)):
        try:
            return [dumps(f)[:-1] for f in fields], []
        except orjson.JSONEncodeError:
            pass
    heads, odd = [], []
    for at, one in enumerate(fields):
        head = b""
        if isdisjoint(one):
            try:
                head = dumps(one)[:-1]
            except orjson.JSONEncodeError:
                odd.append(at)
        else:
            odd.append(at)
        heads.append(head)
    return heads, odd


class RowWriter:
    """Writes batch records as JSONL, CSV or TSV to an open text stream.

    A delimited file's columns are the fields of the first records written, plus
    ``extra_fields`` (JSON) for keys that appear only later, so no field is ever dropped. Text
    cells that a spreadsheet would read as formulas get a leading ``'`` unless ``formulas``
    (JSONL is never changed: it is not opened in spreadsheets).
    """

    def __init__(
        self, handle: IO[str], fmt: str, *, header: list[str] | None = None, formulas: bool = False
    ):
        self.handle, self.fmt = handle, fmt
        self.header = header
        self.cell = (lambda value: value) if formulas else guard_formula
        delimiter = "\t" if fmt == "tsv" else ","
        self._csv = csv.writer(handle, delimiter=delimiter, lineterminator="\n")
        # csv quotes a field holding "\n" (the line terminator) but not one holding a lone
        # "\r", which every reader takes for a line break: such a row is written all quoted.
        self._quoted = csv.writer(
            handle, delimiter=delimiter, lineterminator="\n", quoting=csv.QUOTE_ALL
        )

    def _writerow(self, values: list[Any]) -> None:
        lone_cr = any(isinstance(v, str) and "\r" in v for v in values)
        (self._quoted if lone_cr else self._csv).writerow(values)

    def _start(self, flat: list[dict[str, Any]]) -> list[str]:
        header = header_of(flat)
        self._writerow(header)
        return header

    def write_header(self) -> None:
        """Write the header given to the writer (a run that worked it out beforehand)."""
        self._writerow(self.header or [])

    def write(self, records: list[dict[str, Any]]) -> None:
        if self.fmt == "jsonl":
            self.handle.write("".join(map(_json_line, records)))
            return
        flat = [_flat(r) for r in records]
        if self.header is None:
            self.header = self._start(flat)
        known = set(self.header)
        for r in flat:
            extra = {k: v for k, v in r.items() if k not in known}
            if extra:
                r["extra_fields"] = json.dumps(extra, ensure_ascii=False)
            self._writerow(["" if r.get(k) is None else self.cell(r[k]) for k in self.header])


def write_summary(rows: list[dict[str, Any]], path: str | Path) -> None:
    """Write the per-source summary as CSV, TSV or JSONL by the file's suffix, else as one JSON
    array, atomically."""
    from classifier.atomic import write_atomic

    suffix = Path(path).suffix.lstrip(".")

    def write(tmp: Path) -> None:
        with tmp.open("w", encoding="utf-8", newline="") as handle:
            if suffix in OUTPUT_FORMATS:
                # the summary's own columns, not a batch row's (score_*, label, model...)
                columns = list(dict.fromkeys(k for r in rows for k in r)) or None
                writer = RowWriter(handle, suffix, header=columns)
                if columns and suffix != "jsonl":
                    writer.write_header()
                writer.write(rows)
            else:
                json.dump(rows, handle, indent=2, ensure_ascii=False)
                handle.write("\n")

    write_atomic(path, write)
