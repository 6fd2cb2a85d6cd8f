import csv
import json

import pytest

from classifier.batch import BatchOptions, label_inputs, score_rows
from classifier.errors import ExitCode, InputError
from classifier.inputs import InputSpec, Row
from classifier.model import load_model
from classifier.resume import part_path
from classifier.rows import write_summary
from classifier.summary import SourceSummary

TEXTS = [
    "Officials said 40 people were evacuated on Monday.",
    "This is a disgrace and the mayor should resign.",
    "",
    "They hide the truth, wake up!! The council is run by traitors.",
] * 15  # 60 rows, 15 of them errors


@pytest.fixture(scope="module")
def model(mini_model_dir):
    return load_model(mini_model_dir)


@pytest.fixture
def comments(tmp_path):
    path = tmp_path / "in.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text", "source", "label"])
        for i, text in enumerate(TEXTS):
            writer.writerow([i, text, f"site{i % 3}", "gold"])
    return path


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def run(comments, model, output, summary=None, **options):
    spec = InputSpec(paths=(str(comments),))
    return label_inputs(
        spec, model, output=output, options=BatchOptions(**options), summary=summary
    )


def test_every_row_out_in_order_with_fields(comments, model, tmp_path):
    before = comments.read_bytes()
    report = run(comments, model, tmp_path / "out.jsonl", chunk_rows=7)
    out = read_jsonl(tmp_path / "out.jsonl")
    assert [r["id"] for r in out] == [str(i) for i in range(60)]
    assert (report.read, report.labelled, report.errors) == (60, 45, 15)
    assert report.exit_code == ExitCode.ROW_ERRORS
    for row in out:
        assert row["input_label"] == "gold"  # an input field never overwritten
        if row["text"]:
            assert set(row["scores"]) == {"reporting", "opinion", "disinformation"}
            assert sum(row["scores"].values()) == pytest.approx(1, abs=1e-5)
            assert row["model"].startswith("credscore-")
        else:
            assert row["error"].endswith("empty text") and "label" not in row
    assert comments.read_bytes() == before
    assert not part_path(tmp_path / "out.jsonl").exists()


def test_csv_output_round_trips(comments, model, tmp_path):
    run(comments, model, tmp_path / "out.csv")
    with (tmp_path / "out.csv").open(newline="") as handle:
        out = list(csv.DictReader(handle))
    assert len(out) == 60
    assert {"score_reporting", "score_opinion", "score_disinformation", "label", "error"} <= set(
        out[0]
    )
    assert out[2]["error"] and not out[2]["label"]


def test_segment_rule(model):
    rows = [
        Row({"text": t}, t, None, "x:1")
        for t in ["The council met on Monday. They lie, wake up traitors!!"]
    ]
    record = score_rows(model, rows, segments=True)[0]
    assert [s["text"] for s in record["segments"]] == [
        "The council met on Monday.",
        "They lie, wake up traitors!!",
    ]
    segments = record["segments"]
    weights = [s["end"] - s["start"] for s in segments]
    mean = {
        label: sum(w * s["scores"][label] for w, s in zip(weights, segments)) / sum(weights)
        for label in ("reporting", "opinion", "disinformation")
    }
    labels = [s["label"] for s in segments]
    expected = "disinformation" if "disinformation" in labels else max(mean, key=mean.get)
    assert record["label"] == expected
    assert record["scores"] == pytest.approx(mean, abs=1e-5)
    assert sum(record["scores"].values()) == pytest.approx(1, abs=1e-5)


def interrupt_after(comments, model, target, rows, chunk_rows):
    """Run until ``rows`` rows are written, then stop as Ctrl-C would."""

    def interrupt(done, _bytes):
        if done >= rows:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        label_inputs(
            InputSpec(paths=(str(comments),)),
            model,
            output=target,
            options=BatchOptions(chunk_rows=chunk_rows),
            progress=interrupt,
        )


def test_interrupted_run_keeps_old_output_and_resumes(comments, model, tmp_path):
    target = tmp_path / "out.jsonl"
    target.write_text("previous\n")
    reference = tmp_path / "ref.jsonl"
    run(comments, model, reference)
    interrupt_after(comments, model, target, 20, 10)
    assert target.read_text() == "previous\n"
    part = part_path(target)
    with part.open("a") as handle:
        handle.write('{"half a li')  # a write cut mid-line
    report = label_inputs(
        InputSpec(paths=(str(comments),)),
        model,
        output=target,
        options=BatchOptions(chunk_rows=10, resume=True),
    )
    assert report.resumed == 20 and report.read == 60 and report.errors == 15
    assert target.read_text() == reference.read_text()
    assert not part.exists()


