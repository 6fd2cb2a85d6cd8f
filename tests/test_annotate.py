import json
import os
import signal
import subprocess

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import MINI_LABELS
from test_cli import installed_command

from classifier.cli import cli
from classifier.errors import InputError
from classifier.inputs import InputSpec
from classifier.model import load_model
from training.annotate import (
    AnswerFile,
    BatchExport,
    NearDuplicates,
    Opened,
    choose,
    margins,
    open_session,
    ranked,
    run_session,
)
from training.annotate import annotate as annotate_rows
from training.annotations import read_annotations
from training.audit import jaccard, word_trigrams
from training.dataset import load_dataset

#: Two near duplicates of rows of MINI_LABELS (never offered), three new texts and an empty one.
NEAR = {
    "The harbour authority said 14 ferries were cancelled on Monday.",
    "Cancelling every ferry at the first gust is lazy management.",
}
ROWS = [
    ("The harbour authority said 14 ferries were cancelled on Monday.", "port"),
    ("Cancelling every ferry at the first gust is lazy management.", "bob"),
    ("Wake up! The storms are made by a weather weapon to control us.", "carl"),
    ("The council approved the budget by seven votes to two.", "port"),
    ("", "nobody"),
    ("The mayor should resign, and the sooner the better for everyone.", "dana"),
]


