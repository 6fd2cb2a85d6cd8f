"""Fuzz credscore at scale and write the counts into docs/reliability.md.

Usage::

    python benchmarks/fuzz.py [--scale 1.0] [--seed N] [--out docs/reliability.md]

Drives the builders and checks of ``tests/test_fuzz.py`` (the same code the bounded tests run
through hypothesis) with a seeded random generator over 112,000 inputs at ``--scale 1``: the
segmenter, the scorer, ``score_text``, the batch readers, the label-file reader and the
``score`` and ``label`` commands (through click's CliRunner, each model folder loaded once).
A failure is any exception a check raises (an invariant broken, or an exception other than
credscore's own errors); the first few of each target are listed with the input that caused
them. Then each defect of issue 10 that this branch fixed is run as a named case and its
outcome recorded. The report replaces the part of ``--out`` between the two ``fuzz`` markers,
atomically; the hand-written rest of the file is kept. Exit code 1 when anything failed.

Needs the test extra (``pip install '.[test]'``): the checks live with the tests.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

import test_fuzz as fuzz  # noqa: E402  (the checks and builders live with the tests)
from conftest import MINI_LABELS  # noqa: E402

from classifier.atomic import write_atomic  # noqa: E402

DEFAULT_OUT = REPO / "docs" / "reliability.md"
BEGIN, END = "<!-- fuzz:begin (written by benchmarks/fuzz.py) -->", "<!-- fuzz:end -->"
SEED = 20261202
#: Inputs per target at --scale 1 (112,000 in all): the cheap targets get the most.
COUNTS = {
    "segment": 40_000,
    "scorer.proba": 12_000,
    "score_text": 5_000,
    "read_rows": 30_000,
    "load_dataset": 10_000,
    "cli score": 5_000,
    "cli label": 10_000,
}
SHOWN_FAILURES = 6


@dataclass
class Tally:
    """What one target's run found."""

    target: str
    what: str
    tried: int = 0
    seconds: float = 0.0
    outcomes: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    failed: int = 0


def drive(
    target: str,
    what: str,
    build: Callable[[Any], Any],
    check: Callable[[Any], str],
    n: int,
    seed: int,
) -> Tally:
    """Build ``n`` inputs from a generator seeded by ``seed`` and the target, check each."""
    pick = fuzz.RandomPick(random.Random(f"{seed}:{target}"))
    tally = Tally(target, what)
    started = time.perf_counter()
    for _ in range(n):
        case = build(pick)
        tally.tried += 1
        try:
            tally.outcomes[check(case)] += 1
        except Exception as exc:
            tally.failed += 1
            if len(tally.failures) < SHOWN_FAILURES:
                where = traceback.extract_tb(exc.__traceback__)[-1]
                tally.failures.append(
                    f"{type(exc).__name__} at {Path(where.filename).name}:{where.lineno}: "
                    f"{str(exc)[:200]!r} on {repr(case)[:300]}"
                )
    tally.seconds = time.perf_counter() - started
    print(
        f"{target:<14} {tally.tried:>7,} inputs {tally.seconds:7.1f} s  failures {tally.failed}",
        file=sys.stderr,
    )
    return tally


