"""Property tests: hostile text and malformed files end in credscore's own errors, never worse.

Each target has a strategy (what hostile input looks like) and a ``check_*`` function (what
must hold for any input). The tests below run a bounded number of examples, derandomized so CI
sees the same inputs each run; ``benchmarks/fuzz.py`` drives the same strategies and checks
over 100,000 inputs with fresh seeds and writes the counts to docs/reliability.md.

Invariants: no exception but a :class:`CredscoreError`, whose message is one line naming the
file (or the option) at fault; segment offsets exact; scores in [0, 1] summing to 1; one row per
input record, in order; every string a row carries is writable as UTF-8; in the CLI, an exit
code in {0, 1, 2, 3} and no traceback.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import gzip
import io
import json
import math
import os
import random
import re
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from classifier import LABELS
from classifier.errors import CredscoreError

# --------------------------------------------------------------------------------------------
# What hostile input looks like: builders over a source of choices
# --------------------------------------------------------------------------------------------
#
# Every builder takes a ``pick``: HypothesisPick (hypothesis' ``draw``, which can shrink a
# failing case) in the tests below, RandomPick (a seeded ``random.Random``, a hundred times
# cheaper per choice) in benchmarks/fuzz.py. The same code makes the inputs of both.

# fmt: off
#: Characters that broke, or could break, a text pipeline: NUL, lone surrogates, combining
#: marks, right-to-left letters and controls, the separators str.splitlines honours (U+2028,
#: U+2029, U+0085, \x0b, \x0c, \x1c, \x1e), line breaks, a byte-order mark, zero-width and
#: replacement characters, characters whose lower case is longer (U+0130), ligatures, astral.
SPECIAL_CHARACTERS = (
    "\x00", "\ud800", "\udbff", "\udc00", "\udfff", "\u0301", "\u0308", "\u20dd", "\u200f",
    "\u202e", "\u2066", "\u0627\u0644", "\u05d0", "\u2028", "\u2029", "\u0085", "\x0b", "\x0c",
    "\x1c", "\x1e", "\r", "\n", "\r\n", "\t", "\u3000", "\u00a0", "\ufeff", "\ufffd", "\u200b",
    "\u0130", "\ufb03", "\U0001f600", "\u4e2d",
)
PUNCTUATION = ".!?\u2026,;:'\"\u201c\u201d\u2018\u2019()[]-\u2013\u2014/\\*#@$%&_~`^|<>="
#: Words the mini model knows, abbreviations the segmenter knows, links, numbers.
WORDS = (
    "said", "officials", "the", "harbour", "ferries", "lying", "truth", "WAKE", "UP", "Mr.",
    "U.S.", "e.g.", "p.m.", "No.", "http://x.com", "www.y.org", "don't", "Russia\u2019s", "40",
    "3.5", "I", "you", "may", "according", "to",
)
# fmt: on
FORMATS = ("txt", "csv", "tsv", "jsonl")
#: Encodings a user might pass, good and bad.
ENCODINGS = ("utf-8-sig", "latin-1", "cp1252", "bogus", "rot13", "")
_SURROGATES = re.compile("[\ud800-\udfff]")
#: JSON lines that broke the reader: nesting bombs, huge integers, surrogate escapes, BOMs.
JSON_BOMBS = (
    '{"text": "t", "x": ' + "[" * 50_000 + "]" * 50_000 + "}",
    '{"text": "t", "n": ' + "9" * 5000 + "}",
    '{"text": "a\\ud800b"}',
    '{"text": "\\udfff", "\\ud83d": 1}',
    '{"text": "\\ud83d\\ude00"}',
    '{"text": "a\\u0000b"}',
    '{"text": "t", "n": NaN}',
    '{"text": "t", "n": 1e999}',
    '\ufeff{"text": "bom"}',
    '{"text": {"a": 1}}',
    '{"text": [1]}',
    '{"text": true}',
    '{"text": 3}',
    "[1, 2]",
    '"just a string"',
    "{",
)
_DAMAGE = (b'"', b'"', b"\n", b"\r", b"\x00", b"\xff", b"\xef\xbb\xbf", b",", b"\t", b"\\")
_FLOATS = (math.nan, math.inf, -math.inf, 0.0, -0.0, 1e308, 5e-324, 0.1, -2.5)
T = TypeVar("T")


class HypothesisPick:
    """Choices drawn by hypothesis (strategies cached: each is validated once)."""

    def __init__(self, draw: Callable[[st.SearchStrategy[Any]], Any]):
        self.draw = draw

    def integer(self, low: int, high: int) -> int:
        return self.draw(_integers(low, high))

    def choice(self, options: Sequence[T]) -> T:
        return options[self.draw(_integers(0, len(options) - 1))]

    def boolean(self) -> bool:
        return self.draw(_BOOLEANS)

    def character(self) -> str:
        return self.draw(_CHARACTERS)

    def floating(self) -> float:
        return self.draw(_ANY_FLOAT)

    def binary(self, max_size: int) -> bytes:
        return self.draw(_binary(max_size))


@functools.cache
def _integers(low: int, high: int) -> st.SearchStrategy[int]:
    return st.integers(low, high)


@functools.cache
def _binary(max_size: int) -> st.SearchStrategy[bytes]:
    return st.binary(max_size=max_size)


_BOOLEANS = st.booleans()
_CHARACTERS = st.characters()  # any code point but a surrogate
_ANY_FLOAT = st.floats()


class RandomPick:
    """The same choices from a seeded random generator."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def integer(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)

    def choice(self, options: Sequence[T]) -> T:
        return options[self.rng.randrange(len(options))]

    def boolean(self) -> bool:
        return self.rng.random() < 0.5

    def character(self) -> str:
        # Mostly the Basic Multilingual Plane, as text is; any code point but a surrogate.
        high = self.rng.choice((0x7F, 0x7FF, 0xFFFF, 0xFFFF, 0x10FFFF))
        while True:
            code = self.rng.randint(0, high)
            if not 0xD800 <= code <= 0xDFFF:
                return chr(code)

    def floating(self) -> float:
        if self.boolean():
            return self.choice(_FLOATS)
        return self.rng.uniform(-1e6, 1e6)

    def binary(self, max_size: int) -> bytes:
        return self.rng.randbytes(self.rng.randint(0, max_size))


