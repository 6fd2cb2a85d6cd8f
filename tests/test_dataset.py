import json
import re

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
    with pytest.raises(InputError, match=r"latin\.csv:2: not UTF-8 text \(invalid continuation"):
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


def mini_plus(tmp_path, line: str, name: str = "f.jsonl"):
    """The mini labels with one more line: enough rows to train on."""
    path = tmp_path / name
    path.write_bytes(MINI_LABELS.read_bytes() + line.encode("utf-8", "surrogatepass") + b"\n")
    return path


def test_nul_character_in_a_label_row_trains_and_scores(tmp_path):
    from training.train import fit

    data = load_dataset([mini_plus(tmp_path, '{"text": "a\\u0000b harbour", "label": "opinion"}')])
    assert data.records[-1].text == "a\x00b harbour"
    pipeline = fit(data.texts, data.labels, data.groups)
    proba = pipeline.predict_proba(["a\x00b harbour", "plain"])
    assert proba.shape == (2, 3) and abs(proba.sum(axis=1) - 1).max() < 1e-9


def test_lone_surrogate_in_a_label_row_reads_as_a_replacement_character(tmp_path):
    data = load_dataset([mini_plus(tmp_path, '{"text": "bad \\ud800 half", "label": "opinion"}')])
    assert data.records[-1].text == "bad \ufffd half"
    assert len(data.sha256) == 64  # the hash encodes every text as UTF-8


@pytest.mark.parametrize(
    "line, message",
    [
        ('{"text": "t", "label": "opinion", "n": ' + "9" * 5000 + "}", "a number of 5000 digits"),
        (
            '{"text": "t", "label": "opinion", "x": ' + "[" * 50_000 + "]" * 50_000 + "}",
            "nested too deeply",
        ),
        ('{"text": {"a": 1}, "label": "opinion"}', "text is not a string (an object)"),
        ('{"text": ["a"], "label": "opinion"}', "text is not a string (a list)"),
        ('{"text": 7, "label": "opinion"}', "text is not a string (a number)"),
        ('{"text": false, "label": "opinion"}', "text is not a string (a boolean)"),
        ('{"text": "t", "label": "opinion", "n": NaN}', "NaN is not a JSON value"),
    ],
)
def test_hostile_json_line_is_an_input_error_naming_file_and_line(tmp_path, line, message):
    path = mini_plus(tmp_path, line)
    number = len(MINI_LABELS.read_bytes().splitlines()) + 1
    with pytest.raises(InputError, match=rf"f\.jsonl:{number}: .*{re.escape(message)}"):
        load_dataset([path])


def test_csv_field_over_131072_characters_is_read(tmp_path):
    text = "word " * 30_000
    path = write(tmp_path / "f.csv", f'text,label\n"{text}",opinion\nshort,reporting\n')
    data = load_dataset([path])
    assert data.records[0].text == text.strip() and data.records[1].line == 3


@pytest.mark.parametrize("name", ["f.csv", "f.tsv", "f.jsonl"])
def test_utf8_bom_is_not_part_of_the_first_column(tmp_path, name):
    content = {
        "f.csv": "text,label\nThe council met.,reporting\n",
        "f.tsv": "text\tlabel\nThe council met.\treporting\n",
        "f.jsonl": '{"text": "The council met.", "label": "reporting"}\n',
    }[name]
    (tmp_path / name).write_bytes(b"\xef\xbb\xbf" + content.encode())
    assert load_dataset([tmp_path / name]).texts == ["The council met."]


def test_unclosed_quote_is_an_input_error_naming_the_line_it_starts_on(tmp_path):
    path = write(tmp_path / "f.csv", 'text,label\nok,opinion\n"open,opinion\nmore,reporting\n')
    with pytest.raises(
        InputError, match=r"f\.csv:3: a quoted field starts on this line and is never closed"
    ):
        load_dataset([path])


def test_bad_utf8_byte_is_reported_at_its_line_and_byte(tmp_path):
    path = tmp_path / "f.jsonl"
    path.write_bytes(MINI_LABELS.read_bytes() + b'{"text": "bad \xff byte", "label": "opinion"}\n')
    number = len(MINI_LABELS.read_bytes().splitlines()) + 1
    with pytest.raises(
        InputError,
        match=rf"f\.jsonl:{number}: not UTF-8 text \(invalid start byte at byte 14 of the line\)",
    ):
        load_dataset([path])
