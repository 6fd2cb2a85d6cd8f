import gzip
import io
import json

import pytest

from classifier.errors import InputError
from classifier.inputs import InputSpec, Position, input_format, read_rows


def rows(tmp_path, name, content, **spec):
    path = tmp_path / name
    if isinstance(content, str):
        content = content.encode("utf-8")
    if name.endswith(".gz"):
        content = gzip.compress(content)
    path.write_bytes(content)
    return list(read_rows(InputSpec(paths=(str(path),), **spec)))


def test_txt_one_row_per_line_blank_lines_are_error_rows(tmp_path):
    got = rows(tmp_path, "a.txt", "first\n\nthird\r\n")
    assert [r.text for r in got] == ["first", None, "third"]
    assert got[1].error == f"{tmp_path / 'a.txt'}:2: empty text"


def test_txt_documents(tmp_path):
    got = rows(tmp_path, "a.txt", "line one.\nline two.\n", documents=True)
    assert len(got) == 1 and got[0].text == "line one.\nline two.\n"


def test_csv_multiline_fields_short_rows_and_extra_fields(tmp_path):
    got = rows(tmp_path, "a.csv", 'id,text,source\n1,"two\nlines",x\n2\n3,t,s,extra\n')
    assert [r.text for r in got] == ["two\nlines", None, "t"]
    assert got[0].source == "x" and got[0].where.endswith("a.csv:2")
    assert "1 fields where the header has 3" in got[1].error and got[1].where.endswith("a.csv:4")
    assert got[2].fields["extra_fields"] == ["extra"]


def test_tsv_gz_and_columns(tmp_path):
    got = rows(
        tmp_path,
        "a.tsv.gz",
        "body\tauthor\nhello there\tann\n",
        text_column="body",
        source_column="author",
    )
    assert got[0].text == "hello there" and got[0].source == "ann"


def test_missing_text_column_in_header_is_an_error(tmp_path):
    with pytest.raises(InputError, match="no column 'text' \\(columns: body\\); use --text-column"):
        rows(tmp_path, "a.csv", "body\nx\n")


def test_jsonl_bad_lines_become_error_rows(tmp_path):
    got = rows(
        tmp_path, "a.jsonl", '{"text": "ok"}\n{bad\n[1]\n{"title": "no text"}\n\n{"text": "  "}\n'
    )
    assert [r.error.split(": ", 1)[1] if r.error else None for r in got] == [
        None,
        "not valid JSON (Expecting property name enclosed in double quotes)",
        "not a JSON object",
        "missing column 'text'",
        "empty text",
    ]
    assert got[3].fields == {"title": "no text"}


def test_undecodable_bytes_stop_or_become_rows(tmp_path):
    content = b"good\n" + b"caf\xe9\n" + b"fine\n"
    with pytest.raises(
        InputError,
        match=r"a\.txt:2: undecodable bytes for utf-8 at byte 3 of the line; fix the file, use "
        r"--encoding, or --errors=row",
    ):
        rows(tmp_path, "a.txt", content)
    got = rows(tmp_path, "b.txt", content, errors_as_rows=True)
    assert [bool(r.error) for r in got] == [False, True, False]
    assert [r.text for r in rows(tmp_path, "c.txt", content, encoding="latin-1")] == [
        "good",
        "café",
        "fine",
    ]


def test_undecodable_bytes_in_a_csv_record(tmp_path):
    got = rows(tmp_path, "a.csv", b'text\nok\n"bad \xff\nrecord"\nfine\n', errors_as_rows=True)
    assert [bool(r.error) for r in got] == [False, True, False]


def test_stdin(monkeypatch):
    monkeypatch.setattr(
        "sys.stdin", io.TextIOWrapper(io.BytesIO(b'{"text": "a"}\n{"text": "b"}\n'))
    )
    got = list(read_rows(InputSpec(paths=("-",), input_format="jsonl")))
    assert [r.text for r in got] == ["a", "b"]


def test_formats_and_bad_inputs(tmp_path):
    assert input_format("x.csv.gz", None) == "csv" and input_format("-", None) == "txt"
    assert input_format("x.data", "jsonl") == "jsonl"
    with pytest.raises(InputError, match="unknown input format 'data'"):
        input_format("x.data", None)
    with pytest.raises(InputError, match="no such file"):
        list(read_rows(InputSpec(paths=(str(tmp_path / "none.txt"),))))
    with pytest.raises(InputError, match="only encodings where a line break is one byte"):
        list(read_rows(InputSpec(paths=(str(tmp_path / "none.txt"),), encoding="utf-16")))
    (tmp_path / "fake.txt.gz").write_bytes(b"not gzip")
    with pytest.raises(InputError, match=r"fake\.txt\.gz: cannot read"):
        list(read_rows(InputSpec(paths=(str(tmp_path / "fake.txt.gz"),))))


def test_position_reaches_total_bytes(tmp_path):
    (tmp_path / "a.txt").write_text("x\n" * 100)
    (tmp_path / "b.jsonl").write_text(json.dumps({"text": "y"}) + "\n")
    position = Position()
    got = list(
        read_rows(InputSpec(paths=(str(tmp_path / "a.txt"), str(tmp_path / "b.jsonl"))), position)
    )
    assert len(got) == 101
    assert position.done == 200 + len(json.dumps({"text": "y"})) + 1
