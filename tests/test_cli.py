import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import MINI_LABELS

from classifier.cli import cli

COMMANDS = ["score", "train", "evaluate", "info", "thresholds", "label", "labels check"]


def run(*args, input=None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=input)


def one_line_error(result, message):
    assert result.exit_code == 1, result.output
    assert result.stderr == f"Error: {message}\n"
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command):
    import click

    result = run(*command.split(), "--help")
    assert result.exit_code == 0
    assert result.stdout.startswith(f"Usage: cli {command} ")
    assert "Examples:" in result.stdout
    target = cli
    for word in command.split():
        target = target.commands[word]
    for param in target.params:  # every option is documented in the help
        if isinstance(param, click.Option):
            assert any(opt in result.stdout for opt in param.opts), param.opts
            assert param.help, param.opts


def test_group_help_lists_every_command_and_version():
    help_text = run("--help").stdout
    listed = help_text.split("Commands:", 1)[1].split()  # not the examples above it
    for command in {c.split()[0] for c in COMMANDS}:
        assert command in listed
    assert run("--version").stdout.startswith("credscore, version ")


def test_score_table(mini_model_dir):
    result = run("score", "--model", mini_model_dir, "The council met. What a farce!")
    assert result.exit_code == 0
    assert (
        "[1]" in result.stdout and "[2]" in result.stdout and "Summary: 2 segments" in result.stdout
    )


def test_score_json_from_stdin(mini_model_dir):
    result = run(
        "score", "--model", mini_model_dir, "--json", input="The council met.\nWhat a farce!\n"
    )
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert [s["text"] for s in data["segments"]] == ["The council met.", "What a farce!"]


def test_model_from_environment(mini_model_dir, monkeypatch):
    monkeypatch.setenv("CREDSCORE_MODEL", str(mini_model_dir))
    data = json.loads(run("score", "--json", "x y z").stdout)
    assert data["model"]["path"] == str(mini_model_dir)


def test_default_model_is_trained_on_first_use(monkeypatch, tmp_path):
    labels = tmp_path / "bundled"
    labels.mkdir()
    shutil.copy(MINI_LABELS, labels)
    monkeypatch.setattr("training.dataset.bundled_labels_dir", lambda: labels)
    first = run("score", "--json", "The council met.")
    assert first.exit_code == 0, first.output
    assert "No default model yet" in first.stderr
    assert json.loads(first.stdout)["model"]["training_rows"] == 24
    second = run("score", "The council met.")
    assert second.stderr == ""  # reused, not retrained
    with (labels / "mini_labels.jsonl").open("a") as handle:
        handle.write(
            '{"id": "new", "text": "A new row.", "label": "reporting", "doc": "test-new"}\n'
        )
    third = run("info")
    assert "bundled labels changed" in third.stderr
    assert "25 rows" in third.stdout


def test_train_evaluate_info(tmp_path):
    out = tmp_path / "mine"
    trained = run("train", "--labels", MINI_LABELS, "--output", out)
    assert trained.exit_code == 0, trained.output
    assert "Cross-validation (4-fold, grouped by 'doc')" in trained.stdout
    assert "macro-F1" in trained.stdout
    retrained = run("train", "--labels", MINI_LABELS, "--output", out)
    assert "previous model at this path" in retrained.stdout
    evaluated = run("evaluate", "--model", out, "--json", MINI_LABELS)
    assert evaluated.exit_code == 0
    assert json.loads(evaluated.stdout)["metrics"]["rows"] == 24
    info = run("info", "--model", out, "--json")
    assert json.loads(info.stdout)["manifest"]["training_data"]["rows"] == 24


def test_train_json_prints_the_manifest(tmp_path):
    result = run("train", "--labels", MINI_LABELS, "--output", tmp_path / "m", "--json")
    assert set(json.loads(result.stdout)["files"]) == {
        "scoring.npz",
        "scoring.json",
        "model.joblib",
        "oof_proba.npy",
        "oof_gold.npy",
    }


def test_empty_text(mini_model_dir):
    one_line_error(
        run("score", "--model", mini_model_dir, "   "), "no text to score: the input is empty"
    )


