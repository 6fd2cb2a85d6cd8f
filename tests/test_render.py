import json

from classifier.model import load_model
from classifier.render import render_info, render_json, render_table
from classifier.score import score_text
from training.evaluate import compute_metrics
from training.render import render_metrics


def test_json_has_the_documented_shape(mini_model_dir):
    result = score_text("The council met. What a farce!", load_model(mini_model_dir))
    data = json.loads(render_json(result))
    assert set(data) == {"model", "policy", "segments", "summary"}
    segment = data["segments"][0]
    assert set(segment) == {"text", "start", "end", "label", "scores", "decision", "terms"}
    assert set(segment["scores"]) == {"reporting", "opinion", "disinformation"}
    assert data["summary"]["decisions"] == {"hold": 0, "review": 0, "accept": 2}


def test_table_shows_every_segment_and_the_summary(mini_model_dir):
    result = score_text("The council met.\nWhat a farce!", load_model(mini_model_dir))
    table = render_table(result)
    assert "The council met." in table and "What a farce!" in table
    assert "Summary: 2 segments" in table and "Most disinformation-like" in table
    # the mini model has no operating points: every segment is accepted, and the table says why
    assert "Decisions: 0 hold, 0 review, 2 accept (no operating points" in table


def test_table_shows_each_decision_and_the_rule(mini_model_dir):
    from classifier.decisions import policy

    rule = policy({}, {"hold": 0.0})
    result = score_text("The council met.\nWhat a farce!", load_model(mini_model_dir), policy=rule)
    table = render_table(result)
    assert table.splitlines()[0].endswith("  hold")
    assert "decision: hold" in table
    assert "Decisions: 2 hold, 0 review, 0 accept (hold: disinformation >= 0)" in table


def test_metrics_table():
    text = render_metrics(
        compute_metrics(["opinion", "reporting"], ["opinion", "opinion"]).to_dict(), title="T"
    )
    assert text.splitlines()[0] == "T"
    assert "macro-F1" in text and "confusion" in text


def test_info_lists_the_manifest(mini_model_dir):
    text = render_info(load_model(mini_model_dir).manifest, "somewhere")
    assert "model: somewhere" in text and "scikit-learn" in text


def test_wrap_fills_lines_as_textwrap_does_for_prose():
    import textwrap

    from classifier.render import wrap

    text = ("Officials said 40 people were evacuated on Tuesday after the river rose. " * 9).strip()
    for width in (20, 40, 88):
        assert wrap(text, width, indent="    ") == textwrap.wrap(
            text, width, initial_indent="    ", subsequent_indent="    "
        )
    assert wrap("a " + "x" * 50, 20) == ["a", "x" * 50]
    assert wrap("   ", 20) == []
