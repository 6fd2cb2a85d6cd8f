import json
import re

import pytest

from classifier.batch import label_inputs
from classifier.errors import InputError
from classifier.inputs import InputSpec
from classifier.model import load_model
from classifier.summary import SourceSummary

distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as local:
        yield local.scheduler_address


@pytest.fixture
def inputs(tmp_path):
    a = tmp_path / "a.jsonl"
    a.write_text(
        "".join(
            json.dumps({"text": t, "source": s}) + "\n"
            for t, s in [("The council met on Monday.", "x"), ("", "x"), ("What a farce!", "y")]
        )
    )
    b = tmp_path / "b.csv"
    b.write_text("text,source\nThey lie to you wake up!!,z\nOfficials said 3 boats left.,x\n")
    return [a, b]


def test_cluster_output_equals_local_output_row_for_row(cluster, inputs, mini_model_dir, tmp_path):
    from classifier.cluster import label_on_dask

    model = load_model(mini_model_dir)
    spec = InputSpec(paths=tuple(map(str, inputs)))
    report, summary = label_on_dask(cluster, spec, model, tmp_path / "out")
    local_summary = SourceSummary()
    local = label_inputs(spec, model, output=tmp_path / "local.jsonl", summary=local_summary)
    parts = (tmp_path / "out" / "a.jsonl").read_text() + (tmp_path / "out" / "b.jsonl").read_text()
    assert parts == (tmp_path / "local.jsonl").read_text()
    assert (
        (report.read, report.labelled, report.errors)
        == (local.read, local.labelled, local.errors)
        == (5, 4, 1)
    )
    assert summary.rows() == local_summary.rows()


def test_cluster_through_the_cli(cluster, inputs, mini_model_dir, tmp_path):
    from click.testing import CliRunner

    from classifier.cli import cli

    result = CliRunner().invoke(
        cli,
        [
            "label",
            "--model",
            str(mini_model_dir),
            "--dask",
            cluster,
            str(tmp_path / "*.*"),
            "-o",
            str(tmp_path / "out"),
            "--format",
            "csv",
        ],
    )
    assert result.exit_code == 3, result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.csv", "b.csv"]
    assert result.stderr.splitlines()[-1] == "credscore: 5 rows read, 4 labelled, 1 errors"


def test_clashing_part_names(inputs, tmp_path):
    from classifier.cluster import part_names

    with pytest.raises(InputError, match="two inputs would write this output"):
        part_names((str(inputs[0]), str(tmp_path / "a.jsonl.gz")), tmp_path / "out", "jsonl")
    with pytest.raises(InputError, match="not standard input"):
        part_names(("-",), tmp_path, "jsonl")


# Byte-range blocks: every cut point of small files, then a cluster end to end.

ROWS_JSONL = (
    "".join(
        json.dumps({"text": f"Row {i}: officials said {i} boats left.", "source": "s"}) + "\n"
        for i in range(6)
    )
    + "\n"  # a blank line: no record
    + "{not json\n"
    + json.dumps({"text": ""})
    + "\n"
    + "[1, 2]\n"
    + json.dumps({"text": "Wake up, they lie to you!!", "source": "t"})  # no final newline
)
ROWS_TXT = "The council met on Monday.\n\nWhat a farce!\r\nx\n"
ROWS_CSV = "text,source\nThey lie to you wake up!!,z\n\nOfficials said 3 boats left.,x\nshort\n"


def _blocks(path, size):
    from classifier.inputs import Block

    data = path.read_bytes()
    delimited = path.suffix in (".csv", ".tsv")
    return [
        Block(
            str(path),
            start,
            min(start + size, len(data)),
            data[:start].count(b"\n"),
            header=delimited and start > 0,
        )
        for start in range(0, len(data), size)
    ]


@pytest.mark.parametrize(
    "name, content",
    [
        ("a.jsonl", ROWS_JSONL),
        ("b.txt", ROWS_TXT),
        ("c.csv", ROWS_CSV),
        ("d.tsv", ROWS_CSV.replace(",", "\t")),
    ],
)
def test_blocks_hold_every_row_once_in_order_with_the_file_line_numbers(tmp_path, name, content):
    from classifier.inputs import read_block, read_rows

    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    spec = InputSpec(paths=(str(path),))
    whole = list(read_rows(spec))
    assert any(row.error for row in whole)
    for size in range(1, len(content) + 2):  # every cut point, mid-line ones included
        pieces = [row for block in _blocks(path, size) for row in read_block(spec, block)]
        assert pieces == whole, size


@pytest.fixture
def big_inputs(tmp_path):
    a = tmp_path / "a.jsonl"
    a.write_text((ROWS_JSONL + "\n") * 3)
    b = tmp_path / "b.csv"
    rows = "".join(f"Officials said {i} boats left.,x\n" for i in range(20))
    b.write_text(ROWS_CSV + rows + "tail only\n")  # its short rows: lines 5 and 26
    quoted = tmp_path / "q.csv"
    quoted.write_text(
        'text,source\n"A quoted\ntext over two lines",x\n"Officials said so.",y\n' * 5
    )
    return [a, b, quoted]