Pick = HypothesisPick | RandomPick


def build_text(pick: Pick, max_pieces: int = 30, *, surrogates: bool = True) -> str:
    """Words, punctuation runs, special characters, lone surrogates and any code point."""
    pieces = []
    for _ in range(pick.integer(0, max_pieces)):
        kind = pick.integer(0, 5)
        if kind == 4 and not surrogates:
            kind = 3
        if kind == 0:
            pieces.append(pick.choice(WORDS))
        elif kind == 1:
            pieces.append(pick.choice(SPECIAL_CHARACTERS))
        elif kind == 2:
            pieces.append("".join(pick.choice(PUNCTUATION) for _ in range(pick.integer(1, 6))))
        elif kind == 3:
            pieces.append(pick.character())
        elif kind == 4:
            pieces.append(chr(pick.integer(0xD800, 0xDFFF)))
        else:
            pieces.append(" ")
    return "".join(pieces)


def build_batch(pick: Pick) -> list[str]:
    """A few texts to score together."""
    return [build_text(pick, 15) for _ in range(pick.integer(0, 6))]


def build_json_value(pick: Pick, depth: int = 2) -> Any:
    """Any value json.dumps writes, NaN, infinities and 20-digit integers included."""
    kind = pick.integer(0, 7 if depth else 5)
    if kind == 0:
        return None
    if kind == 1:
        return pick.boolean()
    if kind == 2:
        return pick.integer(-(10**20), 10**20)
    if kind == 3:
        return pick.floating()
    if kind in (4, 5):
        return build_text(pick, 4)
    if kind == 6:
        return [build_json_value(pick, depth - 1) for _ in range(pick.integer(0, 3))]
    return {
        build_text(pick, 3): build_json_value(pick, depth - 1) for _ in range(pick.integer(0, 3))
    }


@dataclass(frozen=True)
class FileCase:
    """An input file for the batch readers and what reading it must give.

    ``expected`` holds, per record, its text or None for an error row; it is None when the
    bytes were damaged on purpose or read in another encoding (then only the invariants are
    checked).
    """

    fmt: str
    gz: bool
    data: bytes  # the file as stored (gzipped when ``gz``)
    plain: bytes | None  # the bytes inside, when they are a complete gzip stream or not gzipped
    expected: tuple[str | None, ...] | None
    encoding: str = "utf-8"
    errors_as_rows: bool = True
    documents: bool = False

    @property
    def name(self) -> str:
        return f"input.{self.fmt}" + (".gz" if self.gz else "")


