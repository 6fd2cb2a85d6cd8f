"""Run batch labelling on a Dask cluster: large files in byte-range blocks, the local code in
each task.

A plain (not gzipped) txt or jsonl file larger than a block is cut into byte ranges; a block
owns every line that starts inside it (as ``dask.bag.read_text`` does), and its rows keep the
line numbers of the whole file, so an error row names the right ``file:line``. Each block is
written to its own output part, named so that the parts of one input, concatenated in name
order, hold its rows in input order (``big.00000.jsonl``, ``big.00001.jsonl``...). A CSV or
TSV file is cut only when it holds no double quote at all: a quoted field may hold a line
break, and without quotes no record can span lines, which proves every line start a record
start. A gzip file cannot be read from the middle, a ``--documents`` file is one row and
``--resume`` continues whole files: those are one task per file, as is every file no larger
than one block (its output part is then named after it alone: ``a.csv.gz`` -> ``a.jsonl``).

Inputs, outputs and the model folder must be on storage every worker can read.

A worker started by a Dask nanny runs with ``MALLOC_TRIM_THRESHOLD_=65536`` (Dask's default,
to hand memory back to the system early). With any trim threshold set, glibc also stops
raising its mmap threshold, so every NumPy temporary above 128 KiB is a fresh mapping whose
pages fault in again: measured on ``credscore label`` of 300,000 rows, system time went from
0.2 s to 3.3 s and wall time up by half. A task therefore sets both thresholds back to sizes
a scoring chunk fits in (:func:`_malloc_for_numpy`, once per worker process, glibc only).
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

from classifier.atomic import write_atomic
from classifier.batch import (
    BatchOptions,
    BatchReport,
    check_output,
    label_inputs,
    worker_model,
)
from classifier.blocks import BlockJob, label_block, with_header
from classifier.decisions import policy as model_policy
from classifier.errors import InputError
from classifier.inputs import STDIN, Block, InputSpec, block_pieces, input_format
from classifier.model import Model
from classifier.rows import header_line, model_tag, output_format
from classifier.summary import SourceSummary

#: With no block size given, files are cut into about this many blocks per worker thread of
#: the cluster (in all): enough to share the work evenly, few enough that tasks stay cheap.
BLOCKS_PER_THREAD = 4
#: Smallest block when the size is chosen automatically.
MIN_BLOCK_BYTES = 1 << 20
_READ_BYTES = 1 << 22  # how much a counting task reads at a time
_PART_INDEX = re.compile(r"\.\d{5}$")


def part_names(paths: tuple[str, ...], out_dir: Path, fmt: str) -> list[Path]:
    """One output file per input, named after it (``a.csv.gz`` -> ``out/a.jsonl``).

    Raises
    ------
    InputError
        Standard input, or two inputs that would write the same output file.
    """
    if STDIN in paths:
        raise InputError("--dask reads files, not standard input")
    names = []
    for path in paths:
        stem = Path(path).name
        for suffix in (".gz", ".txt", ".csv", ".tsv", ".jsonl"):
            stem = stem.removesuffix(suffix)
        names.append(out_dir / f"{stem}.{fmt}")
    clash = {n for n in names if names.count(n) > 1}
    if clash:
        raise InputError(
            f"{sorted(clash)[0]}: two inputs would write this output; give them different names"
        )
    return names


def block_part(output: Path, index: int) -> Path:
    """The output part of a file's block ``index``: ``out/a.jsonl`` -> ``out/a.00003.jsonl``."""
    return output.with_name(f"{output.stem}.{index:05d}{output.suffix}")


def _splittable(path: str, spec: InputSpec, options: BatchOptions) -> bool:
    """Whether ``path`` may be cut into blocks at all (CSV/TSV still need their quote count)."""
    return not (path.endswith(".gz") or spec.documents or options.resume)


def _count(path: str, start: int, end: int) -> tuple[int, int]:
    """Line breaks and double quotes in bytes ``[start, end)`` of ``path`` (on a worker)."""
    newlines = quotes = 0
    with open(path, "rb") as handle:
        handle.seek(start)
        left = end - start
        while left > 0:
            data = handle.read(min(_READ_BYTES, left))
            if not data:
                break
            newlines += data.count(b"\n")
            quotes += data.count(b'"')
            left -= len(data)
    return newlines, quotes


