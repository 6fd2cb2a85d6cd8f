"""Label a stream of rows in chunks: inputs -> segments -> model -> output rows + report.

Memory stays flat in the input size: rows are read, scored and written one chunk at a time.
An output file is written to a hidden ``.part`` file beside it and renamed at the end, so an
interrupted run leaves any previous output untouched and can be resumed.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from classifier import LABELS, __version__
from classifier.errors import ExitCode, InputError
from classifier.inputs import InputSpec, Position, Row, read_rows
from classifier.model import Model, load_model
from classifier.outputs import ADDED_FIELDS, RowWriter, output_format
from classifier.segment import segment
from classifier.summary import SourceSummary

CHUNK_ROWS = 2000


@dataclass(frozen=True)
class BatchOptions:
    """How to label: segmenting, parallelism, resuming, output format, summary."""

    segments: bool = False
    jobs: int = 1
    resume: bool = False
    output_format: str | None = None
    chunk_rows: int = CHUNK_ROWS


@dataclass
class BatchReport:
    """Counts that reconcile a run: every row read is labelled or an error row."""

    read: int = 0
    labelled: int = 0
    errors: int = 0
    resumed: int = 0
    first_error: str | None = None

    def add(self, record: dict[str, Any]) -> None:
        self.read += 1
        if record.get("error"):
            self.errors += 1
            self.first_error = self.first_error or record["error"]
        else:
            self.labelled += 1

    def merge(self, other: BatchReport) -> None:
        """Add another run's counts (a cluster's parts)."""
        self.read += other.read
        self.labelled += other.labelled
        self.errors += other.errors
        self.resumed += other.resumed
        self.first_error = self.first_error or other.first_error

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK if self.errors == 0 else ExitCode.ROW_ERRORS

    def line(self) -> str:
        kept = f" ({self.resumed} kept from the interrupted run)" if self.resumed else ""
        return f"{self.read} rows read, {self.labelled} labelled, {self.errors} errors{kept}"


def model_tag(model: Model) -> str:
    """The ``model`` value of every output row: credscore version and model checksum."""
    return (
        f"credscore-{model.manifest['versions'].get('credscore', __version__)}+{model.sha256[:12]}"
    )


def _base(row: Row) -> dict[str, Any]:
    """The row's input fields; one that clashes with an added field is kept as ``input_<name>``."""
    return {(f"input_{k}" if k in ADDED_FIELDS else k): v for k, v in row.fields.items()}


def _scores(values) -> dict[str, float]:
    return {label: round(float(v), 6) for label, v in zip(LABELS, values)}


def predict_texts(model: Model, texts: list[str], *, segments: bool = False):
    """The model's work for a chunk: probabilities and, with ``segments``, sentence spans.

    Returns
    -------
    (ndarray, list or None)
        One probability row per text (per sentence with ``segments``), and per text its
        sentences' ``(start, end)`` offsets.
    """
    import numpy as np

    if not segments:
        proba = model.predict(texts)[0] if texts else np.zeros((0, len(LABELS)))
        return proba, None
    spans = [[(s.start, s.end) for s in segment(text)] for text in texts]
    flat = [text[a:b] for text, parts in zip(texts, spans) for a, b in parts]
    proba = model.predict(flat)[0] if flat else np.zeros((0, len(LABELS)))
    return proba, spans


def combine(proba, weights) -> tuple[str, Any]:
    """A text's label and scores from its sentences' probabilities and lengths.

    The scores are the length-weighted mean; the label is ``disinformation`` when any sentence
    is labelled so (one incitement sentence makes a comment disinformation-style), else the
    label with the highest mean score.
    """
    import numpy as np

    mean = np.asarray(weights, dtype=float) @ proba / np.sum(weights)
    if (proba.argmax(axis=1) == LABELS.index("disinformation")).any():
        return "disinformation", mean
    return LABELS[int(mean.argmax())], mean


