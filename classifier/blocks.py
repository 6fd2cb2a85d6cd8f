"""Label one block of input: its rows -> the model -> output text and the facts a run counts.

A block (:func:`classifier.inputs.read_blocks`) is labelled where it is parsed: in the
process that runs the batch, in a worker process of ``--jobs``, or in a Dask task. What comes
back is the block's output text, ready to write, and a few arrays per row (label, score,
decision, source) from which the run's report and per-source summary are counted without a
record per row. The full records come back only when an observer (a thread summary) asks.
"""

from __future__ import annotations

import dataclasses
import gc
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain, islice
from operator import methodcaller
from typing import Any, cast

import numpy as np

from classifier import LABELS
from classifier.decisions import DECISIONS, Policy
from classifier.inputs import InputSpec, LineBlock, Row, block_rows, clean_jsonl
from classifier.model import Model
from classifier.rows import (
    ADDED_FIELDS,
    RowWriter,
    Spans,
    clean_jsonl_text,
    delimited_header,
    jsonl_text,
    outcome,
    records,
)
from classifier.segment import segment

#: A piece of input as read_blocks gives it: raw lines, or parsed rows.
Piece = LineBlock | list[Row]
_DISINFORMATION = LABELS.index("disinformation")


@dataclass(frozen=True)
class BlockJob:
    """How every block of a run is labelled (sent with each block to a worker).

    ``header``: a delimited output's columns, worked out before the first block
    (:func:`classifier.rows.delimited_header`); ``keep_records``: return the full records.
    """

    spec: InputSpec
    fmt: str
    tag: str
    policy: Policy
    segments: bool = False
    formulas: bool = False
    chunk_rows: int = 2000
    header: list[str] | None = None
    keep_records: bool = False

    @property
    def source_column(self) -> str:
        return self.spec.source_column or "source"

    @property
    def spliced(self) -> bool:
        """Whether JSONL lines are built without records (:func:`classifier.rows.jsonl_text`)."""
        column = self.source_column
        return (
            self.fmt == "jsonl"
            and not self.segments
            and not self.keep_records
            and column not in ADDED_FIELDS
            and not column.startswith("input_")  # where an added field's input value goes
        )


@dataclass
class Facts:
    """What a run counts of a block's rows, one array entry per row in order: the label's
    index in LABELS (-1: an error row), the disinformation score as written, the decision's
    index in DECISIONS (-1: none), and the source (None for all when no row has one)."""

    labels: np.ndarray
    scores: np.ndarray
    decisions: np.ndarray
    sources: list[Any] | None
    first_error: str | None

    @property
    def rows(self) -> int:
        return len(self.labels)

    @property
    def errors(self) -> int:
        return int((self.labels < 0).sum())

    def count(self, decision: str) -> int:
        """Rows given ``decision``."""
        return int((self.decisions == DECISIONS.index(decision)).sum())


@dataclass
class Labelled:
    """A labelled block: its output text, its facts, and its records when they were kept."""

    data: bytes  # the output, UTF-8
    facts: Facts
    records: list[dict[str, Any]] | None = None


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


def label_block(model: Model, job: BlockJob, block: Piece) -> Labelled:
    """Parse, score and format one block, in chunks of ``job.chunk_rows`` rows.

    Returns
    -------
    Labelled

    Raises
    ------
    InputError
        Undecodable bytes in the block, unless the spec makes them error rows.
    """
    enabled = gc.isenabled()
    gc.disable()  # a block's rows form no cycles; collecting while they live only costs
    try:
        clean = None
        if job.spliced and isinstance(block, LineBlock):
            clean = clean_jsonl(job.spec, block)
        if clean is not None and all(map(_NO_ADDED_FIELD, clean[0])):
            return _label_clean(model, job, *clean)
        return _label_rows(model, job, block_rows(job.spec, block))
    finally:
        if enabled:
            gc.enable()


_NO_ADDED_FIELD = frozenset(ADDED_FIELDS).isdisjoint


def _label_clean(
    model: Model, job: BlockJob, fields: list[dict[str, Any]], texts: list[str]
) -> Labelled:
    """A block of rows that are all scorable (:func:`classifier.inputs.clean_jsonl`), with
    no row object at all: texts to the model, fields to :func:`clean_jsonl_text`."""
    data: list[bytes] = []
    facts: list[Facts] = []
    column, size = job.source_column, job.chunk_rows
    for start in range(0, len(fields), size):
        chunk = fields[start : start + size]
        proba = model.predict_proba(texts[start : start + size])
        codes = job.policy.decide_codes(proba)
        data.append(clean_jsonl_text(chunk, proba, codes, job.tag))
        sources = list(map(methodcaller("get", column), chunk))
        labels = proba.argmax(axis=1).astype(np.int8)
        scores = np.round(proba[:, _DISINFORMATION], 6)
        facts.append(Facts(labels, scores, codes, sources if any(sources) else None, None))
    return Labelled(b"".join(data), join_facts(facts))


def _label_rows(model: Model, job: BlockJob, rows: Iterator[Row]) -> Labelled:
    texts: list[bytes] = []
    facts: list[Facts] = []
    kept: list[dict[str, Any]] | None = [] if job.keep_records else None
    while chunk := list(islice(rows, job.chunk_rows)):
        text, chunk_facts, chunk_records = _label_chunk(model, job, chunk)
        texts.append(text)
        facts.append(chunk_facts)
        if kept is not None and chunk_records is not None:
            kept.extend(chunk_records)
    return Labelled(b"".join(texts), join_facts(facts), kept)


