"""benchmarks/accuracy.py, run for real in fast mode on the shared corpora beside the clone."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SHARED

from classifier import LABELS

pytestmark = pytest.mark.slow  # runs the harness: seconds, not milliseconds

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "benchmarks" / "accuracy.py"
DATA = SHARED / "data"
SYSTEMS = ("credscore", "tfidf-lr", "majority")
CROSS_TRAINING = ("mpqa12_sentence_subjectivity", "ptc_propaganda_sentences")

needs_data = pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data is not beside this clone")


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], cwd=REPO, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("benchmarks") / "b.md"
    done = _run("--fast", "--systems", ",".join(SYSTEMS), "--out", str(out))
    assert done.returncode == 0, done.stderr
    return out.read_text(encoding="utf-8")


def _regimes(report: str) -> dict[str, str]:
    """Regime name -> its section of the report."""
    parts = re.split(r"^## Regime: (\S+)\n", report, flags=re.M)
    return {name: body.split("\n## ")[0] for name, body in zip(parts[1::2], parts[2::2])}


def _tables(section: str) -> dict[str, tuple[list[str], list[list[str]]]]:
    """Title (the line above the table) -> (header cells, rows of cells)."""
    lines = section.splitlines()
    tables = {}
    for i, line in enumerate(lines):
        if line.startswith("|") and i + 1 < len(lines) and lines[i + 1].startswith("|---"):
            title = next(t for t in reversed(lines[:i]) if t.strip()).strip("*")
            rows = []
            for row in lines[i + 2 :]:
                if not row.startswith("|"):
                    break
                rows.append([c.strip() for c in row.strip("|").split("|")])
            tables[title] = ([c.strip() for c in line.strip("|").split("|")], rows)
    return tables


def _test_sets(section: str) -> dict[str, dict[str, str]]:
    """Column name -> the row of the test-set table describing it."""
    header, rows = next(t for t in _tables(section).values() if t[0][0] == "column")
    return {row[0]: dict(zip(header, row)) for row in rows}


def _metric_tables(section: str) -> dict[str, tuple[list[str], list[list[str]]]]:
    return {
        title: table
        for title, table in _tables(section).items()
        if table[0][0] == "system" and title != "Training time"
    }


def _cell(section: str, title_start: str, system: str, column: str) -> float:
    header, rows = next(
        t for title, t in _metric_tables(section).items() if title.startswith(title_start)
    )
    row = next(r for r in rows if r[0] == system)
    return float(row[header.index(column)])


@needs_data
def test_both_regimes_are_reported(report):
    assert set(_regimes(report)) == {"bundled", "cross-corpus"}
    assert "Mode: fast" in report


@needs_data
def test_every_corpus_in_the_data_folder_is_scored(report):
    corpora = sorted(p.parent.name for p in DATA.glob("*/mapped.tsv"))
    assert corpora
    section = _regimes(report)["bundled"]
    test_sets = _test_sets(section)
    assert sorted(row["corpus"].strip("`") for row in test_sets.values()) == corpora
    scored = {column for header, _ in _metric_tables(section).values() for column in header[1:]}
    assert scored == set(test_sets)
    for row in test_sets.values():
        assert 0 < int(row["tested"]) <= 200  # --fast caps each test set


@needs_data
def test_every_metric_cell_is_a_share(report):
    for name, section in _regimes(report).items():
        tables = _metric_tables(section)
        assert len(tables) >= 4, name
        for title, (header, rows) in tables.items():
            assert [r[0] for r in rows] == list(SYSTEMS), title
            for row in rows:
                assert len(row) == len(header)
                for cell in row[1:]:
                    assert 0.0 <= float(cell) <= 1.0, (name, title, row)


@needs_data
def test_training_time_is_recorded_for_every_system(report):
    for section in _regimes(report).values():
        _header, rows = _tables(section)["Training time"]
        assert [r[0] for r in rows] == list(SYSTEMS)
        assert all(float(r[1]) >= 0.0 for r in rows)


@needs_data
def test_majority_baseline_follows_the_training_majority(report):
    for name, section in _regimes(report).items():
        counts_text = re.search(r"^Training rows \(\d+; ([^)]*)\)", section, flags=re.M).group(1)
        counts = {
            label: int(n) for label, n in (part.rsplit(" ", 1) for part in counts_text.split(", "))
        }
        majority = max(LABELS, key=lambda label: (counts.get(label, 0), -LABELS.index(label)))
        always_disinformation = 1.0 if majority == "disinformation" else 0.0
        assert (
            _cell(section, "Recall of disinformation", "majority", "mediaeval")
            == always_disinformation
        ), name
        _header, rows = next(
            t for title, t in _metric_tables(section).items() if title.startswith("False-positive")
        )
        majority_row = next(r for r in rows if r[0] == "majority")
        assert {float(c) for c in majority_row[1:]} == {always_disinformation}, name


@needs_data
def test_cross_corpus_never_tests_what_it_trained_on(report):
    test_sets = _test_sets(_regimes(report)["cross-corpus"])
    tested = {row["corpus"].strip("`"): row for row in test_sets.values()}
    assert not set(CROSS_TRAINING) & set(tested)
    assert tested["checkthat_subj_en"]["splits"] == "dev"
    # SemEval's training articles are largely PTC's articles: those paragraphs are left out.
    assert int(tested["semeval2023_task3_en"]["seen in training"]) > 0


def test_an_unknown_system_is_a_usage_error():
    done = _run("--systems", "credscore,nope")
    assert done.returncode == 2
    assert "nope; choose from credscore" in done.stderr


def test_a_missing_data_folder_is_one_line_of_error(tmp_path):
    done = _run("--fast", "--data", str(tmp_path / "absent"), "--out", str(tmp_path / "b.md"))
    assert done.returncode == 1
    assert (
        done.stderr.strip().splitlines()[-1]
        == f"Error: {tmp_path / 'absent'}: no such folder; pass --data DIR"
    )
    assert not (tmp_path / "b.md").exists()
