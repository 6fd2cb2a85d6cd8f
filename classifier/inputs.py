"""Stream rows out of batch input files: txt, csv, tsv, jsonl (each maybe gzipped) or stdin.

Every physical input row becomes exactly one :class:`Row`, in order: a row that cannot be
scored still comes out, carrying an ``error`` instead of a ``text``.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import gzip
import json
import re
import sys
import zlib
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain, islice
from operator import methodcaller
from pathlib import Path
from typing import IO, Any, NamedTuple, cast

import orjson

from classifier.errors import InputError, OptionError

FORMATS = ("txt", "csv", "tsv", "jsonl")
_LONG_NUMBER = re.compile(r"\d{19}")
STDIN = "-"
#: A quoted CSV/TSV field may run over at most this many physical lines. One that runs longer,
#: or to the end of the file, is taken for a stray quote: its first line becomes an error row
#: and the lines after it are read again as rows (see the README's "Batch labelling").
QUOTED_FIELD_MAX_LINES = 10_000
#: The longest integer a JSON line may hold: Python's limit on converting digits to an int.
_MAX_DIGITS = getattr(sys, "get_int_max_str_digits", lambda: 4300)() or 4300
_BOM = "\ufeff"
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # "\ud800" in JSON: maybe a lone half
_SURROGATES = re.compile("[\ud800-\udfff]")
_JSON_KINDS = {
    dict: "an object",
    list: "a list",
    bool: "a boolean",
    int: "a number",
    float: "a number",
}


@dataclass(frozen=True)
class InputSpec:
    """What to read and how."""

    paths: tuple[str, ...]
    input_format: str | None = None  # for stdin, or to override the file suffix
    text_column: str = "text"
    id_column: str | None = None
    source_column: str | None = None  # None: "source" when the input has it
    encoding: str = "utf-8"
    errors_as_rows: bool = False  # undecodable bytes: an error row instead of stopping
    documents: bool = False  # txt: one document per file instead of one text per line

    def __post_init__(self) -> None:
        check_inputs(self)  # a spec that exists can be read: checked once, where it is made


class Row(NamedTuple):
    """One input row: its fields, the text to score (or why there is none), where it was.

    A named tuple rather than a frozen dataclass: a batch makes one per input row, and a tuple
    is several times cheaper to create.
    """

    fields: dict[str, Any]
    text: str | None
    source: str | None
    where: str
    error: str | None = None


@dataclass
class Position:
    """How many bytes of the inputs have been consumed (drives the progress bar)."""

    done: int = 0
    previous_files: int = field(default=0, repr=False)


def input_format(path: str, override: str | None) -> str:
    """The format of ``path``: ``override``, else its suffix (ignoring ``.gz``)."""
    if override:
        return override
    if path == STDIN:
        return "txt"
    suffixes = Path(path).suffixes
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    suffix = suffixes[-1].lstrip(".") if suffixes else ""
    if suffix not in FORMATS:
        raise InputError(
            f"{path}: unknown input format '{suffix}'; use .txt, .csv, .tsv or .jsonl "
            "(optionally .gz), or --input-format"
        )
    return suffix


def expand_inputs(paths: tuple[str, ...]) -> tuple[str, ...]:
    """Paths as given, with quoted glob patterns (``'data/*.csv.gz'``) expanded in sorted order.

    Raises
    ------
    InputError
        A pattern that matches no file.
    """
    import glob

    expanded: list[str] = []
    for path in paths:
        if path == STDIN or Path(path).exists() or not glob.has_magic(path):
            expanded.append(path)
            continue
        matches = sorted(glob.glob(path))
        if not matches:
            raise InputError(f"{path}: matches no file")
        expanded.extend(matches)
    return tuple(expanded)


def total_bytes(spec: InputSpec) -> int | None:
    """Size of all input files on disk, or None when reading standard input."""
    if STDIN in spec.paths:
        return None
    return sum(Path(p).stat().st_size for p in spec.paths)


def check_inputs(spec: InputSpec) -> None:
    """Fail early on inputs that cannot be read at all.

    Raises
    ------
    InputError
        Missing file, unknown format, closed standard input, or an unusable ``--encoding``
        (unknown, not a text encoding, or one in which a line break is not one byte); the
        message of an encoding problem starts with ``--encoding``.
    """
    _line_encoding(spec.encoding)
    for path in spec.paths:
        input_format(path, spec.input_format)
        if path != STDIN and not Path(path).is_file():
            raise InputError(f"{path}: no such file")
    if spec.paths.count(STDIN) > 1:
        raise InputError("standard input ('-') can be read only once")
    if STDIN in spec.paths:
        _stdin_bytes()


def _line_encoding(encoding: str) -> str:
    """The codec that decodes one line of ``encoding``, or an InputError saying why none does.

    ``utf-8-sig`` decodes as ``utf-8``: the byte-order mark is taken off the first line of
    every input whatever the encoding, and a later line keeps one as a character.
    """
    shown = repr(encoding if len(encoding) <= 40 else encoding[:40] + "...")
    try:
        codec = codecs.lookup(encoding)
    except (LookupError, ValueError):
        raise OptionError(
            f"--encoding {shown}: unknown encoding; use utf-8, latin-1, cp1252, ..."
        ) from None
    if not getattr(codec, "_is_text_encoding", True):  # rot13, base64, zlib: not bytes <-> text
        raise OptionError(
            f"--encoding {shown}: not a text encoding; use utf-8, latin-1, cp1252, ..."
        )
    name = "utf-8" if codec.name == "utf-8-sig" else codec.name
    try:
        one_byte = "\n".encode(name) == b"\n" and b"\n".decode(name) == "\n"
    except (UnicodeError, ValueError, TypeError):
        one_byte = False
    if not one_byte:
        raise OptionError(
            f"--encoding {shown}: only encodings where a line break is one byte can be "
            "streamed (utf-8, latin-1, cp1252, ...)"
        )
    return name


def _stdin_bytes() -> IO[bytes]:
    """The process's standard input as bytes; an InputError when it is closed (``<&-``)."""
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:
        raise InputError(
            "standard input is closed: nothing to read for '-'; pipe rows in or name a file"
        )
    return stream


