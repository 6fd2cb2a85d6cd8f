import pytest

from classifier.summary import NO_SOURCE, SourceSummary, wilson_interval


def test_wilson_interval():
    low, high = wilson_interval(0, 10)
    assert low == 0.0 and 0.2 < high < 0.35
    low, high = wilson_interval(5, 10)
    assert low < 0.5 < high and low == pytest.approx(1 - high)
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_rows_per_source_sorted_by_disinformation_share():
    summary = SourceSummary()
    for label, score in [("reporting", 0.1), ("disinformation", 0.9)]:
        summary.add("a", label, score)
    summary.add("b", "disinformation", 0.8)
    summary.add("b", None, None)
    summary.add(None, "opinion", 0.2)
    rows = summary.rows()
    assert [r["source"] for r in rows] == ["b", "a", NO_SOURCE]
    b = rows[0]
    assert (b["rows"], b["labelled"], b["errors"], b["share_disinformation"]) == (2, 1, 1, 1.0)
    assert rows[1]["mean_disinformation_score"] == pytest.approx(0.5)
    assert sum(
        rows[1][f"share_{label}"] for label in ("reporting", "opinion", "disinformation")
    ) == pytest.approx(1)


def test_held_and_reviewed_rows_per_source():
    summary = SourceSummary()
    summary.add("a", "disinformation", 0.95, "hold")
    summary.add("a", "disinformation", 0.7, "review")
    summary.add("a", "opinion", 0.4, "review")
    summary.add("a", "reporting", 0.1, "accept")
    summary.add("a", None, None)
    other = SourceSummary()
    other.add("a", "disinformation", 0.99, "hold")
    summary.merge(other)
    (row,) = summary.rows()
    assert (row["rows"], row["errors"], row["held"], row["reviewed"]) == (6, 1, 2, 2)
