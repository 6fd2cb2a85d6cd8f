"""Label a stream of rows in chunks: inputs -> segments -> model -> output rows + report.

Memory stays flat in the input size: rows are read, scored and written one chunk at a time.
An output file is written to a hidden ``.part`` file beside it and renamed at the end, so an
interrupted run leaves any previous output untouched and can be resumed (:mod:`classifier.resume`).
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from classifier.atomic import check_target
from classifier.blocks import (
    BlockJob,
    Facts,
    Labelled,
    Piece,
    label_block,
    predict_texts,
    take_rows,
    with_header,
)
from classifier.decisions import Policy
from classifier.decisions import policy as model_policy
from classifier.errors import ExitCode, InputError, ModelError
from classifier.inputs import STDIN, InputSpec, Position, Row, read_blocks
from classifier.model import Model, load_model
from classifier.resume import Finished, check_resumable, key_path, part_path, run_key
from classifier.rows import header_line, model_tag, outcome, output_format, records
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

    def add_facts(self, facts: Facts) -> None:
        """Count a labelled block's rows at once, as :meth:`add` would one by one."""
        errors = facts.errors
        self.read += facts.rows
        self.errors += errors
        self.labelled += facts.rows - errors
        self.first_error = self.first_error or facts.first_error
        self.held += facts.count("hold")
        self.reviewed += facts.count("review")

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


#: Blocks a worker process takes at a time, for ``--jobs``: a few chunks, so that sending a
#: block and its output text back costs little next to labelling it.
WORKER_BLOCK_CHUNKS = 2
#: Blocks in flight per worker (sent and not yet written): the back-pressure that keeps memory
#: flat however fast the input is read.
IN_FLIGHT_PER_WORKER = 2


def _start_worker(model_dir: str, sha: str) -> None:
    """A worker process's start: Ctrl-C is the parent's to handle; the model is checked."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    worker_model(model_dir, sha)


def _label_in_worker(model_dir: str, sha: str, job: BlockJob, block: Piece) -> Labelled:
    """:func:`classifier.blocks.label_block` in a worker process: raw lines go there, and the
    output text and per-row facts come back."""
    return label_block(worker_model(model_dir, sha), job, block)


def labelled_blocks(
    model: Model, job: BlockJob, blocks: Iterator[Piece], jobs: int
) -> Iterator[Labelled]:
    """Every block labelled, in input order, in this process or in ``jobs`` worker processes
    (at most :data:`IN_FLIGHT_PER_WORKER` blocks each in flight)."""
    if jobs == 1:
        for block in blocks:
            yield label_block(model, job, block)
        return
    import multiprocessing
    from concurrent.futures import Future, ProcessPoolExecutor

    # Forked workers start with the model the parent loaded and checked, at no cost; where
    # there is no fork, each loads the folder and checks it has the same checksum.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    model_dir = str(model.path)
    if method == "fork":
        _WORKER_MODELS[model_dir] = model
    pool = ProcessPoolExecutor(
        jobs,
        mp_context=multiprocessing.get_context(method),
        initializer=_start_worker,
        initargs=(model_dir, model.sha256),
    )
    pending: deque[Future[Labelled]] = deque()
    try:
        for block in blocks:
            pending.append(pool.submit(_label_in_worker, model_dir, model.sha256, job, block))
            if len(pending) >= jobs * IN_FLIGHT_PER_WORKER:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        if method == "fork":
            _WORKER_MODELS.pop(model_dir, None)


class _Sink:
    """Where output text goes: a stream, or an output file by way of its part file (resumable).

    A delimited output's header is worked out from the first chunk of rows before any block is
    labelled (:meth:`header_for`), and written before the first row (or, for a file without
    rows, at the end), as :class:`classifier.rows.RowWriter` would write it.
    """

    def __init__(
        self,
        spec: InputSpec,
        model: Model,
        output: Path | None,
        stream: IO[str] | None,
        options: BatchOptions,
    ):
        self.output, self.options, self.stream = output, options, stream
        self.fmt = output_format(str(output) if output else None, options.output_format)
        self.handle: IO[bytes] | None = None
        self.header: list[str] | None = None
        self.header_due = False  # worked out here and not written yet
        if output is None:
            if options.resume:
                raise InputError("--resume needs an output file (-o)")
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
        done = 0
        part = part_path(self.output)
        if self.options.resume:
            finished = Finished(part, self.fmt)
            for record in finished:
                account(record)
                done += 1
            finished.cut()
            self.header = finished.header if self.fmt != "jsonl" else None
        else:
            key_path(self.output).write_text(json.dumps(self.key), encoding="utf-8")
        self.handle = part.open("ab" if done or self.options.resume else "wb")
        return done

    def header_for(
        self, job: BlockJob, blocks: Iterator[Piece]
    ) -> tuple[BlockJob, Iterator[Piece]]:
        """``job`` with the delimited output's columns: the interrupted run's, else worked out
        from the first chunk (written before the first row); and the blocks to label."""
        if self.fmt == "jsonl" or self.header is not None:
            return dataclasses.replace(job, header=self.header), blocks
        job, blocks = with_header(job, blocks)
        self.header, self.header_due = job.header, True
        return job, blocks

    def _header_line(self) -> bytes:
        self.header_due = False
        return header_line(self.fmt, self.header or [])

    def write(self, data: bytes) -> None:
        """Write a labelled block's output (UTF-8), after the header when it is due."""
        if not data:
            return
        if self.header_due:
            data = self._header_line() + data
        if self.handle is not None:
            self.handle.write(data)
            self.handle.flush()
        elif self.stream is not None:
            write_utf8(self.stream, data)

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()

    def commit(self) -> None:
        """Rename the finished part file over the output."""
        if self.output is None:
            return
        part = part_path(self.output)
        if self.header_due:  # no rows: still a valid file
            with part.open("ab") as empty:
                empty.write(self._header_line())
        check_target(self.output)
        os.replace(part, self.output)
        key_path(self.output).unlink(missing_ok=True)


