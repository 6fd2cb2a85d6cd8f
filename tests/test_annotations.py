import json
import subprocess

import pytest
from click.testing import CliRunner
from conftest import MINI_LABELS
from test_cli import installed_command

from classifier.cli import cli
from classifier.errors import InputError
from training.annotations import (
    FORMATS,
    export_labels,
    import_labels,
    parse_label_map,
    read_annotations,
)
from training.dataset import load_dataset


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def jsonl(path, rows):
    return write(path, "".join(json.dumps(r) + "\n" for r in rows))


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip(fmt, tmp_path):
    records = load_dataset([MINI_LABELS]).records
    suffix = {"label-studio": ".json", "fasttext": ".txt", "csv": ".csv"}.get(fmt, ".jsonl")
    exported = tmp_path / f"export{suffix}"
    export_labels(records, fmt, exported)
    result = import_labels(exported, fmt, tmp_path / "back.jsonl")
    assert result.written and not result.bad and not result.dropped
    back = load_dataset([tmp_path / "back.jsonl"]).records
    assert [(r.text, r.label) for r in back] == [(r.text, r.label) for r in records]
    assert all(r.origin == f"imported:{fmt}" for r in back)
    if fmt != "fasttext":  # fastText lines carry only the label and the text
        assert [(r.doc, r.source) for r in back] == [(r.doc, r.source) for r in records]


def test_round_trip_with_another_scheme(tmp_path):
    records = load_dataset([MINI_LABELS]).records
    out = tmp_path / "theirs.jsonl"
    export_labels(records, "prodigy", out, label_map={"opinion": "SUBJ"})
    assert {"id": "SUBJ", "text": "SUBJ"} in json.loads(out.read_text().splitlines()[0])["options"]
    refused = read_annotations(out, "prodigy")
    assert refused.bad and "unknown label 'SUBJ'; map it with --map" in refused.bad[0]
    back = read_annotations(out, "prodigy", label_map={"SUBJ": "opinion"})
    assert [r["label"] for r in back.rows] == [r.label for r in records]


def test_doccano_shapes(tmp_path):
    path = jsonl(
        tmp_path / "doccano.jsonl",
        [
            {"id": 7, "text": "The council met on Monday.", "label": ["OBJ"]},
            {"id": 8, "text": "What a farce this council is.", "label": []},
            {"id": 9, "text": "Both at once.", "label": ["OBJ", "SUBJ"]},
            {
                "id": 10,
                "text": "Said so. Awful!",
                "label": [[9, 15, "SUBJ"]],
                "meta": {"doc": "d1"},
            },
            {"id": 11, "text": "Kept.", "labels": ["SUBJ"], "source": "bob"},
        ],
    )
    result = read_annotations(path, "doccano", label_map={"OBJ": "reporting", "SUBJ": "opinion"})
    assert [(r["id"], r["text"], r["label"]) for r in result.rows] == [
        ("doccano:7", "The council met on Monday.", "reporting"),
        ("doccano:10:9-15", "Awful!", "opinion"),
        ("doccano:11", "Kept.", "opinion"),
    ]
    assert result.rows[1]["doc"] == "d1" and result.rows[2]["source"] == "bob"
    assert result.dropped == {"unlabelled": 1}
    assert result.bad == (
        f"{path}:3: several labels (OBJ, SUBJ); credscore needs one label per row",
    )


def label_studio_task(task_id, text, *annotations, **data):
    return {
        "id": task_id,
        "data": {"text": text, **data},
        "annotations": [
            {
                "id": 100 + n,
                "was_cancelled": cancelled,
                "result": results,
            }
            for n, (results, cancelled) in enumerate(annotations)
        ],
        "predictions": [
            {"result": [{"type": "choices", "value": {"choices": ["Disinformation"]}}]}
        ],
    }


def choices(*names):
    return {
        "from_name": "label",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": list(names)},
    }


def span(start, end, label, text=None):
    value = {"start": start, "end": end, "labels": [label]}
    if text is not None:
        value["text"] = text
    return {"from_name": "spans", "to_name": "text", "type": "labels", "value": value}