def _encode(text: str) -> bytes:
    """UTF-8, a surrogate written as the (invalid) bytes a careless encoder would write."""
    return text.encode("utf-8", "surrogatepass")


def _clean(text: str) -> str:
    return _SURROGATES.sub("\ufffd", text)


def _expect_text(text: str) -> str | None:
    """The row text a field holding ``text`` gives, or None for an error row."""
    if _SURROGATES.search(text):
        return None  # written as undecodable bytes
    return text if text.strip() else None


def _txt(pick: Pick, values: list[str]) -> tuple[bytes, list[str | None]]:
    lines = [v.replace("\r", "").replace("\n", "") for v in values]
    ending = pick.choice(("\n", "\r\n"))
    data = b"".join(_encode(line + ending) for line in lines)
    expected = [_expect_text(line) for line in lines]
    if lines and lines[0].startswith("\ufeff") and expected[0] is not None:
        expected[0] = _expect_text(lines[0][1:])  # the first line's BOM is not text
    return data, expected


def _delimited(pick: Pick, values: list[str], delimiter: str) -> tuple[bytes, list[str | None]]:
    buffer = io.StringIO(newline="")
    if pick.boolean():
        writer = csv.writer(
            buffer, delimiter=delimiter, quoting=csv.QUOTE_ALL, lineterminator="\r\n"
        )
    else:
        writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(["text", "source"])
    for value in values:
        writer.writerow([value, pick.choice(("a", "b", ""))])
    return _encode(buffer.getvalue()), [_expect_text(v) for v in values]


def _json_expectation(line: str) -> str | None:
    """The text the reference parser (the standard library, strictly) finds, else None."""

    def refuse(_: str) -> Any:
        raise ValueError("not JSON")

    def finite(digits: str) -> float:
        value = float(digits)
        if math.isinf(value):
            raise ValueError("not finite")
        return value

    if _SURROGATES.search(line):
        return None  # written as undecodable bytes
    try:
        value = json.loads(line, parse_constant=refuse, parse_float=finite)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, dict) or not isinstance(value.get("text"), str):
        return None
    return _expect_text(_clean(value["text"]))


def _jsonl(pick: Pick, values: list[str]) -> tuple[bytes, list[str | None]]:
    lines = []
    for value in values:
        kind = pick.integer(0, 4)
        if kind == 4:
            lines.append(pick.choice(JSON_BOMBS))
            continue
        record: dict[str, Any] = {"text": value if kind < 3 else build_json_value(pick)}
        for key in ("id", "n", "source"):
            if pick.boolean():
                record[key] = build_json_value(pick)
        lines.append(json.dumps(record, ensure_ascii=pick.boolean()))
    expected = [
        _json_expectation(line[1:] if n == 0 and line.startswith("\ufeff") else line)
        for n, line in enumerate(lines)
    ]
    out = []
    for line in lines:
        out.append(line)
        if pick.integer(0, 5) == 0:
            out.append(pick.choice(("", "  ", "\t")))  # a blank line: no record, no row
    return b"".join(_encode(line + "\n") for line in out), expected


def damage(pick: Pick, data: bytes) -> bytes:
    """Insert quotes, line breaks, NUL, bad or random bytes, delete, flip a byte, truncate."""
    for _ in range(pick.integer(1, 3)):
        at = pick.integer(0, len(data))
        kind = pick.integer(0, 3)
        if kind == 0:
            piece = pick.choice(_DAMAGE) if pick.boolean() else pick.binary(4)
            data = data[:at] + piece + data[at:]
        elif kind == 1:
            data = data[:at] + data[at + pick.integer(1, 8) :]
        elif kind == 2 and at < len(data):
            data = data[:at] + bytes([data[at] ^ pick.integer(1, 255)]) + data[at + 1 :]
        else:
            data = data[:at]
    return data