def assemble(rows: list[Row], proba, spans, tag: str) -> list[dict[str, Any]]:
    """Output records for ``rows`` from :func:`predict_texts`' result over their scorable texts.

    With sentence ``spans``, the row's label and scores come from :func:`combine`.
    """
    import numpy as np

    # Round and convert once per chunk: per-row float() and round() calls cost more than scoring.
    rounded = np.round(proba, 6).tolist()
    tops = proba.argmax(axis=1).tolist()
    out = []
    at = 0
    scorable = 0
    for row in rows:
        if row.error is not None:
            out.append({**_base(row), "error": row.error})
            continue
        record = _base(row)
        if spans is None:
            record.update(label=LABELS[tops[at]], scores=dict(zip(LABELS, rounded[at])), model=tag)
            at += 1
        else:
            parts = spans[scorable]
            rows_proba = proba[at : at + len(parts)]
            at += len(parts)
            label, mean = combine(rows_proba, [b - a for a, b in parts])
            labels = [LABELS[i] for i in rows_proba.argmax(axis=1)]
            record.update(label=label, scores=_scores(mean), model=tag)
            record["segments"] = [
                {
                    "text": row.text[a:b],
                    "start": a,
                    "end": b,
                    "label": lab,
                    "scores": dict(zip(LABELS, p)),
                }
                for (a, b), lab, p in zip(parts, labels, rounded[at - len(parts) : at])
            ]
        scorable += 1
        out.append(record)
    return out


def score_rows(model: Model, rows: list[Row], *, segments: bool = False) -> list[dict[str, Any]]:
    """Output records for ``rows``, in order: input fields plus label, scores and model, or error.

    Parameters
    ----------
    model : Model
    rows : list of Row
    segments : bool
        Score each text's sentences too (see :func:`assemble` for the row's label).

    Returns
    -------
    list of dict
        One record per row.
    """
    proba, spans = predict_texts(
        model, [r.text for r in rows if r.error is None], segments=segments
    )
    return assemble(rows, proba, spans, model_tag(model))


_WORKER_MODELS: dict[str, Model] = {}


def worker_model(model_dir: str, sha: str) -> Model:
    """The model in a worker process: loaded (and checked) once per worker and model."""
    model = _WORKER_MODELS.get(model_dir)
    if model is None or model.sha256 != sha:
        model = _WORKER_MODELS[model_dir] = load_model(model_dir)
    return model


def _predict_in_worker(model_dir: str, sha: str, texts: list[str], segments: bool):
    """:func:`predict_texts` in a worker process: only texts go there and only arrays come back."""
    return predict_texts(worker_model(model_dir, sha), texts, segments=segments)


