import pytest

from classifier import LABELS
from classifier.errors import InputError
from classifier.model import load_model
from classifier.score import score_text

TEXT = (
    "Officials said 40 people were evacuated on Tuesday, according to the fire department. "
    "This is a disgrace and the mayor should resign.\n"
    "WAKE UP, the floods were made by a weather weapon and the media is hiding it!"
)


@pytest.fixture(scope="module")
def bundled(bundled_model_dir):
    return load_model(bundled_model_dir)


def test_segments_scores_and_offsets(bundled):
    result = score_text(TEXT, bundled)
    assert len(result.segments) == 3
    for s in result.segments:
        assert TEXT[s.segment.start : s.segment.end] == s.segment.text
        assert sum(s.scores.values()) == pytest.approx(1.0)
        assert s.label == max(s.scores, key=s.scores.get)
        assert 0 < len(s.terms) <= 5


def test_clear_cases_rank_right(bundled):
    result = score_text(TEXT, bundled)
    report, opinion, disinfo = result.segments
    assert report.scores["reporting"] == max(s.scores["reporting"] for s in result.segments)
    assert opinion.scores["opinion"] == max(s.scores["opinion"] for s in result.segments)
    assert disinfo.scores["disinformation"] == max(
        s.scores["disinformation"] for s in result.segments
    )
    assert result.most_disinformation is disinfo


def test_summary_adds_up(bundled):
    summary = score_text(TEXT, bundled).summary()
    assert summary["segments"] == 3
    assert sum(summary["label_shares"].values()) == pytest.approx(1.0, abs=1e-3)
    assert sum(summary["scores"].values()) == pytest.approx(1.0, abs=1e-3)
    assert set(summary["label_shares"]) == set(LABELS)


def test_terms_come_from_the_segment(bundled):
    for s in score_text(TEXT, bundled).segments:
        for term, weight in s.terms:
            assert weight > 0
            assert term.startswith("[") or all(w in s.segment.text.lower() for w in term.split())


@pytest.mark.parametrize("empty", ["", "  \n\t "])
def test_empty_text_is_an_input_error(bundled, empty):
    with pytest.raises(InputError, match="no text to score"):
        score_text(empty, bundled)


def test_score_and_label_segment_judge_a_text_by_the_same_rule(bundled):
    from classifier.batch import score_rows
    from classifier.inputs import Row

    texts = [TEXT, "The council met on Monday. Officials said the vote was close.", "What a farce."]
    rows = [Row({"text": t}, t, None, f"x:{i}") for i, t in enumerate(texts)]
    records = score_rows(bundled, rows, segments=True)
    for text, record in zip(texts, records):
        document = score_text(text, bundled)
        assert record["label"] == document.label
        for label in LABELS:
            assert record["scores"][label] == pytest.approx(document.scores[label], abs=1e-6)


def test_combine_flags_a_text_with_one_disinformation_segment():
    import numpy as np

    from classifier.score import combine

    proba = np.array([[0.8, 0.1, 0.1], [0.7, 0.2, 0.1], [0.2, 0.2, 0.6]])
    label, mean = combine(proba, [100, 100, 10])
    assert label == "disinformation"
    assert mean == pytest.approx((100 * proba[0] + 100 * proba[1] + 10 * proba[2]) / 210)
    label, _ = combine(proba[:2], [1, 1])
    assert label == "reporting"


def test_score_text_decides_by_the_model_own_points_unless_told_otherwise(mini_trained_dir):
    from classifier.decisions import policy
    from classifier.model import load_model

    model = load_model(mini_trained_dir)
    text = "The council met on Monday. They lie, wake up traitors!!"
    result = score_text(text, model)
    assert result.policy == policy(model.manifest).to_dict()
    assert set(result.policy) == {"hold", "review"}
    expected = policy(model.manifest).decide_rows(
        model.predict_proba([s.segment.text for s in result.segments])
    )
    assert [s.decision for s in result.segments] == expected
    held = score_text(text, model, policy=policy(model.manifest, {"hold": 0.0}))
    assert held.decision == "hold" and held.decisions == {"hold": 2, "review": 0, "accept": 0}
    assert held.summary()["decisions"] == held.decisions
