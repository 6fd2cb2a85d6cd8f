"""A trained model on disk, checked and loaded for scoring: NumPy arrays and JSON, no pickle.

A model is a folder:

- ``scoring.npz`` + ``scoring.json``: everything scoring needs (vocabularies, idf weights,
  coefficients, calibration, segmenter parameters) as plain arrays and JSON, loaded with
  ``allow_pickle=False``: no scikit-learn, no nltk, no code runs.
- ``model.joblib``: the fitted scikit-learn pipeline, the reference the artefact is tested
  against. Only :mod:`training.export` reads it, after :func:`checked_file` passes.
- ``manifest.json``: format, versions, labels, the sha256 of every other file, training facts.
- any further ``*.npy`` file the manifest lists (the training run's out-of-fold scores).

When to bump :data:`FORMAT_VERSION`: whenever a model written by the previous code would be
read wrongly by this code (a renamed or re-meant array or parameter, another featurizer rule, a
class moved that the pickle names). Adding an optional manifest key that old models lack and
this code does not require needs no bump. A bump makes every older model refuse to load with a
"retrain" message, and the default model retrains itself on its next use.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from classifier import LABELS
from classifier.errors import ModelError

FORMAT_VERSION = 5
MODEL_FILE = "model.joblib"
SCORING_ARRAYS = "scoring.npz"
SCORING_PARAMS = "scoring.json"
MANIFEST_FILE = "manifest.json"
_SHA256 = frozenset("0123456789abcdef")


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _manifest_problem(manifest: Any) -> str | None:
    """What makes a parsed manifest unusable, or None."""
    if not isinstance(manifest, dict) or manifest.get("format_version") != FORMAT_VERSION:
        return f"not a credscore model manifest of format {FORMAT_VERSION}"
    if manifest.get("labels") != list(LABELS):
        return f"model labels {manifest.get('labels')} are not {list(LABELS)}"
    files = manifest.get("files")
    if not isinstance(files, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and len(v) == 64 and set(v) <= _SHA256
        for k, v in files.items()
    ):
        return "'files' must map file names to sha256 checksums"
    bad = [k for k in files if Path(k).name != k or k == MANIFEST_FILE]
    if bad:
        return f"'files' names {bad[0]!r}, which is not a file of this folder"
    versions = manifest.get("versions")
    if not isinstance(versions, dict) or not all(isinstance(v, str) for v in versions.values()):
        return "'versions' must map library names to version strings"
    for key in ("training_data", "cv_metrics", "operating_points", "calibration", "embedding"):
        if manifest.get(key) is not None and not isinstance(manifest[key], dict):
            return f"'{key}' must be an object"
    return None


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
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ModelError(
            f"{path}: unreadable manifest ({exc}); retrain with 'credscore train'"
        ) from None
    problem = _manifest_problem(manifest)
    if problem:
        raise ModelError(f"{path}: {problem}; retrain with 'credscore train'")
    return manifest


def checked_file(folder: Path, manifest: dict[str, Any], name: str) -> Path:
    """The path of a model file whose sha256 matches the manifest.

    Raises
    ------
    ModelError
        The file is missing, not listed in the manifest, or its checksum differs.
    """
    path = folder / name
    if name not in manifest["files"]:
        raise ModelError(f"{folder / MANIFEST_FILE}: lists no checksum for {name}; retrain")
    if not path.is_file():
        raise ModelError(f"{path}: model file is missing; retrain with 'credscore train'")
    if sha256_file(path) != manifest["files"][name]:
        raise ModelError(
            f"{path}: checksum does not match its manifest; refusing to load it "
            f"(retrain with 'credscore train')"
        )
    return path


def check_folder(folder: str | Path) -> dict[str, Any]:
    """Check every file a model folder's manifest lists, pickle included, without loading any.

    Returns
    -------
    dict
        The manifest.

    Raises
    ------
    ModelError
        The first missing or mismatching file.
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    for name in manifest["files"]:
        checked_file(folder, manifest, name)
    return manifest