def build_file_case(pick: Pick, formats: tuple[str, ...] = FORMATS) -> FileCase:
    """A well-formed file of any format, maybe damaged, maybe gzipped (maybe damaged again),
    read with some encoding and options."""
    fmt = pick.choice(formats)
    # A file with a lone surrogate in a text holds invalid UTF-8 (but for JSON escapes): only
    # one in four may, or too few files would be read at all.
    surrogates = pick.integer(0, 3) == 0
    values = [build_text(pick, 10, surrogates=surrogates) for _ in range(pick.integer(0, 6))]
    if fmt == "txt":
        plain, expected = _txt(pick, values)
    elif fmt == "jsonl":
        plain, expected = _jsonl(pick, values)
    else:
        plain, expected = _delimited(pick, values, "\t" if fmt == "tsv" else ",")
    damaged = pick.integer(0, 2) == 0
    if damaged:
        plain = damage(pick, plain)
    gz = pick.boolean()
    data = gzip.compress(plain, mtime=0) if gz else plain
    complete = True
    if gz and pick.integer(0, 4) == 0:
        data, complete, damaged = damage(pick, data), False, True
    encoding = pick.choice(ENCODINGS) if pick.integer(0, 5) == 0 else "utf-8"
    documents = fmt == "txt" and pick.integer(0, 5) == 0
    keep = not damaged and encoding in ("utf-8", "utf-8-sig") and not documents
    return FileCase(
        fmt=fmt,
        gz=gz,
        data=data,
        plain=plain if complete else None,
        expected=tuple(expected) if keep else None,
        encoding=encoding,
        errors_as_rows=pick.boolean(),
        documents=documents,
    )


@dataclass(frozen=True)
class LabelCase:
    """A label file for ``training.dataset.load_dataset``."""

    suffix: str
    data: bytes
    expected: tuple[str, ...] | None  # the texts read, when the file is well-formed and valid


def build_label_case(pick: Pick) -> LabelCase:
    """A label file (jsonl, csv or tsv) of random texts and labels, maybe damaged."""
    suffix = pick.choice((".jsonl", ".csv", ".tsv"))
    surrogates = pick.integer(0, 3) == 0
    rows = []
    for _ in range(pick.integer(0, 6)):
        # Mostly a valid row (a word first, a known label), so that many files load at all.
        text = build_text(pick, 10, surrogates=surrogates)
        if pick.integer(0, 9):
            text = f"{pick.choice(WORDS)} {text}"
        label = pick.choice(LABELS) if pick.integer(0, 19) else pick.choice(("satire", ""))
        rows.append((text, label))
    valid = True
    if suffix == ".jsonl":
        lines = [
            json.dumps({"text": t, "label": label}, ensure_ascii=pick.boolean())
            for t, label in rows
        ]
        if pick.integer(0, 4) == 0:
            lines.append(pick.choice(JSON_BOMBS))
            valid = False
        data = b"".join(_encode(line + "\n") for line in lines)
    else:
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, delimiter="\t" if suffix == ".tsv" else ",")
        writer.writerow(["text", "label"])
        writer.writerows(rows)
        data = _encode(buffer.getvalue())
    if pick.integer(0, 2) == 0:
        data, valid = damage(pick, data), False
    if pick.integer(0, 5) == 0:
        data = b"\xef\xbb\xbf" + data
    return LabelCase(suffix, data, _label_expectation(suffix, rows) if valid else None)


def _label_expectation(suffix: str, rows: list[tuple[str, str]]) -> tuple[str, ...] | None:
    """The texts a valid file gives, or None when reading it must fail (or is not compared)."""
    seen: dict[str, str] = {}
    read = []
    for text, label in rows:
        if _SURROGATES.search(text) or label not in LABELS or not text.strip():
            return None
        if suffix != ".jsonl" and ("\r" in text or "\n" in text):
            return None  # the text-mode reader takes a lone "\r" for a line break: not compared
        key = " ".join(text.split()).casefold()
        if key in seen and seen[key] != label:
            return None
        if key not in seen:
            read.append(text.strip())
        seen.setdefault(key, label)
    return tuple(read) if read else None


@dataclass(frozen=True)
class ScoreCase:
    """``credscore score`` with TEXT as an argument, or bytes on standard input."""

    text: str | None
    stdin: bytes | None
    as_json: bool
    terms: int