def plan_tasks(
    client: Any,
    spec: InputSpec,
    outputs: list[Path],
    options: BatchOptions,
    blocksize: int,
) -> list[tuple[str, str, Block | None]]:
    """(input, output part, block or None for the whole file) of every task, in input order.

    Counting each block's line breaks (and quotes) is a pass of its own over the bytes, run on
    the workers in parallel: cheap next to labelling, and what gives every block its first
    line number.
    """
    ranges: dict[str, list[tuple[int, int]]] = {}
    for path in spec.paths:
        size = Path(path).stat().st_size
        if _splittable(path, spec, options) and size > blocksize:
            ranges[path] = [(s, min(s + blocksize, size)) for s in range(0, size, blocksize)]
    flat = [(path, s, e) for path, spans in ranges.items() for s, e in spans]
    counted = iter(client.gather(client.map(_count, *zip(*flat), pure=False)) if flat else [])
    tasks: list[tuple[str, str, Block | None]] = []
    for path, output in zip(spec.paths, outputs):
        absolute = str(Path(path).resolve())
        if path not in ranges:
            tasks.append((absolute, str(output.resolve()), None))
            continue
        counts = [next(counted) for _ in ranges[path]]
        delimited = input_format(path, spec.input_format) in ("csv", "tsv")
        if delimited and any(quotes for _, quotes in counts):
            tasks.append((absolute, str(output.resolve()), None))  # quoting: whole file
            continue
        before = 0
        for index, ((start, end), (newlines, _)) in enumerate(zip(ranges[path], counts)):
            block = Block(absolute, start, end, before, header=delimited and start > 0)
            tasks.append((absolute, str(block_part(output, index).resolve()), block))
            before += newlines
    return tasks


def _remove_stale_parts(outputs: list[Path], tasks: list[tuple[str, str, Block | None]]) -> None:
    """Delete the parts an earlier run left for these inputs that this run does not write, so
    the folder never mixes two runs' parts (only regular files named like parts)."""
    written = {Path(output) for _, output, _ in tasks}
    for output in outputs:
        output = output.resolve()
        candidates = [output, *output.parent.glob(f"{output.stem}.?????{output.suffix}")]
        for path in candidates:
            named_like_part = path == output or _PART_INDEX.search(path.stem)
            if path not in written and named_like_part and path.is_file() and not path.is_symlink():
                path.unlink()


def _label_block(
    spec: InputSpec, block: Block, model: Model, output: str, options: BatchOptions
) -> tuple[BatchReport, SourceSummary]:
    """Label one block into its own output part, written atomically; only counts come back."""
    report, summary = BatchReport(), SourceSummary()
    check_output(Path(output), spec)
    job = BlockJob(
        spec=spec,
        fmt=options.output_format or "jsonl",
        tag=model_tag(model),
        policy=options.policy if options.policy is not None else model_policy(model.manifest),
        segments=options.segments,
        formulas=options.formulas,
        chunk_rows=options.chunk_rows,
    )

    def write(tmp: Path) -> None:
        with tmp.open("wb") as handle:
            labelled_job, pieces = with_header(
                job, block_pieces(spec, block, lines=options.chunk_rows)
            )
            if labelled_job.header is not None:  # a delimited part has its header, rows or not
                handle.write(header_line(job.fmt, labelled_job.header))
            for piece in pieces:
                labelled = label_block(model, labelled_job, piece)
                handle.write(labelled.data)
                facts = labelled.facts
                report.add_facts(facts)
                summary.add_many(facts.sources, facts.labels, facts.scores, facts.decisions)

    write_atomic(output, write)
    return report, summary


#: glibc ``mallopt`` parameters and the values a task sets when Dask's nanny set a trim
#: threshold: chunks of NumPy temporaries (a few MB per 2,000 rows) stay on the heap.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_HEAP_KEPT_BYTES = 64 << 20
_MMAP_FROM_BYTES = 32 << 20  # glibc's largest mmap threshold on 64-bit systems
_MALLOC_SET: list[bool] = []