@pytest.fixture
def comments(tmp_path):
    path = tmp_path / "comments.csv"
    lines = ["text,source"] + [f'"{text}",{source}' for text, source in ROWS]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def lines_of(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_ranked_is_uncertain_first_mixed_with_a_seeded_random_share():
    rng = np.random.default_rng(1)
    proba = rng.dirichlet([1, 1, 1], size=500)
    order = ranked(proba, random_share=0.0)
    assert [i for i, _ in order] == list(np.argsort(margins(proba), kind="stable"))
    mixed = ranked(proba, random_share=0.2, seed=3)
    assert sorted(i for i, _ in mixed) == list(range(500))  # every row once
    assert mixed == ranked(proba, random_share=0.2, seed=3)  # a restart offers the same order
    assert mixed != ranked(proba, random_share=0.2, seed=4)
    share = sum(why == "random" for _, why in mixed[:200]) / 200
    assert 0.1 < share < 0.3
    uncertain = [i for i, why in mixed if why == "uncertain"]
    assert list(margins(proba)[uncertain]) == sorted(margins(proba)[uncertain])


def test_choose_passes_over_labelled_rows_and_near_duplicates():
    texts = [
        "the council met on monday to discuss the new road budget",  # labelled below, nearly
        "the council met on monday to discuss the new road budget plan",
        "a completely different sentence about ferries and wind",
        "a completely different sentence about ferries and wind today",
        "short one",
    ]
    proba = np.array([[0.34, 0.33, 0.33]] * 5)  # all equally uncertain: input order
    labelled = ["The council met on Monday to discuss the new road budget!"]
    assert choose(texts, proba, 5, labelled=labelled, random_share=0) == [2, 4]
    # the measure is audit's: word 3-gram Jaccard over 0.5
    a, b = set(word_trigrams(texts[2])), set(word_trigrams(texts[3]))
    assert jaccard(a, b) > 0.5
    index = NearDuplicates()
    index.add(texts[2])
    assert index.match(texts[3]) == "near duplicate" and index.match(texts[2].upper()) == "labelled"
    index.remove(texts[2])
    assert index.match(texts[3]) is None


def test_answers_file_appends_undoes_and_repairs_a_torn_line(tmp_path):
    path = tmp_path / "a.jsonl"
    file = AnswerFile(path)
    file.append({"text": "one", "label": "opinion"})
    file.append({"text": "two", "label": "reporting"})
    inode = path.stat().st_ino
    assert file.undo() == {"text": "two", "label": "reporting"}
    assert path.stat().st_ino != inode  # rewritten beside and renamed over, not truncated
    file.append({"text": "three", "label": "disinformation"})  # appends to the new file
    file.close()
    assert [r["text"] for r in lines_of(path)] == ["one", "three"]
    with path.open("a") as handle:
        handle.write('{"text": "fou')  # a crash mid-write
    again = AnswerFile(path)
    assert again.repaired == '{"text": "fou' and [r["text"] for r in again.rows] == ["one", "three"]
    again.close()
    assert path.read_text().endswith("}\n")
    path.write_text('{"text": "x", "label": "opinion"}\n{"undo": 1}\n')
    with pytest.raises(InputError, match=r"a.jsonl:2: not an answer row"):
        AnswerFile(path)
    (tmp_path / "dir.jsonl").mkdir()
    with pytest.raises(InputError, match="not a regular file"):
        AnswerFile(tmp_path / "dir.jsonl")
    with pytest.raises(InputError, match=r"name the file \*\.jsonl"):
        AnswerFile(tmp_path / "a.csv")


def run(*args, input=None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=input)


def annotate(comments, answers, model, *extra, input=None):
    return run(
        "annotate", comments, "--labels-out", answers, "--model", model, "--labels", MINI_LABELS,
        "--random", "0", *extra, input=input,
    )  # fmt: skip


def test_piped_session_restart_and_training(comments, tmp_path, mini_model_dir):
    answers = tmp_path / "mine.jsonl"
    first = annotate(comments, answers, mini_model_dir, input="o\n?\nzzz\nr\nu\nd\n")
    assert first.exit_code == 0, first.output
    assert "unknown key 'zzz'; press ? for help" in first.stdout
    assert "s  skip" in first.stdout and "undone: " in first.stdout
    rows = lines_of(answers)
    assert [r["label"] for r in rows] == ["opinion", "disinformation"]  # "r" was undone
    model = load_model(mini_model_dir)
    texts = [t for t, _ in ROWS if t and t not in NEAR]
    proba = model.scorer.proba(texts)
    expected = [texts[i] for i in np.argsort(margins(proba), kind="stable")]
    assert [r["text"] for r in rows] == expected[:2]  # most uncertain first
    first_row = rows[0]
    source = dict(ROWS)[first_row["text"]]
    assert first_row["origin"] == "annotated" and first_row["source"] == source
    assert first_row["file"] == str(comments) and first_row["model"] == model.sha256
    assert first_row["model_label"] in ("reporting", "opinion", "disinformation")
    assert first.stderr.splitlines()[-1] == (
        "credscore: 3 answers this session (1 undone), 2 in the file; stopped: end of input"
    )
    # a restart goes on with the third row, and a label text is never offered
    second = annotate(comments, answers, mini_model_dir, input="r\nq\n")
    assert second.exit_code == 0, second.output
    rows = lines_of(answers)
    assert [r["text"] for r in rows] == expected[:3]
    assert second.stderr.splitlines()[-1].endswith("passed over: 2 labelled, 2 near duplicate")
    # the answers train as they are, next to other labels
    dataset = load_dataset([MINI_LABELS, answers])
    assert len(dataset.records) == 27
    trained = run(
        "train", "--labels", MINI_LABELS, "--labels", answers, "--output", tmp_path / "m2"
    )
    assert trained.exit_code == 0, trained.output


def test_batch_export_for_label_studio_comes_back_as_labels(comments, tmp_path, mini_model_dir):
    tasks = tmp_path / "tasks.json"
    done = annotate(
        comments, tmp_path / "mine.jsonl", mini_model_dir, "--batch", 3, "--export", tasks
    )
    assert done.exit_code == 0, done.output
    exported = json.loads(tasks.read_text())
    assert len(exported) == 3
    assert all(t["predictions"][0]["result"][0]["value"]["choices"] for t in exported)
    for task in exported:  # what a person does in Label Studio
        task["annotations"] = [{"result": [{"type": "choices", "value": {"choices": ["Opinion"]}}]}]
    tasks.write_text(json.dumps(exported))
    back = read_annotations(tasks, "label-studio")
    assert not back.bad and [r["label"] for r in back.rows] == ["opinion"] * 3
    assert {r["source"] for r in back.rows} <= {s for _, s in ROWS}
    prodigy = tmp_path / "tasks.jsonl"
    done = annotate(
        comments, tmp_path / "mine.jsonl", mini_model_dir,
        "--batch", 10, "--export", prodigy, "--format", "prodigy",
    )  # fmt: skip
    offered = [json.loads(line)["text"] for line in prodigy.read_text().splitlines()]
    assert done.exit_code == 0 and sorted(offered) == sorted(
        t for t, _ in ROWS if t and t not in NEAR
    )
    usage = annotate(comments, tmp_path / "mine.jsonl", mini_model_dir, "--batch", 3)
    assert usage.exit_code == 2 and "--batch N and --export FILE go together" in usage.stderr


def test_open_session_counts_rows_without_text(comments, tmp_path, mini_model_dir):
    session, counts = open_session(
        InputSpec((str(comments),)),
        load_model(mini_model_dir),
        tmp_path / "a.jsonl",
        labelled_paths=[MINI_LABELS],
    )
    assert counts == {"rows": 6, "unusable": 1, "repaired": 0}
    keys = iter(["d", "d"])
    seen = []
    report = run_session(
        session,
        read_key=lambda: next(keys),
        write=lambda text, end="\n": seen.append(text),
        limit=2,
    )
    assert report.stopped == "limit" and report.in_file == 2


def test_annotate_reports_ctrl_c_and_exports(comments, tmp_path, mini_model_dir):
    model, spec, answers = (
        load_model(mini_model_dir),
        InputSpec((str(comments),)),
        tmp_path / "a.jsonl",
    )
    keys = iter(["o"])

    def read_key():  # one answer, then Ctrl-C
        key = next(keys, None)
        if key is None:
            raise KeyboardInterrupt
        return key

    seen = []
    quiet = {"read_key": read_key, "write": lambda text, end="\n": None}
    report = annotate_rows(
        spec, model, answers, opened=seen.append, labelled_paths=[MINI_LABELS], **quiet
    )
    assert seen == [Opened(rows=6, unusable=1, answers=0, repaired="")]
    assert report.stopped == "interrupted" and report.in_file == 1 == len(lines_of(answers))
    tasks = tmp_path / "tasks.jsonl"
    batch = BatchExport(2, tasks, "doccano")
    exported = annotate_rows(
        spec, model, answers, export=batch, labelled_paths=[MINI_LABELS], **quiet
    )
    assert exported.stopped == "exported" and exported.exported == 2 == len(lines_of(tasks))
    offered = {r["text"] for r in lines_of(tasks)}
    assert not offered & {r["text"] for r in lines_of(answers)}  # the answered row is not offered


pexpect = pytest.importorskip("pexpect", reason="pexpect drives the terminal test")


def spawn(comments, answers, model):
    child = pexpect.spawn(
        installed_command(),
        ["annotate", str(comments), "--labels-out", str(answers), "--model", str(model),
         "--labels", str(MINI_LABELS), "--random", "0", "--annotator", "tess"],
        encoding="utf-8",
        timeout=30,
        dimensions=(40, 120),
        env={**os.environ, "TERM": "xterm"},
    )  # fmt: skip
    child.expect_exact("[q]uit > ")
    return child


def test_terminal_session_killed_midway_loses_nothing(comments, tmp_path, mini_model_dir):
    answers = tmp_path / "mine.jsonl"
    child = spawn(comments, answers, mini_model_dir)
    assert "\x1b[" in child.before  # a terminal gets coloured segments
    child.send("o")  # one key, no Enter
    child.expect_exact("saved: opinion")
    child.expect_exact("[q]uit > ")
    child.send("?")
    child.expect_exact("u  undo")
    child.expect_exact("[q]uit > ")
    child.send("r")
    child.expect_exact("saved: reporting")
    child.expect_exact("[q]uit > ")
    shown = child.before  # the third row, on screen when the terminal dies
    child.kill(signal.SIGKILL)
    child.wait()
    rows = lines_of(answers)
    assert [r["label"] for r in rows] == ["opinion", "reporting"]
    assert all(r["annotator"] == "tess" for r in rows)
    assert not any(r["text"][-20:] in shown for r in rows)
    # restarted, it shows the row that was on screen, and undo takes back the last answer
    child = spawn(comments, answers, mini_model_dir)
    third = next(
        t for t, _ in ROWS if t and t not in {r["text"] for r in rows} and t[-20:] in shown
    )
    assert third[-20:] in child.before
    child.send("u")
    child.expect_exact("undone: ")
    child.expect_exact("[q]uit > ")
    assert rows[1]["text"][-20:] in child.before
    assert [r["label"] for r in lines_of(answers)] == ["opinion"]
    child.send("d")
    child.expect_exact("saved: disinformation")
    child.expect_exact("[q]uit > ")
    child.sendcontrol("c")
    child.expect_exact("Interrupted: 2 answers are saved in")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    assert [(r["text"], r["label"]) for r in lines_of(answers)] == [
        (rows[0]["text"], "opinion"),
        (rows[1]["text"], "disinformation"),
    ]


def test_installed_command_reads_answers_from_a_pipe(comments, tmp_path, mini_model_dir):
    answers = tmp_path / "mine.jsonl"
    done = subprocess.run(
        [installed_command(), "annotate", str(comments), "--labels-out", str(answers),
         "--model", str(mini_model_dir), "--labels", str(MINI_LABELS)],
        input="d\nopinion\n",
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "\x1b[" not in done.stdout  # no colours into a pipe
    assert [r["label"] for r in lines_of(answers)] == ["disinformation", "opinion"]


@pytest.mark.parametrize("command", ["annotate"])
def test_help_has_examples(command):
    result = CliRunner().invoke(cli, [*command.split(), "--help"])
    assert result.exit_code == 0 and "Examples:" in result.stdout
