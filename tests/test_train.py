import json

import pytest
from conftest import MINI_LABELS

from classifier import LABELS
from classifier.errors import LabelError, ModelError, OptionError
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


def test_one_document_falls_back_to_stratified_folds_unless_grouping_is_asked_for(tmp_path):
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
    data = load_dataset([path])
    result = train(data, tmp_path / "m")
    assert result.manifest["grouping"]["column"] is None
    assert "'doc' has one value" in result.manifest["grouping"]["reason"]
    assert result.manifest["cv"] == "3-fold, stratified over rows"
    with pytest.raises(LabelError, match="every row has the same 'doc'"):
        train(data, tmp_path / "m", group_by="doc")


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


def two_column_tsv(path, rows=180):
    """A labelled export as people have it: text and label, nothing else."""
    words = {
        "reporting": "Officials said {} people were evacuated on Monday, the agency reported.",
        "opinion": "Frankly, this plan is a disgrace and {} councillors should be ashamed.",
        "disinformation": "Wake up! They are hiding the truth about the {} secret chemtrails!",
    }
    lines = ["text\tlabel"]
    for i in range(rows):
        label = LABELS[i % 3]
        lines.append(f"{words[label].format(i)}\t{label}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_two_column_file_trains_with_stratified_folds(tmp_path):
    data = load_dataset([two_column_tsv(tmp_path / "export.tsv")])
    result = train(data, tmp_path / "m")
    grouping = result.manifest["grouping"]
    assert (
        grouping["column"] is None and grouping["reason"] == "no 'doc' column, no 'source' column"
    )
    assert result.manifest["cv"] == "5-fold, stratified over rows"
    assert result.cv_metrics.rows == 180
    assert result.cv_metrics.macro_f1 > 0.9  # three templates: easy, but every row out of fold
    # the hold point chosen out of fold still holds the final model's disinformation rows: its
    # threshold sits in the gap between the scores, not on the edge of the fold models' scores
    from classifier.model import load_model
    from training.evaluate import evaluate_file

    hold = {p.name: p for p in evaluate_file(load_model(result.path), data).points}["hold"]
    assert hold.threshold is not None and hold.measured["recall"] == 1.0


def test_group_by_any_column(tmp_path):
    path = tmp_path / "export.jsonl"
    rows = [
        {"text": t, "label": label, "author": f"user{i % 6}", "thread": f"t{i % 2}"}
        for i, (t, label) in enumerate(
            line.split("\t")
            for line in two_column_tsv(tmp_path / "x.tsv", 60).read_text().splitlines()[1:]
        )
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    data = load_dataset([path])
    result = train(data, tmp_path / "m", group_by="author")
    assert result.manifest["grouping"] == {
        "column": "author",
        "groups": 6,
        "reason": "--group-by",
        "rows_without_value": 0,
    }
    assert result.manifest["cv"] == "5-fold, grouped by 'author'"
    assert (
        train(data, tmp_path / "m", group_by="thread").manifest["cv"]
        == "2-fold, grouped by 'thread'"
    )
    with pytest.raises(OptionError, match=r"--group-by doc: no row of .* has a 'doc' value"):
        train(data, tmp_path / "m", group_by="doc")


def test_default_grouping_prefers_doc_then_source(tmp_path):
    from training.dataset import grouping

    path = tmp_path / "f.jsonl"
    rows = [
        {
            "text": f"row {i}",
            "label": "reporting",
            "source": f"s{i % 3}",
            "doc": "" if i < 2 else "d",
        }
        for i in range(6)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    data = load_dataset([path])
    by_doc = grouping(data)
    # two rows lack a doc: they are grouped by their file, which makes two groups
    assert (by_doc.column, by_doc.count, by_doc.missing) == ("doc", 2, 2)
    assert by_doc.groups[:2] == ("f.jsonl", "f.jsonl")
    assert "2 rows without a 'doc' value are grouped by their file" in by_doc.describe()
    path.write_text("".join(json.dumps({**r, "doc": "d"}) + "\n" for r in rows))
    by_source = grouping(load_dataset([path]))
    assert (by_source.column, by_source.count) == ("source", 3)
    assert by_source.reason == "the default: 'doc' has one value, 'source' present"


def test_training_keeps_checked_out_of_fold_arrays_and_operating_points(mini_trained_dir):
    import numpy as np

    from classifier.model import load_array, load_model

    model = load_model(mini_trained_dir)
    manifest = model.manifest
    proba, gold = load_array(model, "oof_proba.npy"), load_array(model, "oof_gold.npy")
    assert proba.shape == (24, 3) and gold.shape == (24,)
    assert np.allclose(proba.sum(axis=1), 1)
    assert [LABELS[i] for i in gold] == load_dataset([MINI_LABELS]).labels
    assert {"oof_proba.npy", "oof_gold.npy"} <= set(manifest["files"])
    assert set(manifest["operating_points"]) == {"hold", "review"}
    hold = manifest["operating_points"]["hold"]
    assert hold["label"] == "disinformation"
    assert hold["constraint"] == "maximum recall @ precision >= 0.9"
    if hold["threshold"] is not None:  # what it promises is what the arrays give
        flagged = proba[:, 2] >= hold["threshold"]
        assert hold["precision"] == round(float((gold[flagged] == 2).mean()), 4) >= 0.9
    calibration = manifest["calibration"]["per_label"]["disinformation"]
    assert sum(b["rows"] for b in calibration["bins"]) == 24
    assert 0 <= calibration["ece"] <= 1


def test_a_changed_out_of_fold_array_is_refused(mini_trained_dir, tmp_path):
    import shutil

    import numpy as np

    from classifier.model import load_array, load_model

    folder = tmp_path / "copy"
    shutil.copytree(mini_trained_dir, folder)
    proba = np.load(folder / "oof_proba.npy")
    np.save(folder / "oof_proba.npy", proba[::-1])
    model = load_model(folder)  # the scoring artefact is untouched: it still loads
    with pytest.raises(ModelError, match=r"oof_proba\.npy: checksum does not match its manifest"):
        load_array(model, "oof_proba.npy")


def test_train_tells_its_progress_stage_by_stage(tmp_path):
    from conftest import MINI_LABELS

    from training.dataset import load_dataset
    from training.train import train

    lines: list[str] = []
    train(load_dataset([MINI_LABELS]), tmp_path / "m", progress=lines.append)
    folds = [line for line in lines if line.startswith("cross-validation fold")]
    assert folds and folds[0].startswith("cross-validation fold 1 of ")
    assert lines[-2].startswith("fitting on all 24 rows") and lines[-1].startswith("saving ")