def test_resume_csv(comments, model, tmp_path):
    target = tmp_path / "out.csv"
    reference = tmp_path / "ref.csv"
    run(comments, model, reference)
    interrupt_after(comments, model, target, 30, 15)
    run(comments, model, target, chunk_rows=15, resume=True)
    assert target.read_text() == reference.read_text()


def test_resume_refuses_other_runs(comments, model, tmp_path):
    with pytest.raises(InputError, match="no interrupted run to resume"):
        run(comments, model, tmp_path / "out.jsonl", resume=True)

    interrupt_after(comments, model, tmp_path / "o.jsonl", 0, 10)
    with pytest.raises(InputError, match="used other inputs, options or model"):
        run(comments, model, tmp_path / "o.jsonl", resume=True, segments=True)


def test_two_jobs_equal_one(comments, model, tmp_path):
    run(comments, model, tmp_path / "one.jsonl", chunk_rows=8)
    run(comments, model, tmp_path / "two.jsonl", chunk_rows=8, jobs=2)
    assert (tmp_path / "one.jsonl").read_text() == (tmp_path / "two.jsonl").read_text()


def test_summary_counts_every_row(comments, model, tmp_path):
    sources = SourceSummary()
    run(comments, model, tmp_path / "out.jsonl", summary=sources)
    write_summary(sources.rows(), tmp_path / "s.json")
    summary = json.loads((tmp_path / "s.json").read_text())
    assert sorted(r["source"] for r in summary) == ["site0", "site1", "site2"]
    assert sum(r["rows"] for r in summary) == 60 and sum(r["errors"] for r in summary) == 15
    shares = [r["share_disinformation"] for r in summary]
    assert shares == sorted(shares, reverse=True)
    write_summary(sources.rows(), tmp_path / "s.csv")
    with (tmp_path / "s.csv").open(newline="") as handle:
        assert len(list(csv.DictReader(handle))) == 3


def test_values_beyond_64_bits_survive_the_round_trip(model, tmp_path):
    source = tmp_path / "big.jsonl"
    source.write_text('{"id": 123456789012345678901234567890, "text": "The council met."}\n')
    label_inputs(InputSpec(paths=(str(source),)), model, output=tmp_path / "out.jsonl")
    assert json.loads((tmp_path / "out.jsonl").read_text())["id"] == 123456789012345678901234567890


def test_resume_notices_an_input_replaced_under_the_same_path(comments, model, tmp_path):
    target = tmp_path / "o.jsonl"
    interrupt_after(comments, model, target, 10, 10)
    lines = comments.read_text().splitlines()
    comments.write_text("\n".join([lines[0], *reversed(lines[1:])]) + "\n")  # same size
    with pytest.raises(InputError, match="what differs: an input file or its contents"):
        run(comments, model, target, resume=True)


def test_resume_refuses_standard_input(model, tmp_path):
    with pytest.raises(InputError, match="cannot check that standard input"):
        label_inputs(
            InputSpec(paths=("-",)),
            model,
            output=tmp_path / "o.jsonl",
            options=BatchOptions(resume=True),
        )


@pytest.mark.parametrize("kind", ["fifo", "symlink", "folder"])
def test_output_is_never_renamed_over_what_is_not_a_regular_file(comments, model, tmp_path, kind):
    import os

    target = tmp_path / "target"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "symlink":
        (tmp_path / "elsewhere").write_text("keep")
        target.symlink_to(tmp_path / "elsewhere")
    else:
        target.mkdir()
    with pytest.raises(InputError, match="target: is "):
        run(comments, model, target)
    assert not (tmp_path / ".target.part").exists()  # refused before anything was labelled
    if kind == "symlink":
        assert target.is_symlink() and (tmp_path / "elsewhere").read_text() == "keep"


def test_output_that_is_an_input_is_refused(comments, model):
    before = comments.read_bytes()
    with pytest.raises(InputError, match="is one of the inputs"):
        run(comments, model, comments)
    assert comments.read_bytes() == before