def _open_binary(path: str) -> contextlib.AbstractContextManager[IO[bytes]]:
    if path == STDIN:
        return contextlib.nullcontext(_stdin_bytes())  # never close the process's stdin
    raw = open(path, "rb")  # noqa: SIM115 - closed by the caller's with-block
    if path.endswith(".gz"):
        return cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="rb"))
    return raw


class _Lines:
    """Decoded lines of one input, remembering which line numbers held undecodable bytes."""

    def __init__(self, handle: IO[bytes], path: str, spec: InputSpec, position: Position):
        self.handle, self.path, self.spec, self.position = handle, path, spec, position
        self.number = 0
        self.bad: dict[int, str] = {}
        self.encoding = _line_encoding(spec.encoding)
        raw = getattr(handle, "fileobj", None) or handle
        self._tell = raw.tell if path != STDIN and raw.seekable() else None

    def __iter__(self) -> Iterator[str]:
        try:
            for data in self.handle:
                self.number += 1
                line, problem = decode_line(data, self.number, self.path, self.spec, self.encoding)
                if problem is not None:
                    self.bad[self.number] = problem
                if self._tell is not None and not self.number % 1024:  # progress needs no more
                    self.position.done = self.position.previous_files + self._tell()
                yield line
        except (zlib.error, EOFError, gzip.BadGzipFile) as exc:
            if not self.number:
                raise InputError(f"{self.path}: cannot read ({exc})") from None
            raise InputError(
                f"{self.path}: damaged gzip data after line {self.number} ({exc}); "
                "fix or fetch the file again"
            ) from None


