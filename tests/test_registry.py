import json
import os
import shutil
import subprocess
import threading

import pytest
from click.testing import CliRunner
from conftest import MINI_LABELS, _fit_and_save
from test_cli import installed_command

from classifier.cli import cli
from classifier.errors import ExitCode, ModelError
from classifier.model import load_model
from training.dataset import load_dataset
from training.registry import (
    DEFAULT,
    RegistryError,
    history,
    list_versions,
    promote,
    registry_current,
    rollback,
)


@pytest.fixture(scope="module")
def worse_model_dir(tmp_path_factory):
    """A model that knows no disinformation beyond three rows: worse on the mini labels."""
    rows = [json.loads(line) for line in MINI_LABELS.read_text().splitlines()]
    kept, seen = [], 0
    for r in rows:
        if r["label"] == "disinformation":
            seen += 1
            if seen > 3:
                continue
        kept.append(r)
    path = tmp_path_factory.mktemp("worse") / "labels.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in kept))
    return _fit_and_save(load_dataset([path]), tmp_path_factory.mktemp("worse") / "model")


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def with_points(source, folder, **points):
    """A copy of a model whose manifest promises operating points (as issue 11 writes them)."""
    shutil.copytree(source, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["operating_points"] = {
        name: {"label": "disinformation", "threshold": t, "constraint": "test", "precision": p,
               "recall": 0.5, "filter_rate": 0.1}
        for name, (t, p) in points.items()
    }  # fmt: skip
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def test_promote_gate_force_and_rollback(mini_model_dir, worse_model_dir, tmp_path):
    registry = tmp_path / "registry"
    assert registry_current(registry) is None
    first = promote(mini_model_dir, registry=registry, user="ana")
    assert first.promoted and first.version == "v0001" and "unchecked" in first.note
    assert registry_current(registry) == (registry / "v0001").resolve()
    assert load_model(registry_current(registry)).sha256 == load_model(mini_model_dir).sha256
    with pytest.raises(RegistryError, match="pass --gold FILE"):
        promote(worse_model_dir, registry=registry)
    refused = promote(worse_model_dir, registry=registry, gold=MINI_LABELS, user="ben")
    assert not refused.promoted and refused.version is None
    (check,) = refused.failed
    assert check.name == "macro-F1" and check.value < check.required
    assert registry_current(registry).name == "v0001"
    assert json.loads((registry / "config.json").read_text())["gold"] == str(MINI_LABELS)
    forced = promote(worse_model_dir, registry=registry, force=True, user="ben")
    assert forced.promoted and forced.forced and forced.version == "v0002"
    assert registry_current(registry).name == "v0002"
    records = history(registry)
    assert [(e["action"], e["result"], e["forced"], e["user"]) for e in records] == [
        ("promote", "promoted", False, "ana"),
        ("promote", "refused", False, "ben"),
        ("promote", "forced", True, "ben"),
    ]
    assert records[2]["checks"][0]["passed"] is False
    assert promote(worse_model_dir, registry=registry).note == "already current"
    assert rollback(registry=registry) == ("v0002", "v0001")
    assert registry_current(registry).name == "v0001"
    # back past the first version: the default model is in use again, as before
    assert rollback(registry=registry) == ("v0001", DEFAULT)
    assert registry_current(registry) is None
    with pytest.raises(RegistryError, match="the default model is in use"):
        rollback(registry=registry)
    assert rollback(registry=registry, to="v0002") == (DEFAULT, "v0002")
    versions = list_versions(registry)
    assert [(v.name, v.current, v.forced) for v in versions] == [
        ("v0001", False, False),
        ("v0002", True, True),
    ]


def test_operating_point_promises_are_checked(mini_model_dir, worse_model_dir, tmp_path):
    registry = tmp_path / "registry"
    promote(worse_model_dir, registry=registry, gold=MINI_LABELS)  # macro-F1 is no obstacle
    proba = load_model(mini_model_dir).scorer.proba(load_dataset([MINI_LABELS]).texts)
    # a threshold low enough to flag reporting and opinion rows too: precision well below 1
    low = float(sorted(proba[:, 2])[4])
    broken = with_points(mini_model_dir, tmp_path / "broken", hold=(low, 0.99))
    result = promote(broken, registry=registry)
    (check,) = result.failed
    assert check.name == "precision of 'hold'" and check.value < 0.98 and check.required == 0.98
    assert not result.promoted and registry_current(registry).name == "v0001"
    kept = with_points(
        mini_model_dir, tmp_path / "kept", hold=(0.5, 0.9), review=(1.01, 0.9)
    )  # review flags no row: reported, not failed
    result = promote(kept, registry=registry)
    assert result.promoted, result.checks
    names = {c.name: c for c in result.checks}
    assert names["precision of 'hold'"].passed and names["precision of 'hold'"].value >= 0.89
    assert "flags no gold row" in names["precision of 'review'"].detail


def test_cli_refusal_has_its_own_exit_code(mini_model_dir, worse_model_dir, tmp_path):
    registry = tmp_path / "registry"
    assert run("promote", mini_model_dir, "--registry", registry).exit_code == 0
    result = run("promote", worse_model_dir, "--registry", registry, "--gold", MINI_LABELS)
    assert result.exit_code == ExitCode.GATE_FAILED == 4
    last = result.stderr.splitlines()[-1]
    assert last.startswith(f"Error: refused to promote {worse_model_dir}: macro-F1 0.")
    assert last.endswith(f"on {MINI_LABELS} (--force to promote anyway)")
    assert "FAIL macro-F1: macro-F1 on gold" in result.stderr
    forced = run("promote", worse_model_dir, "--registry", registry, "--force")
    assert forced.exit_code == 0 and "(forced past a failed gate)" in forced.stderr
    listed = run("models", "list", "--registry", registry)
    assert listed.stdout.splitlines()[1].startswith("* v0002") and "forced" in listed.stdout
    back = run("models", "rollback", "--registry", registry)
    assert back.exit_code == 0 and back.stderr == "rolled back: v0001 is current (was v0002)\n"
    missing = run("models", "list", "--registry", tmp_path / "none")
    assert missing.exit_code == 1 and "no model registry here" in missing.stderr


def test_the_first_promotion_is_gated_by_the_default_model(
    mini_model_dir, worse_model_dir, tmp_path
):
    from training.default import default_model_dir

    shutil.copytree(mini_model_dir, default_model_dir())  # the model in use before any promote
    registry = tmp_path / "registry"
    with pytest.raises(RegistryError, match="pass --gold FILE"):
        promote(worse_model_dir, registry=registry)
    refused = promote(worse_model_dir, registry=registry, gold=MINI_LABELS)
    assert not refused.promoted and refused.failed[0].name == "macro-F1"
    assert history(registry)[-1]["compared_with"] == str(default_model_dir())
    assert registry_current(registry) is None


def test_a_tampered_model_is_not_copied(mini_model_dir, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(mini_model_dir, bad)
    with (bad / "scoring.npz").open("ab") as handle:
        handle.write(b"x")
    with pytest.raises(ModelError, match="checksum does not match"):
        promote(bad, registry=tmp_path / "registry")
    assert not list((tmp_path / "registry").glob("v*"))


def test_readers_see_the_old_model_or_the_new_one_never_half(
    mini_model_dir, worse_model_dir, tmp_path
):
    registry = tmp_path / "registry"
    promote(mini_model_dir, registry=registry)
    promote(worse_model_dir, registry=registry, force=True, gold=MINI_LABELS)
    shas = {load_model(d).sha256 for d in (mini_model_dir, worse_model_dir)}
    seen, problems, done = set(), [], threading.Event()

    def reader():
        while not done.is_set():
            try:
                seen.add(load_model(registry_current(registry)).sha256)
            except Exception as exc:  # any failure is what the test is looking for
                problems.append(repr(exc))

    thread = threading.Thread(target=reader)
    thread.start()
    for i in range(40):
        rollback(registry=registry, to="v0001" if i % 2 else "v0002")
    done.set()
    thread.join()
    assert problems == [] and seen <= shas and len(seen) == 2


def test_installed_command_refuses_with_exit_code_4(mini_model_dir, worse_model_dir, tmp_path):
    registry = tmp_path / "registry"
    command = installed_command()
    env = {**os.environ, "CREDSCORE_REGISTRY": str(registry)}
    first = subprocess.run(
        [command, "promote", str(mini_model_dir)], capture_output=True, text=True, env=env
    )
    assert first.returncode == 0, first.stderr
    refused = subprocess.run(
        [command, "promote", str(worse_model_dir), "--gold", str(MINI_LABELS)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert refused.returncode == 4, refused.stderr
    assert "Error: refused to promote" in refused.stderr and "Traceback" not in refused.stderr
    assert (registry / "current").resolve().name == "v0001"


@pytest.mark.parametrize("command", ["promote", "models list", "models rollback"])
def test_help_has_examples(command):
    result = CliRunner().invoke(cli, [*command.split(), "--help"])
    assert result.exit_code == 0 and "Examples:" in result.stdout
