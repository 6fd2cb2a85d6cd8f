"""Shared fixtures: isolated user folders, a tiny labelled set, and models trained once."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.dataset import load_dataset
from training.export import save_model
from training.train import fit

DATA = Path(__file__).parent / "data"
MINI_LABELS = DATA / "mini_labels.jsonl"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def shared_texts(per_corpus: int, *, seed: int) -> list[str]:
    """A fixed random sample of texts from each corpus in ../shared/data (skips when absent)."""
    import csv
    import random

    data = SHARED / "data"
    if not data.is_dir():
        pytest.skip("../shared/data is not beside this clone")
    csv.field_size_limit(1 << 30)
    texts = []
    for path in sorted(data.glob("*/mapped.tsv")):
        with path.open(encoding="utf-8", newline="") as handle:
            rows = [r["text"] for r in csv.DictReader(handle, delimiter="\t")]
        texts += random.Random(seed).sample(rows, min(per_corpus, len(rows)))
    return texts


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """Point every user path (default model, config) at a temporary folder."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("CREDSCORE_MODEL", raising=False)
    return tmp_path


def _fit_and_save(dataset, folder: Path) -> Path:
    pipeline = fit(dataset.texts, dataset.labels, dataset.groups)
    save_model(
        pipeline, folder, {"created": "test", "training_data": {"rows": len(dataset.records)}}
    )
    return folder


@pytest.fixture(scope="session")
def mini_model_dir(tmp_path_factory) -> Path:
    """A model trained (without CV) on the 24-row test set: fast, for mechanics only."""
    return _fit_and_save(load_dataset([MINI_LABELS]), tmp_path_factory.mktemp("mini") / "model")


@pytest.fixture(scope="session")
def bundled_model_dir(tmp_path_factory) -> Path:
    """A model trained (without CV) on the bundled labels/: for judgement tests."""
    return _fit_and_save(load_dataset(), tmp_path_factory.mktemp("bundled") / "model")


@pytest.fixture(scope="session")
def mini_trained_dir(tmp_path_factory) -> Path:
    """A model trained by ``training.train.train`` (cross-validation, out-of-fold arrays,
    calibration and operating points) on the 24-row test set: for decisions and thresholds."""
    from training.train import train

    folder = tmp_path_factory.mktemp("mini-trained") / "model"
    train(load_dataset([MINI_LABELS]), folder)
    return folder


@pytest.fixture
def model_copy(mini_model_dir, tmp_path) -> Path:
    """A copy of the mini model that a test may tamper with."""
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(mini_model_dir, folder)
    return folder


def edit_manifest(folder: Path, **changes) -> None:
    """Change top-level fields of a model folder's manifest (checksums are not updated)."""
    import json

    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest.update(changes)
    path.write_text(json.dumps(manifest))
