import json

import numpy as np
import pytest
from conftest import edit_manifest

from classifier import LABELS
from classifier.errors import ModelError
from classifier.model import FORMAT_VERSION, check_folder, load_array, load_model, sha256_file


def test_round_trip(model_copy):
    model = load_model(model_copy)
    texts = ["The council met on Monday.", "They lie to you!!"]
    proba = model.predict_proba(texts)
    assert proba.shape == (2, 3)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert model.predict(texts) == [LABELS[i] for i in proba.argmax(axis=1)]
    assert model.predict_proba([]).shape == (0, 3)
    assert model.info()["sha256"] == sha256_file(model_copy / "scoring.npz")


def test_scoring_imports_no_scikit_learn_scipy_or_joblib(mini_model_dir):
    import subprocess
    import sys

    code = (
        "import sys; from classifier.model import load_model; "
        "from classifier.score import score_text; "
        f"m = load_model({str(mini_model_dir)!r}); score_text('The council met.', m); "
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


@pytest.mark.parametrize(
    "change, message",
    [
        ({"format_version": 1}, f"not a credscore model manifest of format {FORMAT_VERSION}"),
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


def test_corrupt_artefact_with_matching_checksum_is_a_clean_error(model_copy):
    (model_copy / "scoring.npz").write_bytes(b"not what it should be")
    files = json.loads((model_copy / "manifest.json").read_text())["files"]
    edit_manifest(
        model_copy, files={**files, "scoring.npz": sha256_file(model_copy / "scoring.npz")}
    )
    with pytest.raises(ModelError, match="cannot load the scoring artefact"):
        load_model(model_copy)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"files": ["scoring.npz"]}, "'files' must map file names to sha256 checksums"),
        ({"files": None}, "'files' must map file names to sha256 checksums"),
        ({"files": {"../x": "0" * 64}}, "not a file of this folder"),
        ({"versions": None}, "'versions' must map library names"),
        ({"cv_metrics": [1, 2]}, "'cv_metrics' must be an object"),
        ({"training_data": "x"}, "'training_data' must be an object"),
    ],
)
def test_manifest_of_the_wrong_shape_is_refused_in_one_line(model_copy, change, message):
    edit_manifest(model_copy, **change)
    with pytest.raises(ModelError, match=message):
        load_model(model_copy)


def _rewrite_arrays(folder, **changes):
    with np.load(folder / "scoring.npz") as stored:
        arrays = {name: stored[name] for name in stored.files}
    arrays.update(changes)
    with (folder / "scoring.npz").open("wb") as handle:
        np.savez(handle, **arrays)
    files = json.loads((folder / "manifest.json").read_text())["files"]
    edit_manifest(folder, files={**files, "scoring.npz": sha256_file(folder / "scoring.npz")})
    return arrays


@pytest.mark.parametrize(
    "name, make, message",
    [
        ("coef", lambda a: a[:2], "'coef' has shape"),
        ("coef", lambda a: a.astype(np.int64), "'coef' has shape"),
        ("coef", lambda a: np.full_like(a, np.nan), "'coef' holds values that are not finite"),
        ("intercept", lambda a: a[:1], "'intercept' has shape"),
        ("idf_0", lambda a: a[:3], "differ in type or length"),
        ("char_word_keys", lambda a: a[:-1], "'char_word_keys' has shape"),
        ("char_word_keys", lambda a: a.astype(np.int64), "'char_word_keys' has shape"),
        ("char_word_values", lambda a: a.astype(np.int64), "'char_word_values' has shape"),
        ("char_word_values", lambda a: np.where(a >= 0, 0, a), "does not index each word once"),
        ("char_word_sums", lambda a: a[:2], "'char_word_sums' has shape"),
        ("char_word_sums", lambda a: a.T.copy(), "'char_word_sums' has shape"),
        ("char_word_squares", lambda a: a.astype(np.float32), "'char_word_squares' has shape"),
        ("char_word_squares", lambda a: -a, "not finite numbers"),
    ],
)
def test_artefact_arrays_of_the_wrong_shape_or_values_are_refused(model_copy, name, make, message):
    with np.load(model_copy / "scoring.npz") as stored:
        original = stored[name]
    _rewrite_arrays(model_copy, **{name: make(original)})
    with pytest.raises(ModelError, match=message):
        load_model(model_copy)


def test_a_missing_character_word_table_is_refused(model_copy):
    with np.load(model_copy / "scoring.npz") as stored:
        arrays = {name: stored[name] for name in stored.files if name != "char_word_sums"}
    with (model_copy / "scoring.npz").open("wb") as handle:
        np.savez(handle, **arrays)
    files = json.loads((model_copy / "manifest.json").read_text())["files"]
    edit_manifest(
        model_copy, files={**files, "scoring.npz": sha256_file(model_copy / "scoring.npz")}
    )
    with pytest.raises(ModelError, match=r"scoring\.npz: 'char_word_sums' is missing; retrain"):
        load_model(model_copy)


def test_check_folder_checks_the_pickle_too_without_loading_it(model_copy):
    assert check_folder(model_copy)["files"]
    (model_copy / "model.joblib").write_bytes(b"evil")
    with pytest.raises(ModelError, match=r"model\.joblib: checksum does not match"):
        check_folder(model_copy)
    (model_copy / "model.joblib").unlink()
    with pytest.raises(ModelError, match=r"model\.joblib: model file is missing"):
        check_folder(model_copy)


def test_a_symlinked_model_folder_is_resolved_once(model_copy, tmp_path):
    link = tmp_path / "current"
    link.symlink_to(model_copy)
    model = load_model(link)
    assert model.path == model_copy.resolve()


def test_extra_arrays_are_checked_before_use(model_copy):
    np.save(model_copy / "extra.npy", np.arange(3.0), allow_pickle=False)
    files = json.loads((model_copy / "manifest.json").read_text())["files"]
    edit_manifest(model_copy, files={**files, "extra.npy": sha256_file(model_copy / "extra.npy")})
    model = load_model(model_copy)
    assert load_array(model, "extra.npy").tolist() == [0.0, 1.0, 2.0]
    np.save(model_copy / "extra.npy", np.arange(4.0), allow_pickle=False)
    with pytest.raises(ModelError, match=r"extra\.npy: checksum does not match"):
        load_array(model, "extra.npy")
    with pytest.raises(ModelError, match=r"lists no checksum for other\.npy"):
        load_array(model, "other.npy")
