"""A trained model on disk: a folder with a scoring artefact, the training pipeline and a manifest.

- ``scoring.npz`` + ``scoring.json``: everything scoring needs (vocabularies, idf weights,
  coefficients, calibration, segmenter parameters) as plain arrays and JSON. Loaded with
  ``allow_pickle=False`` by NumPy alone: no scikit-learn, no nltk, no code runs.
- ``model.joblib``: the fitted scikit-learn pipeline, the training artefact and the reference
  the artefact is checked against. A joblib file runs code when it is loaded, so
  :func:`load_pipeline` checks its sha256 against the manifest before unpickling it.
- ``manifest.json``: format, versions, labels, the sha256 of each file, training facts.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from classifier import LABELS, __version__
from classifier.atomic import write_atomic
from classifier.errors import ModelError

FORMAT_VERSION = 2
MODEL_FILE = "model.joblib"
SCORING_ARRAYS = "scoring.npz"
SCORING_PARAMS = "scoring.json"
MANIFEST_FILE = "manifest.json"
ENV_VAR = "CREDSCORE_MODEL"


class ModelVersionWarning(UserWarning):
    """The model was written by other library versions than the ones running."""


def default_model_dir() -> Path:
    """The default model's folder, in the user's credscore data folder."""
    import click

    return Path(click.get_app_dir("credscore")) / "models" / "default"


def resolve_model_dir(path: str | Path | None = None) -> Path:
    """``path``, else ``$CREDSCORE_MODEL``, else :func:`default_model_dir`."""
    if path:
        return Path(path)
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    return default_model_dir()


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
        ``features`` (a :class:`classifier.features.Featurizer`), then ``classifier`` (a
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
    arrays, featurizer = pipeline.named_steps["features"].to_arrays()
    arrays.update(
        coef=calibrated.estimator.coef_[order],
        intercept=calibrated.estimator.intercept_[order],
        calibration_a=[float(calibrated.calibrators[i].a_) for i in order],
        calibration_b=[float(calibrated.calibrators[i].b_) for i in order],
    )
    return arrays, {
        "labels": list(LABELS),
        "featurizer": featurizer,
        "segmenter": segmenter_params(),
    }


def save_model(pipeline: Any, folder: str | Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """Write the scoring artefact, ``pipeline`` and the manifest into ``folder``, atomically.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        The fitted pipeline (``features`` then ``classifier``).
    folder : str or Path
        Created if missing; an existing model there is replaced.
    manifest : dict
        Training facts (data hash, metrics...); format, versions, labels, checksums and file
        names are added here.

    Returns
    -------
    dict
        The manifest as written.
    """
    import joblib
    import numpy as np

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    arrays, params = scoring_artefact(pipeline)

    def write_arrays(tmp: Path) -> None:
        with tmp.open("wb") as handle:
            np.savez(handle, **arrays)  # uncompressed: loading it is faster than inflating it

    write_atomic(folder / SCORING_ARRAYS, write_arrays)
    text = json.dumps(params, indent=2, ensure_ascii=False) + "\n"
    write_atomic(folder / SCORING_PARAMS, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    write_atomic(folder / MODEL_FILE, lambda tmp: joblib.dump(pipeline, tmp, compress=3))
    full = {
        "format_version": FORMAT_VERSION,
        "versions": library_versions(),
        "labels": list(LABELS),
        "files": {
            name: sha256_file(folder / name)
            for name in (SCORING_ARRAYS, SCORING_PARAMS, MODEL_FILE)
        },
        **manifest,
    }
    text = json.dumps(full, indent=2, ensure_ascii=False) + "\n"
    write_atomic(folder / MANIFEST_FILE, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return full


def read_manifest(folder: str | Path) -> dict[str, Any]:
    """Read and check a model folder's manifest without touching the other files.

    Raises
    ------
    ModelError
        No model there, unreadable or invalid manifest, other format version or labels.
    """
    folder = Path(folder)
    path = folder / MANIFEST_FILE
    if not path.is_file():
        if not folder.exists():
            raise ModelError(f"{folder}: no model here; run 'credscore train --output {folder}'")
        raise ModelError(f"{path}: manifest is missing; retrain with 'credscore train'")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(
            f"{path}: unreadable manifest ({exc}); retrain with 'credscore train'"
        ) from None
    if not isinstance(manifest, dict) or manifest.get("format_version") != FORMAT_VERSION:
        raise ModelError(
            f"{path}: not a credscore model manifest of format {FORMAT_VERSION}; retrain with 'credscore train'"
        )
    if manifest.get("labels") != list(LABELS):
        raise ModelError(f"{path}: model labels {manifest.get('labels')} are not {list(LABELS)}")
    return manifest


def _checked(folder: Path, manifest: dict[str, Any], name: str) -> Path:
    """The path of a model file whose sha256 matches the manifest."""
    path = folder / name
    if not path.is_file():
        raise ModelError(f"{path}: model file is missing; retrain with 'credscore train'")
    if sha256_file(path) != manifest.get("files", {}).get(name):
        raise ModelError(
            f"{path}: checksum does not match its manifest; refusing to load it "
            f"(retrain with 'credscore train')"
        )
    return path


@dataclass(frozen=True)
class Scorer:
    """Featurizer, linear model and sigmoid calibration as arrays: scores with NumPy alone."""

    featurizer: Any
    coef: Any
    intercept: Any
    calibration_a: Any
    calibration_b: Any

    def proba(self, texts: list[str]):
        """Calibrated probabilities, columns in :data:`classifier.LABELS` order."""
        import numpy as np

        decision = self.featurizer.decision(texts, self.coef, self.intercept)
        with np.errstate(over="ignore"):
            proba = 1.0 / (1.0 + np.exp(self.calibration_a * decision + self.calibration_b))
        total = proba.sum(axis=1, keepdims=True)
        proba = np.divide(proba, total, out=np.full_like(proba, 1 / len(LABELS)), where=total != 0)
        proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
        return proba


@dataclass(frozen=True)
class Model:
    """A loaded, checked model: its scorer and manifest."""

    scorer: Scorer
    manifest: dict[str, Any]
    path: Path

    @property
    def featurizer(self):
        return self.scorer.featurizer

    @property
    def sha256(self) -> str:
        """Checksum of the scoring arrays: what identifies this model in outputs."""
        return self.manifest["files"][SCORING_ARRAYS]

    @cached_property
    def _names(self) -> list[str]:
        """Readable name of each feature column; '' for character n-grams (not explained)."""
        return self.featurizer.readable_names()

    @cached_property
    def _directions(self):
        """Per label, how much each explainable feature pushes towards it (others zeroed)."""
        import numpy as np

        coef = self.scorer.coef
        return np.where(self.featurizer.explained(), coef - coef.mean(axis=0), 0.0)

    def strongest_terms(self, k: int = 10) -> dict[str, list[tuple[str, float]]]:
        """Per label, the ``k`` word or style features that push hardest towards it."""
        strongest = {}
        for row, label in zip(self._directions, LABELS):
            order = row.argsort()[::-1][:k]
            strongest[label] = [(self._names[j], round(float(row[j]), 4)) for j in order]
        return strongest

    def predict(self, texts: list[str], *, terms: int = 0):
        """Scores of ``texts`` and, with ``terms`` > 0, the features behind each top label.

        Parameters
        ----------
        texts : list of str
        terms : int
            How many driving terms to return per text (0: none).

        Returns
        -------
        (numpy.ndarray, list)
            Probabilities (rows sum to 1, columns in :data:`classifier.LABELS` order), and per
            text a list of ``(term, weight)`` pairs, strongest first, that pushed towards the
            predicted label (empty lists when ``terms`` is 0).
        """
        proba = self.scorer.proba(texts)
        if not terms:
            return proba, [[] for _ in texts]
        explained = []
        for text, top in zip(texts, proba.argmax(axis=1)):
            pushes = self.featurizer.contributions(text, self._directions[top])
            pushes = sorted(
                (p for p in pushes if p[1] > 0 and self._names[p[0]]), key=lambda p: -p[1]
            )
            explained.append([(self._names[c], round(float(w), 4)) for c, w in pushes[:terms]])
        return proba, explained

    def info(self) -> dict[str, Any]:
        """What a user needs to know about the model in use."""
        metrics = self.manifest.get("cv_metrics") or {}
        return {
            "path": str(self.path),
            "sha256": self.sha256,
            "created": self.manifest.get("created", ""),
            "credscore_version": self.manifest["versions"].get("credscore", ""),
            "training_rows": self.manifest.get("training_data", {}).get("rows"),
            "cv_macro_f1": metrics.get("macro_f1"),
        }


def load_model(path: str | Path | None = None) -> Model:
    """Load a model's scoring artefact after checking the manifest and checksums.

    Nothing is unpickled: the arrays are read with ``allow_pickle=False``.

    Parameters
    ----------
    path : str or Path, optional
        The model folder; see :func:`resolve_model_dir` for the fallbacks.

    Returns
    -------
    Model

    Raises
    ------
    ModelError
        Missing, tampered, corrupt or incompatible model.
    """
    import numpy as np

    from classifier.features import Featurizer

    folder = resolve_model_dir(path)
    manifest = read_manifest(folder)
    arrays_path = _checked(folder, manifest, SCORING_ARRAYS)
    params_path = _checked(folder, manifest, SCORING_PARAMS)
    try:
        params = json.loads(params_path.read_text(encoding="utf-8"))
        with np.load(arrays_path, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
        scorer = Scorer(
            Featurizer.from_arrays(arrays, params["featurizer"]),
            arrays["coef"],
            arrays["intercept"],
            arrays["calibration_a"],
            arrays["calibration_b"],
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(
            f"{folder}: cannot load the scoring artefact ({type(exc).__name__}: {exc})"
        ) from None
    if params.get("labels") != list(LABELS) or scorer.coef.shape[0] != len(LABELS):
        raise ModelError(f"{params_path}: not a scoring artefact over {list(LABELS)}")
    return Model(scorer, manifest, folder)


def load_pipeline(path: str | Path | None = None) -> Any:
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
    folder = resolve_model_dir(path)
    manifest = read_manifest(folder)
    model_path = _checked(folder, manifest, MODEL_FILE)
    running = library_versions()
    written = manifest.get("versions", {})
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
