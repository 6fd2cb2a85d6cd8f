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
    assert sum(summary["mean_scores"].values()) == pytest.approx(1.0, abs=1e-3)
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
