import json

import pytest
from conftest import MINI_LABELS

from classifier.errors import LabelError
from training.dataset import load_dataset
from training.train import _group_splits, train


def test_group_splits_never_share_a_document():
    labels = ["reporting", "opinion", "disinformation"] * 10
    groups = [f"doc{i % 7}" for i in range(30)]
    splits = _group_splits(labels, groups, 5)
    assert len(splits) == 5
    tested = []
    for train_idx, test_idx in splits:
        assert not {groups[i] for i in train_idx} & {groups[i] for i in test_idx}
        tested += list(test_idx)
    assert sorted(tested) == list(range(30))


def test_train_writes_a_model_with_cv_metrics(tmp_path):
    data = load_dataset([MINI_LABELS])
    result = train(data, tmp_path / "m")
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert manifest == result.manifest
    assert manifest["training_data"]["rows"] == 24
    assert manifest["training_data"]["sha256"] == data.sha256
    assert manifest["training_data"]["documents"] == 4
    assert manifest["cv_metrics"]["rows"] == 24  # every row predicted once out of fold
    assert 0.0 <= result.cv_metrics.macro_f1 <= 1.0
    assert result.previous_macro_f1 is None
    again = train(data, tmp_path / "m")
    assert again.previous_macro_f1 == result.cv_metrics.macro_f1


def test_too_few_rows_of_a_label(tmp_path):
    path = tmp_path / "f.jsonl"
    path.write_text(
        "".join(
            json.dumps(
                {"text": f"row {i}", "label": "opinion" if i % 2 else "reporting", "doc": f"d{i}"}
            )
            + "\n"
            for i in range(10)
        )
    )
    with pytest.raises(LabelError, match="0 rows labelled 'disinformation'"):
        train(load_dataset([path]), tmp_path / "m")


def test_one_document_cannot_be_cross_validated(tmp_path):
    path = tmp_path / "f.jsonl"
    rows = [
        {
            "text": f"row {i}",
            "label": ["reporting", "opinion", "disinformation"][i % 3],
            "doc": "one",
        }
        for i in range(9)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(LabelError, match="at least two 'doc' values"):
        train(load_dataset([path]), tmp_path / "m")


def test_a_label_found_in_one_document_still_trains(tmp_path):
    # Like the seed documents: every disinformation row comes from the comment thread.
    rows = [
        {"text": f"Officials said {i} boats left.", "label": "reporting", "doc": f"d{i % 4}"}
        for i in range(8)
    ]
    rows += [
        {"text": f"What a shame {i} times over.", "label": "opinion", "doc": f"d{i % 4}"}
        for i in range(8)
    ]
    rows += [
        {"text": f"They lie about {i} things, wake up!", "label": "disinformation", "doc": "thread"}
        for i in range(6)
    ]
    path = tmp_path / "f.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = train(load_dataset([path]), tmp_path / "m")
    # no training fold of the thread's split has seen disinformation: grouped CV says so honestly
    assert result.cv_metrics.per_class["disinformation"].recall == 0.0
