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
    done = _run("--fast", "--systems", ",".join(SYSTEMS), "--no-decisions", "--out", str(out))
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


def _accuracy_module():
    sys.path.insert(0, str(REPO / "benchmarks"))
    import accuracy

    return accuracy


def test_decision_measures_by_hand():
    import numpy as np

    accuracy = _accuracy_module()
    d = np.array([0.95, 0.85, 0.6, 0.3, 0.1])
    proba = np.column_stack([1 - d, np.zeros(5), d])
    gold = ["disinformation", "reporting", "disinformation", "not_disinformation", "reporting"]
    points = {"hold": {"threshold": 0.8}, "review": {"threshold": 0.5}, "off": {"threshold": None}}
    m = accuracy._decision_measures(proba, gold, points)
    # hold flags 0.95 (disinformation) and 0.85 (reporting); review adds 0.6 (disinformation)
    assert m["hold"] == {"honest_flagged": 1 / 3, "precision": 0.5, "recall": 0.5}
    assert m["review"] == {"honest_flagged": 1 / 3, "precision": 2 / 3, "recall": 1.0}
    assert m["off"]["honest_flagged"] == 0.0 and m["off"]["precision"] is None
    assert (m["high_rows"], m["high_right"]) == (2, 0.5)
    only_news = accuracy._decision_measures(proba[[1, 4]], ["reporting", "opinion"], points)
    assert only_news["hold"]["precision"] is None and only_news["hold"]["recall"] is None


def test_the_report_keeps_other_scripts_sections():
    accuracy = _accuracy_module()
    kept = "<!-- calibration.py: start -->\n## Calibration\n\nnumbers\n<!-- calibration.py: end -->"
    old = "# Accuracy benchmarks\n\nold numbers\n\n" + kept + "\n"
    new = accuracy.keep_sections(old, "# Accuracy benchmarks\n\nnew numbers\n")
    assert new == "# Accuracy benchmarks\n\nnew numbers\n\n" + kept + "\n"
    assert accuracy.keep_sections(new, new) == new  # not carried over twice


@needs_data
def test_the_decisions_section(tmp_path):
    out = tmp_path / "d.md"
    done = _run("--fast", "--systems", "majority", "--regimes", "cross-corpus", "--out", str(out))
    assert done.returncode == 0, done.stderr
    report = out.read_text(encoding="utf-8")
    section = report.split("## Moderation decisions: hold and review\n", 1)[1].split("\n## ")[0]
    tables = _tables(section)
    promised = next(t for t in tables.values() if t[0][0] == "point" and "constraint" in t[0])
    assert [r[0] for r in promised[1]] == ["hold", "review"]
    shares = next(t for title, t in tables.items() if title.startswith("Share of the reporting"))
    for row in shares[1]:
        assert all(c == "n/a" or 0.0 <= float(c) <= 1.0 for c in row[1:])
    assert "Hold target (at most 2% of the reporting and opinion rows held)" in section
