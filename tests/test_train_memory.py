"""benchmarks/train_memory.py: the rows it builds, the section it writes, one tiny real run."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from training.dataset import load_dataset

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "benchmarks" / "train_memory.py"


def _module():
    spec = importlib.util.spec_from_file_location("train_memory", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rows_repeat_the_bundled_labels_with_variation():
    bench = _module()
    dataset = load_dataset()
    n = len(dataset.texts) + 500
    texts, labels, groups = bench.make_rows(n)
    assert len(texts) == len(labels) == len(groups) == n
    assert texts[: len(dataset.texts)] == dataset.texts  # the first copy is the labels as they are
    assert labels[len(dataset.texts) :] == dataset.labels[:500]
    varied = texts[len(dataset.texts) :]
    changed = sum(a != b for a, b in zip(varied, dataset.texts[:500]))
    assert changed > 400  # nearly every repeated row differs from its original
    assert bench.make_rows(n) == (texts, labels, groups)  # the same rows every run


def test_section_replaces_only_between_the_markers(tmp_path):
    bench = _module()
    doc = tmp_path / "reliability.md"
    doc.write_text(
        f"# Top\n\n{bench.START}\nPREVIOUS RESULTS\n{bench.END}\n\n## After\n", encoding="utf-8"
    )
    result = {
        "rows": 1000,
        "one_chunk": True,
        "text_mib": 0.1,
        "rows_mib": 40.0,
        "peak_mib": 90.0,
        "seconds": 1.5,
        "features": 1234,
    }
    bench.write_section(doc, bench.section([result], [1.0, 2.0]))
    text = doc.read_text(encoding="utf-8")
    assert text.startswith("# Top\n") and text.endswith("## After\n") and "PREVIOUS" not in text
    assert "| 1,000 | 0.1 | 1,234 | one chunk | 40 | 90 | 50 | 1.5 |" in text
    assert text.count(bench.START) == text.count(bench.END) == 1


@pytest.mark.slow
def test_a_tiny_real_run_measures_both_modes(tmp_path):
    out = tmp_path / "doc.md"
    subprocess.run(
        [sys.executable, str(SCRIPT), "--rows", "300", "--out", str(out)],
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=240,
    )
    table = [
        line for line in out.read_text(encoding="utf-8").splitlines() if line.startswith("| 300 ")
    ]
    assert [line.split("|")[4].strip() for line in table] == ["one chunk", "chunked"]
    assert all(float(line.split("|")[6]) > float(line.split("|")[5]) for line in table)
