import json
import shutil
import subprocess
from collections import Counter

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import MINI_LABELS, _fit_and_save
from test_cli import installed_command

from classifier import LABELS
from classifier.cli import cli
from classifier.decisions import policy
from classifier.errors import LabelError, ModelError
from classifier.model import load_model
from training.compare import _statistics, compare
from training.dataset import load_dataset
from training.evaluate import compute_metrics


@pytest.fixture(scope="module")
def other_model_dir(tmp_path_factory):
    """A second model: the mini labels without a third of their rows."""
    rows = [json.loads(line) for line in MINI_LABELS.read_text().splitlines()]
    path = tmp_path_factory.mktemp("other") / "labels.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for i, r in enumerate(rows) if i % 3))
    return _fit_and_save(load_dataset([path]), tmp_path_factory.mktemp("other") / "model")


def test_point_estimates_are_the_evaluate_metrics(mini_model_dir, other_model_dir):
    old, new = load_model(mini_model_dir), load_model(other_model_dir)
    result = compare(old, new, [MINI_LABELS], resamples=200).files[0]
    gold = load_dataset([MINI_LABELS])
    for model, side in ((old, "old"), (new, "new")):
        predicted = [LABELS[i] for i in model.scorer.proba(gold.texts).argmax(axis=1)]
        metrics = compute_metrics(gold.labels, predicted)
        assert getattr(result.macro_f1, side) == pytest.approx(metrics.macro_f1, abs=1e-4)
        for change in result.labels:
            expected = metrics.per_class[change.label]
            assert getattr(change.f1, side) == pytest.approx(expected.f1, abs=1e-4)
            assert getattr(change.recall, side) == pytest.approx(expected.recall, abs=1e-4)
    assert result.labelled and result.rows == 24
    for change in (result.macro_f1, *(c.f1 for c in result.labels)):
        assert change.low <= change.change <= change.high


def test_multinomial_bootstrap_matches_resampling_rows():
    rng = np.random.default_rng(0)
    n = 400
    gold = rng.integers(0, 3, n)
    old = np.where(rng.random(n) < 0.7, gold, rng.integers(0, 3, n))
    new = np.where(rng.random(n) < 0.8, gold, rng.integers(0, 3, n))
    kinds = 9 * gold + 3 * old + new
    counts = np.bincount(kinds, minlength=27).astype(float)
    draws = _statistics(
        rng.multinomial(n, counts / counts.sum(), size=4000).astype(float), [0, 1, 2]
    )
    multinomial = np.percentile(draws["new"]["macro_f1"] - draws["old"]["macro_f1"], [2.5, 97.5])
    naive = []
    for _ in range(1500):  # the textbook paired bootstrap: resample row indices
        pick = rng.integers(0, n, n)
        f1 = [
            compute_metrics(
                [LABELS[g] for g in gold[pick]], [LABELS[p] for p in side[pick]]
            ).macro_f1
            for side in (old, new)
        ]
        naive.append(f1[1] - f1[0])
    assert np.percentile(naive, [2.5, 97.5]) == pytest.approx(multinomial, abs=0.02)


def test_flips_on_an_unlabelled_file(mini_model_dir, other_model_dir, tmp_path):
    texts = [r.text for r in load_dataset([MINI_LABELS]).records] + ["", "Totally new words here."]
    path = tmp_path / "comments.txt"
    path.write_text("\n".join(texts) + "\n")
    old, new = load_model(mini_model_dir), load_model(other_model_dir)
    result = compare(old, new, [path], top=2).files[0]
    assert not result.labelled and result.macro_f1 is None and result.unusable == 1
    assert result.first_unusable == f"{path}:25: empty text"
    usable = [t for t in texts if t]
    a, b = old.scorer.proba(usable).argmax(axis=1), new.scorer.proba(usable).argmax(axis=1)
    assert result.flipped == int((a != b).sum()) > 0
    for flip in result.flips:
        assert flip.before != flip.after and len(flip.top) == min(2, flip.count)
        assert [r.change for r in flip.top] == sorted((r.change for r in flip.top), reverse=True)
        for row in flip.top:
            assert max(row.new, key=row.new.get) == flip.after
            assert max(row.old, key=row.old.get) == flip.before


