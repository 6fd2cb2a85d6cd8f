"""A fitted pipeline -> a model folder on disk, and back to the pipeline (the reference).

The scoring artefact (``scoring.npz`` + ``scoring.json``) holds what scoring needs as plain
arrays and JSON; ``model.joblib`` holds the fitted scikit-learn pipeline; ``manifest.json`` the
checksums and training facts (see :mod:`classifier.model` for how a folder is checked). This
module is the only one that reads scikit-learn's fitted internals or writes and reads pickles.

A model folder is saved as a whole: every file is written into a hidden staging folder beside
the target, which then takes the target's place, so an interrupted save leaves the previous
model as it was, never its manifest beside another model's arrays.
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from pathlib import Path
from typing import Any

from classifier import LABELS, __version__
from classifier.errors import ModelError
from classifier.model import (
    FORMAT_VERSION,
    MANIFEST_FILE,
    MODEL_FILE,
    SCORING_ARRAYS,
    SCORING_PARAMS,
    checked_file,
    read_manifest,
    sha256_file,
)


class ModelVersionWarning(UserWarning):
    """The pipeline was written by other library versions than the ones running."""


def library_versions() -> dict[str, str]:
    """Versions of the libraries a pickled model depends on."""
    import joblib
    import numpy
    import sklearn

    return {
        "credscore": __version__,
        "scikit-learn": sklearn.__version__,
        "joblib": joblib.__version__,
        "numpy": numpy.__version__,
    }


def scoring_artefact(pipeline: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The arrays and parameters that score exactly as ``pipeline`` does, without it.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        ``features`` (a :class:`training.features.PipelineFeaturizer`, or an
        :class:`~training.features.EmbeddedFeaturizer` around one, whose block's coefficients
        go to ``embedding_coef``), then ``classifier`` (a
        ``CalibratedClassifierCV`` with sigmoid calibration, ``ensemble=False``, over a linear
        model).

    Returns
    -------
    (dict of ndarray, dict)
        Arrays for ``scoring.npz`` and JSON parameters for ``scoring.json``.
    """
    from classifier.segment import segmenter_params

    calibrated = pipeline.named_steps["classifier"].calibrated_classifiers_[0]
    classes = [str(c) for c in calibrated.estimator.classes_]
    order = [classes.index(label) for label in LABELS]
    features = pipeline.named_steps["features"]
    spec = getattr(features, "spec", None)  # an EmbeddedFeaturizer's embedding block
    tfidf = features.featurizer if spec is not None else features
    arrays, featurizer = tfidf.to_arrays()
    coef = calibrated.estimator.coef_[order]
    arrays.update(
        coef=coef[:, : tfidf.n_features],
        intercept=calibrated.estimator.intercept_[order],
        calibration_a=[float(calibrated.calibrators[i].a_) for i in order],
        calibration_b=[float(calibrated.calibrators[i].b_) for i in order],
    )
    params = {"labels": list(LABELS), "featurizer": featurizer, "segmenter": segmenter_params()}
    if spec is not None:
        arrays["embedding_coef"] = coef[:, tfidf.n_features :]
        params["embedding"] = spec.to_params()
    arrays.update(char_word_arrays(tfidf, arrays["coef"]))
    return arrays, params


