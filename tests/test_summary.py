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


def test_sources_of_any_json_type_are_counted_and_sorted():
    # a JSONL file may give numbers, strings, lists and objects as sources, mixed
    import numpy as np

    summary = SourceSummary()
    summary.add(42, "opinion", 0.1)
    summary.add("42", "reporting", 0.2)
    summary.add([1, "a"], "disinformation", 0.9)
    summary.add({"b": 1}, None, None)
    summary.add(0, "opinion", 0.1)
    many = SourceSummary()
    labels = np.array([1, 0, 2, -1, 1])
    many.add_many(
        [42, "42", [1, "a"], {"b": 1}, 0], labels, np.array([0.1, 0.2, 0.9, 0, 0.1]), labels * 0 - 1
    )
    for rows in (summary.rows(), many.rows()):
        by_source = {r["source"]: r["rows"] for r in rows}
        assert by_source == {"42": 2, '[1, "a"]': 1, '{"b": 1}': 1, "0": 1}


def test_summary_file_has_the_summary_columns_only(tmp_path):
    import csv

    from classifier.rows import write_summary

    summary = SourceSummary()
    summary.add("a", "opinion", 0.1)
    summary.add("b", None, None)
    write_summary(summary.rows(), tmp_path / "s.csv")
    with (tmp_path / "s.csv").open(newline="") as handle:
        table = list(csv.DictReader(handle))
    assert list(table[0]) == list(summary.rows()[0])
    assert {r["source"] for r in table} == {"a", "b"} and "label" not in table[0]


def test_thread_summary_names_of_any_json_type():
    from classifier.summary import ThreadSummary

    summary = ThreadSummary()
    summary.add(1, [2], None, "opinion", 0.1)
    summary.add("1", {"x": 1}, None, "disinformation", 0.9)
    threads = summary.thread_rows()
    assert [(t["thread"], t["rows"], t["authors"]) for t in threads] == [("1", 2, 2)]
    assert {a["author"] for a in summary.author_rows()} == {"[2]", '{"x": 1}'}