def with_points(source, folder, points):
    """A copy of a model whose manifest holds these operating points."""
    shutil.copytree(source, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["operating_points"] = points
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def test_decision_flips_use_the_rule_of_policy(mini_model_dir, tmp_path):
    strict = with_points(
        mini_model_dir,
        tmp_path / "strict",
        {
            "hold": {"label": "disinformation", "threshold": 0.99, "precision": 0.9},
            "review": {"label": "opinion", "threshold": None},  # unset: it never fires
        },
    )
    loose = with_points(
        mini_model_dir,
        tmp_path / "loose",
        {
            "hold": {"label": "disinformation", "threshold": 0.3, "precision": 0.9},
            "review": {"label": "opinion", "threshold": 0.5},
        },
    )
    old, new = load_model(strict), load_model(loose)
    proba = new.scorer.proba([r.text for r in load_dataset([MINI_LABELS]).records])
    before = policy(old.manifest).decide_rows(proba)
    after = policy(new.manifest).decide_rows(proba)
    # the row rule and the one-text rule score uses are the same rule
    assert after == [policy(new.manifest).decide(dict(zip(LABELS, row))) for row in proba]
    assert set(after) == {"hold", "review", "accept"}  # the case exercises every decision
    expected = Counter((b, a) for b, a in zip(before, after) if b != a)
    result = compare(old, new, [MINI_LABELS]).files[0]
    assert result.flipped == 0  # same scores, other thresholds
    flips = {(f.before, f.after): f.count for f in result.flips if f.kind == "decision"}
    assert flips == dict(expected) and sum(flips.values()) > 0


def test_decision_flips_need_operating_points_in_both(mini_model_dir, tmp_path):
    loose = with_points(
        mini_model_dir, tmp_path / "loose", {"hold": {"label": "disinformation", "threshold": 0.3}}
    )
    result = compare(load_model(mini_model_dir), load_model(loose), [MINI_LABELS]).files[0]
    assert not [f for f in result.flips if f.kind == "decision"]
    bad = with_points(mini_model_dir, tmp_path / "bad", {"hold": {"label": "SUBJ"}})
    with pytest.raises(ModelError, match=r"bad: operating point 'hold' must name one of"):
        compare(load_model(bad), load_model(loose), [MINI_LABELS])


def test_cli_text_json_and_a_bad_label(mini_model_dir, other_model_dir, tmp_path):
    runner = CliRunner()
    args = ["compare", str(mini_model_dir), str(other_model_dir), "--on", str(MINI_LABELS)]
    text = runner.invoke(cli, [*args, "--resamples", "200"])
    assert text.exit_code == 0, text.output
    assert "macro-F1 " in text.stdout and "paired bootstrap, 200 resamples" in text.stdout
    data = json.loads(runner.invoke(cli, [*args, "--json"]).stdout)
    assert data["resamples"] == 1000 and data["files"][0]["labelled"]
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nFine.,opinion\nOdd.,SUBJ\n")
    result = runner.invoke(cli, [*args[:3], "--on", str(bad)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {bad}:3: unknown label 'SUBJ';")
    with pytest.raises(LabelError):
        compare(load_model(mini_model_dir), load_model(mini_model_dir), [bad])


def test_installed_command_compares(mini_model_dir, other_model_dir):
    done = subprocess.run(
        [installed_command(), "compare", str(mini_model_dir), str(other_model_dir),
         "--on", str(MINI_LABELS), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["files"][0]["rows"] == 24


@pytest.mark.parametrize("command", ["compare"])
def test_help_has_examples(command):
    result = CliRunner().invoke(cli, [*command.split(), "--help"])
    assert result.exit_code == 0 and "Examples:" in result.stdout


def test_old_may_be_the_model_in_use(mini_model_dir, other_model_dir, monkeypatch):
    from training.registry import promote

    args = ["compare", "current", str(other_model_dir), "--on", str(MINI_LABELS), "--json"]
    monkeypatch.setenv("CREDSCORE_MODEL", str(mini_model_dir))
    data = json.loads(CliRunner().invoke(cli, args).stdout)
    assert data["old"]["path"] == str(mini_model_dir)
    monkeypatch.delenv("CREDSCORE_MODEL")
    promote(other_model_dir)  # the default registry, in the test's own user folder
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["old"]["path"].endswith("registry/v0001")


def test_a_partly_labelled_file_gives_flips_only(mini_model_dir, other_model_dir, tmp_path):
    path = tmp_path / "partly.csv"
    path.write_text("text,label\nThe council met.,reporting\nWhat a farce!,\n")
    result = compare(load_model(mini_model_dir), load_model(other_model_dir), [path]).files[0]
    assert not result.labelled and result.gold_rows == 1 and result.macro_f1 is None
    args = ["compare", str(mini_model_dir), str(other_model_dir), "--on", str(path)]
    assert "only 1 of 2 rows have a gold label" in CliRunner().invoke(cli, args).stdout
