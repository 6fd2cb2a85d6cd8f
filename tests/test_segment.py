import json
from pathlib import Path

import pytest

from classifier.segment import segment

GOLDEN = Path(__file__).parent / "golden" / "segment"
CASES = sorted(GOLDEN.glob("*.txt"))


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_golden(case):
    text = case.read_bytes().decode("utf-8")  # keep \r\n as written
    expected = json.loads(case.with_suffix(".json").read_text(encoding="utf-8"))
    got = [{"start": s.start, "end": s.end, "text": s.text} for s in segment(text)]
    assert got == expected


def test_golden_folder_is_not_empty():
    assert len(CASES) >= 4


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_offsets_point_into_the_text(case):
    text = case.read_bytes().decode("utf-8")  # keep \r\n as written
    for s in segment(text):
        assert text[s.start : s.end] == s.text
        assert s.text == s.text.strip() and s.text


def test_abbreviations_do_not_split():
    text = "Sen. Smith and Gen. Lee met in the U.S. capital with Mr. Jones."
    assert [s.text for s in segment(text)] == [text]


def test_lines_always_split():
    assert [s.text for s in segment("no full stop here\nnor here")] == [
        "no full stop here",
        "nor here",
    ]


@pytest.mark.parametrize("blank", ["", "   ", "\n\n \t\n"])
def test_blank_text_has_no_segments(blank):
    assert segment(blank) == []
