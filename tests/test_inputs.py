import gzip
import io
import json
import re
import zlib

import pytest

from classifier.errors import InputError
from classifier.inputs import InputSpec, Position, check_inputs, input_format, read_rows


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


def errors_of(got):
    return [r.error.split(": ", 1)[1] if r.error else None for r in got]


def test_nul_and_lone_surrogates_in_json_are_read_not_a_crash(tmp_path):
    got = rows(tmp_path, "a.jsonl", '{"text": "a\\u0000b"}\n{"text": "x\\ud800y", "\\udfff": 1}\n')
    assert [r.text for r in got] == ["a\x00b", "x\ufffdy"]
    # Every string of the record is cleaned (keys too), so the output row can be written.
    assert got[1].fields == {"text": "x\ufffdy", "\ufffd": 1}
    assert rows(tmp_path, "b.jsonl", '{"text": "\\ud83d\\ude00"}\n')[0].text == "\U0001f600"


def test_deeply_nested_json_line_is_an_error_row(tmp_path):
    deep = '{"text": "t", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    got = rows(tmp_path, "a.jsonl", deep + '\n{"text": "after"}\n')
    assert errors_of(got) == ["not valid JSON (nested too deeply)", None]
    assert got[0].where.endswith("a.jsonl:1") and got[1].text == "after"


def test_integer_over_4300_digits_is_an_error_row(tmp_path):
    got = rows(tmp_path, "a.jsonl", '{"text": "t", "n": ' + "7" * 5000 + '}\n{"text": "ok"}\n')
    assert errors_of(got) == [
        "not valid JSON (a number of 5000 digits; credscore reads at most 4300)",
        None,
    ]
    assert rows(tmp_path, "b.jsonl", '{"text": "t", "n": ' + "7" * 40 + "}\n")[0].fields[
        "n"
    ] == int("7" * 40)


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_error_rows_as_json_has_none(tmp_path, value):
    got = rows(tmp_path, "a.jsonl", f'{{"text": "t", "n": {value}}}\n')
    assert got[0].error and "not valid JSON" in got[0].error


@pytest.mark.parametrize(
    "value, kind",
    [('{"a": 1}', "an object"), ("[1, 2]", "a list"), ("3", "a number"), ("true", "a boolean")],
)
def test_json_text_that_is_not_a_string_is_an_error_row(tmp_path, value, kind):
    got = rows(tmp_path, "a.jsonl", f'{{"text": {value}}}\n{{"text": "real"}}\n')
    assert errors_of(got) == [f"text is not a string ({kind})", None]


def test_gzip_damaged_in_the_middle_is_an_input_error_naming_file_and_line(tmp_path):
    data = "".join(f"line number {i} with some text\n" for i in range(20_000)).encode()
    compressed = gzip.compress(data)
    # Damage the middle so that zlib itself fails ("invalid block type"), not only the CRC.
    for middle in range(len(compressed) // 2, len(compressed) // 2 + 64):
        damaged = compressed[:middle] + b"\xff" * 8 + compressed[middle + 8 :]
        try:
            gzip.decompress(damaged)
        except zlib.error:
            break
        except gzip.BadGzipFile:
            continue
    else:
        pytest.fail("no damage found that zlib itself reports")
    path = tmp_path / "a.txt.gz"
    path.write_bytes(damaged)
    read = []
    with pytest.raises(
        InputError, match=r"a\.txt\.gz: damaged gzip data after line (\d+) \("
    ) as exc:
        read.extend(read_rows(InputSpec(paths=(str(path),))))
    reached = int(exc.value.args[0].split("after line ")[1].split(" ")[0])
    assert 0 < reached < 20_000 and len(read) == reached
    assert [r.text for r in read[:2]] == [
        "line number 0 with some text",
        "line number 1 with some text",
    ]


def test_truncated_gzip_is_an_input_error_naming_file_and_line(tmp_path):
    path = tmp_path / "a.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"text": "a"}\n' * 5000)[:-30])
    with pytest.raises(InputError, match=r"a\.jsonl\.gz: damaged gzip data after line \d+ "):
        list(read_rows(InputSpec(paths=(str(path),))))


@pytest.mark.parametrize(
    "encoding, message",
    [
        ("bogus", "--encoding 'bogus': unknown encoding"),
        ("", "--encoding '': unknown encoding"),
        ("rot13", "--encoding 'rot13': not a text encoding"),
        ("utf-16", "--encoding 'utf-16': only encodings where a line break is one byte"),
    ],
)
def test_bad_encoding_is_a_clear_usage_error(tmp_path, encoding, message):
    from classifier.errors import OptionError

    (tmp_path / "a.txt").write_text("x\n")
    with pytest.raises(OptionError, match=re.escape(message)):  # checked where a spec is made
        InputSpec(paths=(str(tmp_path / "a.txt"),), encoding=encoding)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "UTF8"])
@pytest.mark.parametrize("name", ["a.csv", "a.tsv", "a.jsonl", "a.txt", "a.csv.gz"])
def test_utf8_bom_is_stripped_from_the_first_line(tmp_path, encoding, name):
    body = {
        "a.csv": "text,source\nhello,x\n\ufeffsecond,y\n",
        "a.tsv": "text\tsource\nhello\tx\n\ufeffsecond\ty\n",
        "a.jsonl": '{"text": "hello", "source": "x"}\n\ufeff{"text": "second"}\n',
        "a.txt": "hello\n\ufeffsecond\n",
        "a.csv.gz": "text,source\nhello,x\n\ufeffsecond,y\n",
    }[name]
    got = rows(tmp_path, name, b"\xef\xbb\xbf" + body.encode(), encoding=encoding)
    assert got[0].text == "hello" and got[0].error is None
    if name != "a.txt":
        assert next(iter(got[0].fields)) == "text"
    # Only the file's first line loses a BOM: anywhere else it is a character of the text
    # (and a JSON line that starts with one is no JSON).
    if name == "a.jsonl":
        assert "BOM" in got[1].error
    else:
        assert got[1].text.startswith("\ufeff")