def run_targets(model_dir: Path, scale: float, seed: int, folder: Path) -> list[Tally]:
    """Every target, ``COUNTS`` scaled."""
    from classifier.model import load_model

    model = load_model(model_dir)
    count = {name: max(1, round(n * scale)) for name, n in COUNTS.items()}
    tallies = [
        drive(
            "segment",
            "`classifier.segment.segment` on hostile text",
            fuzz.build_text,
            fuzz.check_segments,
            count["segment"],
            seed,
        ),
        drive(
            "scorer.proba",
            "`Model.scorer.proba` on batches of 0-6 hostile texts",
            fuzz.build_batch,
            lambda batch: fuzz.check_proba(model, batch),
            count["scorer.proba"],
            seed,
        ),
        drive(
            "score_text",
            "`classifier.score.score_text` (segments, scores, terms)",
            fuzz.build_text,
            lambda text: fuzz.check_score_text(model, text),
            count["score_text"],
            seed,
        ),
        drive(
            "read_rows",
            "`classifier.inputs.read_rows`: txt/csv/tsv/jsonl, gzipped or not, damaged or not",
            fuzz.build_file_case,
            lambda case: fuzz.check_read_rows(case, folder),
            count["read_rows"],
            seed,
        ),
        drive(
            "load_dataset",
            "`training.dataset.load_dataset`: jsonl/csv/tsv label files, damaged or not",
            fuzz.build_label_case,
            lambda case: fuzz.check_load_dataset(case, folder),
            count["load_dataset"],
            seed,
        ),
    ]
    with fuzz.cached_model_loads():
        tallies.append(
            drive(
                "cli score",
                "`credscore score` with TEXT (argv) or bytes on stdin, `--json`, `--terms`",
                fuzz.build_score_case,
                lambda case: fuzz.check_cli_score(case, model_dir),
                count["cli score"],
                seed,
            )
        )
        tallies.append(
            drive(
                "cli label",
                "`credscore label` on any input file or stdin, `--segment`, `--errors`, "
                "`--format`, `--encoding`",
                fuzz.build_label_run,
                lambda run: fuzz.check_cli_label(run, model_dir, folder),
                count["cli label"],
                seed,
            )
        )
    return tallies