def test_unknown_label(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("text\tlabel\nHello there.\tsatire\n")
    one_line_error(
        run("train", "--labels", bad, "--output", tmp_path / "m"),
        f"{bad}:2: unknown label 'satire'; use one of reporting, opinion, disinformation",
    )


def test_missing_column(tmp_path, mini_model_dir):
    bad = tmp_path / "bad.csv"
    bad.write_text("sentence,label\nHello.,opinion\n")
    one_line_error(
        run("evaluate", "--model", mini_model_dir, bad), f"{bad}:2: missing column 'text'"
    )


def test_unreadable_file(tmp_path, mini_model_dir):
    one_line_error(
        run("evaluate", "--model", mini_model_dir, tmp_path / "nope.tsv"),
        f"{tmp_path / 'nope.tsv'}: no such file or folder",
    )


def test_tampered_model(mini_model_dir, tmp_path):
    folder = tmp_path / "tampered"
    shutil.copytree(mini_model_dir, folder)
    (folder / "scoring.npz").write_bytes(b"evil")
    one_line_error(
        run("score", "--model", folder, "hi"),
        f"{folder / 'scoring.npz'}: checksum does not match its manifest; refusing to load it "
        "(retrain with 'credscore train')",
    )


def test_missing_model(tmp_path):
    one_line_error(
        run("info", "--model", tmp_path / "none"),
        f"{tmp_path / 'none'}: no model here; run 'credscore train --output {tmp_path / 'none'}'",
    )


def installed_command() -> str:
    found = Path(sys.executable).parent / "credscore"
    return str(found) if found.exists() else shutil.which("credscore")


def test_installed_command_end_to_end(mini_model_dir, isolated_home):
    command = installed_command()
    assert command, "the credscore console script is not installed"
    env = {
        "PATH": "/usr/bin:/bin",
        "XDG_CONFIG_HOME": str(isolated_home / "config"),
        "LC_ALL": "C.UTF-8",
    }
    ok = subprocess.run(
        [command, "score", "--json", "--model", str(mini_model_dir)],
        input="The council met on Monday.\nThey are lying to you!!\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stderr
    assert len(json.loads(ok.stdout)["segments"]) == 2
    bad = subprocess.run(
        [command, "score", "--model", str(isolated_home / "none"), "x"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert bad.returncode == 1
    assert bad.stderr.count("\n") == 1 and bad.stderr.startswith("Error: ")
    module = subprocess.run(
        [sys.executable, "-m", "classifier", "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert module.returncode == 0 and "score" in module.stdout


def test_label_stdin_to_stdout_reconciles_counts(mini_model_dir):
    result = run(
        "label", "--model", mini_model_dir, "-", input="The council met.\n\nWhat a farce!\n"
    )
    assert result.exit_code == 3
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [bool(r.get("error")) for r in rows] == [False, True, False]
    # The count line is the last line, as the README promises, after the first error row.
    assert result.stderr.splitlines()[-1] == "credscore: 3 rows read, 2 labelled, 1 errors"
    assert result.stderr.splitlines()[-2] == "first error row: -:2: empty text"


def test_label_gz_csv_to_tsv_file(mini_model_dir, tmp_path):
    import gzip

    source = tmp_path / "in.csv.gz"
    source.write_bytes(gzip.compress(b"text,author\nThe council met.,ann\nWhat a farce!,bob\n"))
    result = run(
        "label",
        "--model",
        mini_model_dir,
        source,
        "-o",
        tmp_path / "out.tsv",
        "--source-column",
        "author",
        "--summary",
        tmp_path / "s.json",
        "--segment",
        "--jobs",
        "2",
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    lines = (tmp_path / "out.tsv").read_text().splitlines()
    assert len(lines) == 3 and lines[0].split("\t")[:2] == ["text", "author"]
    assert {r["source"] for r in json.loads((tmp_path / "s.json").read_text())} == {"ann", "bob"}
    assert result.stderr.strip().endswith("credscore: 2 rows read, 2 labelled, 0 errors")


def test_label_summary_of_mixed_json_sources(mini_model_dir, tmp_path):
    # numbers, strings, lists and objects as sources in one file: counted, never a traceback
    source = tmp_path / "in.jsonl"
    sources = ("42", '"a"', "[1]", "null")
    lines = ['{"text": "The council met.", "source": ' + s + "}" for s in sources]
    source.write_text("\n".join(lines) + "\n")
    for jobs in ("1", "2"):
        summary = tmp_path / f"s{jobs}.csv"
        result = run(
            "label", "--model", mini_model_dir, source, "-q", "--summary", summary, "--jobs", jobs
        )
        assert result.exit_code == 0, result.output
        table = summary.read_text().splitlines()
        assert table[0].startswith("source,rows,") and "label" not in table[0].split(",")
        assert sorted(line.split(",")[0] for line in table[1:]) == ["(no source)", "42", "[1]", "a"]


def test_label_bad_inputs(mini_model_dir, tmp_path):
    one_line_error(
        run("label", "--model", mini_model_dir, tmp_path / "none.csv"),
        f"{tmp_path / 'none.csv'}: no such file",
    )
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"ok\n\xff\n")
    one_line_error(
        run("label", "--model", mini_model_dir, bad),
        f"{bad}:2: undecodable bytes for utf-8 at byte 0 of the line; fix the file, use --encoding, or --errors=row",
    )
    assert run("label", "--model", mini_model_dir, bad, "--errors", "row").exit_code == 3


def test_label_usage_errors_come_before_the_model_is_loaded(tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("hello\n")
    nowhere = tmp_path / "no-model"  # loading it would fail with exit 1
    for args, message in [
        (("--resume",), "--resume continues an output file: give it with -o"),
        (("--dask", "tcp://127.0.0.1:1"), "--dask writes one output per input file"),
    ]:
        result = run("label", "--model", nowhere, source, *args)
        assert result.exit_code == 2
        assert f"Error: {message}" in result.stderr


def test_label_interrupted(mini_model_dir, tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("classifier.batch.label_inputs", interrupted)
    source = tmp_path / "in.txt"
    source.write_text("hello\n")
    result = run("label", "--model", mini_model_dir, source, "-o", tmp_path / "out.jsonl")
    assert result.exit_code == 130
    assert result.stderr.strip() == (
        f"Interrupted: {tmp_path / 'out.jsonl'} was not changed; rerun with --resume to continue from "
        f"{tmp_path / '.out.jsonl.part'}"
    )


def test_installed_command_labels_a_file(mini_model_dir, isolated_home, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(
        '{"text": "The council met."}\n{"nope": 1}\nnot json\n{"text": "What a farce!"}\n'
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "XDG_CONFIG_HOME": str(isolated_home / "config"),
        "LC_ALL": "C.UTF-8",
    }
    done = subprocess.run(
        [
            installed_command(),
            "label",
            "--model",
            str(mini_model_dir),
            str(source),
            "-o",
            str(tmp_path / "out.csv"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 3, done.stderr
    assert "credscore: 4 rows read, 2 labelled, 2 errors" in done.stderr
    import csv

    with (tmp_path / "out.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [bool(r["error"]) for r in rows] == [False, True, True, False]


def test_ctrl_c_during_train_exits_130(monkeypatch, tmp_path):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("training.train.train", interrupted)
    result = run("train", "--labels", MINI_LABELS, "--output", tmp_path / "m")
    assert result.exit_code == 130
    assert result.stderr.splitlines()[-1] == "Interrupted."


def test_info_checks_every_file_of_the_model(mini_model_dir, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(mini_model_dir, copy)
    assert run("info", "--model", copy).exit_code == 0
    (copy / "model.joblib").write_bytes(b"corrupt")
    one_line_error(
        run("info", "--model", copy),
        f"{copy.resolve() / 'model.joblib'}: checksum does not match its manifest; refusing to load "
        "it (retrain with 'credscore train')",
    )
    shutil.rmtree(copy)
    shutil.copytree(mini_model_dir, copy)
    (copy / "scoring.npz").unlink()
    result = run("info", "--model", copy)
    assert result.exit_code == 1 and "scoring.npz: model file is missing" in result.stderr


def test_a_closed_reader_ends_label_quietly(mini_model_dir, tmp_path):
    source = tmp_path / "many.txt"
    source.write_text("The council met on Monday.\n" * 50_000)
    command = f"{installed_command()} label --model {mini_model_dir} {source} | head -1"
    done = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {command}"], capture_output=True, text=True, timeout=120
    )
    assert json.loads(done.stdout)["label"]
    assert done.returncode == 141
    assert "Error" not in done.stderr and "Traceback" not in done.stderr


@pytest.mark.slow
def test_simultaneous_first_runs_train_the_default_model_once(tmp_path):
    import os

    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "home")}
    env.pop("CREDSCORE_MODEL", None)
    runs = [
        subprocess.Popen(
            [installed_command(), "score", "The council met."],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=300) for p in runs]
    assert [p.returncode for p in runs] == [0, 0, 0]
    errs = [err for _, err in outputs]
    assert sum("training one from the bundled labels" in e for e in errs) == 1
    assert sum("waiting for it" in e for e in errs) == 2


GOLDEN_PAGES = Path(__file__).parent / "golden" / "pages"


def test_score_page_reads_text_and_html_by_content(mini_model_dir):
    for name in ("wordpress_says.txt", "wordpress.html"):
        page = (GOLDEN_PAGES / name).read_text()
        as_argument = run("score", "--page", "--json", "--model", mini_model_dir, page)
        from_stdin = run("score", "--page", "--json", "--model", mini_model_dir, input=page)
        assert as_argument.exit_code == 0 and from_stdin.exit_code == 0, as_argument.output
        first, second = json.loads(as_argument.stdout), json.loads(from_stdin.stdout)
        assert first["comments"] == second["comments"]
        assert first["comments"] and all(c["label"] for c in first["comments"])
        assert set(first) >= {"model", "article", "comments", "commenters", "other"}
    table = run("score", "--page", "--model", mini_model_dir, input=page)
    assert "Commenters" in table.stdout and "Skipped, not scored" in table.stdout


def test_score_page_of_nothing_is_one_line(mini_model_dir):
    result = run("score", "--page", "--model", mini_model_dir, "<html><body></body></html>")
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert "Traceback" not in result.output


def test_label_thread_summary_rolls_up_threads_and_authors(mini_model_dir, tmp_path):
    source = tmp_path / "comments.csv"
    source.write_text(
        "id,thread,author,parent,text\n"
        "1,t1,ann,,The council met on Monday.\n"
        "2,t1,bob,1,They lie to you!! Wake up!!\n"
        "3,t2,ann,,What a farce this vote was.\n"
        "4,t2,cat,3,\n"
    )
    out = tmp_path / "threads.json"
    result = run(
        "label",
        "--model",
        mini_model_dir,
        source,
        "-o",
        tmp_path / "o.jsonl",
        "--thread-summary",
        out,
    )
    assert result.exit_code == 3  # row 4 is empty: an error row, still counted
    rollup = json.loads(out.read_text())
    threads = {t["thread"]: t for t in rollup["threads"]}
    authors = {a["author"]: a for a in rollup["authors"]}
    assert threads["t1"]["rows"] == 2 and threads["t2"]["rows"] == 2
    assert authors["ann"]["rows"] == 2 and authors["cat"]["errors"] == 1
    assert sum(t["rows"] for t in rollup["threads"]) == 4


def test_labels_bundled_names_the_shipped_labels(tmp_path, monkeypatch):
    from training.dataset import bundled_labels_dir, load_dataset

    shipped = len(load_dataset([bundled_labels_dir()]).records)
    everything = run(
        "labels", "export", "--labels", "bundled", "--to", "csv", "-o", tmp_path / "a.csv"
    )
    assert everything.exit_code == 0, everything.output
    assert everything.stderr.strip() == f"wrote {shipped} rows to {tmp_path / 'a.csv'}"
    # --labels bundled --labels mine.jsonl reads both, wherever credscore is installed
    folder = tmp_path / "site-packages" / "credscore_labels"
    folder.mkdir(parents=True)
    shutil.copy(MINI_LABELS, folder)
    monkeypatch.setattr("training.dataset.bundled_labels_dir", lambda: folder)
    mine = tmp_path / "mine.jsonl"
    row = {"id": "m1", "text": "Ferries are a joke here.", "label": "opinion"}
    mine.write_text(json.dumps(row) + "\n")
    both = run("labels", "export", "--labels", "bundled", "--labels", mine, "--to", "doccano")
    assert both.exit_code == 0, both.output
    texts = [json.loads(line)["text"] for line in both.stdout.splitlines()]
    assert texts == [json.loads(line)["text"] for line in MINI_LABELS.open()] + [row["text"]]
    # a folder of that name is ./bundled
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bundled").mkdir()
    shutil.copy(mine, tmp_path / "bundled")
    local = run("labels", "export", "--labels", "./bundled", "--to", "csv")
    assert local.exit_code == 0 and local.stdout.count("\n") == 2  # header and the one row


@pytest.fixture
def trained_copy(mini_trained_dir, tmp_path):
    """A copy of the session's trained mini model that a test may rewrite."""
    folder = tmp_path / "trained"
    shutil.copytree(mini_trained_dir, folder)
    return folder


def test_thresholds_prints_the_points_and_the_table(trained_copy):
    result = run("thresholds", "--model", trained_copy)
    assert result.exit_code == 0, result.output
    assert "24 rows scored out of fold" in result.stdout
    assert "maximum recall @ precision >= 0.9" in result.stdout
    table = [line.split() for line in result.stdout.splitlines() if line.startswith("      0.")]
    assert [row[0] for row in table] == [f"{t / 20:.2f}" for t in range(1, 20)]
    data = json.loads(run("thresholds", "--model", trained_copy, "--json").stdout)
    assert set(data["tables"]) == {"disinformation"}
    assert len(data["tables"]["disinformation"]) == 101
    recall = [r["recall"] for r in data["tables"]["disinformation"]]
    assert recall == sorted(recall, reverse=True)  # a higher threshold never catches more
    labels = json.loads(
        run("thresholds", "--model", trained_copy, "--json", "--label", "opinion").stdout
    )
    assert set(labels["tables"]) == {"opinion"}


def test_thresholds_set_rewrites_the_manifest_without_retraining(trained_copy):
    before = {p.name: p.read_bytes() for p in trained_copy.iterdir() if p.name != "manifest.json"}
    result = run(
        "thresholds",
        "--model",
        trained_copy,
        "--json",
        "--set",
        "hold=maximum recall @ precision >= 0.5",
        "--set",
        "review=0.25",
    )
    assert result.exit_code == 0, result.output
    assert "rewrote" in result.stderr
    manifest = json.loads((trained_copy / "manifest.json").read_text())
    points = manifest["operating_points"]
    assert points["hold"]["constraint"] == "maximum recall @ precision >= 0.5"
    assert points["hold"]["precision"] >= 0.5
    assert points["review"]["threshold"] == 0.25
    assert points["review"]["constraint"] == "fixed threshold 0.25"
    assert json.loads(result.stdout)["operating_points"] == points
    after = {p.name: p.read_bytes() for p in trained_copy.iterdir() if p.name != "manifest.json"}
    assert after == before  # the model's files are as they were
    # and the rewritten model still loads and decides by the new points
    scored = json.loads(run("score", "--model", trained_copy, "--json", "x").stdout)
    assert scored["policy"]["review"]["threshold"] == 0.25


@pytest.mark.parametrize(
    "value, message",
    [
        ("hold=maximum recal @ precision >= 0.9", "is not a constraint"),
        ("keep=0.5", "NAME one of hold, review"),
        ("hold=1.5", "a threshold must be between 0 and 1"),
    ],
)
def test_thresholds_set_refuses_bad_values(trained_copy, value, message):
    manifest = (trained_copy / "manifest.json").read_bytes()
    result = run("thresholds", "--model", trained_copy, "--set", value)
    assert result.exit_code == 2 and message in result.stderr
    assert (trained_copy / "manifest.json").read_bytes() == manifest


def test_thresholds_refuses_a_changed_out_of_fold_array(trained_copy):
    import numpy as np

    gold = np.load(trained_copy / "oof_gold.npy")
    np.save(trained_copy / "oof_gold.npy", np.zeros_like(gold))
    one_line_error(
        run("thresholds", "--model", trained_copy, "--set", "hold=0.9"),
        f"{trained_copy / 'oof_gold.npy'}: checksum does not match its manifest; refusing to load "
        "it (retrain with 'credscore train')",
    )


def test_thresholds_needs_out_of_fold_scores(mini_model_dir):
    one_line_error(
        run("thresholds", "--model", mini_model_dir),
        f"{mini_model_dir}: this model keeps no out-of-fold scores to choose thresholds from; "
        "retrain it with 'credscore train'",
    )


def test_score_and_label_threshold_override(trained_copy, tmp_path):
    text = "The council met on Monday. They lie, wake up traitors!!"
    held = json.loads(
        run("score", "--model", trained_copy, "--json", "--threshold", "hold=0", text).stdout
    )
    assert held["summary"]["decisions"] == {"hold": 2, "review": 0, "accept": 0}
    assert held["policy"]["hold"]["constraint"] == "--threshold hold=0.0"
    assert "hold" in run("score", "--model", trained_copy, "--threshold", "hold=0", text).stdout
    bad = run("score", "--model", trained_copy, "--threshold", "hold=2", text)
    assert bad.exit_code == 2 and "--threshold hold=2" in bad.stderr
    source = tmp_path / "in.csv"
    source.write_text("text,source\nThe council met.,a\nWake up!!,b\n")
    result = run(
        "label",
        "--model",
        trained_copy,
        source,
        "-o",
        tmp_path / "out.csv",
        "--threshold",
        "hold=0",
        "--summary",
        tmp_path / "s.json",
    )
    assert result.exit_code == 0, result.output
    import csv

    with (tmp_path / "out.csv").open(newline="") as handle:
        assert [r["decision"] for r in csv.DictReader(handle)] == ["hold", "hold"]
    assert [r["held"] for r in json.loads((tmp_path / "s.json").read_text())] == [1, 1]
    assert "decisions: 2 held, 0 reviewed" in result.stderr
    assert result.stderr.splitlines()[-1] == "credscore: 2 rows read, 2 labelled, 0 errors"


def test_evaluate_reports_points_and_gates(trained_copy):
    result = run("evaluate", "--model", trained_copy, MINI_LABELS)
    assert result.exit_code == 0, result.output
    assert "Calibration on" in result.stdout and "Operating points on" in result.stdout
    passed = run("evaluate", "--model", trained_copy, MINI_LABELS, "--min-macro-f1", "0.1")
    assert passed.exit_code == 0 and "gate passed" in passed.stderr
    # holding every row makes hold's precision the share of disinformation rows: 8 of 24
    assert run("thresholds", "--model", trained_copy, "--set", "hold=0").exit_code == 0
    failed = run(
        "evaluate", "--model", trained_copy, "--json", MINI_LABELS, "--min-precision", "hold=0.9"
    )
    assert failed.exit_code == 4
    assert failed.stderr == (
        "Error: the model falls short of the gate: 'hold' precision 0.333 (threshold 0) is below 0.9\n"
    )
    data = json.loads(failed.stdout)
    assert data["gate"]["passed"] is False and set(data["operating_points"]) == {"hold", "review"}
    promised = json.loads((trained_copy / "manifest.json").read_text())["operating_points"]
    assert (
        data["operating_points"]["hold"]["promised"]["precision"] == promised["hold"]["precision"]
    )
    usage = run("evaluate", "--model", trained_copy, MINI_LABELS, "--min-precision", "hold")
    assert usage.exit_code == 2 and "--min-precision hold" in usage.stderr


def test_train_on_a_two_column_file_says_how_it_grouped(tmp_path):
    from test_train import two_column_tsv

    source = two_column_tsv(tmp_path / "export.tsv", 60)
    result = run("train", "--labels", source, "--output", tmp_path / "m")
    assert result.exit_code == 0, result.output
    assert (
        "cross-validation: stratified folds over rows (no 'doc' column, no 'source' column)"
        in result.stderr
    )
    assert "Cross-validation (5-fold, stratified over rows)" in result.stdout
    assert "Operating points, chosen out of fold" in result.stdout
    bad = run("train", "--labels", source, "--output", tmp_path / "m", "--group-by", "author")
    assert bad.exit_code == 2 and "--group-by author: no row of" in bad.stderr


def test_installed_command_thresholds_and_gate(trained_copy, isolated_home):
    env = {
        "PATH": "/usr/bin:/bin",
        "XDG_CONFIG_HOME": str(isolated_home / "config"),
        "LC_ALL": "C.UTF-8",
    }

    def credscore(*args):
        return subprocess.run(
            [installed_command(), *map(str, args)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )

    shown = credscore("thresholds", "--model", trained_copy, "--set", "hold=0", "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["operating_points"]["hold"]["threshold"] == 0.0
    scored = credscore("score", "--model", trained_copy, "--json", "x")
    assert scored.returncode == 0, scored.stderr
    assert json.loads(scored.stdout)["segments"][0]["decision"] == "hold"
    overridden = credscore("score", "--model", trained_copy, "--json", "--threshold", "hold=1", "x")
    assert json.loads(overridden.stdout)["segments"][0]["decision"] != "hold"
    # every row held: hold's precision is the share of disinformation rows, 8 of 24
    passed = credscore(
        "evaluate", "--model", trained_copy, MINI_LABELS, "--min-precision", "hold=0.3"
    )
    assert passed.returncode == 0, passed.stderr
    failed = credscore(
        "evaluate", "--model", trained_copy, MINI_LABELS, "--min-precision", "hold=0.9"
    )
    assert failed.returncode == 4
    assert failed.stderr.count("\n") == 1 and "falls short of the gate" in failed.stderr