def test_unclosed_quote_to_the_end_of_the_file_is_an_error_row_and_nothing_is_swallowed(tmp_path):
    got = rows(tmp_path, "a.csv", 'text,source\nfirst,a\nsecond,"unclosed\nthird,c\nfourth,d\n')
    assert [r.text for r in got] == ["first", None, "third", "fourth"]
    assert got[1].where.endswith("a.csv:3")
    assert got[1].error.endswith(
        "a.csv:3: a quoted field starts on this line and is never closed; close its quote"
    )
    # The same on the last line, and in a file without a final line break.
    assert errors_of(rows(tmp_path, "b.csv", 'text\nok\n"open'))[1].startswith("a quoted field")


def test_quoted_field_over_the_line_limit_is_an_error_row(tmp_path, monkeypatch):
    # A stray quote opens a field that the next quote in the file "closes" far below: past the
    # limit the stray quote's line is an error row and the lines after it are rows again.
    monkeypatch.setattr("classifier.inputs.QUOTED_FIELD_MAX_LINES", 5)
    lines = "".join(f"row {i}\n" for i in range(20))
    got = rows(tmp_path, "a.csv", f'text\nbefore\n"stray\n{lines}"two\nlines"\nafter\n')
    assert got[0].text == "before"
    assert got[1].where.endswith("a.csv:3")
    assert errors_of(got)[1] == (
        "a quoted field starts on this line and runs over 5 lines; close its quote"
    )
    assert [r.text for r in got[2:]] == [*(f"row {i}" for i in range(20)), "two\nlines", "after"]
    assert got[-1].where.endswith(f"a.csv:{3 + 20 + 3}")


def test_malformed_csv_record_is_an_error_row_and_reading_goes_on(tmp_path):
    got = rows(tmp_path, "a.csv", b"text\nok\nbad\rcarriage return\nfine\n")
    assert [r.text for r in got] == ["ok", None, "fine"]
    assert "not valid CSV (new-line character seen in unquoted field" in got[1].error


def test_unclosed_quote_in_the_header_is_an_input_error(tmp_path):
    with pytest.raises(
        InputError,
        match=r"a\.csv:1: in the header, a quoted field starts on this line and is never closed",
    ):
        rows(tmp_path, "a.csv", '"text\nrow\n')


def test_closed_standard_input_is_an_input_error(monkeypatch):
    spec = InputSpec(paths=("-",))
    monkeypatch.setattr("sys.stdin", None)
    with pytest.raises(InputError, match=r"standard input is closed"):
        InputSpec(paths=("-",))  # checked where a spec is made
    with pytest.raises(InputError, match=r"standard input is closed"):
        check_inputs(spec)
    with pytest.raises(InputError, match=r"standard input is closed"):
        list(read_rows(spec))


def test_header_error_is_one_line_whatever_the_column_names(tmp_path):
    # A damaged header can hold a quoted line break: the message must stay one line.
    with pytest.raises(InputError) as exc:
        rows(tmp_path, "a.csv", '"tur\r\n",x\nrow,1\n')
    assert "\n" not in str(exc.value) and "(columns: 'tur\\r\\n', x)" in str(exc.value)


@pytest.mark.parametrize(
    "lines",
    [
        # two lines that read as one value inside the array, one line that reads as two
        [b'{"text": "a", "x": [{"y": 1}\n', b'{"z": 2}]}\n', b'{"text": "p"}, {"text": "q"}\n'],
        [b'{"text": "a", "x": 1\n', b'"y": 2}\n'],  # an object continued by a key
        [b'{"text": "a"}\n', b"\n", b'{"text": "b"}\n'],  # a blank line
        [b'{"text": "a"}\n', b'{"text": "   "}\n'],  # a blank text
        [b'{"text": "a", "n": 123456789012345678901234567890}\n'],  # read as a float
        [b'\xef\xbb\xbf{"text": "a"}\n'],  # a byte-order mark
    ],
)
def test_a_block_read_in_one_call_only_when_each_line_is_its_own_row(tmp_path, lines):
    from classifier.inputs import LineBlock, block_rows, clean_jsonl

    (tmp_path / "x.jsonl").write_bytes(b"".join(lines))
    spec = InputSpec(paths=(str(tmp_path / "x.jsonl"),), errors_as_rows=True)
    block = LineBlock("x.jsonl", "jsonl", 0, lines)
    assert clean_jsonl(spec, block) is None
    assert len(list(block_rows(spec, block))) == sum(1 for line in lines if line.strip())


def test_a_clean_block_reads_as_its_rows(tmp_path):
    from classifier.inputs import LineBlock, block_rows, clean_jsonl

    lines = [
        json.dumps(
            {"text": f"row {i} \u00e9", "source": i % 3, "ok": i % 2 == 0, "z": None}
        ).encode()
        + b"\r" * (i % 2)
        for i in range(50)
    ]
    (tmp_path / "x.jsonl").write_bytes(b"\n".join(lines))
    spec = InputSpec(paths=(str(tmp_path / "x.jsonl"),))
    block = LineBlock("x.jsonl", "jsonl", 0, [line + b"\n" for line in lines])
    fields, texts = clean_jsonl(spec, block)
    rows = list(block_rows(spec, block))
    assert fields == [r.fields for r in rows] and texts == [r.text for r in rows]
