"""A trained model on disk: a folder with ``model.joblib`` and ``manifest.json``.

A joblib file runs code when it is loaded, so :func:`load_model` reads the manifest first,
checks the model file's sha256 against it, and only then unpickles.
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

FORMAT_VERSION = 1
MODEL_FILE = "model.joblib"
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
    import sklearn

    return {"credscore": __version__, "scikit-learn": sklearn.__version__, "joblib": joblib.__version__}


def save_model(pipeline: Any, folder: str | Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """Write ``pipeline`` and its manifest into ``folder`` atomically.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        The fitted pipeline (``features`` then ``classifier``).
    folder : str or Path
        Created if missing; an existing model there is replaced.
    manifest : dict
        Training facts (data hash, metrics...); format, versions, labels, checksum and
        creation time are added here.

    Returns
    -------
    dict
        The manifest as written.
    """
    import joblib

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(folder / MODEL_FILE, lambda tmp: joblib.dump(pipeline, tmp, compress=3))
    full = {
        "format_version": FORMAT_VERSION,
        "versions": library_versions(),
        "labels": list(LABELS),
        "model_file": MODEL_FILE,
        "model_sha256": sha256_file(folder / MODEL_FILE),
        **manifest,
    }
    text = json.dumps(full, indent=2, ensure_ascii=False) + "\n"
    write_atomic(folder / MANIFEST_FILE, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return full


def read_manifest(folder: str | Path) -> dict[str, Any]:
    """Read and check a model folder's manifest without touching the model file.

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
        raise ModelError(f"{path}: unreadable manifest ({exc}); retrain with 'credscore train'") from None
    if not isinstance(manifest, dict) or manifest.get("format_version") != FORMAT_VERSION:
        raise ModelError(f"{path}: not a credscore model manifest of format {FORMAT_VERSION}")
    if manifest.get("labels") != list(LABELS):
        raise ModelError(f"{path}: model labels {manifest.get('labels')} are not {list(LABELS)}")
    return manifest


@dataclass(frozen=True)
class Model:
    """A loaded, checked model: the scikit-learn pipeline and its manifest."""

    pipeline: Any
    manifest: dict[str, Any]
    path: Path

    @cached_property
    def _columns(self) -> list[int]:
        """Positions of :data:`LABELS` in the classifier's class order."""
        classes = list(self.pipeline.classes_)
        return [classes.index(label) for label in LABELS]

    @cached_property
    def _directions(self):
        """Per label, how much each explainable feature pushes towards it (others zeroed)."""
        import numpy as np

        classifier = self.pipeline.named_steps["classifier"]
        coef = np.mean([c.estimator.coef_ for c in classifier.calibrated_classifiers_], axis=0)
        coef = coef[self._columns]
        directions = coef - coef.mean(axis=0)
        names = self._feature_names
        directions[:, [not n for n in names]] = 0.0
        return directions

    @cached_property
    def _feature_names(self) -> list[str]:
        """Readable name of each feature column; '' for character n-grams (not explained)."""
        names = []
        for full in self.pipeline.named_steps["features"].get_feature_names_out():
            kind, _, name = full.partition("__")
            names.append(name if kind == "word" else f"[{name}]" if kind == "style" else "")
        return names

    def strongest_terms(self, k: int = 10) -> dict[str, list[tuple[str, float]]]:
        """Per label, the ``k`` word or style features that push hardest towards it."""
        strongest = {}
        for row, label in zip(self._directions, LABELS):
            order = row.argsort()[::-1][:k]
            strongest[label] = [(self._feature_names[j], round(float(row[j]), 4)) for j in order]
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
        features = self.pipeline.named_steps["features"].transform(texts)
        proba = self.pipeline.named_steps["classifier"].predict_proba(features)[:, self._columns]
        if not terms:
            return proba, [[] for _ in texts]
        features = features.tocsr()
        explained = []
        for i, top in enumerate(proba.argmax(axis=1)):
            row = features[i]
            pushes = row.data * self._directions[top, row.indices]
            order = pushes.argsort()[::-1][:terms]
            explained.append(
                [
                    (self._feature_names[row.indices[j]], round(float(pushes[j]), 4))
                    for j in order
                    if pushes[j] > 0
                ]
            )
        return proba, explained

    def info(self) -> dict[str, Any]:
        """What a user needs to know about the model in use."""
        metrics = self.manifest.get("cv_metrics") or {}
        return {
            "path": str(self.path),
            "sha256": self.manifest["model_sha256"],
            "created": self.manifest.get("created", ""),
            "credscore_version": self.manifest["versions"].get("credscore", ""),
            "training_rows": self.manifest.get("training_data", {}).get("rows"),
            "cv_macro_f1": metrics.get("macro_f1"),
        }


def load_model(path: str | Path | None = None) -> Model:
    """Load a model folder after checking its manifest and checksum.

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

    Warns
    -----
    ModelVersionWarning
        The model was written with another scikit-learn or joblib version.
    """
    folder = resolve_model_dir(path)
    manifest = read_manifest(folder)
    model_path = folder / MODEL_FILE
    if not model_path.is_file():
        raise ModelError(f"{model_path}: model file is missing; retrain with 'credscore train'")
    if sha256_file(model_path) != manifest.get("model_sha256"):
        raise ModelError(
            f"{model_path}: checksum does not match its manifest; refusing to load it "
            f"(retrain with 'credscore train')"
        )
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
    return Model(pipeline, manifest, folder)
