"""Smoke test of benchmarks/speed.py: tiny sizes, checks the report's shape, never its timings."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # runs the harness: seconds, not milliseconds

REPO = Path(__file__).resolve().parents[1]
SPEED = REPO / "benchmarks" / "speed.py"
SHARED_DATA = REPO.parent / "shared" / "data"
MINI_LABELS = REPO / "tests" / "data" / "mini_labels.jsonl"
NUMBER = r"\d+(?:\.\d+)?"


def _section(doc: str, title: str) -> str:
    """The text of one ``## title`` section (up to the next ``## ``)."""
    start = doc.index(f"## {title}\n")
    end = doc.find("\n## ", start + 1)
    return doc[start : end if end != -1 else len(doc)]


def test_missing_data_folder_is_one_line(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            str(SPEED),
            "--data",
            str(tmp_path / "nowhere"),
            "--out",
            str(tmp_path / "speed.md"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "shared corpora not found" in result.stderr
    assert not (tmp_path / "speed.md").exists()


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data is not beside this clone")
def test_small_run_writes_every_section_with_numbers(tmp_path):
    out = tmp_path / "speed.md"
    result = subprocess.run(
        [
            sys.executable, str(SPEED), "--out", str(out), "--repeat", "1", "--rows", "500",
            "--train-sizes", "20", "--train-total", "300", "--scale-rows", "100",
            "--profile-rows", "200", "--labels", str(MINI_LABELS), "--chunk", "200",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    doc = out.read_text(encoding="utf-8")
    startup = _section(doc, "Start-up and cold scoring")
    for name in (
        "credscore --help",
        "import numpy",
        "import sklearn",
        "import nltk",
        "credscore score (cold)",
    ):
        assert re.search(
            rf"\| {re.escape(name)} \|.*\| {NUMBER} \| {NUMBER} \| {NUMBER} \| 1 \|", startup
        ), name
    assert re.search(rf"\| `[\w.]+` \| {NUMBER} \| {NUMBER} \|", startup)
    assert re.search(rf"\| load_model \(.*\) \| {NUMBER} \|", startup)
    training = _section(doc, "Training")
    assert re.search(rf"\| credscore train \(--labels given\) \|.*\| {NUMBER} \|", training)
    assert re.search(rf"\| credscore train \(20 rows\) \|.*\| {NUMBER} \|", training)
    assert re.search(rf"\| credscore train \(300 rows\) \|.*\| {NUMBER} \|", training)
    targets = _section(doc, "Targets (issue 15)")
    assert re.search(
        r"\| `credscore label`, one process, >= 0\.9x .* \| [\d.]+x \| (yes|\*\*no\*\*) \|", targets
    )
    assert re.search(r"\| \(what the machine allowed: .*\| [\d.]+ before the label runs, ", targets)
    scaling = _section(doc, "Scaling with input size")
    assert re.search(rf"\| 100 \| [\d,]+ \| {NUMBER} \| [\d,]+ \| {NUMBER} \|", scaling)
    assert re.search(rf"\| 500 \| [\d,]+ \| {NUMBER} \| [\d,]+ \| {NUMBER} \|", scaling)
    assert "Model.predict_proba" in _section(doc, "Where `credscore label`'s time goes")
    assert "LocalCluster" in _section(doc, "One big file on a Dask cluster")
    throughput = _section(doc, "Batch throughput")
    assert re.search(
        r"\| credscore \(Model\.predict_proba\) \| 500 \| [\d.]+ \| [\d,]+ \|", throughput
    )
    assert re.search(
        rf"\| credscore / plain TF-IDF \+ LogisticRegression \| {NUMBER} \|", throughput
    )
    assert "fastText" in throughput  # measured, or listed as skipped with its reason
    assert _section(doc, "Reading").count("\n- ") >= 3
