"""Label a stream of rows in chunks: inputs -> segments -> model -> output rows + report.

Memory stays flat in the input size: rows are read, scored and written one chunk at a time.
An output file is written to a hidden ``.part`` file beside it and renamed at the end, so an
interrupted run leaves any previous output untouched and can be resumed (:mod:`classifier.resume`).
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import IO, Any

import numpy as np

from classifier.atomic import check_target
from classifier.decisions import Policy
from classifier.decisions import policy as model_policy
from classifier.errors import ExitCode, InputError, ModelError
from classifier.inputs import STDIN, InputSpec, Position, Row, read_rows
from classifier.model import Model, load_model
from classifier.resume import Finished, check_resumable, key_path, part_path, run_key
from classifier.rows import RowWriter, Spans, model_tag, outcome, output_format, records
from classifier.segment import segment
from classifier.summary import SourceSummary

CHUNK_ROWS = 2000


@dataclass(frozen=True)
class BatchOptions:
    """How to label: segmenting, parallelism, resuming, output format, chunk size, and the
    operating points that decide each row (None: the model's own, from its manifest)."""

    segments: bool = False
    jobs: int = 1
    resume: bool = False
    output_format: str | None = None
    chunk_rows: int = CHUNK_ROWS
    policy: Policy | None = None
    formulas: bool = False  # CSV/TSV cells that look like formulas written as they are

    def resolved(self, model: Model) -> BatchOptions:
        """These options with the policy fixed: the given one, else the model's.

        Resolved once, where the run starts, so that worker processes and cluster tasks decide
        by the same points even if the manifest's are rewritten meanwhile.
        """
        if self.policy is not None:
            return self
        return dataclasses.replace(self, policy=model_policy(model.manifest))


@dataclass
class BatchReport:
    """Counts that reconcile a run: every row read is labelled or an error row."""

    read: int = 0
    labelled: int = 0
    errors: int = 0
    resumed: int = 0
    first_error: str | None = None
    held: int = 0
    reviewed: int = 0

    def add(self, record: dict[str, Any]) -> None:
        self.read += 1
        if record.get("error"):
            self.errors += 1
            self.first_error = self.first_error or record["error"]
        else:
            self.labelled += 1
            self.held += record.get("decision") == "hold"
            self.reviewed += record.get("decision") == "review"

    def merge(self, other: BatchReport) -> None:
        """Add another run's counts (a cluster's parts)."""
        self.read += other.read
        self.labelled += other.labelled
        self.errors += other.errors
        self.resumed += other.resumed
        self.held += other.held
        self.reviewed += other.reviewed
        self.first_error = self.first_error or other.first_error

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK if self.errors == 0 else ExitCode.ROW_ERRORS

    def line(self) -> str:
        kept = f" ({self.resumed} kept from the interrupted run)" if self.resumed else ""
        return f"{self.read} rows read, {self.labelled} labelled, {self.errors} errors{kept}"


def predict_texts(
    model: Model, texts: list[str], *, segments: bool = False
) -> tuple[np.ndarray, Spans | None]:
    """The model's work for a chunk: probabilities and, with ``segments``, sentence spans.

    Returns
    -------
    (ndarray, list or None)
        One probability row per text (per sentence with ``segments``), and per text its
        sentences' ``(start, end)`` offsets.
    """
    if not segments:
        return model.predict_proba(texts), None
    spans = [[(s.start, s.end) for s in segment(text)] for text in texts]
    flat = [text[a:b] for text, parts in zip(texts, spans) for a, b in parts]
    return model.predict_proba(flat), spans


def score_rows(
    model: Model, rows: list[Row], *, segments: bool = False, policy: Policy | None = None
) -> list[dict[str, Any]]:
    """Output records for ``rows``, in order: input fields plus label, scores, decision and
    model, or error.

    Parameters
    ----------
    model : Model
    rows : list of Row
    segments : bool
        Score each text's sentences too; the row's label then follows
        :func:`classifier.score.combine`.
    policy : Policy, optional
        The operating points [default: the model's own].

    Returns
    -------
    list of dict
        One record per row (see :mod:`classifier.rows`).
    """
    texts = [r.text for r in rows if r.text is not None and r.error is None]
    proba, spans = predict_texts(model, texts, segments=segments)
    rule = policy if policy is not None else model_policy(model.manifest)
    return records(rows, proba, spans, model_tag(model), policy=rule)


_WORKER_MODELS: dict[str, Model] = {}


def worker_model(model_dir: str, sha: str) -> Model:
    """The model in a worker process, loaded once per worker: the one the parent checked.

    Raises
    ------
    ModelError
        The folder now holds another model than the one the run started with.
    """
    model = _WORKER_MODELS.get(model_dir)
    if model is None or model.sha256 != sha:
        model = _WORKER_MODELS[model_dir] = load_model(model_dir)
    if model.sha256 != sha:
        raise ModelError(
            f"{model_dir}: the model changed while the run was going (its scoring arrays are "
            f"{model.sha256[:12]}, the run started with {sha[:12]}); rerun"
        )
    return model


def _predict_in_worker(
    model_dir: str, sha: str, texts: list[str], segments: bool
) -> tuple[np.ndarray, Spans | None]:
    """:func:`predict_texts` in a worker process: only texts go there and only arrays come back."""
    return predict_texts(worker_model(model_dir, sha), texts, segments=segments)


def _chunks(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def scored_chunks(
    model: Model, chunks: Iterator[list[Row]], options: BatchOptions
) -> Iterator[list[dict[str, Any]]]:
    """Scored chunks in input order, in this process or in ``options.jobs`` worker processes."""
    rule = options.policy if options.policy is not None else model_policy(model.manifest)
    if options.jobs == 1:
        for chunk in chunks:
            yield score_rows(model, chunk, segments=options.segments, policy=rule)
        return
    from joblib import Parallel, delayed

    tag = model_tag(model)
    pending: list[list[Row]] = []

    def tasks() -> Iterator[Any]:
        for chunk in chunks:
            pending.append(chunk)
            texts = [r.text for r in chunk if r.text is not None and r.error is None]
            yield delayed(_predict_in_worker)(
                str(model.path), model.sha256, texts, options.segments
            )

    parallel = Parallel(n_jobs=options.jobs, return_as="generator", pre_dispatch="2*n_jobs")
    for proba, spans in parallel(tasks()):
        yield records(pending.pop(0), proba, spans, tag, policy=rule)


class _Sink:
    """Where records go: a stream, or an output file by way of its part file (resumable)."""

    def __init__(
        self,
        spec: InputSpec,
        model: Model,
        output: Path | None,
        stream: IO[str] | None,
        options: BatchOptions,
    ):
        self.output, self.options = output, options
        self.fmt = output_format(str(output) if output else None, options.output_format)
        self.handle: IO[str] | None = None
        if output is None:
            if options.resume:
                raise InputError("--resume needs an output file (-o)")
            self.writer = RowWriter(stream, self.fmt, formulas=options.formulas)  # type: ignore[arg-type]
            return
        check_output(output, spec)
        rule = options.policy if options.policy is not None else model_policy(model.manifest)
        self.key = run_key(
            spec,
            model.sha256,
            segments=options.segments,
            fmt=self.fmt + ("+formulas" if options.formulas else ""),
            decisions=rule.to_dict(),
        )
        if options.resume:
            check_resumable(output, spec, self.key)

    def start(self, account: Callable[[dict[str, Any]], None]) -> int:
        """Count (``account``) the records an interrupted run finished, open the part file for
        the rest, and say how many input rows are done."""
        if self.output is None:
            return 0
        header, done = None, 0
        part = part_path(self.output)
        if self.options.resume:
            finished = Finished(part, self.fmt)
            for record in finished:
                account(record)
                done += 1
            finished.cut()
            header = finished.header
        else:
            key_path(self.output).write_text(json.dumps(self.key), encoding="utf-8")
        self.handle = part.open(
            "a" if done or self.options.resume else "w", encoding="utf-8", newline=""
        )
        self.writer = RowWriter(
            self.handle,
            self.fmt,
            header=header if self.fmt != "jsonl" else None,
            formulas=self.options.formulas,
        )
        return done

    def write(self, batch: list[dict[str, Any]]) -> None:
        self.writer.write(batch)
        if self.handle is not None:
            self.handle.flush()

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()

    def commit(self) -> None:
        """Rename the finished part file over the output."""
        if self.output is None:
            return
        part = part_path(self.output)
        if self.fmt != "jsonl" and self.writer.header is None:  # no rows: still a valid file
            with part.open("a", encoding="utf-8", newline="") as empty:
                RowWriter(empty, self.fmt).write([])
        check_target(self.output)
        os.replace(part, self.output)
        key_path(self.output).unlink(missing_ok=True)


def check_output(output: Path, spec: InputSpec) -> None:
    """Refuse an output that is not a regular file, or that is one of the inputs.

    Raises
    ------
    InputError
    """
    check_target(output)
    if output.exists():
        for path in spec.paths:
            if path != STDIN and os.path.samefile(path, output):
                raise InputError(f"{output}: is one of the inputs; write the output elsewhere")


def _accountant(
    report: BatchReport,
    summary: SourceSummary | None,
    observe: Callable[[dict[str, Any]], None] | None,
    source_column: str,
) -> Callable[[dict[str, Any]], None]:
    """What counts every output row, resumed or new: the report, the summary, the observer."""

    def account(record: dict[str, Any]) -> None:
        report.add(record)
        if summary is not None:
            summary.add(record.get(source_column) or None, *outcome(record), record.get("decision"))
        if observe is not None:
            observe(record)

    return account


def label_inputs(
    spec: InputSpec,
    model: Model,
    *,
    output: str | Path | None,
    stream: IO[str] | None = None,
    options: BatchOptions | None = None,
    summary: SourceSummary | None = None,
    observe: Callable[[dict[str, Any]], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BatchReport:
    """Label every row of the inputs and write one output row per input row, in order.

    Parameters
    ----------
    spec : InputSpec
    model : Model
    output : str or Path, optional
        Output file, written by way of its part file; ``stream`` is used when None.
    stream : text stream, optional
        Where rows go when there is no output file (standard output).
    options : BatchOptions, optional
    summary : SourceSummary, optional
        Accumulates every output row (resumed ones too) per source.
    observe : callable, optional
        Called with every output row (resumed ones too): other roll-ups (threads, authors).
    progress : callable, optional
        Called after each chunk with (rows done, input bytes consumed).

    Returns
    -------
    BatchReport

    Raises
    ------
    InputError
        Unreadable inputs, a bad output target, ``--resume`` without a matching run.
    """
    options = (options or BatchOptions()).resolved(model)
    sink = _Sink(spec, model, Path(output) if output else None, stream, options)
    report = BatchReport()
    account = _accountant(report, summary, observe, spec.source_column or "source")
    position = Position()
    rows: Iterator[Row] = read_rows(spec, position)
    try:
        report.resumed = sink.start(account)
        rows = islice(rows, report.resumed, None)
        for batch in scored_chunks(model, _chunks(rows, options.chunk_rows), options):
            sink.write(batch)
            for record in batch:
                account(record)
            if progress:
                progress(report.read, position.done)
    finally:
        sink.close()
    sink.commit()
    return report