def test_label_studio_shapes(tmp_path):
    emoji = "🚀 Launch went fine. Total scam!"
    tasks = [
        label_studio_task(1, "Officials said 40 people left.", ([choices("Reporting")], False)),
        label_studio_task(
            2, "A mixed one.", ([choices("Opinion")], False), ([choices("Opinion")], True)
        ),
        label_studio_task(
            3, "They disagree.", ([choices("Opinion")], False), ([choices("Reporting")], False)
        ),
        # span offsets in code points (current Label Studio) and in UTF-16 units (old versions)
        label_studio_task(
            4, emoji, ([span(20, 31, "Disinformation", "Total scam!")], False), doc="d4"
        ),
        label_studio_task(5, emoji + " ", ([span(21, 32, "Disinformation", "Total scam!")], False)),
        label_studio_task(6, "Nobody labelled me."),
        {"id": 7, "text": "JSON-MIN row", "label": "Opinion"},
        label_studio_task(8, "Bad span.", ([span(4, 40, "Opinion", "nothing like it")], False)),
    ]
    path = write(tmp_path / "project.json", json.dumps(tasks, indent=2))
    result = read_annotations(path, "label-studio")
    lines = path.read_text().splitlines()
    line_of = {
        t["id"]: next(n for n, line in enumerate(lines, 1) if f'"id": {t["id"]},' in line) - 1
        for t in tasks
    }
    assert [(r["id"], r["text"], r["label"]) for r in result.rows] == [
        ("project:1", "Officials said 40 people left.", "reporting"),
        ("project:2", "A mixed one.", "opinion"),
        ("project:4:20-31", "Total scam!", "disinformation"),
    ]
    assert result.rows[2]["doc"] == "d4"
    assert result.dropped == {
        "cancelled annotations": 1,
        "unlabelled": 1,
        "exact duplicates": 1,  # task 5's span is task 4's text again, by UTF-16 offsets
    }
    assert result.bad == (
        f"{path}:{line_of[3]}: annotators disagree on the text: opinion, reporting",
        f"{path}:{line_of[7]}: not a Label Studio task (no 'data'); export the project as JSON, not JSON-MIN",
        f"{path}:{line_of[8]}: span 4-40 does not match the text 'nothing like it'",
    )


def test_prodigy_answers(tmp_path):
    path = jsonl(
        tmp_path / "prodigy.jsonl",
        [
            {
                "text": "Choice accepted.",
                "options": [{"id": "opinion"}],
                "accept": ["opinion"],
                "answer": "accept",
            },
            {
                "text": "Binary accepted.",
                "label": "DISINFO",
                "answer": "accept",
                "meta": {"id": "x9"},
            },
            {"text": "Binary rejected.", "label": "DISINFO", "answer": "reject"},
            {"text": "Choice rejected.", "options": [], "accept": ["opinion"], "answer": "reject"},
            {"text": "Skipped.", "label": "DISINFO", "answer": "ignore"},
            {"text": "Not annotated yet.", "label": "DISINFO"},
            {
                "text": "Spans. Lies!",
                "spans": [{"start": 7, "end": 12, "label": "DISINFO"}],
                "answer": "accept",
            },
        ],
    )
    result = read_annotations(path, "prodigy", label_map={"DISINFO": "disinformation"})
    assert [(r["id"], r["text"], r["label"]) for r in result.rows] == [
        ("prodigy:1", "Choice accepted.", "opinion"),
        ("prodigy:x9", "Binary accepted.", "disinformation"),
        ("prodigy:7:7-12", "Lies!", "disinformation"),
    ]
    # a rejected label is not evidence for another label: dropped and counted, never relabelled
    assert result.dropped == {"rejected": 2, "ignored": 1}
    assert result.bad == (f"{path}:6: 'answer' is None, not accept, reject or ignore",)


def test_fasttext_and_csv_problems(tmp_path):
    ft = write(
        tmp_path / "ft.txt",
        "__label__opinion What a farce.\n\nno prefix here\n__label__reporting __label__opinion Two.\n"
        "__label__opinion What a farce.\n__label__reporting What a farce.\n",
    )
    result = read_annotations(ft, "fasttext")
    assert [r["text"] for r in result.rows] == ["What a farce."]
    assert result.records == 5 and result.dropped == {"exact duplicates": 1}
    assert result.bad == (
        f"{ft}:3: no __label__ prefix",
        f"{ft}:4: several labels (reporting, opinion); credscore needs one label per row",
        f"{ft}:6: same text as line 1 but labelled 'reporting', not 'opinion'",
    )
    tsv = write(tmp_path / "x.tsv", "text\tlabel\tsource\nA.\tReporting\tsite\nB.\t\tsite\nC.\n")
    result = read_annotations(tsv, "csv")
    assert [(r["text"], r["label"], r["source"]) for r in result.rows] == [
        ("A.", "reporting", "site")
    ]
    assert result.dropped == {"unlabelled": 1}
    assert result.bad == (f"{tsv}:4: wrong number of fields",)
    with pytest.raises(InputError, match="no column label"):
        read_annotations(write(tmp_path / "y.csv", "text,kind\nA,b\n"), "csv")
    with pytest.raises(InputError, match=r"doc.jsonl:2: not valid JSON"):
        read_annotations(
            write(tmp_path / "doc.jsonl", '{"text": "a", "label": ["x"]}\n{oops\n'), "doccano"
        )