def test_a_worker_refuses_a_model_swapped_after_the_start(model, mini_model_dir, tmp_path):
    import shutil

    from classifier.batch import worker_model
    from classifier.errors import ModelError

    copy = tmp_path / "model"
    shutil.copytree(mini_model_dir, copy)
    started = load_model(copy).sha256
    import numpy as np

    from classifier.model import sha256_file

    with np.load(copy / "scoring.npz") as stored:
        arrays = {name: stored[name] for name in stored.files}
    arrays["coef"] = arrays["coef"] * 2  # another model, valid in every other way
    with (copy / "scoring.npz").open("wb") as handle:
        np.savez(handle, **arrays)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["files"]["scoring.npz"] = sha256_file(copy / "scoring.npz")
    (copy / "manifest.json").write_text(json.dumps(manifest))
    assert load_model(copy).sha256 != started
    with pytest.raises(ModelError, match="the model changed while the run was going"):
        worker_model(str(copy), started)


def test_every_row_gets_a_decision_in_jsonl_and_csv(comments, model, tmp_path):
    from classifier.decisions import policy

    # the mini model has no operating points: a threshold of 0 holds every row, and a review
    # point at 0 is never reached because hold is stricter and wins
    rule = policy({}, {"hold": 0.0, "review": 0.0})
    sources = SourceSummary()
    run(comments, model, tmp_path / "out.jsonl", summary=sources, policy=rule)
    out = read_jsonl(tmp_path / "out.jsonl")
    assert {r.get("decision") for r in out if not r.get("error")} == {"hold"}
    assert all("decision" not in r for r in out if r.get("error"))
    assert sum(r["held"] for r in sources.rows()) == 45
    run(comments, model, tmp_path / "out.csv", policy=rule)
    with (tmp_path / "out.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert "decision" in rows[0]
    assert [r["decision"] for r in rows] == [r.get("decision", "") for r in out]
    run(comments, model, tmp_path / "none.jsonl")
    assert {r.get("decision") for r in read_jsonl(tmp_path / "none.jsonl")} == {"accept", None}


def test_a_row_takes_the_strictest_decision_of_its_sentences(model):
    import numpy as np

    from classifier.decisions import policy

    text = "The council met on Monday. They lie, wake up traitors!!"
    rows = [Row({"text": text}, text, None, "x:1")]
    scores = model.predict_proba(["The council met on Monday.", "They lie, wake up traitors!!"])
    # a hold threshold between the two sentences' disinformation scores holds one of them
    low, high = sorted(scores[:, 2])
    rule = policy({}, {"hold": float(np.mean([low, high]))})
    record = score_rows(model, rows, segments=True, policy=rule)[0]
    assert sorted(s["decision"] for s in record["segments"]) == ["accept", "hold"]
    assert record["decision"] == "hold"


def test_resume_refuses_other_thresholds(comments, model, tmp_path):
    from classifier.decisions import policy

    interrupt_after(comments, model, tmp_path / "o.jsonl", 0, 10)
    with pytest.raises(InputError, match="what differs: the decision thresholds"):
        run(comments, model, tmp_path / "o.jsonl", resume=True, policy=policy({}, {"hold": 0.5}))


def test_two_jobs_resume_an_interrupted_run(comments, model, tmp_path):
    reference = tmp_path / "ref.csv"
    run(comments, model, reference)
    target = tmp_path / "out.csv"
    interrupt_after(comments, model, target, 20, 10)
    report = label_inputs(
        InputSpec(paths=(str(comments),)),
        model,
        output=target,
        options=BatchOptions(chunk_rows=4, resume=True, jobs=2),
    )
    assert report.resumed == 20 and report.read == 60
    assert target.read_bytes() == reference.read_bytes()


def test_a_workers_input_error_stops_the_run_with_its_message(model, tmp_path):
    source = tmp_path / "in.jsonl"
    lines = [json.dumps({"text": f"Officials said {i} boats left."}).encode() for i in range(50)]
    lines[37] = b'{"text": "bad \xff byte"}'
    source.write_bytes(b"\n".join(lines) + b"\n")
    for jobs in (1, 2):
        with pytest.raises(InputError, match=r"in\.jsonl:38: undecodable bytes .* or --errors=row"):
            run(source, model, tmp_path / "out.jsonl", chunk_rows=4, jobs=jobs)
        assert not (tmp_path / "out.jsonl").exists()
