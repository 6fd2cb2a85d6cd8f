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
