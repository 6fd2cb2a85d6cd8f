import json

import pytest
from conftest import MINI_LABELS, SHARED

from classifier import LABELS
from classifier.errors import InputError, LabelError
from classifier.segment import segment
from training.dataset import bundled_labels_dir, load_dataset


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_jsonl_csv_tsv_and_folders(tmp_path):
    write(tmp_path / "a.csv", "text,label\nThe council met on Monday.,reporting\n")
    write(tmp_path / "b.tsv", "text\tlabel\tdoc\nWhat a farce.\topinion\td1\n")
    write(tmp_path / "c.jsonl", '{"text": "They hide the truth!", "label": "disinformation"}\n\n')
    data = load_dataset([tmp_path])
    assert data.labels == ["reporting", "opinion", "disinformation"]
    assert data.groups == ["a.csv", "d1", "c.jsonl"]
    assert [r.id for r in data.records] == ["a.csv:2", "b.tsv:2", "c.jsonl:1"]


def test_sha256_depends_on_content_not_format(tmp_path):
    csv = load_dataset([write(tmp_path / "x.csv", "text,label,doc\nA b c.,opinion,d\n")])
    jsonl = load_dataset(
        [write(tmp_path / "x.jsonl", '{"text": "A b c.", "label": "opinion", "doc": "d"}\n')]
    )
    other = load_dataset(
        [write(tmp_path / "y.jsonl", '{"text": "A b c.", "label": "reporting", "doc": "d"}\n')]
    )
    assert csv.sha256 == jsonl.sha256 != other.sha256


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"text": "x", "label": "satire"}\n', "f.jsonl:1: unknown label 'satire'"),
        ('{"text": "  ", "label": "opinion"}\n', "f.jsonl:1: empty text"),
        (
            '{"id": "a", "text": "x", "label": "opinion"}\n{"id": "a", "text": "y", "label": "opinion"}\n',
            "f.jsonl:2: duplicate id 'a'",
        ),
        (
            '{"text": "Same  text", "label": "opinion"}\n{"text": "same text", "label": "reporting"}\n',
            "f.jsonl:2: same text as",
        ),
    ],
)
def test_invalid_rows_name_file_and_line(tmp_path, content, message):
    with pytest.raises(LabelError, match=message):
        load_dataset([write(tmp_path / "f.jsonl", content)])


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("f.csv", "words,label\nx,opinion\n", "f.csv:2: missing column 'text'"),
        ("f.jsonl", '{"text": "x"}\n', "f.jsonl:1: missing column 'label'"),
        ("f.jsonl", "{not json\n", "f.jsonl:1: not valid JSON"),
        ("f.jsonl", "[1, 2]\n", "f.jsonl:1: expected a JSON object"),
        ("f.txt", "x\n", "f.txt: unsupported file type"),
    ],
)
def test_malformed_files(tmp_path, name, content, message):
    with pytest.raises(InputError, match=message):
        load_dataset([write(tmp_path / name, content)])


def test_missing_and_undecodable_files(tmp_path):
    with pytest.raises(InputError, match="no such file or folder"):
        load_dataset([tmp_path / "nope.jsonl"])
    (tmp_path / "latin.csv").write_bytes(b"text,label\ncaf\xe9,opinion\n")
    with pytest.raises(InputError, match=r"latin\.csv: not UTF-8"):
        load_dataset([tmp_path / "latin.csv"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="folder holds no"):
        load_dataset([tmp_path / "empty"])


def test_same_text_same_label_is_dropped_with_a_warning(tmp_path):
    data = load_dataset(
        [
            write(
                tmp_path / "f.jsonl",
                '{"text": "x", "label": "opinion"}\n{"text": "X", "label": "opinion"}\n',
            )
        ]
    )
    assert len(data.records) == 1
    assert data.warnings == (
        f"{tmp_path / 'f.jsonl'}:2: duplicate of {tmp_path / 'f.jsonl'}:1; the copy is ignored",
    )


def test_bundled_labels_are_valid_and_marked():
    data = load_dataset()
    assert not data.warnings
    assert set(data.labels) == set(LABELS)
    for r in data.records:
        assert r.origin == "authored" or r.origin.startswith("seed:"), r.where
        if r.origin == "authored":
            assert r.topic and r.register and r.doc == f"authored-{r.topic}", r.where


def test_mini_labels_fixture_is_balanced():
    data = load_dataset([MINI_LABELS])
    assert {label: data.labels.count(label) for label in LABELS} == dict.fromkeys(LABELS, 8)


SEEDS = SHARED / "seeds"


@pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/seeds is not beside this clone")
def test_every_seed_segment_is_labelled_or_excluded():
    labelled = {r.text for r in load_dataset().records if r.origin.startswith("seed:")}
    excluded = json.loads(
        (bundled_labels_dir() / "seeds-excluded.json").read_text(encoding="utf-8")
    )
    excluded = {(e["file"], e["text"]) for e in excluded["excluded"]}
    seeds = sorted(SEEDS.glob("*.txt"))
    assert len(seeds) == 5
    for path in seeds:
        for s in segment(path.read_text(encoding="utf-8")):
            covered = s.text in labelled or any(t in s.text for t in labelled)
            assert covered or (path.name, s.text) in excluded, f"{path.name}: unlabelled {s.text!r}"


@pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/seeds is not beside this clone")
def test_seed_rows_quote_their_document():
    for r in load_dataset().records:
        if r.origin.startswith("seed:"):
            assert r.text in (SEEDS / r.origin.removeprefix("seed:")).read_text(encoding="utf-8"), (
                r.where
            )
