"""score_page: the article by segment, each comment as one unit, commenters; seed 004's thread.

The golden score of seed 004 (tests/golden/seed_004_score.json) pins structure and labels,
never probabilities; regenerate it after a deliberate change (new labels, new features) with
``CREDSCORE_REGEN_GOLDEN=1 pytest tests/test_page.py`` and read the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from classifier import LABELS
from classifier.errors import InputError
from classifier.model import load_model
from classifier.page import PageScore, score_page
from classifier.structure import parse_page, parse_text_page
from classifier.summary import wilson_interval

GOLDEN = Path(__file__).parent / "golden"
SEED_004 = GOLDEN / "seeds" / "004_155efb7b8ce706ad.txt"
SEED_LABELS = Path(__file__).resolve().parents[1] / "labels" / "seeds.jsonl"
SCORE_GOLDEN = GOLDEN / "seed_004_score.json"
REGEN = os.environ.get("CREDSCORE_REGEN_GOLDEN") == "1"


def golden_json(view: dict) -> str:
    """One item a line, so that a golden file reads (and diffs) as a list."""
    parts = []
    for key, value in view.items():
        if isinstance(value, list) and value:
            items = ",\n".join("  " + json.dumps(v, ensure_ascii=False) for v in value)
            parts.append(f" {json.dumps(key)}: [\n{items}\n ]")
        else:
            parts.append(f" {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


@pytest.fixture(scope="module")
def mini(mini_model_dir):
    return load_model(mini_model_dir)


@pytest.fixture(scope="module")
def bundled(bundled_model_dir):
    return load_model(bundled_model_dir)


def _page(name: str):
    return parse_page((GOLDEN / "pages" / name).read_text(encoding="utf-8"))


def test_json_has_the_documented_shape(mini):
    data = score_page(_page("wordpress_says.txt"), mini).to_dict()
    assert list(data) == ["model", "source", "article", "thread", "comments", "commenters", "other"]
    assert set(data["article"]) == {"blocks", "segments", "summary"}
    assert list(data["comments"][0]) == [
        "author",
        "time",
        "parent",
        "text",
        "start",
        "end",
        "label",
        "scores",
        "decision",
        "segments",
    ]
    for comment in data["comments"]:  # one held sentence holds the comment
        order = ["hold", "review", "accept"]
        strictest = min((s["decision"] for s in comment["segments"]), key=order.index)
        assert comment["decision"] == strictest
    assert set(data["other"][0]) == {"kind", "reason", "text", "start", "end"}
    assert data["source"] == {"kind": "text", "offsets": "into the input text"}
    json.dumps(data)  # plain JSON types throughout


def test_comment_label_follows_the_segment_rule(mini):
    result = score_page(_page("wordpress_says.txt"), mini)
    assert [c.comment.author for c in result.comments] == ["Maria Lopez", "Tom Becker", "Dave R."]
    for c in result.comments:
        assert c.segments and c.scores is not None
        assert sum(c.scores.values()) == pytest.approx(1, abs=1e-5)
        proba = np.array([[s.scores[k] for k in LABELS] for s in c.segments])
        weights = np.array([len(s.segment.text) for s in c.segments], dtype=float)
        mean = weights @ proba / weights.sum()
        assert [c.scores[k] for k in LABELS] == pytest.approx(mean, abs=1e-6)
        if any(s.label == "disinformation" for s in c.segments):
            assert c.label == "disinformation"
        else:
            assert c.label == LABELS[int(mean.argmax())]


def test_offsets_index_the_page_and_bylines_are_not_scored(mini):
    page = _page("wordpress_says.txt")
    result = score_page(page, mini)
    segments = [s for _, s in result.article] + [s for c in result.comments for s in c.segments]
    for s in segments:
        assert page.text[s.segment.start : s.segment.end] == s.segment.text
    bylines = [b for b in page.article if b.kind == "byline"]
    assert bylines
    for b in bylines:
        assert not any(b.start <= s.segment.start < b.end for s in segments)
    skipped = [(b.start, b.end) for b in page.other]
    assert not any(a <= s.segment.start < b for s in segments for a, b in skipped)
    data = result.to_dict()
    assert [b["kind"] for b in data["article"]["blocks"]] == ["headline", "byline", "byline"] + [
        "body"
    ] * 2
    assert {s["kind"] for s in data["article"]["segments"]} == {"headline", "body"}
    assert len(data["other"]) == len(page.other)


def test_html_page_json_carries_the_text_its_offsets_index(mini):
    page = _page("wordpress.html")
    data = score_page(page, mini).to_dict()
    assert data["source"]["kind"] == "html" and data["source"]["text"] == page.text
    text = data["source"]["text"]
    for c in data["comments"]:
        assert text[c["start"] : c["end"]] == c["text"]
        for s in c["segments"]:
            assert text[s["start"] : s["end"]] == s["text"]
    assert [c["parent"] for c in data["comments"]] == [None, 0, None]


def test_commenters_roll_up(mini):
    text = (
        "The ferry resumed on Monday after repairs, the operator said.\n"
        "Ann\n3 hours ago\nGood news for the island.\n"
        "Bo\n2 hours ago\nAbout time.\n"
        "Ann\n1 hour ago\nThe morning crossing was on time today.\n"
        "Cy says:\n\n"  # a header with no text after it
        "Bo says:\nIt was late again.\n"
    )
    result = score_page(parse_text_page(text), mini)
    assert [c.comment.author for c in result.comments] == ["Ann", "Bo", "Ann", "Cy", "Bo"]
    empty = result.comments[3]
    assert (empty.label, empty.scores, empty.segments) == (None, None, ())
    rows = {r["author"]: r for r in result.commenters()}
    assert rows["Ann"]["comments"] == 2 and rows["Ann"]["comment_indexes"] == [0, 2]
    assert rows["Cy"]["scored"] == 0 and rows["Cy"]["share_disinformation"] is None
    for r in rows.values():
        labels = [result.comments[i].label for i in r["comment_indexes"]]
        scored = [label for label in labels if label is not None]
        expected = wilson_interval(scored.count("disinformation"), len(scored))
        assert r["disinformation_share_95ci"] == [round(v, 4) for v in expected]
        if scored:
            assert sum(r[f"share_{k}"] for k in LABELS) == pytest.approx(1, abs=1e-3)
    shares = [r["share_disinformation"] or 0 for r in result.commenters()]
    assert shares == sorted(shares, reverse=True)
    thread = result.thread_summary()
    assert (thread["comments"], thread["commenters"], thread["scored"]) == (5, 3, 4)


def test_a_page_of_comments_only_has_an_empty_article_summary(mini):
    result = score_page(_page("thread_only.txt"), mini)
    assert result.article == ()
    assert result.article_summary()["segments"] == 0
    assert result.to_dict()["article"]["summary"]["most_disinformation"] is None


def test_a_page_with_nothing_to_score_is_an_input_error(mini):
    with pytest.raises(InputError, match="no text to score"):
        score_page(parse_text_page("Pingback: a blog\nShare this:\n"), mini)


def test_terms_zero_lists_no_terms(mini):
    result = score_page(_page("bare_dates.txt"), mini, terms=0)
    assert all(s.terms == () for c in result.comments for s in c.segments)


# -- seed 004 with the model trained on the bundled labels --------------------------------------


def _seed_rows() -> list[dict]:
    rows = [json.loads(line) for line in SEED_LABELS.read_text(encoding="utf-8").splitlines()]
    return [r for r in rows if r["origin"] == "seed:004_155efb7b8ce706ad.txt"]


@pytest.fixture(scope="module")
def seed_score(bundled) -> PageScore:
    return score_page(parse_page(SEED_004.read_text(encoding="utf-8")), bundled)


def test_seed_004_disinformation_style_comments_are_flagged(seed_score):
    """A comment holding a sentence labels/seeds.jsonl marks disinformation is flagged, and one
    without is not."""
    rows = _seed_rows()
    for c in seed_score.comments:
        mine = [r for r in rows if r["text"] in c.comment.text]
        assert mine and all(r["source"] == c.comment.author for r in mine)
        marked = any(r["label"] == "disinformation" for r in mine)
        assert (c.label == "disinformation") == marked, (c.comment.author, c.comment.index)
    flagged = {r["author"] for r in seed_score.commenters() if r["share_disinformation"]}
    assert flagged == {"Zhduny", "Commentar", "George", "bobb"}


def _golden_view(result: PageScore) -> dict:
    """Structure and labels of a scored page; no probabilities."""
    data = result.to_dict()
    return {
        "article": [[s["kind"], s["label"], s["text"]] for s in data["article"]["segments"]],
        "comments": [
            {
                "author": c["author"],
                "time": c["time"],
                "parent": c["parent"],
                "label": c["label"],
                "segment_labels": [s["label"] for s in c["segments"]],
            }
            for c in data["comments"]
        ],
        "commenters": [
            {k: r[k] for k in ("author", "comments", "comment_indexes", "share_disinformation")}
            for r in data["commenters"]
        ],
        "other": [[b["reason"], b["text"]] for b in data["other"]],
    }


def test_seed_004_golden_score(seed_score):
    view = _golden_view(seed_score)
    if REGEN:
        SCORE_GOLDEN.write_text(golden_json(view))
    assert view == json.loads(SCORE_GOLDEN.read_text(encoding="utf-8"))
