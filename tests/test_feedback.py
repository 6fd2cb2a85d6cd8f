"""The feedback file: whole lines under concurrency, and rows that ``credscore train`` reads."""

import json
import os
import threading

import pytest
from click.testing import CliRunner
from conftest import MINI_LABELS

from classifier.cli import cli
from classifier.errors import InputError, OptionError
from classifier.feedback import FeedbackLog, Verdict, untrained_path
from training.dataset import load_dataset


def verdict(text, label="disinformation", **more):
    return Verdict("page", text, label, **more)


def lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_rows_carry_the_verdict_and_train(tmp_path):
    path = tmp_path / "feedback.jsonl"
    log = FeedbackLog(path)
    assert log.append(
        Verdict(
            "suggestscore",
            "They poison the water and the media hides it!",
            "disinformation",
            attributes={"DISINFORMATION": 1.0},
            client_token="comment:1",
            community_id="Coral:https://news.example",
            session_id="s1",
        )
    )
    assert log.append(
        verdict("The mayor said the bridge will reopen on Friday.", "reporting", source="site-a")
    )
    log.close()
    first, second = lines(path)
    assert first["origin"] == second["origin"] == "feedback"
    assert (
        first["clientToken"] == "comment:1" and first["communityId"] == "Coral:https://news.example"
    )
    assert first["attributes"] == {"DISINFORMATION": 1.0} and first["via"] == "suggestscore"
    assert first["doc"] == "feedback:Coral:https://news.example" and second["doc"] == "feedback"
    assert first["id"] != second["id"] and first["time"].endswith("+00:00")
    dataset = load_dataset([MINI_LABELS, path])
    fed = [r for r in dataset.records if r.origin == "feedback"]
    assert [(r.text, r.label) for r in fed] == [
        ("They poison the water and the media hides it!", "disinformation"),
        ("The mayor said the bridge will reopen on Friday.", "reporting"),
    ]
    assert fed[1].source == "site-a"


def test_verdicts_that_cannot_train_go_beside_the_file_and_are_not_read(tmp_path):
    folder = tmp_path / "labels"
    folder.mkdir()
    path = folder / "feedback.jsonl"
    log = FeedbackLog(path)
    assert log.append(verdict("Crowds cheered the new ferry on Monday.", "reporting"))
    assert not log.append(verdict(None, "disinformation", client_token="private"))  # doNotStore
    assert not log.append(
        verdict("A comment a moderator approved.", None, attributes={"APPROVED": 1.0})
    )
    assert not log.append(verdict("Die Regierung lügt!", "disinformation", language="und"))
    log.close()
    kept = lines(untrained_path(path))
    assert untrained_path(path).name == "feedback.verdicts.ndjson"
    assert [row.get("text") for row in kept] == [
        None,
        "A comment a moderator approved.",
        "Die Regierung lügt!",
    ]
    assert "text" not in kept[0] and kept[0]["clientToken"] == "private"
    # A labels folder holding both files trains on the labelled rows only.
    dataset = load_dataset([MINI_LABELS, folder])
    assert [r.text for r in dataset.records if r.origin == "feedback"] == [
        "Crowds cheered the new ferry on Monday."
    ]


def test_credscore_train_reads_the_feedback_file(tmp_path):
    path = tmp_path / "feedback.jsonl"
    log = FeedbackLog(path)
    log.append(verdict("The sky is being sprayed with mind-control chemicals every night!"))
    log.append(verdict(None))
    log.close()
    result = CliRunner().invoke(
        cli,
        [
            "train",
            "--labels",
            str(MINI_LABELS),
            "--labels",
            str(path),
            "--output",
            str(tmp_path / "m"),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads(result.stdout)
    assert manifest["training_data"]["rows"] == 25  # 24 mini rows and the one labelled verdict


def test_lines_never_interleave(tmp_path):
    """Two logs on one file (two descriptors, as two worker processes have) and four threads
    each: every line stays whole."""
    path = tmp_path / "feedback.jsonl"
    logs = [FeedbackLog(path), FeedbackLog(path)]
    per_thread, threads = 25, []

    def write(log, n):
        for i in range(per_thread):
            # Long lines (about 20 KB): far beyond what a single small write would cover.
            log.append(verdict(f"{n}-{i} " + "They are hiding it. " * 1000))

    for n in range(8):
        threads.append(threading.Thread(target=write, args=(logs[n % 2], n)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rows = lines(path)
    assert len(rows) == 8 * per_thread
    assert sorted(r["text"].split(" ")[0] for r in rows) == sorted(
        f"{n}-{i}" for n in range(8) for i in range(per_thread)
    )
    assert all(r["text"].endswith("They are hiding it. " * 3) for r in rows)


def test_refuses_what_is_not_a_jsonl_file(tmp_path):
    with pytest.raises(OptionError, match=r"give a \.jsonl file"):
        FeedbackLog(tmp_path / "feedback.csv")
    (tmp_path / "dir.jsonl").mkdir()
    with pytest.raises(InputError, match="is a folder"):
        FeedbackLog(tmp_path / "dir.jsonl")
    os.symlink(tmp_path / "elsewhere.jsonl", tmp_path / "link.jsonl")
    with pytest.raises(InputError, match="symbolic link"):
        FeedbackLog(tmp_path / "link.jsonl")
    with pytest.raises(InputError, match="does not exist"):
        FeedbackLog(tmp_path / "missing" / "feedback.jsonl")
    os.mkfifo(tmp_path / "fifo.jsonl")
    with pytest.raises(InputError, match="not a regular file"):
        FeedbackLog(tmp_path / "fifo.jsonl")