@dataclass(frozen=True)
class Scorer:
    """Featurizer, linear model and sigmoid calibration as arrays: scores with NumPy alone.

    ``words`` holds the character words computed at export time
    (:class:`classifier.features.CharWords`); without it every character word is computed when
    first met. ``embedding`` and ``embedding_coef``: the optional sentence-embedding block
    (:mod:`classifier.embeddings`), whose encoder is loaded on first use.
    """

    featurizer: Any
    coef: np.ndarray
    intercept: np.ndarray
    calibration_a: np.ndarray
    calibration_b: np.ndarray
    words: Any = None
    embedding: Any = None
    embedding_coef: np.ndarray | None = None

    @functools.cached_property
    def encoder(self) -> Any:
        """The embedding block's encoder (loaded on first use; None without the block)."""
        from classifier.embeddings import load_encoder

        return load_encoder(self.embedding) if self.embedding is not None else None

    @functools.cached_property
    def linear(self) -> Any:
        """The linear model with its per-column and per-word sums ready (built on first use)."""
        from classifier.features import LinearScorer

        return LinearScorer(self.featurizer, self.coef, self.intercept, words=self.words)

    def proba(self, texts: list[str]) -> np.ndarray:
        """Calibrated probabilities, columns in :data:`classifier.LABELS` order."""
        decision = self.linear.decision(texts)
        if self.embedding is not None and self.embedding_coef is not None:
            from classifier.embeddings import embed

            decision = decision + embed(self.embedding, self.encoder, texts) @ self.embedding_coef.T
        with np.errstate(over="ignore"):
            proba = 1.0 / (1.0 + np.exp(self.calibration_a * decision + self.calibration_b))
        total = proba.sum(axis=1, keepdims=True)
        proba = np.divide(proba, total, out=np.full_like(proba, 1 / len(LABELS)), where=total != 0)
        proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
        return proba


@dataclass(frozen=True)
class Model:
    """A loaded, checked model: its scorer, manifest and folder."""

    scorer: Scorer
    manifest: dict[str, Any]
    path: Path

    @property
    def featurizer(self) -> Any:
        return self.scorer.featurizer

    @property
    def sha256(self) -> str:
        """Checksum of the scoring arrays: what identifies this model in outputs."""
        return str(self.manifest["files"][SCORING_ARRAYS])

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """Probabilities of ``texts``: rows sum to 1, columns in :data:`classifier.LABELS`."""
        if not texts:
            return np.zeros((0, len(LABELS)))
        return self.scorer.proba(texts)

    def predict(self, texts: list[str]) -> list[str]:
        """The most likely label of each text."""
        return [LABELS[i] for i in self.predict_proba(texts).argmax(axis=1)]

    def info(self) -> dict[str, Any]:
        """What a user needs to know about the model in use."""
        metrics = self.manifest.get("cv_metrics") or {}
        return {
            "path": str(self.path),
            "sha256": self.sha256,
            "created": str(self.manifest.get("created", "")),
            "credscore_version": self.manifest["versions"].get("credscore", ""),
            "training_rows": (self.manifest.get("training_data") or {}).get("rows"),
            "cv_macro_f1": metrics.get("macro_f1"),
        }


def _check_arrays(arrays: dict[str, np.ndarray], n_features: int) -> str | None:
    """What makes the linear model's arrays unusable, or None."""
    k = len(LABELS)
    shapes = {
        "coef": (k, n_features),
        "intercept": (k,),
        "calibration_a": (k,),
        "calibration_b": (k,),
    }
    for name, shape in shapes.items():
        array = arrays[name]
        if array.shape != shape or array.dtype.kind != "f":
            return f"'{name}' has shape {array.shape} and type {array.dtype}, not float {shape}"
        if not np.isfinite(array).all():
            return f"'{name}' holds values that are not finite numbers"
    return None


def _check_char_words(arrays: dict[str, np.ndarray]) -> str | None:
    """What makes the character-word table unusable, or None (see ``CharWords``)."""
    names = ("char_word_keys", "char_word_values", "char_word_sums", "char_word_squares")
    missing = [name for name in names if name not in arrays]
    if missing:
        return f"'{missing[0]}' is missing"
    keys, values, sums, squares = (arrays[name] for name in names)
    size = len(keys)
    if keys.dtype != np.uint64 or keys.ndim != 1 or size < 16 or size & (size - 1):
        return f"'char_word_keys' has shape {keys.shape} and type {keys.dtype}, not a uint64 table"
    if values.dtype != np.int32 or values.shape != keys.shape:
        return f"'char_word_values' has shape {values.shape} and type {values.dtype}, not int32 {keys.shape}"
    if squares.dtype != np.float64 or squares.ndim != 1:
        return f"'char_word_squares' has shape {squares.shape} and type {squares.dtype}, not float (words,)"
    words = len(squares)
    if sums.dtype != np.float64 or sums.shape != (len(LABELS), words):
        return f"'char_word_sums' has shape {sums.shape} and type {sums.dtype}, not float {(len(LABELS), words)}"
    placed = values[values >= 0]
    if values.min() < -1 or (np.bincount(placed, minlength=words) != 1).any():
        return "'char_word_values' does not index each word once"
    if not (np.isfinite(sums).all() and np.isfinite(squares).all()) or (squares < 0).any():
        return "'char_word_sums' or 'char_word_squares' holds values that are not finite numbers"
    return None