def decode_line(
    data: bytes, number: int, path: str, spec: InputSpec, encoding: str
) -> tuple[str, str | None]:
    """One raw line decoded, and the problem of its undecodable bytes (None when there are none).

    Line 1 loses a byte-order mark ("CSV UTF-8" of spreadsheets).

    Raises
    ------
    InputError
        Undecodable bytes, unless ``spec.errors_as_rows``.
    """
    problem = None
    try:
        line = data.decode(encoding)
    except UnicodeDecodeError as exc:
        problem = f"undecodable bytes for {spec.encoding} at byte {exc.start} of the line"
        if not spec.errors_as_rows:
            raise InputError(
                f"{path}:{number}: {problem}; fix the file, use --encoding, or --errors=row"
            ) from None
        line = data.decode(encoding, errors="replace")
    if number == 1 and line.startswith(_BOM):
        line = line[1:]
    return line, problem


def _source(fields: dict[str, Any], spec: InputSpec) -> str | None:
    value = fields.get(spec.source_column or "source")
    return None if value is None else str(value)


def make_row(fields: dict[str, Any], spec: InputSpec, where: str, error: str | None = None) -> Row:
    """A row from its fields, checking the text column."""
    text = fields.get(spec.text_column)
    if error is None:
        if spec.id_column and spec.id_column not in fields:
            error = f"missing column '{spec.id_column}'"
        elif text is None:
            error = f"missing column '{spec.text_column}'"
        elif not isinstance(text, str):  # a JSON value: its Python repr is no text to score
            error = f"{spec.text_column} is not a string ({json_kind(text)})"
        elif not text.strip():
            error = "empty text"
    if error:
        return Row(fields, None, _source(fields, spec), where, f"{where}: {error}")
    return Row(fields, text, _source(fields, spec), where)


def json_kind(value: Any) -> str:
    """What a JSON value is, for messages: "an object", "a list", "a number", "a boolean"."""
    return _JSON_KINDS.get(type(value), type(value).__name__)


def _txt(lines: _Lines, spec: InputSpec) -> Iterator[Row]:
    for line in lines:
        where = f"{lines.path}:{lines.number}"
        fields = {spec.text_column: line.rstrip("\r\n")}
        yield make_row(fields, spec, where, lines.bad.get(lines.number))


def _document(lines: _Lines, spec: InputSpec) -> Iterator[Row]:
    text = "".join(lines)
    problem = next(iter(lines.bad.values()), None)
    yield make_row({"file": lines.path, spec.text_column: text}, spec, lines.path, problem)


class JSONLineError(ValueError):
    """A line that holds no JSON value credscore can read; the message says why."""