def _chunks(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _scored_chunks(
    model: Model, chunks: Iterator[list[Row]], options: BatchOptions
) -> Iterator[list[dict]]:
    """Scored chunks in input order, in this process or in ``options.jobs`` worker processes."""
    if options.jobs == 1:
        for chunk in chunks:
            yield score_rows(model, chunk, segments=options.segments)
        return
    from joblib import Parallel, delayed

    tag = model_tag(model)
    pending: list[list[Row]] = []

    def tasks():
        for chunk in chunks:
            pending.append(chunk)
            yield delayed(_predict_in_worker)(
                str(model.path),
                model.sha256,
                [r.text for r in chunk if r.error is None],
                options.segments,
            )

    parallel = Parallel(n_jobs=options.jobs, return_as="generator", pre_dispatch="2*n_jobs")
    for proba, spans in parallel(tasks()):
        yield assemble(pending.pop(0), proba, spans, tag)


def part_path(output: Path) -> Path:
    """The hidden file an output is written to until the run completes."""
    return output.with_name(f".{output.name}.part")


def _run_key(spec: InputSpec, model: Model, options: BatchOptions, fmt: str) -> dict[str, Any]:
    """What a resumed run must share with the interrupted one."""
    return {
        "inputs": [os.path.abspath(p) if p != "-" else p for p in spec.paths],
        "spec": {k: v for k, v in asdict(spec).items() if k != "paths"},
        "segments": options.segments,
        "format": fmt,
        "model_sha256": model.sha256,
    }


def _complete_records(part: Path, fmt: str) -> tuple[list[dict[str, Any]], int, list[str] | None]:
    """Records fully written to an interrupted run's part file, the byte length they span, and
    the delimited header (None for JSONL)."""
    records: list[dict[str, Any]] = []
    header = None
    end = 0
    with part.open("rb") as handle:
        consumed = 0

        def lines() -> Iterator[str]:
            nonlocal consumed
            for data in handle:
                if not data.endswith(b"\n"):
                    return  # the write was cut in the middle of this line
                consumed += len(data)
                yield data.decode("utf-8")

        if fmt == "jsonl":
            for line in lines():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    break
                end = consumed
        else:
            reader = csv.reader(lines(), delimiter="\t" if fmt == "tsv" else ",")
            for values in reader:
                if header is None:
                    header = values
                elif len(values) == len(header):
                    records.append(dict(zip(header, values)))
                else:
                    break
                end = consumed
    return records, end, header


def _outcome(record: dict[str, Any]) -> tuple[str | None, float | None]:
    """(label, disinformation score) of a written record; label None for an error row."""
    if record.get("error"):
        return None, None
    scores = record.get("scores")
    score = (
        scores["disinformation"]
        if isinstance(scores, dict)
        else float(record["score_disinformation"])
    )
    return record["label"], score


def label_inputs(
    spec: InputSpec,
    model: Model,
    *,
    output: str | Path | None,
    stream=None,
    options: BatchOptions | None = None,
    summary: SourceSummary | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BatchReport:
    """Label every row of the inputs and write one output row per input row, in order.

    Parameters
    ----------
    spec : InputSpec
        The inputs.
    model : Model
    output : str or Path, optional
        Output file, written atomically; ``stream`` is used when None.
    stream : text stream, optional
        Where rows go when there is no output file (standard output).
    options : BatchOptions
    summary : SourceSummary, optional
        Accumulates every output row (resumed ones too) per source.
    progress : callable, optional
        Called after each chunk with (rows done, input bytes consumed).

    Returns
    -------
    BatchReport

    Raises
    ------
    InputError
        Unreadable inputs, ``--resume`` without a matching interrupted run.
    """
    options = options or BatchOptions()
    fmt = output_format(str(output) if output else None, options.output_format)
    report = BatchReport()
    source_column = spec.source_column or "source"
    position = Position()
    rows: Iterator[Row] = read_rows(spec, position)
    header = None
    if output is None:
        if options.resume:
            raise InputError("--resume needs an output file (-o)")
        writer = RowWriter(stream, fmt)
        handle = None
    else:
        output = Path(output)
        part = part_path(output)
        key_path = part.with_name(part.name + ".json")
        key = _run_key(spec, model, options, fmt)
        if options.resume:
            if not part.exists() or not key_path.exists():
                raise InputError(f"{output}: no interrupted run to resume (no {part.name})")
            if json.loads(key_path.read_text(encoding="utf-8")) != key:
                raise InputError(
                    f"{output}: the interrupted run used other inputs, options or model; run without --resume"
                )
            done, end, header = _complete_records(part, fmt)
            with part.open("r+b") as cut:
                cut.truncate(end)
            for record in done:
                report.add(record)
                if summary is not None:
                    summary.add(record.get(source_column) or None, *_outcome(record))
            report.resumed = len(done)
            rows = islice(rows, len(done), None)
        else:
            key_path.write_text(json.dumps(key), encoding="utf-8")
        handle = part.open("a" if options.resume else "w", encoding="utf-8", newline="")
        writer = RowWriter(handle, fmt, header=header if fmt != "jsonl" else None)
    try:
        for records in _scored_chunks(model, _chunks(rows, options.chunk_rows), options):
            writer.write(records)
            for record in records:
                report.add(record)
                if summary is not None:
                    summary.add(record.get(source_column) or None, *_outcome(record))
            if handle is not None:
                handle.flush()
            if progress:
                progress(report.read, position.done)
    finally:
        if handle is not None:
            handle.close()
    if output is not None:
        if fmt != "jsonl" and writer.header is None:  # no rows at all: still a valid file
            with part.open("a", encoding="utf-8", newline="") as empty:
                RowWriter(empty, fmt).write([])
        os.replace(part, output)
        key_path.unlink(missing_ok=True)
    return report