def write_utf8(stream: IO[str], data: bytes) -> None:
    """UTF-8 ``data`` to a text stream: to its bytes underneath when it encodes as UTF-8 (no
    decoding and encoding again), else as text in its own encoding."""
    import codecs

    buffer = getattr(stream, "buffer", None)
    encoding = getattr(stream, "encoding", None)
    if buffer is not None and encoding and codecs.lookup(encoding).name == "utf-8":
        stream.flush()
        buffer.write(data)
        buffer.flush()
    else:
        stream.write(data.decode("utf-8"))


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
    lines = options.chunk_rows * (WORKER_BLOCK_CHUNKS if options.jobs > 1 else 1)
    blocks = read_blocks(spec, position, lines=lines, rows=lines)
    try:
        report.resumed = sink.start(account)
        _, blocks = take_rows(spec, blocks, report.resumed)  # done by the interrupted run
        job = _job(spec, model, options, sink.fmt, observe is not None)
        job, blocks = sink.header_for(job, blocks)
        for labelled in labelled_blocks(model, job, blocks, options.jobs):
            sink.write(labelled.data)
            _count(labelled, report, summary, observe)
            if progress:
                progress(report.read, position.done)
    finally:
        sink.close()
    sink.commit()
    return report


def _job(
    spec: InputSpec, model: Model, options: BatchOptions, fmt: str, keep_records: bool
) -> BlockJob:
    """How this run labels each block."""
    return BlockJob(
        spec=spec,
        fmt=fmt,
        tag=model_tag(model),
        policy=options.policy if options.policy is not None else model_policy(model.manifest),
        segments=options.segments,
        formulas=options.formulas,
        chunk_rows=options.chunk_rows,
        keep_records=keep_records,
    )


def _count(
    labelled: Labelled,
    report: BatchReport,
    summary: SourceSummary | None,
    observe: Callable[[dict[str, Any]], None] | None,
) -> None:
    """Count a labelled block's rows: the report, the summary, the observer."""
    facts = labelled.facts
    report.add_facts(facts)
    if summary is not None:
        summary.add_many(facts.sources, facts.labels, facts.scores, facts.decisions)
    if observe is not None:
        for record in labelled.records or ():
            observe(record)