def parse_json(line: str) -> Any:
    """One JSON value, every string of it encodable as UTF-8.

    orjson reads most lines (a third of the cost); the standard library reads the rest, for
    its error messages and for long numbers (orjson reads an integer beyond 64 bits as a
    float). What orjson refuses is refused here too: nesting too deep for the stack, numbers
    Python will not convert (over 4,300 digits), ``NaN`` and infinities (no JSON has them, and an
    output row could not carry them). A lone surrogate escape (``"\\ud800"``) reads as U+FFFD.

    Raises
    ------
    JSONLineError
        The line is not valid JSON, or not JSON credscore reads; the message says why.
    """
    if not _LONG_NUMBER.search(line):
        try:
            return orjson.loads(line)
        except orjson.JSONDecodeError:
            pass
    try:
        value = json.loads(line, parse_int=_int, parse_constant=_constant, parse_float=_float)
    except json.JSONDecodeError as exc:
        raise JSONLineError(f"not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise JSONLineError("not valid JSON (nested too deeply)") from None
    return without_surrogates(value) if _SURROGATE_ESCAPE.search(line) else value


def _int(digits: str) -> int:
    if len(digits.lstrip("-")) > _MAX_DIGITS:
        raise JSONLineError(
            f"not valid JSON (a number of {len(digits.lstrip('-'))} digits; "
            f"credscore reads at most {_MAX_DIGITS})"
        )
    return int(digits)


def _float(digits: str) -> float:
    value = float(digits)
    if value in (float("inf"), float("-inf")):
        raise JSONLineError(f"not valid JSON (the number {digits[:20]} is too large)")
    return value


def _constant(name: str) -> Any:
    raise JSONLineError(f"not valid JSON ({name} is not a JSON value)")


def without_surrogates(value: Any) -> Any:
    """``value`` (a string, or a JSON value) with every surrogate code point of its strings
    (keys too) as U+FFFD, which keeps every string's length; lists and dicts are changed in
    place, iteratively, as they may be nested as deep as the parser allows."""
    if isinstance(value, str):
        return _SURROGATES.sub("\ufffd", value)
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            for i, element in enumerate(item):
                if isinstance(element, str):
                    item[i] = _SURROGATES.sub("\ufffd", element)
                elif isinstance(element, (list, dict)):
                    stack.append(element)
        elif isinstance(item, dict):
            cleaned = {
                _SURROGATES.sub("\ufffd", k): _SURROGATES.sub("\ufffd", v)
                if isinstance(v, str)
                else v
                for k, v in item.items()
            }
            item.clear()
            item.update(cleaned)
            stack.extend(v for v in item.values() if isinstance(v, (list, dict)))
    return value


def _jsonl(lines: _Lines, spec: InputSpec) -> Iterator[Row]:
    for line in lines:
        row = _jsonl_row(line, f"{lines.path}:{lines.number}", lines.bad.get(lines.number), spec)
        if row is not None:
            yield row


def _jsonl_row(line: str, where: str, problem: str | None, spec: InputSpec) -> Row | None:
    """The row of one decoded JSONL line (``problem``: its undecodable bytes); None if blank."""
    if not line.strip():
        return None  # a blank line holds no record
    if problem is not None:
        return make_row({}, spec, where, problem)
    try:
        fields = parse_json(line)
    except JSONLineError as exc:
        return make_row({}, spec, where, str(exc))
    if not isinstance(fields, dict):
        return make_row({}, spec, where, "not a JSON object")
    return make_row(fields, spec, where)


#: Types of JSON values that orjson reads exactly as :func:`parse_json` does: an integer beyond
#: 64 bits comes out of orjson as a float, and a list or object may hold one.
_PLAIN = frozenset({str, int, bool, type(None)})


def _jsonl_utf8(block: LineBlock, spec: InputSpec) -> list[Row]:
    """The rows of a UTF-8 JSONL block: the common line (an object of strings, integers,
    booleans and nulls whose text is a non-blank string) read by orjson alone; every other
    line goes the whole way (:func:`decode_line`, :func:`_jsonl_row`), so every check of
    :func:`parse_json` and :func:`make_row` still holds for it."""
    path, number, loads, failed = block.path, block.before, orjson.loads, orjson.JSONDecodeError
    text_column, id_column = spec.text_column, spec.id_column or None
    source_column, plain, new = spec.source_column or "source", _PLAIN.issuperset, tuple.__new__
    rows: list[Row] = []
    add = rows.append
    for data in block.lines:
        number += 1
        try:
            fields = loads(data)  # refuses what strict UTF-8 decoding refuses, and a BOM
        except failed:
            fields = None
        if type(fields) is dict and plain(map(type, fields.values())):
            text = fields.get(text_column)
            if (
                type(text) is str
                and text
                and not text.isspace()  # the whitespace str.strip() takes off
                and (id_column is None or id_column in fields)
            ):
                source = fields.get(source_column)
                source = None if source is None else str(source)
                add(new(Row, (fields, text, source, f"{path}:{number}", None)))
            else:
                add(make_row(fields, spec, f"{path}:{number}"))
            continue
        line, problem = decode_line(data, number, path, spec, "utf-8")
        row = _jsonl_row(line, f"{path}:{number}", problem, spec)
        if row is not None:
            add(row)
    return rows


def clean_jsonl(spec: InputSpec, block: LineBlock) -> tuple[list[dict[str, Any]], list[str]] | None:
    """The fields and texts of a UTF-8 JSONL block in which every line is a scorable row of
    plain values (see :func:`_jsonl_utf8`), read by one orjson call for the whole block; None
    for any other block (read it with :func:`block_rows`).

    Every line is read as one element of a JSON array made of the lines. That gives each
    line's own value exactly when the element count is the line count, every element an
    object of plain values and every line starts with ``{``: a value that ran over into the
    next line would need an open array (not plain) or a next line that starts with a key, and
    a line holding two values makes the count differ unless two lines were read as one.
    """
    lines = block.lines
    if (
        block.fmt != "jsonl"
        or not lines
        or _line_encoding(spec.encoding) != "utf-8"
        or not all(map(_OBJECT_START, lines))
    ):
        return None
    try:
        values = orjson.loads(b"[" + b",".join(lines) + b"]")
    except orjson.JSONDecodeError:
        return None
    if len(values) != len(lines) or set(map(type, values)) != {dict}:
        return None
    if not _PLAIN.issuperset(map(type, chain.from_iterable(map(dict.values, values)))):
        return None
    texts = list(map(methodcaller("get", spec.text_column), values))
    if set(map(type, texts)) != {str} or not all(texts) or any(map(str.isspace, texts)):
        return None
    if spec.id_column and not all(map(methodcaller("__contains__", spec.id_column), values)):
        return None
    return values, texts


_OBJECT_START = methodcaller("startswith", b"{")


class _RecordLines:
    """Feeds a CSV reader lines, keeping those of the record being read, so that a quoted field
    that never closes can be cut back to its first line and the lines after it read again."""

    def __init__(self, lines: Iterable[str]):
        self.source = iter(lines)
        self.number = 0  # of the last line fed
        self.record: list[str] = []  # the lines of the record being read
        self.replay: deque[str] = deque()
        self.ended = False  # the lines ran out inside a record
        self.too_long = False  # a quoted field ran over the limit
        self.limit = QUOTED_FIELD_MAX_LINES

    def lines(self) -> Iterator[str]:
        record, replay, source, limit = self.record, self.replay, self.source, self.limit
        while True:
            line = replay.popleft() if replay else next(source, None)
            if line is None:
                self.ended = True
                return
            self.number += 1
            record.append(line)
            if len(record) > limit:
                # Only a quoted field spans lines: a closing quote ends it, and the record.
                self.too_long = True
                yield '"\n'
            else:
                yield line

    def cut(self) -> int:
        """Cut the record back to its first line, to read the others again; that line's number."""
        first = self.number - len(self.record) + 1
        self.replay.extendleft(reversed(self.record[1:]))
        self.number = first
        self.record.clear()
        self.ended = self.too_long = False
        return first


def read_delimited(
    lines: Iterable[str], delimiter: str
) -> Iterator[tuple[int, int, list[str] | None, str | None]]:
    """Each CSV/TSV record of ``lines`` as ``(first line, last line, values, problem)``.

    A record the csv module cannot parse gives ``values`` None and a ``problem``, and reading
    goes on with the next line. So does a quoted field that never closes, or runs over
    :data:`QUOTED_FIELD_MAX_LINES` lines: the record is cut back to the line the field starts
    on (the problem names it), and the lines after it are read again, as records of their own.
    A blank line gives ``values == []``. Line numbers count from 1.
    """
    csv.field_size_limit(2**31 - 1)  # the largest every platform's C long holds
    kind = "TSV" if delimiter == "\t" else "CSV"
    feed = _RecordLines(lines)
    while True:
        record = feed.record
        try:
            # A record that ends at its last line's break never asks for the next line: one
            # that made the lines run out is a quoted field still open at the end of the input.
            for values in csv.reader(feed.lines(), delimiter=delimiter):
                if feed.ended or feed.too_long:
                    break
                yield feed.number - len(record) + 1, feed.number, values, None
                record.clear()
            else:
                return
        except csv.Error as exc:
            yield feed.number - len(record) + 1, feed.number, None, f"not valid {kind} ({exc})"
            record.clear()
            continue
        problem = f"runs over {feed.limit:,} lines" if feed.too_long else "is never closed"
        first = feed.cut()
        yield (
            first,
            first,
            None,
            f"a quoted field starts on this line and {problem}; close its quote",
        )


def _delimited(lines: _Lines, spec: InputSpec, delimiter: str) -> Iterator[Row]:
    # A block of a file (read_block) starts its lines after the header at the file's own line
    # numbers: read_delimited counts from 1, so its records after the header are shifted.
    shift = lines.number
    records = read_delimited(lines, delimiter)
    for first, _, header, problem in records:
        if header is None:
            raise InputError(f"{lines.path}:{first}: in the header, {problem}")
        break
    else:
        return
    if spec.text_column not in header:
        raise InputError(
            f"{lines.path}: no column '{spec.text_column}' (columns: {_columns(header)}); use --text-column"
        )
    if spec.id_column and spec.id_column not in header:
        raise InputError(
            f"{lines.path}: no column '{spec.id_column}' (columns: {_columns(header)})"
        )
    for first, last, values, problem in records:
        first, last = first + shift, last + shift
        where = f"{lines.path}:{first}"
        bad = None
        if lines.bad:
            bad = next((lines.bad[n] for n in range(first, last + 1) if n in lines.bad), None)
        if values is None:
            yield make_row({}, spec, where, bad or problem)
            continue
        if values == []:
            continue  # csv yields [] for a blank line: no record
        fields: dict[str, Any] = dict(zip(header, values))
        if len(values) < len(header):
            problem = f"{len(values)} fields where the header has {len(header)}"
            yield make_row(fields, spec, where, bad or problem)
            continue
        if len(values) > len(header):
            fields["extra_fields"] = values[len(header) :]
        yield make_row(fields, spec, where, bad)


def _columns(header: list[str], *, most: int = 20) -> str:
    """Column names for a one-line message: a name holding a line break or another control
    character is shown quoted and escaped, a long one or a long list cut short."""
    shown = [
        name if name.isprintable() and len(name) <= 60 else repr(name[:60])
        for name in header[:most]
    ]
    return ", ".join(shown) + (f", ... ({len(header)} columns)" if len(header) > most else "")


def read_rows(spec: InputSpec, position: Position | None = None) -> Iterator[Row]:
    """Every row of every input, in order.

    Parameters
    ----------
    spec : InputSpec
    position : Position, optional
        Updated with the bytes consumed so far, for a progress bar.

    Yields
    ------
    Row

    Raises
    ------
    InputError
        Unreadable input, a CSV/TSV header without the text column, or undecodable bytes
        (unless ``spec.errors_as_rows``).
    """
    for block in read_blocks(spec, position):
        yield from block_rows(spec, block)


#: Default size of a block of raw lines (see :func:`read_blocks`).
BLOCK_LINES = 2000
BLOCK_BYTES = 4 << 20


@dataclass(frozen=True)
class LineBlock:
    """Raw lines of a txt or jsonl input, as the file holds them, to be parsed where they are
    labelled (:func:`block_rows`): reading them costs the reader almost nothing per row."""

    path: str
    fmt: str
    before: int  # lines of the file before the block's first: line numbers stay the file's own
    lines: list[bytes]


def read_blocks(
    spec: InputSpec,
    position: Position | None = None,
    *,
    lines: int = BLOCK_LINES,
    max_bytes: int = BLOCK_BYTES,
    rows: int = BLOCK_LINES,
) -> Iterator[LineBlock | list[Row]]:
    """Every input in order, in blocks: a txt or jsonl file (not ``--documents``) as blocks
    of at most ``lines`` raw lines (or about ``max_bytes``), any other as lists of at most
    ``rows`` rows. :func:`block_rows` turns either into its rows.

    Raises
    ------
    InputError
        As :func:`read_rows`; a damaged gzip file after the block of the lines before the damage.
    """
    position = position or Position()
    for path in spec.paths:
        fmt = input_format(path, spec.input_format)
        if fmt in ("txt", "jsonl") and not spec.documents:
            yield from _line_blocks(path, fmt, position, lines, max_bytes)
        else:
            file_rows = _file_rows(path, fmt, spec, position)
            while chunk := list(islice(file_rows, rows)):
                yield chunk
        if path != STDIN:
            position.previous_files += Path(path).stat().st_size
            position.done = position.previous_files


def _file_rows(path: str, fmt: str, spec: InputSpec, position: Position) -> Iterator[Row]:
    try:
        with _open_binary(path) as handle:
            lines = _Lines(handle, path, spec, position)
            if fmt == "txt":
                yield from (_document if spec.documents else _txt)(lines, spec)
            elif fmt == "jsonl":
                yield from _jsonl(lines, spec)
            else:
                yield from _delimited(lines, spec, "\t" if fmt == "tsv" else ",")
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise InputError(f"{path}: cannot read ({exc})") from None
    except csv.Error as exc:
        raise InputError(f"{path}: not valid {fmt.upper()} ({exc})") from None


def _line_blocks(
    path: str, fmt: str, position: Position, lines: int, max_bytes: int
) -> Iterator[LineBlock]:
    try:
        with _open_binary(path) as handle:
            yield from _raw_blocks(handle, path, fmt, position, lines, max_bytes)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise InputError(f"{path}: cannot read ({exc})") from None


def _raw_blocks(
    handle: IO[bytes], path: str, fmt: str, position: Position, lines: int, max_bytes: int
) -> Iterator[LineBlock]:
    """The raw lines of one open input in blocks of at most ``lines``, read a few hundred
    bytes a line at a time (at most ``max_bytes``); damaged gzip data ends them as
    :class:`_Lines` does, after a last block of the lines before the damage
    (:func:`_lines_before_damage`)."""
    raw = getattr(handle, "fileobj", None) or handle
    tell = raw.tell if path != STDIN and raw.seekable() else None
    before, hint = 0, min(max_bytes, lines * 256)
    while True:
        try:
            read = handle.readlines(hint)  # many lines in one call, not a call per line
        except (zlib.error, EOFError, gzip.BadGzipFile) as exc:
            rest = _lines_before_damage(path, before)
            if rest:
                yield LineBlock(path, fmt, before, rest)
            reached = before + len(rest)
            if not reached:
                raise InputError(f"{path}: cannot read ({exc})") from None
            raise InputError(
                f"{path}: damaged gzip data after line {reached} ({exc}); fix or fetch the file again"
            ) from None
        if not read:
            return
        for start in range(0, len(read), lines):
            block = read[start : start + lines]
            yield LineBlock(path, fmt, before, block)
            before += len(block)
        if tell is not None:
            position.done = position.previous_files + tell()


def _lines_before_damage(path: str, skip: int) -> list[bytes]:
    """The lines of a damaged gzip file after its first ``skip``, up to the damage: read
    again one by one, so that every line before it is labelled and the error names it."""
    got: list[bytes] = []
    if path == STDIN:
        return got
    with contextlib.suppress(zlib.error, EOFError, gzip.BadGzipFile), _open_binary(path) as handle:
        for number, data in enumerate(handle):
            if number >= skip:
                got.append(data)
    return got


class _Given:
    """Raw lines already read, as :class:`_Lines` takes a file: not seekable (no progress)."""

    def __init__(self, lines: Iterable[bytes]):
        self.lines = lines

    def seekable(self) -> bool:
        return False

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.lines)


