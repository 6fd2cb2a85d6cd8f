import json
import shutil
import warnings

import numpy as np
import pytest

from classifier.errors import ModelError
from classifier.model import (
    ModelVersionWarning,
    default_model_dir,
    load_model,
    load_pipeline,
    resolve_model_dir,
    sha256_file,
)


@pytest.fixture
def model_copy(mini_model_dir, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(mini_model_dir, folder)
    return folder


def edit_manifest(folder, **changes):
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest.update(changes)
    path.write_text(json.dumps(manifest))


def test_round_trip(model_copy):
    model = load_model(model_copy)
    proba, terms = model.predict(["The council met on Monday.", "They lie to you!!"], terms=3)
    assert proba.shape == (2, 3)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert all(len(t) <= 3 for t in terms)
    assert model.info()["sha256"] == sha256_file(model_copy / "scoring.npz")


def test_artefact_equals_the_pipeline(model_copy):
    texts = ["The council met on Monday.", "They lie to you!!", "", "x"]
    pipeline = load_pipeline(model_copy)
    classes = list(pipeline.classes_)
    expected = pipeline.predict_proba(texts)[
        :, [classes.index(label) for label in ("reporting", "opinion", "disinformation")]
    ]
    assert np.abs(load_model(model_copy).predict(texts)[0] - expected).max() < 1e-9


def test_scoring_imports_no_scikit_learn_scipy_or_joblib(mini_model_dir):
    import subprocess
    import sys

    code = (
        "import sys; from classifier.model import load_model; "
        f"m = load_model({str(mini_model_dir)!r}); m.predict(['The council met.'], terms=3); "
        "print(sorted(k for k in ('sklearn', 'nltk', 'scipy', 'joblib') if k in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("name", ["scoring.npz", "scoring.json"])
def test_tampered_artefact_is_refused(model_copy, name):
    with (model_copy / name).open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ModelError, match=f"{name}: checksum does not match its manifest"):
        load_model(model_copy)


def test_tampered_pipeline_is_refused_before_unpickling(model_copy):
    (model_copy / "model.joblib").write_bytes(b"evil")
    with pytest.raises(ModelError, match=r"model\.joblib: checksum does not match its manifest"):
        load_pipeline(model_copy)


def test_corrupt_files_with_matching_checksums_are_clean_errors(model_copy):
    for name, _message in [
        ("scoring.npz", "cannot load the scoring artefact"),
        ("model.joblib", "cannot load model"),
    ]:
        (model_copy / name).write_bytes(b"not what it should be")
        files = json.loads((model_copy / "manifest.json").read_text())["files"]
        edit_manifest(model_copy, files={**files, name: sha256_file(model_copy / name)})
    with pytest.raises(ModelError, match="cannot load the scoring artefact"):
        load_model(model_copy)
    with pytest.raises(ModelError, match="cannot load model"):
        load_pipeline(model_copy)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"format_version": 1}, "not a credscore model manifest of format 2"),
        ({"labels": ["a", "b"]}, "model labels"),
    ],
)
def test_incompatible_manifest(model_copy, change, message):
    edit_manifest(model_copy, **change)
    with pytest.raises(ModelError, match=message):
        load_model(model_copy)


def test_missing_pieces(model_copy, tmp_path):
    with pytest.raises(ModelError, match="no model here"):
        load_model(tmp_path / "nothing")
    (model_copy / "scoring.json").unlink()
    with pytest.raises(ModelError, match=r"scoring\.json: model file is missing"):
        load_model(model_copy)
    (model_copy / "manifest.json").write_text("{oops")
    with pytest.raises(ModelError, match="unreadable manifest"):
        load_model(model_copy)
    (model_copy / "manifest.json").unlink()
    with pytest.raises(ModelError, match="manifest is missing"):
        load_model(model_copy)


def test_pipeline_version_difference_warns_once(model_copy):
    manifest = json.loads((model_copy / "manifest.json").read_text())
    edit_manifest(model_copy, versions={**manifest["versions"], "scikit-learn": "0.0.1"})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_pipeline(model_copy)
        load_model(model_copy)  # the artefact does not depend on scikit-learn: no warning
    messages = [str(w.message) for w in caught if issubclass(w.category, ModelVersionWarning)]
    assert len(messages) == 1 and "scikit-learn 0.0.1" in messages[0]


def test_model_lookup_order(monkeypatch, tmp_path):
    assert resolve_model_dir() == default_model_dir()
    assert str(default_model_dir()).startswith(str(tmp_path))  # isolated by conftest
    monkeypatch.setenv("CREDSCORE_MODEL", str(tmp_path / "env"))
    assert resolve_model_dir() == tmp_path / "env"
    assert resolve_model_dir(tmp_path / "arg") == tmp_path / "arg"


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
        load_model(bundled_model_dir).predict(texts)[0]
        - _pipeline_proba(load_pipeline(bundled_model_dir), texts)
    )
    assert difference.max() < 1e-6


def test_artefact_equals_the_pipeline_on_other_corpora(bundled_model_dir):
    from conftest import shared_texts

    texts = shared_texts(300, seed=1)
    assert len(texts) >= 3000
    difference = np.abs(
        load_model(bundled_model_dir).predict(texts)[0]
        - _pipeline_proba(load_pipeline(bundled_model_dir), texts)
    )
    assert difference.max() < 1e-6
