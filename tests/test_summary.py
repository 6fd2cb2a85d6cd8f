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


# ThreadSummary (label --thread-column --author-column --parent-column)


def _thread_summary():
    from classifier.summary import ThreadSummary

    summary = ThreadSummary()
    rows = [
        ("t1", "ann", "", "opinion", 0.1),
        ("t1", "bob", "c1", "disinformation", 0.9),
        ("t1", "bob", "c2", "disinformation", 0.8),
        ("t1", "cy", "c1", None, None),  # an error row
        ("t2", "ann", "", "reporting", 0.05),
        ("t2", "bob", "", "opinion", 0.3),
        (None, None, None, "reporting", 0.0),
    ]
    for row in rows:
        summary.add(*row)
    return summary, rows


def test_thread_summary_rolls_up_per_thread():
    from classifier.summary import NO_THREAD

    summary, _ = _thread_summary()
    threads = {r["thread"]: r for r in summary.thread_rows()}
    assert [r["thread"] for r in summary.thread_rows()] == ["t1", "t2", NO_THREAD]
    t1 = threads["t1"]
    assert (t1["rows"], t1["labelled"], t1["errors"]) == (4, 3, 1)
    assert (t1["authors"], t1["replies"], t1["disinformation_authors"]) == (3, 3, 1)
    assert t1["share_disinformation"] == pytest.approx(2 / 3, abs=1e-4)
    assert t1["mean_disinformation_score"] == pytest.approx((0.1 + 0.9 + 0.8) / 3, abs=1e-4)
    assert t1["disinformation_share_95ci"] == [round(v, 4) for v in wilson_interval(2, 3)]
    assert threads["t2"]["share_disinformation"] == 0.0 and threads["t2"]["replies"] == 0


def test_thread_summary_rolls_up_per_author():
    from classifier.summary import NO_AUTHOR

    summary, _ = _thread_summary()
    authors = summary.author_rows()
    assert [r["author"] for r in authors][:1] == ["bob"]
    bob = authors[0]
    assert (bob["rows"], bob["threads"], bob["replies"]) == (3, 2, 2)
    assert bob["share_disinformation"] == pytest.approx(2 / 3, abs=1e-4)
    by_name = {r["author"]: r for r in authors}
    assert by_name["cy"]["labelled"] == 0 and by_name["cy"]["share_disinformation"] is None
    assert by_name["cy"]["disinformation_share_95ci"] == [0.0, 1.0]
    assert by_name[NO_AUTHOR]["rows"] == 1
    assert set(summary.to_dict()) == {"threads", "authors"}


def test_thread_summary_merge_equals_one_pass():
    from classifier.summary import ThreadSummary

    whole, rows = _thread_summary()
    first, second = ThreadSummary(), ThreadSummary()
    for n, row in enumerate(rows):
        (first if n % 2 else second).add(*row)
    first.merge(second)
    assert first.to_dict() == whole.to_dict()


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
