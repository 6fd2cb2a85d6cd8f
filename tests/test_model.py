import json
import shutil
import warnings

import numpy as np
import pytest

from classifier.errors import ModelError
from classifier.model import ModelVersionWarning, default_model_dir, load_model, resolve_model_dir, sha256_file


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
    assert model.info()["sha256"] == sha256_file(model_copy / "model.joblib")


def test_tampered_model_is_refused_before_unpickling(model_copy):
    with (model_copy / "model.joblib").open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ModelError, match="checksum does not match its manifest"):
        load_model(model_copy)


def test_corrupt_model_with_matching_checksum_is_a_clean_error(model_copy):
    (model_copy / "model.joblib").write_bytes(b"not a pickle")
    edit_manifest(model_copy, model_sha256=sha256_file(model_copy / "model.joblib"))
    with pytest.raises(ModelError, match="cannot load model"):
        load_model(model_copy)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"format_version": 99}, "not a credscore model manifest"),
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
    (model_copy / "manifest.json").write_text("{oops")
    with pytest.raises(ModelError, match="unreadable manifest"):
        load_model(model_copy)
    (model_copy / "manifest.json").unlink()
    with pytest.raises(ModelError, match="manifest is missing"):
        load_model(model_copy)


def test_version_difference_warns_once(model_copy):
    manifest = json.loads((model_copy / "manifest.json").read_text())
    edit_manifest(model_copy, versions={**manifest["versions"], "scikit-learn": "0.0.1"})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_model(model_copy)
    messages = [str(w.message) for w in caught if issubclass(w.category, ModelVersionWarning)]
    assert len(messages) == 1 and "scikit-learn 0.0.1" in messages[0]


def test_model_lookup_order(monkeypatch, tmp_path):
    assert resolve_model_dir() == default_model_dir()
    assert str(default_model_dir()).startswith(str(tmp_path))  # isolated by conftest
    monkeypatch.setenv("CREDSCORE_MODEL", str(tmp_path / "env"))
    assert resolve_model_dir() == tmp_path / "env"
    assert resolve_model_dir(tmp_path / "arg") == tmp_path / "arg"


def test_save_leaves_no_temporary_files(mini_model_dir):
    assert sorted(p.name for p in mini_model_dir.iterdir()) == ["manifest.json", "model.joblib"]