# --------------------------------------------------------------------------------------------
# Issue 10's input-side defects, each run as a named case
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One defect of issue 10, what it did before the fix, and what it does now."""

    number: str
    name: str
    before: str
    run: Callable[[Path, Path], str]  # (model folder, scratch folder) -> outcome; raises if wrong


def _cli(args: list[str], stdin: bytes | None = None):
    return fuzz._invoke(args, stdin)


def _last_error(result) -> str:
    return result.stderr.strip().splitlines()[-1]


def _nul_score(model: Path, tmp: Path) -> str:
    result = _cli(["score", "--model", str(model), "--json", "a\x00b. ok"])
    segments = json.loads(result.stdout)["segments"]
    assert result.exit_code == 0 and [s["text"] for s in segments] == ["a\x00b.", "ok"]
    return f"exit 0, {len(segments)} segments scored"


def _nul_label(model: Path, tmp: Path) -> str:
    (tmp / "nul.jsonl").write_text('{"text": "a\\u0000b"}\n{"text": "fine"}\n', encoding="utf-8")
    result = _cli(["label", "--model", str(model), str(tmp / "nul.jsonl")])
    assert result.exit_code == 0 and len(result.stdout.splitlines()) == 2
    return "exit 0, 2 rows labelled"


def _nul_train(model: Path, tmp: Path) -> str:
    from training.dataset import load_dataset
    from training.train import fit

    path = tmp / "nul-labels.jsonl"
    path.write_bytes(MINI_LABELS.read_bytes() + b'{"text": "a\\u0000b", "label": "opinion"}\n')
    data = load_dataset([path])
    proba = fit(data.texts, data.labels, data.groups).predict_proba(["a\x00b"])
    assert abs(proba.sum() - 1) < 1e-9
    return f"trains on {len(data.records)} rows, the NUL row among them"


def _surrogate_label(model: Path, tmp: Path) -> str:
    (tmp / "sur.jsonl").write_text('{"text": "a\\ud800b"}\n', encoding="utf-8")
    result = _cli(["label", "--model", str(model), str(tmp / "sur.jsonl")])
    assert result.exit_code == 0 and json.loads(result.stdout)["text"] == "a\ufffdb"
    return 'exit 0, the text read and written as "a\\ufffdb"'


def _surrogate_argv(model: Path, tmp: Path) -> str:
    result = _cli(["score", "--model", str(model), "--json", "caf\udce9 said"])
    text = json.loads(result.stdout)["segments"][0]["text"]
    assert result.exit_code == 0 and text == "caf\ufffd said"
    return "exit 0, the byte scored and shown as U+FFFD"


def _surrogate_stdin(model: Path, tmp: Path) -> str:
    result = _cli(["score", "--model", str(model), "--json"], b"caf\xe9 said")
    assert result.exit_code == 0
    return "exit 0, the byte scored and shown as U+FFFD"


def _jsonl_bomb(line: str, problem: str) -> Callable[[Path, Path], str]:
    def run(model: Path, tmp: Path) -> str:
        (tmp / "bomb.jsonl").write_text(line + '\n{"text": "after"}\n', encoding="utf-8")
        result = _cli(["label", "--model", str(model), str(tmp / "bomb.jsonl")])
        rows = result.stdout.splitlines()
        assert result.exit_code == 3 and len(rows) == 2 and problem in json.loads(rows[0])["error"]
        return f"exit 3: an error row ({problem}), the next row labelled"

    return run


def _jsonl_bomb_train(model: Path, tmp: Path) -> str:
    from classifier.errors import InputError
    from training.dataset import load_dataset

    path = tmp / "bomb-labels.jsonl"
    path.write_text('{"text": "t", "label": "opinion", "n": ' + "9" * 5000 + "}\n")
    try:
        load_dataset([path])
    except InputError as exc:
        assert str(exc).startswith(f"{path}:1: ")
        return f"InputError: {str(exc).replace(str(tmp), '...')}"
    raise AssertionError("no error")


def _gzip_damaged(model: Path, tmp: Path) -> str:
    import zlib

    data = gzip.compress(b"".join(b"line number %d with some text\n" % i for i in range(20_000)))
    for middle in range(len(data) // 2, len(data) // 2 + 64):
        damaged = data[:middle] + b"\xff" * 8 + data[middle + 8 :]
        try:
            gzip.decompress(damaged)
        except zlib.error:
            break
        except gzip.BadGzipFile:
            continue
    (tmp / "damaged.txt.gz").write_bytes(damaged)
    result = _cli(["label", "--model", str(model), str(tmp / "damaged.txt.gz")])
    last = _last_error(result)
    assert result.exit_code == 1 and "damaged gzip data after line" in last
    return f"exit 1: {last.replace(str(tmp), '...')}"


def _encoding(name: str) -> Callable[[Path, Path], str]:
    def run(model: Path, tmp: Path) -> str:
        (tmp / "x.txt").write_text("x\n")
        result = _cli(["label", "--model", str(model), "--encoding", name, str(tmp / "x.txt")])
        last = _last_error(result)
        assert result.exit_code in (1, 2) and last.startswith(f"Error: --encoding {name!r}")
        return f"exit {result.exit_code}: {last}"

    return run


def _big_field(model: Path, tmp: Path) -> str:
    from training.dataset import load_dataset

    path = tmp / "big.csv"
    rows = "".join(f"row {i} {label},{label}\n" for i in range(4) for label in fuzz.LABELS)
    path.write_text('text,label\n"' + "word " * 30_000 + '",opinion\n' + rows)
    data = load_dataset([path])
    assert len(data.records[0].text) > 131_072
    return f"read: {len(data.records)} rows, the first of {len(data.records[0].text):,} characters"


def _bom(suffix: str, content: str) -> Callable[[Path, Path], str]:
    def run(model: Path, tmp: Path) -> str:
        path = tmp / f"bom{suffix}"
        path.write_bytes(b"\xef\xbb\xbf" + content.encode())
        result = _cli(["label", "--model", str(model), str(path)])
        first = json.loads(result.stdout.splitlines()[0])
        assert result.exit_code == 0 and next(iter(first)) == "text", first
        return "exit 0, first column 'text', every row labelled"

    return run


def _unclosed_quote(model: Path, tmp: Path) -> str:
    path = tmp / "quote.csv"
    path.write_text('text,source\nfirst,a\nsecond,"unclosed\nthird,c\nfourth,d\n')
    result = _cli(["label", "--model", str(model), str(path)])
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.exit_code == 3 and len(rows) == 4 and rows[1]["error"].startswith(f"{path}:3: ")
    return "exit 3: 4 rows, line 3 an error row (quote never closed), the other 3 labelled"


def _json_text_object(model: Path, tmp: Path) -> str:
    path = tmp / "types.jsonl"
    path.write_text('{"text": {"a": 1}}\n{"text": [1]}\n{"text": 3}\n{"text": true}\n')
    result = _cli(["label", "--model", str(model), str(path)])
    errors = [json.loads(line)["error"] for line in result.stdout.splitlines()]
    assert result.exit_code == 3 and all("text is not a string" in e for e in errors)
    return "exit 3: 4 error rows 'text is not a string (an object/a list/a number/a boolean)'"


def _bad_utf8_label_file(model: Path, tmp: Path) -> str:
    from classifier.errors import InputError
    from training.dataset import load_dataset

    path = tmp / "bad.jsonl"
    path.write_bytes(MINI_LABELS.read_bytes() + b'{"text": "bad \xff byte", "label": "opinion"}\n')
    try:
        load_dataset([path])
    except InputError as exc:
        assert str(exc).startswith(f"{path}:25: not UTF-8 text (invalid start byte at byte 14 of")
        return f"InputError: {str(exc).replace(str(tmp), '...')}"
    raise AssertionError("no error")


def _closed_stdin(command: str) -> Callable[[Path, Path], str]:
    def run(model: Path, tmp: Path) -> str:
        credscore = Path(sys.executable).with_name("credscore")
        done = subprocess.run(
            ["sh", "-c", f'"$0" {command} --model "$1" <&-', str(credscore), str(model)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        last = done.stderr.strip().splitlines()[-1]
        assert "Traceback" not in done.stderr and done.returncode in (1, 2), done.stderr
        return f"exit {done.returncode}: {last}"

    return run


CASES = (
    Case("1", "NUL in a text (`score`)", "ValueError traceback", _nul_score),
    Case("1", "NUL in a JSON line (`label`)", "ValueError traceback", _nul_label),
    Case("1", "NUL in a label row (`train`)", "error naming no file or line", _nul_train),
    Case("2", '"\\ud800" in a JSON line (`label`)', "UnicodeEncodeError", _surrogate_label),
    Case("2", "undecodable byte in TEXT (`score`)", "UnicodeEncodeError", _surrogate_argv),
    Case("2", "undecodable byte on stdin (`score`)", "UnicodeEncodeError", _surrogate_stdin),
    Case(
        "3",
        "JSON line nested 100,000 deep (`label`)",
        "RecursionError",
        _jsonl_bomb('{"x": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
    ),
    Case(
        "3",
        "integer of 5,000 digits (`label`)",
        "ValueError: Exceeds the limit",
        _jsonl_bomb('{"text": "t", "n": ' + "9" * 5000 + "}", "a number of 5000 digits"),
    ),
    Case("3", "integer of 5,000 digits (`train`)", "ValueError traceback", _jsonl_bomb_train),
    Case("4", "gzip damaged in the middle (`label`)", "zlib.error traceback", _gzip_damaged),
    Case("5", "`--encoding bogus`", "LookupError traceback", _encoding("bogus")),
    Case("5", "`--encoding rot13`", "LookupError traceback", _encoding("rot13")),
    Case("5", "`--encoding ''`", "LookupError traceback", _encoding("")),
    Case("6", "label CSV field over 131,072 characters", "_csv.Error traceback", _big_field),
    Case(
        "11",
        "UTF-8 BOM before a CSV header (`label`)",
        "no column 'text' (columns: \\ufefftext, ...)",
        _bom(".csv", "text,source\nhello there,a\n"),
    ),
    Case(
        "11",
        "UTF-8 BOM before the first JSONL row (`label`)",
        "the first row an error row",
        _bom(".jsonl", '{"text": "hello there"}\n'),
    ),
    Case(
        "small",
        "unclosed quote in a CSV (`label`)",
        "rest of file swallowed, exit 0",
        _unclosed_quote,
    ),
    Case(
        "small",
        "JSON text an object, list, number, boolean",
        "scored as its Python repr",
        _json_text_object,
    ),
    Case(
        "small",
        "bad UTF-8 byte in a label file",
        "wrong byte offset, no line",
        _bad_utf8_label_file,
    ),
    Case("small", "`credscore score <&-`", "AttributeError traceback", _closed_stdin("score")),
    Case("small", "`credscore label - <&-`", "AttributeError traceback", _closed_stdin("label -")),
)


def run_cases(model_dir: Path, folder: Path) -> list[tuple[Case, bool, str]]:
    """Each named case: (case, holds, outcome)."""
    results = []
    with fuzz.cached_model_loads():
        for case in CASES:
            try:
                results.append((case, True, case.run(model_dir, folder)))
            except Exception as exc:
                results.append((case, False, f"{type(exc).__name__}: {str(exc)[:300]}"))
    for case, holds, outcome in results:
        print(f"{'ok  ' if holds else 'FAIL'} {case.name}: {outcome}", file=sys.stderr)
    return results


# --------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------


def _commit() -> str:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return done.stdout.strip() + (" (with uncommitted changes)" if dirty else "")


def render(
    tallies: list[Tally], cases: list[tuple[Case, bool, str]], seed: int, seconds: float
) -> str:
    """The generated section of docs/reliability.md."""
    import numpy

    import classifier

    total = sum(t.tried for t in tallies)
    failed = sum(t.failed for t in tallies)
    lines = [
        BEGIN,
        "",
        f"Run {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {platform.node() or 'this machine'}: "
        f"{platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"NumPy {numpy.__version__}, credscore {classifier.__version__} at commit {_commit()}; "
        f"seed {seed}; {seconds:.0f} s in all.",
        "",
        f"**{total:,} inputs, {failed} failures.** A failure is a broken invariant or an "
        "exception other than credscore's own errors (see tests/test_fuzz.py for the checks).",
        "",
        "| target | what | inputs | failures | seconds | outcomes |",
        "|---|---|---:|---:|---:|---|",
    ]
    for t in tallies:
        outcomes = "; ".join(f"{n:,} {what}" for what, n in t.outcomes.most_common())
        lines.append(
            f"| {t.target} | {t.what} | {t.tried:,} | {t.failed} | {t.seconds:.0f} | {outcomes} |"
        )
    for t in tallies:
        for failure in t.failures:
            lines.append(f"- failure in {t.target}: `{failure}`")
    lines += [
        "",
        "Issue 10's input-side defects, each run as a named case:",
        "",
        "| # | case | before the fix | now | holds |",
        "|---|---|---|---|---|",
    ]
    for case, holds, outcome in cases:
        outcome = outcome.replace("|", "\\|")
        lines.append(
            f"| {case.number} | {case.name} | {case.before} | {outcome} | {'yes' if holds else '**no**'} |"
        )
    lines += ["", END]
    return "\n".join(lines)


def write_report(out: Path, section: str) -> None:
    """Replace the section between the markers (or append it), atomically."""
    text = out.read_text(encoding="utf-8") if out.exists() else ""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        text = head + section + tail
    else:
        text = text + ("\n" if text else "") + section + "\n"
    write_atomic(out, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="times the inputs per target")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)

    from conftest import _fit_and_save

    from training.dataset import load_dataset

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_CONFIG_HOME"] = str(Path(tmp) / "config")  # never the user's models
        model_dir = _fit_and_save(load_dataset([MINI_LABELS]), Path(tmp) / "model")
        scratch = Path(tmp) / "scratch"
        scratch.mkdir()
        tallies = run_targets(model_dir, args.scale, args.seed, scratch)
        cases = run_cases(model_dir, scratch)
    seconds = time.perf_counter() - started
    write_report(args.out, render(tallies, cases, args.seed, seconds))
    print(f"wrote {args.out} ({seconds:.0f} s)", file=sys.stderr)
    failed = sum(t.failed for t in tallies) + sum(not holds for _, holds, _ in cases)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