def _malloc_for_numpy() -> None:
    """Undo the nanny's ``MALLOC_TRIM_THRESHOLD_`` in this worker process (see the module
    docstring); nothing elsewhere, or where glibc is not there."""
    if _MALLOC_SET or not os.environ.get("MALLOC_TRIM_THRESHOLD_"):
        return
    _MALLOC_SET.append(True)
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_FROM_BYTES)
        libc.mallopt(_M_TRIM_THRESHOLD, _HEAP_KEPT_BYTES)
    except (OSError, AttributeError):  # not glibc: leave the allocator as it is
        pass


def _label_task(
    task: tuple[str, str, Block | None],
    *,
    model_dir: str,
    sha: str,
    spec: InputSpec,
    options: BatchOptions,
) -> tuple[BatchReport, SourceSummary]:
    """Label one task's input (a whole file, or a block of one) on a worker; the model is
    loaded once per worker."""
    path, output, block = task
    _malloc_for_numpy()
    model = worker_model(model_dir, sha)
    if block is not None:
        return _label_block(dataclasses.replace(spec, paths=(path,)), block, model, output, options)
    summary = SourceSummary()
    report = label_inputs(
        dataclasses.replace(spec, paths=(path,)),
        model,
        output=output,
        options=options,
        summary=summary,
    )
    return report, summary


def _prepare(
    client: Any,
    spec: InputSpec,
    outputs: list[Path],
    options: BatchOptions,
    blocksize: int | None,
) -> list[tuple[str, str, Block | None]]:
    """The tasks (see :func:`plan_tasks`), checked for clashing parts, with stale parts gone."""
    if blocksize is None:
        total = sum(Path(p).stat().st_size for p in spec.paths)
        blocksize = max(MIN_BLOCK_BYTES, math.ceil(total / (_threads(client) * BLOCKS_PER_THREAD)))
    tasks = plan_tasks(client, spec, outputs, options, max(1, blocksize))
    clash = sorted(n for n, k in Counter(output for _, output, _ in tasks).items() if k > 1)
    if clash:
        raise InputError(f"{clash[0]}: two inputs would write this output; rename one")
    _remove_stale_parts(outputs, tasks)
    return tasks


def _threads(client: Any) -> int:
    """Worker threads of the cluster (at least 1)."""
    workers = client.scheduler_info().get("workers", {})
    return max(1, sum(int(w.get("nthreads", 1)) for w in workers.values()))


def label_on_dask(
    address: str,
    spec: InputSpec,
    model: Model,
    out_dir: str | Path,
    options: BatchOptions | None = None,
    *,
    blocksize: int | None = None,
) -> tuple[BatchReport, SourceSummary]:
    """Label every input on the Dask cluster at ``address``, large files in blocks.

    Parameters
    ----------
    address : str
        Scheduler address, e.g. ``tcp://scheduler:8786``.
    spec : InputSpec
    model : Model
        Loaded here to check it; workers load the same folder (same checksum) themselves.
    out_dir : str or Path
        Folder for the output parts (created); parts an earlier run left for the same inputs
        are replaced.
    options : BatchOptions
        ``jobs`` is ignored: the cluster's workers are the parallelism.
    blocksize : int, optional
        Bytes per block; by default the inputs' total size over :data:`BLOCKS_PER_THREAD`
        blocks per worker thread, at least :data:`MIN_BLOCK_BYTES`.

    Returns
    -------
    (BatchReport, SourceSummary)
        Counts and per-source tallies over all inputs.
    """
    options = (options or BatchOptions()).resolved(model)  # workers decide by these points
    try:
        import dask.bag
        from distributed import Client
    except ImportError:
        raise InputError("--dask needs the dask extra: pip install 'credscore[dask]'") from None
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    fmt = output_format(None, options.output_format)
    outputs = part_names(spec.paths, out_dir, fmt)
    options = dataclasses.replace(options, jobs=1, output_format=fmt)
    with Client(address) as client:
        tasks = _prepare(client, spec, outputs, options, blocksize)
        results = client.compute(
            dask.bag.from_sequence(tasks, npartitions=len(tasks)).map(
                _label_task,
                model_dir=str(Path(model.path).resolve()),
                sha=model.sha256,
                spec=spec,
                options=options,
            )
        ).result()
    report, summary = BatchReport(), SourceSummary()
    for part_report, part_summary in results:
        report.merge(part_report)
        summary.merge(part_summary)
    return report, summary