def block_rows(spec: InputSpec, block: LineBlock | list[Row]) -> Iterator[Row]:
    """The rows of one block of :func:`read_blocks`, in order, named by their file's lines.

    Raises
    ------
    InputError
        Undecodable bytes, unless ``spec.errors_as_rows``.
    """
    if isinstance(block, list):
        return iter(block)
    if block.fmt == "jsonl" and _line_encoding(spec.encoding) == "utf-8":
        return iter(_jsonl_utf8(block, spec))
    lines = _Lines(_Given(block.lines), block.path, spec, Position())  # type: ignore[arg-type]
    lines.number = block.before
    return (_jsonl if block.fmt == "jsonl" else _txt)(lines, spec)


@dataclass(frozen=True)
class Block:
    """A byte range of one line-delimited input file, for reading it in parallel pieces.

    A block owns every line that starts inside ``[start, end)`` (as ``dask.bag.read_text``'s
    blocks do), so the blocks of a file hold each of its lines exactly once.
    """

    path: str
    start: int
    end: int
    newlines_before: int  # b"\n" bytes in [0, start): line numbers stay the file's own
    header: bool = False  # CSV/TSV after the first block: read the file's header line first


class _BlockLines:
    """The raw lines from ``start`` (a line start) while they start before ``end``, as a file
    gives them to :class:`_Lines`; the file's first line first when ``header``."""

    def __init__(self, handle: IO[bytes], start: int, end: int, header: bool):
        self.handle, self.start, self.end, self.header = handle, start, end, header

    def seekable(self) -> bool:  # no progress bar inside a block: its task reports when done
        return False

    def __iter__(self) -> Iterator[bytes]:
        if self.header:
            self.handle.seek(0)
            yield self.handle.readline()
        self.handle.seek(self.start)
        position = self.start
        while position < self.end:
            line = self.handle.readline()
            if not line:
                return
            yield line
            position += len(line)


