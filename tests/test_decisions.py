import numpy as np
import pytest

from classifier.decisions import Policy, parse_overrides, policy, strictest
from classifier.errors import ModelError, OptionError

MANIFEST = {
    "operating_points": {
        "hold": {
            "label": "disinformation",
            "threshold": 0.9,
            "constraint": "maximum recall @ precision >= 0.9",
        },
        "review": {
            "label": "disinformation",
            "threshold": 0.6,
            "constraint": "maximum recall @ precision >= 0.6",
        },
    }
}


def scores(d):
    return {"reporting": (1 - d) / 2, "opinion": (1 - d) / 2, "disinformation": d}


@pytest.mark.parametrize(
    "d, decision",
    [(0.95, "hold"), (0.9, "hold"), (0.7, "review"), (0.6, "review"), (0.2, "accept")],
)
def test_the_strictest_point_reached_decides(d, decision):
    rule = policy(MANIFEST)
    assert rule.decide(scores(d)) == decision
    proba = np.array([[scores(d)[k] for k in ("reporting", "opinion", "disinformation")]])
    assert rule.decide_rows(proba) == [decision]


def test_an_unset_point_never_fires_and_no_points_accept_everything():
    rule = policy({"operating_points": {"hold": {"label": "disinformation", "threshold": None}}})
    assert rule.decide(scores(1.0)) == "accept"
    assert Policy().decide(scores(1.0)) == "accept"


def test_overrides_apply_for_one_run():
    rule = policy(MANIFEST, parse_overrides(["hold=0.99"]))
    assert rule.decide(scores(0.95)) == "review"
    assert policy({}, {"review": 0.5}).decide(scores(0.55)) == "review"


@pytest.mark.parametrize("value", ["hold", "hold=2", "keep=0.5", "review=x"])
def test_bad_overrides_are_usage_errors(value):
    with pytest.raises(OptionError, match="--threshold"):
        parse_overrides([value])


def test_a_malformed_point_is_a_model_error():
    with pytest.raises(ModelError, match="operating point 'hold'"):
        policy({"operating_points": {"hold": {"label": "spam", "threshold": 0.5}}})
    with pytest.raises(ModelError, match="not in \\[0, 1\\]"):
        policy({"operating_points": {"hold": {"label": "disinformation", "threshold": 7}}})


def test_a_text_takes_the_strictest_decision_of_its_segments():
    assert strictest(["accept", "review", "accept"]) == "review"
    assert strictest(["review", "hold"]) == "hold"
    assert strictest([]) == "accept"


def test_describe_the_rule():
    assert (
        policy(MANIFEST).describe() == "hold: disinformation >= 0.9; review: disinformation >= 0.6"
    )
    unset = {"operating_points": {"hold": {"label": "disinformation", "threshold": None}}}
    assert policy(unset).describe() == "hold: unset"
