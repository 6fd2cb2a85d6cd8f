"""Stream rows out of batch input files: txt, csv, tsv, jsonl (each maybe gzipped) or stdin.

Every physical input row becomes exactly one :class:`Row`, in order: a row that cannot be
scored still comes out, carrying an ``error`` instead of a ``text``.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, NamedTuple

import orjson

from classifier.errors import InputError

FORMATS = ("txt", "csv", "tsv", "jsonl")
_LONG_NUMBER = re.compile(r"\d{19}")
STDIN = "-"


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
        Missing file, unknown format, or an encoding in which a line break is not one byte.
    """
    if "\n".encode(spec.encoding) != b"\n":
        raise InputError(
            f"--encoding {spec.encoding}: only encodings where a line break is one byte can be "
            "streamed (utf-8, latin-1, cp1252, ...)"
        )
    for path in spec.paths:
        input_format(path, spec.input_format)
        if path != STDIN and not Path(path).is_file():
            raise InputError(f"{path}: no such file")
    if spec.paths.count(STDIN) > 1:
        raise InputError("standard input ('-') can be read only once")


def _open_binary(path: str) -> Any:
    if path == STDIN:
        return contextlib.nullcontext(sys.stdin.buffer)  # never close the process's stdin
    raw = open(path, "rb")  # noqa: SIM115 - closed by the caller's with-block
    if path.endswith(".gz"):
        return gzip.GzipFile(fileobj=raw, mode="rb")
    return raw


class _Lines:
    """Decoded lines of one input, remembering which line numbers held undecodable bytes."""

    def __init__(self, handle: IO[bytes], path: str, spec: InputSpec, position: Position):
        self.handle, self.path, self.spec, self.position = handle, path, spec, position
        self.number = 0
        self.bad: dict[int, str] = {}
        raw = getattr(handle, "fileobj", None) or handle
        self._tell = raw.tell if path != STDIN and raw.seekable() else None

    def __iter__(self) -> Iterator[str]:
        for data in self.handle:
            self.number += 1
            try:
                line = data.decode(self.spec.encoding)
            except UnicodeDecodeError as exc:
                problem = (
                    f"undecodable bytes for {self.spec.encoding} at byte {exc.start} of the line"
                )
                if not self.spec.errors_as_rows:
                    raise InputError(
                        f"{self.path}:{self.number}: {problem}; fix the file, use --encoding, or --errors=row"
                    ) from None
                self.bad[self.number] = problem
                line = data.decode(self.spec.encoding, errors="replace")
            if self._tell is not None and not self.number % 1024:  # progress needs no more
                self.position.done = self.position.previous_files + self._tell()
            yield line


def _source(fields: dict[str, Any], spec: InputSpec) -> str | None:
    value = fields.get(spec.source_column or "source")
    return None if value is None else str(value)


def _row(fields: dict[str, Any], spec: InputSpec, where: str, error: str | None = None) -> Row:
    """A row from its fields, checking the text column."""
    if error is None:
        if spec.id_column and spec.id_column not in fields:
            error = f"missing column '{spec.id_column}'"
        elif spec.text_column not in fields or fields[spec.text_column] is None:
            error = f"missing column '{spec.text_column}'"
        elif not str(fields[spec.text_column]).strip():
            error = "empty text"
    if error:
        return Row(fields, None, _source(fields, spec), where, f"{where}: {error}")
    return Row(fields, str(fields[spec.text_column]), _source(fields, spec), where)


def _txt(lines: _Lines, spec: InputSpec) -> Iterator[Row]:
    for line in lines:
        where = f"{lines.path}:{lines.number}"
        fields = {spec.text_column: line.rstrip("\r\n")}
        yield _row(fields, spec, where, lines.bad.get(lines.number))


def _document(lines: _Lines, spec: InputSpec) -> Iterator[Row]:
    text = "".join(lines)
    problem = next(iter(lines.bad.values()), None)
    yield _row({"file": lines.path, spec.text_column: text}, spec, lines.path, problem)


def _parse_json(line: str) -> Any:
    """One JSON value: orjson (a third of the cost), or the standard library for its error
    messages and for long numbers (orjson reads an integer beyond 64 bits as a float)."""
    if _LONG_NUMBER.search(line):
        return json.loads(line)
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return json.loads(line)


def _jsonl(lines: _Lines, spec: InputSpec) -> Iterator[Row]:
    for line in lines:
        where = f"{lines.path}:{lines.number}"
        if not line.strip():
            continue  # a blank line holds no record
        if lines.number in lines.bad:
            yield _row({}, spec, where, lines.bad[lines.number])
            continue
        try:
            fields = _parse_json(line)
        except json.JSONDecodeError as exc:
            yield _row({}, spec, where, f"not valid JSON ({exc.msg})")
            continue
        if not isinstance(fields, dict):
            yield _row({}, spec, where, "not a JSON object")
            continue
        yield _row(fields, spec, where)


def _delimited(lines: _Lines, spec: InputSpec, delimiter: str) -> Iterator[Row]:
    reader = csv.reader(lines, delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return
    if spec.text_column not in header:
        raise InputError(
            f"{lines.path}: no column '{spec.text_column}' (columns: {', '.join(header)}); use --text-column"
        )
    if spec.id_column and spec.id_column not in header:
        raise InputError(
            f"{lines.path}: no column '{spec.id_column}' (columns: {', '.join(header)})"
        )
    first_line = lines.number + 1
    for values in reader:
        where = f"{lines.path}:{first_line}"
        bad = [lines.bad[n] for n in range(first_line, lines.number + 1) if n in lines.bad]
        first_line = lines.number + 1
        if values == []:
            continue  # csv yields [] for a blank line: no record
        fields: dict[str, Any] = dict(zip(header, values))
        if len(values) < len(header):
            problem = f"{len(values)} fields where the header has {len(header)}"
            yield _row(fields, spec, where, bad[0] if bad else problem)
            continue
        if len(values) > len(header):
            fields["extra_fields"] = values[len(header) :]
        yield _row(fields, spec, where, bad[0] if bad else None)


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
    position = position or Position()
    csv.field_size_limit(sys.maxsize)
    for path in spec.paths:
        fmt = input_format(path, spec.input_format)
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
        if path != STDIN:
            position.previous_files += Path(path).stat().st_size
            position.done = position.previous_files


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
    csv.field_size_limit(sys.maxsize)
    fmt = input_format(block.path, spec.input_format)
    try:
        with open(block.path, "rb") as handle:
            start, skipped = _line_start(handle, block.start)
            raw = _BlockLines(handle, start, block.end, block.header)
            lines = _Lines(raw, block.path, spec, Position())  # type: ignore[arg-type]
            # Lines before this block's first, less the header line when it is read first.
            lines.number = block.newlines_before + skipped - int(block.header)
            if fmt == "txt":
                yield from _txt(lines, spec)
            elif fmt == "jsonl":
                yield from _jsonl(lines, spec)
            else:
                yield from _delimited(lines, spec, "\t" if fmt == "tsv" else ",")
    except OSError as exc:
        raise InputError(f"{block.path}: cannot read ({exc})") from None
    except csv.Error as exc:
        raise InputError(f"{block.path}: not valid {fmt.upper()} ({exc})") from None