def char_word_arrays(features: Any, coef: Any) -> dict[str, Any]:
    """The artefact's character-word table: each character word of the training text (its
    most frequent, :data:`training.features.FREQUENT_WORDS`) and of the word vocabulary with
    its character n-grams' sums computed ahead, so scoring looks words up instead of n-grams.

    Parameters
    ----------
    features : training.features.PipelineFeaturizer
        Fitted.
    coef : ndarray of shape (n_classes, n_features)
        In :data:`classifier.LABELS` order.

    Returns
    -------
    dict of ndarray
        The ``char_word_*`` arrays; none when the featurizer has no character block.
    """
    import numpy as np

    from classifier.features import LinearScorer

    if not features.char_ngrams:
        return {}
    words = list(getattr(features, "frequent_words_", []))
    words += [name for name in features.word_names_ if " " not in name]
    scorer = LinearScorer(features, np.asarray(coef), np.zeros(len(coef)))
    return scorer.char_words_of(words).to_arrays()


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_files(
    pipeline: Any, folder: Path, manifest: dict[str, Any], extra: dict[str, Any]
) -> dict[str, Any]:
    """Every file of a model into the empty ``folder``; the manifest as written."""
    import joblib
    import numpy as np

    arrays, params = scoring_artefact(pipeline)
    with (folder / SCORING_ARRAYS).open("wb") as handle:
        np.savez(handle, **arrays)  # uncompressed: loading it is faster than inflating it
    _write_json(folder / SCORING_PARAMS, params)
    joblib.dump(pipeline, folder / MODEL_FILE, compress=3)
    names = [SCORING_ARRAYS, SCORING_PARAMS, MODEL_FILE]
    for name, array in extra.items():
        with (folder / name).open("wb") as handle:
            np.save(handle, np.asarray(array), allow_pickle=False)
        names.append(name)
    full = {
        "format_version": FORMAT_VERSION,
        "versions": library_versions(),
        "labels": list(LABELS),
        "files": {name: sha256_file(folder / name) for name in names},
        **manifest,
    }
    _write_json(folder / MANIFEST_FILE, full)
    for path in folder.iterdir():
        with path.open("rb") as handle:
            os.fsync(handle.fileno())
    return full


def _staging(folder: Path, role: str) -> Path:
    return folder.with_name(f".{folder.name}.{role}")


def recover_interrupted_save(folder: str | Path) -> None:
    """Put back the previous model of a save that was stopped between its two renames."""
    folder = Path(folder)
    old = _staging(folder, "old")
    if old.is_dir() and not folder.exists():
        os.rename(old, folder)


def save_model(
    pipeline: Any,
    folder: str | Path,
    manifest: dict[str, Any],
    *,
    arrays: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write the scoring artefact, ``pipeline`` and the manifest into ``folder``, as a whole.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        The fitted pipeline (``features`` then ``classifier``).
    folder : str or Path
        Created if missing; a model already there is replaced only once the new one is
        complete (written into ``.NAME.new`` beside it, then renamed into place).
    manifest : dict
        Training facts (data hash, metrics...); format, versions, labels, checksums and file
        names are added here.
    arrays : dict of array-like, optional
        Extra plain arrays to keep beside the model (``name.npy``), checksummed like the rest.

    Returns
    -------
    dict
        The manifest as written.

    Raises
    ------
    ModelError
        ``folder`` exists and is not a folder.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ModelError(f"{folder}: exists and is not a model folder; choose another --output")
    folder.parent.mkdir(parents=True, exist_ok=True)
    recover_interrupted_save(folder)
    new, old = _staging(folder, "new"), _staging(folder, "old")
    shutil.rmtree(new, ignore_errors=True)
    new.mkdir()
    try:
        full = _write_files(pipeline, new, manifest, arrays or {})
        for path in new.iterdir():
            os.chmod(path, 0o644)
        if folder.exists():
            shutil.rmtree(old, ignore_errors=True)
            os.rename(folder, old)
        os.rename(new, folder)
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        recover_interrupted_save(folder)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return full


def load_pipeline(path: str | Path) -> Any:
    """Load the scikit-learn training pipeline (the reference), checksum first.

    Raises
    ------
    ModelError
        Missing, tampered or corrupt pipeline file.

    Warns
    -----
    ModelVersionWarning
        The pipeline was written with another scikit-learn or joblib version.
    """
    folder = Path(path)
    manifest = read_manifest(folder)
    model_path = checked_file(folder, manifest, MODEL_FILE)
    running = library_versions()
    written = manifest["versions"]
    for name in ("scikit-learn", "joblib"):
        if written.get(name) != running[name]:
            warnings.warn(
                f"{folder}: model written with {name} {written.get(name)}, running "
                f"{running[name]}; retrain if scores look wrong",
                ModelVersionWarning,
                stacklevel=2,
            )
    import joblib

    try:
        pipeline = joblib.load(model_path)
    except Exception as exc:  # a checked file that still fails to unpickle: report, don't crash
        raise ModelError(f"{model_path}: cannot load model ({type(exc).__name__}: {exc})") from None
    if sorted(map(str, getattr(pipeline, "classes_", []))) != sorted(LABELS):
        raise ModelError(f"{model_path}: not a credscore pipeline over {list(LABELS)}")
    return pipeline
