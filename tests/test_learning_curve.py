"""benchmarks/learning_curve.py: its report section, and a clear skip without the corpora."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from learning_curve import END, START, replace_section  # noqa: E402


def test_the_section_is_appended_once_then_replaced():
    section = f"{START}\nnew\n{END}\n"
    first = replace_section("# Benchmarks\n\nkept text\n", section)
    assert first == f"# Benchmarks\n\nkept text\n\n{section}"
    again = replace_section(first.replace("new", "old") + "after\n", section)
    assert again == f"# Benchmarks\n\nkept text\n\n{section}after\n"


def test_skips_with_a_clear_message_without_the_corpora(tmp_path):
    out = tmp_path / "b.md"
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "learning_curve.py"),
         "--data", str(tmp_path / "none"), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0
    assert (
        done.stderr.strip()
        == f"skipped: {tmp_path / 'none'} not found (the shared corpora); pass --data DIR"
    )
    assert not out.exists()
