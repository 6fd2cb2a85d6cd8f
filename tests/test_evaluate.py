import pytest
from conftest import MINI_LABELS

from classifier.model import load_model
from training.dataset import load_dataset
from training.evaluate import compute_metrics, evaluate


def test_metrics_by_hand():
    gold = ["reporting", "reporting", "opinion", "opinion", "disinformation", "disinformation"]
    pred = ["reporting", "opinion", "opinion", "opinion", "disinformation", "reporting"]
    m = compute_metrics(gold, pred)
    # reporting: P 1/2 R 1/2; opinion: P 2/3 R 1; disinformation: P 1 R 1/2
    assert m.per_class["reporting"].f1 == pytest.approx(0.5)
    assert m.per_class["opinion"].f1 == pytest.approx(0.8)
    assert m.per_class["disinformation"].f1 == pytest.approx(0.6667, abs=1e-4)
    assert m.macro_f1 == pytest.approx((0.5 + 0.8 + 0.6667) / 3, abs=1e-4)
    assert m.accuracy == pytest.approx(4 / 6, abs=1e-4)
    assert m.confusion == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]


def test_macro_f1_averages_only_labels_present_in_gold():
    m = compute_metrics(["reporting", "opinion"], ["reporting", "disinformation"])
    assert m.per_class["disinformation"].support == 0
    assert m.macro_f1 == pytest.approx(0.5)


def test_evaluate_a_model_on_its_training_rows(mini_model_dir):
    data = load_dataset([MINI_LABELS])
    metrics = evaluate(load_model(mini_model_dir), data)
    assert metrics.rows == 24
    assert sum(map(sum, metrics.confusion)) == 24
    assert metrics.macro_f1 > 0.8  # it has seen these rows


def test_calibration_by_hand():
    import numpy as np

    from training.evaluate import compute_calibration

    # four rows: disinformation scores 0.95, 0.85, 0.15, 0.05; the first and third are
    # disinformation, the others reporting
    d = np.array([0.95, 0.85, 0.15, 0.05])
    proba = np.column_stack([1 - d, np.zeros(4), d])
    gold = ["disinformation", "reporting", "disinformation", "reporting"]
    c = compute_calibration(gold, proba).per_label["disinformation"]
    # Brier: (0.05^2 + 0.85^2 + 0.85^2 + 0.05^2) / 4
    assert c.brier == pytest.approx((0.0025 + 0.7225 + 0.7225 + 0.0025) / 4, abs=1e-4)
    # bin [0.9, 1): one row, mean 0.95, observed 1; [0.8, 0.9): 0.85 vs 0; [0.1, 0.2): 0.15 vs 1;
    # [0, 0.1): 0.05 vs 0. ECE = (0.05 + 0.85 + 0.85 + 0.05) / 4
    assert c.ece == pytest.approx(0.45, abs=1e-4)
    bins = {b.low: b for b in c.bins}
    assert len(c.bins) == 10 and sum(b.rows for b in c.bins) == 4
    assert (bins[0.9].rows, bins[0.9].mean_score, bins[0.9].observed) == (1, 0.95, 1.0)
    assert (bins[0.1].mean_score, bins[0.1].observed) == (0.15, 1.0)
    assert bins[0.5].rows == 0 and bins[0.5].mean_score is None
    # a score of exactly 1 belongs to the last bin
    top = compute_calibration(["opinion"], np.array([[0.0, 1.0, 0.0]])).per_label["opinion"]
    assert top.bins[-1].rows == 1 and top.ece == 0.0 and top.brier == 0.0


def test_a_perfectly_calibrated_score_has_no_calibration_error():
    import numpy as np

    from training.evaluate import compute_calibration

    # eight rows scoring 0.25, two of them (a quarter) disinformation
    d = np.full(8, 0.25)
    gold = ["disinformation"] * 2 + ["reporting"] * 6
    proba = np.column_stack([1 - d, np.zeros(8), d])
    assert compute_calibration(gold, proba).per_label["disinformation"].ece == 0.0


def test_evaluate_file_checks_the_operating_points_and_the_gate(mini_trained_dir):
    from classifier.decisions import policy
    from training.evaluate import evaluate_file, gate_failures

    data = load_dataset([MINI_LABELS])
    model = load_model(mini_trained_dir)
    rule = policy(model.manifest, {"hold": 0.0, "review": 1.0})
    evaluation = evaluate_file(model, data, rule=rule)
    hold = {p.name: p for p in evaluation.points}["hold"]
    # a threshold of 0 holds every row: precision is the share of disinformation rows
    assert hold.measured["flagged"] == 24
    assert hold.measured["precision"] == pytest.approx(8 / 24, abs=1e-4)
    assert hold.measured["recall"] == 1.0 and hold.measured["filter_rate"] == 0.0
    assert evaluation.calibration.rows == 24
    assert gate_failures(evaluation, min_macro_f1=0.5) == []
    assert gate_failures(evaluation, min_macro_f1=1.01) == [
        f"macro-F1 {evaluation.metrics.macro_f1:.3f} is below 1.01"
    ]
    failures = gate_failures(evaluation, min_precision={"hold": 0.9})
    assert failures == ["'hold' precision 0.333 (threshold 0) is below 0.9"]
    assert gate_failures(evaluation, min_precision={"hold": 0.3}) == []
    unflagged = evaluate_file(model, data, rule=policy({}, {"hold": 1.0}))
    assert "flags no row" in gate_failures(unflagged, min_precision={"hold": 0.5})[0]
