import json
import os
import signal
import subprocess
import sys
import warnings

import numpy as np
import pytest
from conftest import edit_manifest

from classifier.errors import ModelError
from classifier.model import load_model, sha256_file
from training.export import ModelVersionWarning, load_pipeline, save_model


def test_artefact_equals_the_pipeline(model_copy):
    texts = ["The council met on Monday.", "They lie to you!!", "", "x"]
    pipeline = load_pipeline(model_copy)
    classes = list(pipeline.classes_)
    expected = pipeline.predict_proba(texts)[
        :, [classes.index(label) for label in ("reporting", "opinion", "disinformation")]
    ]
    assert np.abs(load_model(model_copy).predict_proba(texts) - expected).max() < 1e-9


def test_tampered_pipeline_is_refused_before_unpickling(model_copy):
    (model_copy / "model.joblib").write_bytes(b"evil")
    with pytest.raises(ModelError, match=r"model\.joblib: checksum does not match its manifest"):
        load_pipeline(model_copy)


def test_corrupt_pipeline_with_matching_checksum_is_a_clean_error(model_copy):
    (model_copy / "model.joblib").write_bytes(b"not what it should be")
    files = json.loads((model_copy / "manifest.json").read_text())["files"]
    edit_manifest(
        model_copy, files={**files, "model.joblib": sha256_file(model_copy / "model.joblib")}
    )
    with pytest.raises(ModelError, match="cannot load model"):
        load_pipeline(model_copy)


def test_pipeline_version_difference_warns_once(model_copy):
    manifest = json.loads((model_copy / "manifest.json").read_text())
    edit_manifest(model_copy, versions={**manifest["versions"], "scikit-learn": "0.0.1"})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_pipeline(model_copy)
        load_model(model_copy)  # the artefact does not depend on scikit-learn: no warning
    messages = [str(w.message) for w in caught if issubclass(w.category, ModelVersionWarning)]
    assert len(messages) == 1 and "scikit-learn 0.0.1" in messages[0]


def test_save_leaves_no_temporary_files(mini_model_dir):
    assert sorted(p.name for p in mini_model_dir.iterdir()) == [
        "manifest.json",
        "model.joblib",
        "scoring.json",
        "scoring.npz",
    ]


def _pipeline_proba(pipeline, texts):
    classes = list(pipeline.classes_)
    return pipeline.predict_proba(texts)[
        :, [classes.index(label) for label in ("reporting", "opinion", "disinformation")]
    ]


def test_artefact_equals_the_pipeline_on_the_bundled_labels(bundled_model_dir):
    from training.dataset import load_dataset

    texts = load_dataset().texts
    difference = np.abs(
        load_model(bundled_model_dir).predict_proba(texts)
        - _pipeline_proba(load_pipeline(bundled_model_dir), texts)
    )
    assert difference.max() < 1e-9


def test_artefact_equals_the_pipeline_on_other_corpora(bundled_model_dir):
    from conftest import shared_texts

    texts = shared_texts(300, seed=1)
    assert len(texts) >= 3000
    difference = np.abs(
        load_model(bundled_model_dir).predict_proba(texts)
        - _pipeline_proba(load_pipeline(bundled_model_dir), texts)
    )
    assert difference.max() < 1e-9


def test_an_interrupted_save_leaves_the_previous_model_loadable(model_copy, mini_model_dir):
    """SIGKILL in the middle of writing the new files: the old model is untouched."""
    before = {p.name: sha256_file(p) for p in model_copy.iterdir()}
    code = f"""
import os, signal, numpy as np
import training.export as export
from training.export import load_pipeline, save_model
pipeline = load_pipeline({str(mini_model_dir)!r})
real = np.savez
def dying(*args, **kwargs):
    real(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)
np.savez = dying
save_model(pipeline, {str(model_copy)!r}, {{"created": "new"}})
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True)
    assert done.returncode == -signal.SIGKILL
    assert {p.name: sha256_file(p) for p in model_copy.iterdir()} == before
    assert load_model(model_copy).manifest["created"] == "test"
    save_model(load_pipeline(mini_model_dir), model_copy, {"created": "again"})
    assert load_model(model_copy).manifest["created"] == "again"
    leftovers = [p.name for p in model_copy.parent.iterdir() if p.name.startswith(".copy.")]
    assert leftovers == []


def test_a_save_stopped_between_its_renames_is_recovered(model_copy, mini_model_dir):
    os.rename(model_copy, model_copy.with_name(".copy.old"))  # as if killed after the first
    save_model(load_pipeline(mini_model_dir), model_copy, {"created": "after"})
    assert load_model(model_copy).manifest["created"] == "after"
    assert not model_copy.with_name(".copy.old").exists()


def test_save_refuses_a_target_that_is_not_a_folder(tmp_path, mini_model_dir):
    target = tmp_path / "file"
    target.write_text("keep me")
    with pytest.raises(ModelError, match="exists and is not a model folder"):
        save_model(load_pipeline(mini_model_dir), target, {})
    assert target.read_text() == "keep me"


def test_the_artefact_scores_the_training_words_ahead(bundled_model_dir):
    """Every character word of the bundled labels is in the artefact's table: scoring them
    computes no word at run time (the cache stays empty), and scores stay the pipeline's."""
    from training.dataset import load_dataset

    model = load_model(bundled_model_dir)
    texts = load_dataset().texts[:500]
    model.predict_proba(texts)
    assert model.scorer.linear._cache.size == 0
    model.predict_proba(["zqxv wholly-unseen-word"])
    assert model.scorer.linear._cache.size == 2