def build_score_case(pick: Pick) -> ScoreCase:
    as_json, terms = pick.boolean(), pick.integer(0, 3)
    if pick.boolean():
        # argv cannot hold a NUL; undecodable bytes arrive as lone surrogates (surrogateescape)
        return ScoreCase(build_text(pick, 20).replace("\x00", ""), None, as_json, terms)
    raw = _encode(build_text(pick, 20)) if pick.boolean() else pick.binary(60)
    return ScoreCase(None, raw, as_json, terms)


@dataclass(frozen=True)
class LabelRun:
    """``credscore label`` on one input (a file, or standard input) with some options."""

    case: FileCase
    stdin: bool
    options: tuple[str, ...]


def build_label_run(pick: Pick) -> LabelRun:
    case = build_file_case(pick)
    stdin = not case.gz and pick.integer(0, 3) == 0
    options = ["--errors", "row" if case.errors_as_rows else "stop"]
    options += ["--format", pick.choice(("jsonl", "csv"))]
    if pick.boolean():
        options.append("--segment")
    if case.encoding != "utf-8":
        options += ["--encoding", case.encoding]
    if case.documents:
        options.append("--documents")
    if stdin:
        options += ["--input-format", case.fmt]
    return LabelRun(case, stdin, tuple(options))


@st.composite
def _drawn(draw, build: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    return build(HypothesisPick(draw), *args)


def strategy(build: Callable[..., T], *args: Any) -> st.SearchStrategy[T]:
    """The hypothesis strategy of a builder."""
    return _drawn(build, args)


# --------------------------------------------------------------------------------------------
# Checks: what must hold for any input
# --------------------------------------------------------------------------------------------


def check_one_line_error(exc: CredscoreError, *names: str) -> None:
    """A project error: one line, naming one of ``names`` (a file, an option)."""
    message = str(exc)
    assert message and "\n" not in message, f"not one line: {message!r}"
    assert any(name in message for name in names), f"names none of {names}: {message!r}"


def check_segments(text: str) -> str:
    """Segments are non-empty, stripped, in order, exact slices, and cover every visible char."""
    from classifier.segment import segment

    segments = segment(text)
    end = 0
    covered = np.zeros(len(text), dtype=bool)
    for s in segments:
        assert text[s.start : s.end] == s.text, (s, text)
        assert s.text and s.text == s.text.strip(), s
        assert s.start >= end, (s, end)
        assert "\n" not in s.text and "\r" not in s.text, s
        end = s.end
        covered[s.start : s.end] = True
    visible = [i for i, c in enumerate(text) if not c.isspace()]
    assert covered[visible].all() if visible else not segments, (text, segments)
    return "segmented" if segments else "no segment (white space only)"


def check_proba(model, batch: list[str]) -> str:
    """Scores in [0, 1] summing to 1 within 1e-9, and a text scores the same in any batch."""
    proba = model.scorer.proba(batch)
    assert proba.shape == (len(batch), len(LABELS))
    assert np.isfinite(proba).all() and (proba >= 0).all() and (proba <= 1).all()
    assert np.abs(proba.sum(axis=1) - 1).max(initial=0) < 1e-9
    if batch:
        alone = np.vstack([model.scorer.proba([t]) for t in batch])
        assert np.abs(alone - proba).max() < 1e-12, "a text's scores depend on its neighbours"
    return "batch scored" if batch else "empty batch scored"


def check_score_text(model, text: str) -> str:
    """Every segment scored, exact offsets, scores summing to 1; only an empty text refused."""
    from classifier.score import score_text

    try:
        result = score_text(text, model, terms=2)
    except CredscoreError as exc:
        check_one_line_error(exc, "no text to score")
        assert not text.strip(), f"refused a text with something in it: {exc}"
        return "refused: nothing to score"
    for s in result.segments:
        assert text[s.segment.start : s.segment.end] == s.segment.text
        assert s.label in LABELS and abs(sum(s.scores.values()) - 1) < 1e-9
        assert all(0 <= p <= 1 for p in s.scores.values())
    json.dumps(result.to_dict(), allow_nan=False).encode("utf-8", "surrogatepass")
    return "scored"


def _spec(case: FileCase, path: str):
    from classifier.inputs import InputSpec

    return InputSpec(
        paths=(path,),
        input_format=case.fmt,
        encoding=case.encoding,
        errors_as_rows=case.errors_as_rows,
        documents=case.documents,
    )


def _records(case: FileCase) -> int | None:
    """How many rows a line-based input must give (txt, jsonl), when that can be known."""
    if case.plain is None or case.fmt not in ("txt", "jsonl") or case.documents:
        return None
    if case.encoding not in ("utf-8", "utf-8-sig"):
        return None
    lines = case.plain.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if case.fmt == "txt":
        return len(lines)
    decoded = [line.decode("utf-8", "replace") for line in lines]
    if decoded and decoded[0].startswith("\ufeff"):
        decoded[0] = decoded[0][1:]
    return sum(1 for line in decoded if line.strip())


def check_read_rows(case: FileCase, folder: Path) -> str:
    """One row per record, in order, each a text or an error naming file:line; or one error."""
    from classifier.inputs import read_rows

    path = folder / case.name
    path.write_bytes(case.data)
    try:
        rows = list(read_rows(_spec(case, str(path))))
    except CredscoreError as exc:
        check_one_line_error(exc, str(path), "--encoding")
        if case.expected is not None and case.errors_as_rows:
            # A well-formed file fails only for want of a text column or a usable encoding.
            assert case.fmt in ("csv", "tsv") or "--encoding" in str(exc), exc
        return "refused with one error"
    previous = 0
    for row in rows:
        assert row.where.startswith(str(path)), row
        if not case.documents:
            line = int(row.where.rsplit(":", 1)[1])
            assert line > previous, (row.where, previous)
            previous = line
        if row.error is None:
            assert isinstance(row.text, str) and row.text.strip(), row
        else:
            assert row.text is None and row.error.startswith(f"{row.where}: "), row
        # Every string a row carries can be written out as UTF-8 (no lone surrogate).
        json.dumps(row.fields, ensure_ascii=False, default=str).encode("utf-8")
    if case.documents:
        assert len(rows) == 1
    records = _records(case)
    if records is not None:
        assert len(rows) == records, (len(rows), records)
    if case.expected is not None:
        assert [row.text for row in rows] == list(case.expected)
    return "read, with error rows" if any(r.error for r in rows) else "read, every row a text"


def check_load_dataset(case: LabelCase, folder: Path) -> str:
    """Valid records, or one error naming the file; a valid file reads back exactly."""
    from training.dataset import load_dataset

    path = folder / f"labels{case.suffix}"
    path.write_bytes(case.data)
    try:
        dataset = load_dataset([path])
    except CredscoreError as exc:
        check_one_line_error(exc, str(path))
        assert case.expected is None, f"a valid file was refused: {exc}"
        return f"refused with one {type(exc).__name__}"
    for r in dataset.records:
        assert isinstance(r.text, str) and r.text and r.label in LABELS, r
        assert not _SURROGATES.search(r.text), r
    assert len(dataset.sha256) == 64
    if case.expected is not None:
        assert tuple(dataset.texts) == case.expected
    return "loaded"


@contextlib.contextmanager
def cached_model_loads() -> Iterator[None]:
    """Load each model folder once for many CLI runs: loading is not what is fuzzed here."""
    from unittest import mock

    import classifier.model

    cache: dict[str, Any] = {}
    real = classifier.model.load_model

    def load(path=None):
        key = str(path)
        if key not in cache:
            cache[key] = real(path)
        return cache[key]

    with mock.patch.object(classifier.model, "load_model", load):
        yield


def _invoke(args: list[str], stdin: bytes | None):
    from click.testing import CliRunner

    from classifier.cli import cli

    result = CliRunner().invoke(cli, args, input=stdin)
    assert result.exit_code in (0, 1, 2, 3), (result.exit_code, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output
    if result.exit_code in (1, 2):
        assert result.stderr.strip().splitlines()[-1].startswith("Error: "), result.stderr
    return result


def _no_constant(name: str) -> Any:
    raise AssertionError(f"{name} in the JSON output")


def _jsonl_records(out: str) -> list[dict[str, Any]]:
    """JSONL output: records end at "\n" only (a text may hold U+2028, which splitlines cuts)."""
    lines = out.split("\n")
    assert lines[-1] == "", "the output does not end with a line break"
    return [json.loads(line, parse_constant=_no_constant) for line in lines[:-1]]


def check_cli_score(case: ScoreCase, model_dir: Path) -> str:
    """``score``: exit 0 with exact offsets and scores summing to 1, or a one-line error."""
    args = ["score", "--model", str(model_dir), "--terms", str(case.terms)]
    if case.as_json:
        args.append("--json")
    if case.text is not None:
        args += ["--", case.text]  # a TEXT that starts with "-" is an option to click otherwise
    result = _invoke(args, case.stdin)
    if result.exit_code == 0 and case.as_json:
        out = json.loads(result.stdout_bytes.decode("utf-8"), parse_constant=_no_constant)
        for s in out["segments"]:
            assert abs(sum(s["scores"].values()) - 1) < 1e-9
            if case.text is not None:
                assert _clean(case.text)[s["start"] : s["end"]] == s["text"], s
    if result.exit_code != 0:
        assert result.exit_code == 1 and "no text to score" in result.stderr, result.stderr
    return f"exit {result.exit_code}"


def check_cli_label(run: LabelRun, model_dir: Path, folder: Path) -> str:
    """``label``: one output row per row read, counts reconciled, exit 3 exactly when rows
    failed; or a one-line error."""
    case = run.case
    path = folder / case.name
    path.write_bytes(case.data)
    source = "-" if run.stdin else str(path)
    result = _invoke(
        ["label", "--model", str(model_dir), "-q", *run.options, source],
        case.data if run.stdin else None,
    )
    if result.exit_code in (1, 2):
        if case.expected is not None and case.errors_as_rows:
            # A well-formed file fails only for want of a text column or a usable encoding.
            assert case.fmt in ("csv", "tsv") or "--encoding" in result.stderr, result.stderr
        return f"exit {result.exit_code}"
    count = re.search(r"credscore: (\d+) rows read, (\d+) labelled, (\d+) errors", result.stderr)
    assert count, result.stderr
    read, labelled, errors = map(int, count.groups())
    assert read == labelled + errors and (result.exit_code == 3) == (errors > 0)
    # The bytes, strictly decoded: click's Result.stdout turns "\r\n" into "\n".
    stdout = result.stdout_bytes.decode("utf-8")
    if "--format" in run.options and run.options[run.options.index("--format") + 1] == "csv":
        out: list[dict[str, Any]] = list(csv.DictReader(io.StringIO(stdout, newline="")))
    else:
        out = _jsonl_records(stdout)
    assert len(out) == read
    for record in out:
        if record.get("error"):
            continue
        scores = (
            [float(record[f"score_{label}"]) for label in LABELS]
            if "score_reporting" in record
            else list(record["scores"].values())
        )
        assert abs(sum(scores) - 1) < 1e-5 and record["label"] in LABELS, record
    records = _records(case)
    if records is not None:
        assert read == records, (read, records)
    if case.expected is not None:
        texts_out = [None if r.get("error") else r["text"] for r in out]
        assert texts_out == list(case.expected), (texts_out, case.expected)
    return f"exit {result.exit_code}"


# --------------------------------------------------------------------------------------------
# The bounded tests CI runs
# --------------------------------------------------------------------------------------------

BOUNDED = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def mini_model(mini_model_dir):
    from classifier.model import load_model

    return load_model(mini_model_dir)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@settings(BOUNDED, max_examples=200)
@given(strategy(build_text))
def test_segment_offsets_are_exact_on_hostile_text(text):
    check_segments(text)


@settings(BOUNDED, max_examples=100)
@given(strategy(build_batch))
def test_scores_are_probabilities_and_independent_of_the_batch(mini_model, batch):
    check_proba(mini_model, batch)


@settings(BOUNDED, max_examples=60)
@given(strategy(build_text))
def test_score_text_on_hostile_text(mini_model, text):
    check_score_text(mini_model, text)


@settings(BOUNDED, max_examples=150)
@given(strategy(build_file_case))
def test_read_rows_one_row_per_record_or_one_error(folder, case):
    check_read_rows(case, folder)


@settings(BOUNDED, max_examples=60)
@given(strategy(build_file_case, ("csv", "tsv")))
def test_read_rows_on_csv_and_tsv(folder, case):
    check_read_rows(case, folder)


@settings(BOUNDED, max_examples=100)
@given(strategy(build_label_case))
def test_load_dataset_valid_records_or_one_error(folder, case):
    check_load_dataset(case, folder)


@settings(BOUNDED, max_examples=40)
@given(strategy(build_score_case))
def test_cli_score_never_a_traceback(mini_model_dir, case):
    with cached_model_loads():
        check_cli_score(case, mini_model_dir)


@settings(BOUNDED, max_examples=60)
@given(strategy(build_label_run))
def test_cli_label_one_output_row_per_row_read(mini_model_dir, folder, run):
    with cached_model_loads():
        check_cli_label(run, mini_model_dir, folder)


# --------------------------------------------------------------------------------------------
# Regression cases that need the CLI or a real process
# --------------------------------------------------------------------------------------------


def test_nul_character_in_a_label_run_is_scored_not_a_crash(mini_model_dir, tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text('{"text": "a\\u0000b. ok"}\n{"text": "fine"}\n', encoding="utf-8")
    result = _invoke(["label", "--model", str(mini_model_dir), str(path)], None)
    assert result.exit_code == 0 and len(result.stdout.splitlines()) == 2


def test_lone_surrogate_in_a_label_run_is_written_as_a_replacement_character(
    mini_model_dir, tmp_path
):
    path = tmp_path / "in.jsonl"
    path.write_text('{"text": "a\\ud800b"}\n', encoding="utf-8")
    result = _invoke(["label", "--model", str(mini_model_dir), str(path)], None)
    assert result.exit_code == 0 and json.loads(result.stdout)["text"] == "a\ufffdb"


def test_undecodable_bytes_in_score_argument_or_stdin_are_scored(mini_model_dir):
    with cached_model_loads():
        argv = _invoke(["score", "--model", str(mini_model_dir), "--json", "caf\udce9 said"], None)
        stdin = _invoke(["score", "--model", str(mini_model_dir), "--json"], b"caf\xe9 said")
    for result in (argv, stdin):
        assert result.exit_code == 0
        assert json.loads(result.stdout)["segments"][0]["text"] == "caf\ufffd said"


@pytest.mark.parametrize("command", ["score", "label -"])
def test_closed_standard_input_is_a_clear_error_not_a_traceback(mini_model_dir, command):
    credscore = Path(sys.executable).with_name("credscore")
    if not credscore.exists():
        pytest.skip("the credscore command is not installed beside this Python")
    done = subprocess.run(
        ["sh", "-c", f'"$0" {command} --model "$1" <&-', str(credscore), str(mini_model_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "CREDSCORE_MODEL": str(mini_model_dir)},
    )
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    if command == "score":
        assert done.returncode == 2 and last == "Error: standard input is closed: give TEXT"
    else:
        assert done.returncode == 1 and last.startswith("Error: standard input is closed")


def test_bad_encoding_is_an_error_naming_the_option(mini_model_dir, tmp_path):
    path = tmp_path / "in.txt"
    path.write_text("x\n", encoding="utf-8")
    for encoding in ("bogus", "rot13", ""):
        result = _invoke(
            ["label", "--model", str(mini_model_dir), "--encoding", encoding, str(path)], None
        )
        assert result.exit_code == 2  # a usage error
        assert result.stderr.strip().splitlines()[-1].startswith(f"Error: --encoding {encoding!r}")


def test_csv_output_row_with_a_lone_carriage_return_reads_back_as_one_row():
    # Found by the fuzzer: csv.writer quoted "\n" but not a lone "\r", so a text holding one
    # came back as two rows, and --resume could not parse its own part file.
    from classifier.rows import RowWriter

    out = io.StringIO(newline="")
    records = [
        {"text": t, "label": "opinion", "scores": dict.fromkeys(LABELS, 1 / 3), "model": "m"}
        for t in ("a\rb", "plain", "c\r\nd")
    ]
    RowWriter(out, "csv").write(records)
    back = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    assert [r["text"] for r in back] == ["a\rb", "plain", "c\r\nd"]
    # --resume reads a part file line by line, split at "\n" only, as bytes are.
    lines = io.BytesIO(out.getvalue().encode()).readlines()
    assert [r[0] for r in csv.reader(line.decode() for line in lines)][1:] == [
        "a\rb",
        "plain",
        "c\r\nd",
    ]