def _embedding_block(arrays: dict[str, np.ndarray], params: dict[str, Any]) -> tuple[Any, Any]:
    """The artefact's embedding spec and coefficients, or (None, None) without the block.

    Raises
    ------
    ModelError
        A half-present or malformed block, or an encoder that cannot be had here.
    """
    from classifier.embeddings import EmbeddingSpec, check_encoder

    if params.get("embedding") is None and "embedding_coef" not in arrays:
        return None, None
    if params.get("embedding") is None or "embedding_coef" not in arrays:
        raise ModelError("the embedding block's parameters or coefficients are missing")
    spec = EmbeddingSpec.from_params(params["embedding"])
    coef = arrays["embedding_coef"]
    if coef.shape != (len(LABELS), spec.dimensions) or coef.dtype.kind != "f":
        raise ModelError(
            f"'embedding_coef' has shape {coef.shape} and type {coef.dtype}, not float "
            f"{(len(LABELS), spec.dimensions)}"
        )
    if not np.isfinite(coef).all():
        raise ModelError("'embedding_coef' holds values that are not finite numbers")
    check_encoder(spec)
    return spec, coef


def _read_scorer(folder: Path, manifest: dict[str, Any]) -> Scorer:
    """The scorer from a folder's checked artefact files."""
    from classifier.features import CharWords, Featurizer

    arrays_path = checked_file(folder, manifest, SCORING_ARRAYS)
    params_path = checked_file(folder, manifest, SCORING_PARAMS)
    try:
        params = json.loads(params_path.read_text(encoding="utf-8"))
        if not isinstance(params, dict) or params.get("labels") != list(LABELS):
            raise ModelError(f"{params_path}: not a scoring artefact over {list(LABELS)}")
        with np.load(arrays_path, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
        featurizer = Featurizer.from_arrays(arrays, params["featurizer"])
        problem = _check_arrays(arrays, featurizer.n_features)
        if problem is None and featurizer.char_ngrams:
            problem = _check_char_words(arrays)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise ModelError(
            f"{folder}: cannot load the scoring artefact ({type(exc).__name__}: {exc})"
        ) from None
    if problem:
        raise ModelError(f"{arrays_path}: {problem}; retrain with 'credscore train'")
    try:
        embedding, embedding_coef = _embedding_block(arrays, params)
    except ModelError as exc:
        raise ModelError(f"{arrays_path}: {exc}") from None
    return Scorer(
        featurizer,
        arrays["coef"],
        arrays["intercept"],
        arrays["calibration_a"],
        arrays["calibration_b"],
        CharWords.from_arrays(arrays) if featurizer.char_ngrams else None,
        embedding,
        embedding_coef,
    )


def load_model(path: str | Path) -> Model:
    """Load a model's scoring artefact after checking the manifest and checksums.

    Nothing is unpickled: the arrays are read with ``allow_pickle=False``. A symbolic link to a
    model folder (a registry's ``current``) is resolved once, first, so a switch of the link
    while loading gives the old model or the new one, never files of both.

    Parameters
    ----------
    path : str or Path
        The model folder.

    Returns
    -------
    Model

    Raises
    ------
    ModelError
        Missing, tampered, corrupt or incompatible model.
    """
    folder = Path(path).resolve()
    manifest = read_manifest(folder)
    return Model(_read_scorer(folder, manifest), manifest, folder)


def load_array(model: Model, name: str) -> np.ndarray:
    """A checked extra array kept beside the model (``name.npy``), read without pickle.

    Raises
    ------
    ModelError
        Not listed, missing, tampered with or unreadable.
    """
    path = checked_file(model.path, model.manifest, name)
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path}: cannot read ({exc})") from None
