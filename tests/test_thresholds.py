import numpy as np
import pytest

from classifier.decisions import policy
from classifier.errors import ModelError, OptionError
from training.thresholds import (
    check_oof,
    choose,
    operating_point,
    parse_constraint,
    parse_set,
    point_metrics,
    threshold_table,
    update_points,
)

# Ten rows by hand: disinformation scores and whether the row is disinformation.
SCORES = np.array([0.95, 0.9, 0.85, 0.8, 0.7, 0.6, 0.5, 0.4, 0.2, 0.1])
POSITIVE = np.array([1, 1, 1, 0, 1, 0, 1, 0, 0, 0], dtype=bool)


def proba_of(scores):
    rest = (1 - scores) / 2
    return np.column_stack([rest, rest, scores])


GOLD = np.where(POSITIVE, 2, 0).astype(np.int8)


@pytest.mark.parametrize(
    "text, canonical",
    [
        ("maximum recall @ precision >= 0.9", "maximum recall @ precision >= 0.9"),
        ("  maximum   filter_rate@recall>=.9 ", "maximum filter_rate @ recall >= 0.9"),
        ("minimum fpr @ recall >= 0.75", "minimum fpr @ recall >= 0.75"),
        ("maximum precision @ match_rate <= 0.02", "maximum precision @ match_rate <= 0.02"),
    ],
)
def test_constraints_parse_to_a_canonical_form(text, canonical):
    assert str(parse_constraint(text)) == canonical


@pytest.mark.parametrize(
    "text",
    [
        "max recall @ precision >= 0.9",
        "maximum accuracy @ precision >= 0.9",
        "maximum recall @ precision > 0.9",
        "maximum recall @ precision >= 1.5",
        "maximum recall precision >= 0.9",
        "maximum recall @ precision >= 0.9 please",
        "",
    ],
)
def test_bad_constraints_are_option_errors(text):
    with pytest.raises(OptionError, match="is not a constraint"):
        parse_constraint(text)


def test_the_table_by_hand():
    table = threshold_table(SCORES, POSITIVE, label="disinformation")
    at = dict(zip(table.thresholds.tolist(), range(len(table.thresholds))))
    # t = 0.8 flags 0.95, 0.9, 0.85, 0.8: 3 of them positive, 5 positives, 5 negatives
    row = table.at(at[0.8])
    assert row == {
        "precision": 0.75,
        "recall": 0.6,
        "filter_rate": 0.6,
        "match_rate": 0.4,
        "fpr": 0.2,
    }
    assert table.at(at[0.0])["match_rate"] == 1.0 and table.at(at[0.0])["recall"] == 1.0
    assert table.at(at[0.96])["precision"] is None  # nothing flagged: undefined, not 0
    assert table.at(at[0.96])["recall"] == 0.0


def test_choose_takes_the_best_threshold_that_meets_the_constraint():
    table = threshold_table(SCORES, POSITIVE, label="disinformation")

    def chosen(text):
        return float(table.thresholds[choose(table, parse_constraint(text))])

    # precision is 1 while only the top three rows are flagged (thresholds above 0.8 up to
    # 0.85), then 0.75: the point flags those three, with its threshold halfway across the gap
    # between the lowest score flagged (0.85) and the highest let through (0.8)
    assert chosen("maximum recall @ precision >= 0.9") == 0.825
    assert chosen("maximum recall @ precision >= 0.7") == 0.45  # 5 of 7 flagged: recall 1
    assert chosen("maximum filter_rate @ recall >= 0.8") == 0.65  # flags 5 rows, 4 positives
    assert chosen("maximum recall @ fpr <= 0.0") == 0.825
    assert chosen("minimum fpr @ recall >= 1") == 0.45


def test_of_equally_good_thresholds_the_fewest_rows_flagged_win():
    # recall is 1 from 0 up to 0.6, but thresholds above 0.3 flag fewer negatives
    scores = np.array([0.9, 0.6, 0.3, 0.1])
    positive = np.array([True, True, False, False])
    table = threshold_table(scores, positive, label="disinformation")
    index = choose(table, parse_constraint("maximum recall @ recall >= 0.5"))
    assert table.thresholds[index] == 0.45 and table.at(index)["precision"] == 1.0


def test_an_unmet_constraint_leaves_the_point_unset():
    # the top row is a negative and precision never passes 0.5 below it
    rows = slice(3, None)
    unmet = operating_point(
        "hold",
        "disinformation",
        "maximum recall @ precision >= 0.9",
        proba_of(SCORES[rows]),
        GOLD[rows],
    )
    assert unmet.threshold is None and unmet.precision is None and unmet.recall is None
    assert unmet.constraint == "maximum recall @ precision >= 0.9"
    assert (
        policy({"operating_points": {"hold": unmet.to_dict()}}).decide(
            {"reporting": 0.0, "opinion": 0.0, "disinformation": 1.0}
        )
        == "accept"
    )
    met = operating_point(
        "hold", "disinformation", "maximum recall @ precision >= 0.9", proba_of(SCORES), GOLD
    )
    assert (met.threshold, met.precision, met.recall, met.filter_rate) == (0.825, 1.0, 0.6, 0.7)


def test_a_fixed_threshold_reports_what_it_achieves():
    point = operating_point("review", "disinformation", 0.8, proba_of(SCORES), GOLD)
    assert (point.threshold, point.precision, point.recall, point.filter_rate) == (
        0.8,
        0.75,
        0.6,
        0.6,
    )
    assert point.constraint == "fixed threshold 0.8"


def test_point_metrics_at_one_threshold():
    m = point_metrics(SCORES, POSITIVE, 0.7)
    assert m == {"flagged": 5, "precision": 0.8, "recall": 0.8, "filter_rate": 0.5, "fpr": 0.2}
    assert point_metrics(SCORES, POSITIVE, None)["flagged"] == 0
    assert point_metrics(SCORES, np.zeros(10, dtype=bool), 0.7)["recall"] is None


@pytest.mark.parametrize(
    "value, parsed",
    [
        ("hold=0.93", ("hold", 0.93)),
        (
            "review=maximum recall @ precision >= 0.5",
            ("review", "maximum recall @ precision >= 0.5"),
        ),
    ],
)
def test_set_values(value, parsed):
    assert parse_set(value) == parsed


@pytest.mark.parametrize("value", ["hold", "keep=0.5", "hold=1.5", "hold=most recall"])
def test_bad_set_values(value):
    with pytest.raises(OptionError):
        parse_set(value)


def test_update_points_keeps_the_rest_of_the_manifest():
    manifest = {
        "files": {"x": "y"},
        "operating_points": {"review": {"label": "disinformation", "threshold": 0.1}},
    }
    updated = update_points(manifest, {"hold": 0.9}, proba_of(SCORES), GOLD)
    assert updated["files"] == {"x": "y"}
    assert updated["operating_points"]["review"] == {"label": "disinformation", "threshold": 0.1}
    assert updated["operating_points"]["hold"]["threshold"] == 0.9
    assert list(updated["operating_points"]) == ["hold", "review"]
    assert manifest["operating_points"].keys() == {"review"}  # the input is not changed


def test_out_of_fold_arrays_are_checked():
    proba, _ = check_oof(proba_of(SCORES), GOLD, "m")
    assert proba.shape == (10, 3)
    with pytest.raises(ModelError, match="out-of-fold arrays"):
        check_oof(proba_of(SCORES), GOLD[:5], "m")
    with pytest.raises(ModelError, match="out-of-fold arrays"):
        check_oof(proba_of(SCORES), GOLD + 5, "m")