def _line_start(handle: IO[bytes], start: int) -> tuple[int, int]:
    """The first line start at or after ``start``, and the line breaks skipped to reach it."""
    if start == 0:
        return 0, 0
    handle.seek(start - 1)
    if handle.read(1) == b"\n":
        return start, 0
    rest = handle.readline()  # the line under way belongs to the block before
    return start + len(rest), int(rest.endswith(b"\n"))


def read_block(spec: InputSpec, block: Block) -> Iterator[Row]:
    """The rows of one block of a plain (not gzipped) txt, jsonl, csv or tsv file, in order,
    each named by its line number in the whole file.

    Raises
    ------
    InputError
        As :func:`read_rows`.
    """
    for piece in block_pieces(spec, block):
        yield from block_rows(spec, piece)


def block_pieces(
    spec: InputSpec, block: Block, *, lines: int = BLOCK_LINES
) -> Iterator[LineBlock | list[Row]]:
    """One block of a file as :func:`read_blocks` gives a whole file: raw lines of txt and
    jsonl in pieces of ``lines``, rows of csv and tsv in lists of as many.

    Raises
    ------
    InputError
        As :func:`read_rows`.
    """
    csv.field_size_limit(sys.maxsize)
    fmt = input_format(block.path, spec.input_format)
    try:
        with open(block.path, "rb") as handle:
            start, skipped = _line_start(handle, block.start)
            raw = _BlockLines(handle, start, block.end, block.header)
            # Lines before this block's first, less the header line when it is read first.
            before = block.newlines_before + skipped - int(block.header)
            if fmt in ("txt", "jsonl"):
                raws = iter(raw)
                while piece := list(islice(raws, lines)):
                    yield LineBlock(block.path, fmt, before, piece)
                    before += len(piece)
                return
            reader = _Lines(raw, block.path, spec, Position())  # type: ignore[arg-type]
            reader.number = before
            rows = _delimited(reader, spec, "\t" if fmt == "tsv" else ",")
            while chunk := list(islice(rows, lines)):
                yield chunk
    except OSError as exc:
        raise InputError(f"{block.path}: cannot read ({exc})") from None
    except csv.Error as exc:
        raise InputError(f"{block.path}: not valid {fmt.upper()} ({exc})") from None
