import json

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