def test_nothing_written_unless_skip_bad(tmp_path):
    path = write(tmp_path / "ft.txt", "__label__opinion Fine.\n__label__SUBJ Unknown.\n")
    out = tmp_path / "out.jsonl"
    result = import_labels(path, "fasttext", out)
    assert not result.written and not out.exists()
    result = import_labels(path, "fasttext", out, skip_bad=True)
    assert result.written and [r.text for r in load_dataset([out]).records] == ["Fine."]
    (tmp_path / "folder.jsonl").mkdir()
    with pytest.raises(InputError, match="not a regular file"):
        import_labels(path, "fasttext", tmp_path / "folder.jsonl")
    with pytest.raises(InputError, match=r"written as \.jsonl"):
        import_labels(path, "fasttext", tmp_path / "out.csv")


def test_label_map_syntax():
    assert parse_label_map(["SUBJ=opinion", "OTHER=-"]) == {"SUBJ": "opinion", "OTHER": "-"}
    assert parse_label_map(["opinion=SUBJ"], to_ours=False) == {"opinion": "SUBJ"}
    with pytest.raises(InputError, match="write it as THEIRS=OURS"):
        parse_label_map(["SUBJ"])
    with pytest.raises(InputError, match="'subjective' is not one of"):
        parse_label_map(["SUBJ=subjective"])


def test_cli_import_reports_every_bad_row(tmp_path):
    path = write(
        tmp_path / "ft.txt", "__label__SUBJ One.\n__label__OBJ Two.\n__label__NEUTRAL Three.\n"
    )
    out = tmp_path / "out.jsonl"
    runner = CliRunner()
    bad = runner.invoke(cli, ["labels", "import", str(path), "--from", "fasttext", "-o", str(out)])
    assert bad.exit_code == 1 and not out.exists()
    hint = "=<reporting|opinion|disinformation>' (or '{0}=-' to drop its rows)"
    assert bad.stderr.splitlines() == [
        *(
            f"{path}:{n}: unknown label '{name}'; map it with --map '{name}" + hint.format(name)
            for n, name in enumerate(["SUBJ", "OBJ", "NEUTRAL"], 1)
        ),
        "credscore: 3 examples read, 0 rows imported, 3 cannot be imported",
        f"Error: 3 rows of {path} cannot be imported; nothing written to {out} "
        "(fix them, or --skip-bad to import the rest)",
    ]
    args = ["--map", "SUBJ=opinion", "--map", "OBJ=reporting", "--map", "NEUTRAL=-"]
    good = runner.invoke(
        cli, ["labels", "import", str(path), "--from", "fasttext", "-o", str(out), *args]
    )
    assert good.exit_code == 0, good.output
    assert "dropped: 1 mapped to '-'" in good.stderr
    assert [json.loads(line)["label"] for line in out.read_text().splitlines()] == [
        "opinion",
        "reporting",
    ]


def test_installed_command_exports_and_imports(tmp_path):
    command = installed_command()
    exported = tmp_path / "tasks.json"
    done = subprocess.run(
        [
            command,
            "labels",
            "export",
            "--labels",
            str(MINI_LABELS),
            "--to",
            "label-studio",
            "-o",
            str(exported),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert len(json.loads(exported.read_text())) == 24
    back = tmp_path / "back.jsonl"
    done = subprocess.run(
        [command, "labels", "import", str(exported), "--from", "label-studio", "-o", str(back)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[-1] == f"wrote 24 rows to {back}"
    assert len(load_dataset([back]).records) == 24


@pytest.mark.parametrize("command", ["labels import", "labels export"])
def test_help_has_examples(command):
    result = CliRunner().invoke(cli, [*command.split(), "--help"])
    assert result.exit_code == 0 and "Examples:" in result.stdout