def _label_chunk(
    model: Model, job: BlockJob, rows: list[Row]
) -> tuple[bytes, Facts, list[dict[str, Any]] | None]:
    # The rows' columns in one C-level pass; the common chunk has no error row at all.
    fields, texts, _, _, errors = zip(*rows)
    clean = errors.count(None) == len(rows)
    errors_at = [] if clean else [i for i, e in enumerate(errors) if e is not None]
    scored = rows if clean else [r for r in rows if r.error is None]
    # A row without an error has a text (make_row): a clean chunk's texts are its column.
    scorable = cast(list[str], list(texts)) if clean else [r.text for r in scored if r.text]
    proba, spans = predict_texts(model, scorable, segments=job.segments)
    if job.spliced:
        codes = job.policy.decide_codes(proba)
        data = jsonl_text(rows, scored, errors_at, proba, codes, job.tag, policy=job.policy)
        facts = _spliced_facts(fields, errors, errors_at, proba, codes, job.source_column)
        return data, facts, None
    batch = records(rows, proba, spans, job.tag, policy=job.policy)
    handle = io.StringIO(newline="")
    RowWriter(handle, job.fmt, header=job.header, formulas=job.formulas).write(batch)
    return handle.getvalue().encode("utf-8"), record_facts(batch, job.source_column), batch


def _spliced_facts(
    fields: tuple[dict[str, Any], ...],
    errors: tuple[str | None, ...],
    errors_at: list[int],
    proba: np.ndarray,
    codes: np.ndarray,
    column: str,
) -> Facts:
    """Facts of a chunk written by :func:`classifier.rows.jsonl_text`: as :func:`record_facts`
    would count its records (the source column is no added field, so it is the input's; an
    empty source counts as none, in :meth:`SourceSummary.add_many` as in the records)."""
    count = len(fields)
    ok = np.ones(count, dtype=bool)
    ok[errors_at] = False
    labels = np.full(count, -1, dtype=np.int8)
    scores = np.zeros(count)
    decisions = np.full(count, -1, dtype=np.int8)
    if len(proba):
        labels[ok] = proba.argmax(axis=1)
        scores[ok] = np.round(proba[:, _DISINFORMATION], 6)
        decisions[ok] = codes
    sources: list[Any] | None = list(map(methodcaller("get", column), fields))
    if not any(sources or ()):
        sources = None
    first = errors[errors_at[0]] if errors_at else None
    return Facts(labels, scores, decisions, sources, first)


def record_facts(batch: Iterable[dict[str, Any]], column: str) -> Facts:
    """Facts of written records (``column``: the source column), as a run counted them one by
    one: label and disinformation score by :func:`classifier.rows.outcome`, the decision, and
    the record's ``column`` value (None when empty)."""
    labels, scores, decisions, sources = [], [], [], []
    first = None
    for record in batch:
        label, score = outcome(record)
        labels.append(-1 if label is None else LABELS.index(label))
        scores.append(score or 0.0)
        decision = record.get("decision")
        decisions.append(DECISIONS.index(decision) if decision in DECISIONS else -1)
        sources.append(record.get(column) or None)
        if label is None and first is None:
            first = record.get("error")
    return Facts(
        np.array(labels, dtype=np.int8),
        np.array(scores, dtype=float),
        np.array(decisions, dtype=np.int8),
        sources if any(sources) else None,
        first,
    )


def join_facts(parts: list[Facts]) -> Facts:
    """The facts of consecutive chunks as one."""
    if len(parts) == 1:
        return parts[0]
    sources: list[Any] | None = None
    if any(p.sources is not None for p in parts):
        sources = list(
            chain.from_iterable(
                p.sources if p.sources is not None else [None] * p.rows for p in parts
            )
        )
    return Facts(
        np.concatenate([p.labels for p in parts]) if parts else np.zeros(0, dtype=np.int8),
        np.concatenate([p.scores for p in parts]) if parts else np.zeros(0),
        np.concatenate([p.decisions for p in parts]) if parts else np.zeros(0, dtype=np.int8),
        sources,
        next((p.first_error for p in parts if p.first_error is not None), None),
    )


def take_rows(
    spec: InputSpec, blocks: Iterator[Piece], count: int
) -> tuple[list[Row], Iterator[Piece]]:
    """The first ``count`` rows of ``blocks`` (parsing as few blocks as that takes) and the
    blocks after them, the rest of the last block parsed first, as a list of rows."""
    taken: list[Row] = []
    for block in blocks:
        rows = list(block_rows(spec, block))
        need = count - len(taken)
        if len(rows) >= need:
            taken.extend(rows[:need])
            rest = rows[need:]
            return taken, chain([rest], blocks) if rest else blocks
        taken.extend(rows)
    return taken, blocks


def with_header(job: BlockJob, blocks: Iterator[Piece]) -> tuple[BlockJob, Iterator[Piece]]:
    """``job`` with its delimited output's columns, worked out from the first chunk of rows as
    :class:`classifier.rows.RowWriter` would (JSONL: as it is), and the blocks to label."""
    if job.fmt == "jsonl":
        return job, blocks
    first, blocks = take_rows(job.spec, blocks, job.chunk_rows)
    header = delimited_header(first, segments=job.segments, tag=job.tag)
    return dataclasses.replace(job, header=header), chain([first], blocks) if first else blocks