def test_cluster_blocks_give_the_local_rows_in_order(cluster, big_inputs, mini_model_dir, tmp_path):
    from classifier.cluster import label_on_dask

    model = load_model(mini_model_dir)
    spec = InputSpec(paths=tuple(map(str, big_inputs)))
    out = tmp_path / "out"
    report, summary = label_on_dask(cluster, spec, model, out, blocksize=97)
    names = sorted(p.name for p in out.iterdir())
    a_parts = [n for n in names if n.startswith("a.")]
    b_parts = [n for n in names if n.startswith("b.")]
    assert len(a_parts) > 3 and all(re.fullmatch(r"a\.\d{5}\.jsonl", n) for n in a_parts)
    assert len(b_parts) > 3
    assert "q.jsonl" in names  # quotes: one task for the whole file
    local_summary = SourceSummary()
    local = label_inputs(spec, model, output=tmp_path / "local.jsonl", summary=local_summary)
    joined = "".join((out / n).read_text() for n in a_parts + b_parts + ["q.jsonl"])
    assert joined == (tmp_path / "local.jsonl").read_text()
    assert (report.read, report.labelled, report.errors) == (
        local.read,
        local.labelled,
        local.errors,
    )
    assert summary.rows() == local_summary.rows()
    errors = [json.loads(line)["error"] for line in joined.splitlines() if '"error"' in line]
    a_lines = ROWS_JSONL.count("\n") + 1
    assert (
        f"{big_inputs[0]}:{a_lines + 8}: not valid JSON (Expecting property name enclosed in double quotes)"
        in errors
    )
    for line in (5, 26):
        assert f"{big_inputs[1]}:{line}: 1 fields where the header has 2" in errors

    # A second run with other blocks replaces the first run's parts, leaving none behind.
    label_on_dask(cluster, spec, model, out, blocksize=10_000)
    assert sorted(p.name for p in out.iterdir()) == ["a.jsonl", "b.jsonl", "q.jsonl"]
    assert (out / "a.jsonl").read_text() + (out / "b.jsonl").read_text() + (
        out / "q.jsonl"
    ).read_text() == (tmp_path / "local.jsonl").read_text()


def _mixed_jsonl(path):
    """Rows of several sources, multi-sentence texts, and error rows of every kind."""
    lines = []
    for i in range(120):
        text = f"Officials said {i} boats left on Monday. They lie, wake up!! What a farce."
        record = {"text": text if i % 3 else text.split(".")[0] + ".", "source": f"s{i % 4}"}
        if i % 5 == 0:
            record["label"] = "gold"  # a field named like an added one
        lines.append(json.dumps(record, ensure_ascii=i % 2 == 0))
        if i % 17 == 0:
            lines += ["{not json", "[1, 2]", json.dumps({"text": ""}), json.dumps({"text": 3})]
            lines += ["", '{"text": "a lone \\ud800 half.", "n": 123456789012345678901234}']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_one_process_two_jobs_and_dask_write_the_same_bytes(cluster, mini_model_dir, tmp_path, fmt):
    from classifier.batch import BatchOptions
    from classifier.cluster import label_on_dask

    model = load_model(mini_model_dir)
    source = tmp_path / "mixed.jsonl"
    _mixed_jsonl(source)
    spec = InputSpec(paths=(str(source),))
    outputs, summaries, reports = {}, {}, {}
    for jobs in (1, 2):
        options = BatchOptions(segments=True, jobs=jobs, chunk_rows=16)
        summaries[jobs] = SourceSummary()
        target = tmp_path / f"jobs{jobs}.{fmt}"
        reports[jobs] = label_inputs(
            spec, model, output=target, options=options, summary=summaries[jobs]
        )
        outputs[jobs] = target.read_bytes()
    options = BatchOptions(segments=True, chunk_rows=16, output_format="jsonl")
    reports["dask"], summaries["dask"] = label_on_dask(
        cluster, spec, model, tmp_path / "out", options, blocksize=2_000
    )
    parts = sorted((tmp_path / "out").iterdir())
    assert len(parts) > 3  # the file was cut into blocks
    assert outputs[1] == outputs[2]
    if fmt == "jsonl":
        assert b"".join(p.read_bytes() for p in parts) == outputs[1]
    counts = {k: (r.read, r.labelled, r.errors, r.first_error) for k, r in reports.items()}
    assert counts[1] == counts[2] == counts["dask"]
    assert counts[1][2] == 8 * 4 and len(outputs[1].splitlines()) == counts[1][0] + (fmt == "csv")
    assert summaries[1].rows() == summaries[2].rows() == summaries["dask"].rows()
    assert len(summaries[1].rows()) == 5  # four sources and the error rows without one
