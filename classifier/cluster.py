"""Run batch labelling on a Dask cluster: one task per input file, the local code in each task.

The unit of distribution is the input file (a gzip file cannot be split, and a CSV record may
span lines), so a cluster helps when the data comes as many files, as exports and scrapes
usually do. Inputs, outputs and the model folder must be on storage every worker can read.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from classifier.batch import BatchOptions, BatchReport, label_inputs, worker_model
from classifier.errors import InputError
from classifier.inputs import STDIN, InputSpec
from classifier.model import Model
from classifier.rows import output_format
from classifier.summary import SourceSummary


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


def _label_partition(
    item: tuple[str, str], *, model_dir: str, sha: str, spec: InputSpec, options: BatchOptions
) -> tuple[BatchReport, SourceSummary]:
    """Label one input file into its output file, on a worker (model loaded once per worker)."""
    path, output = item
    summary = SourceSummary()
    report = label_inputs(
        dataclasses.replace(spec, paths=(path,)),
        worker_model(model_dir, sha),
        output=output,
        options=options,
        summary=summary,
    )
    return report, summary


def label_on_dask(
    address: str,
    spec: InputSpec,
    model: Model,
    out_dir: str | Path,
    options: BatchOptions | None = None,
) -> tuple[BatchReport, SourceSummary]:
    """Label every input file on the Dask cluster at ``address``, one output file per input.

    Parameters
    ----------
    address : str
        Scheduler address, e.g. ``tcp://scheduler:8786``.
    spec : InputSpec
    model : Model
        Loaded here to check it; workers load the same folder (same checksum) themselves.
    out_dir : str or Path
        Folder for the output parts (created).
    options : BatchOptions
        ``jobs`` is ignored: the cluster's workers are the parallelism.

    Returns
    -------
    (BatchReport, SourceSummary)
        Counts and per-source tallies over all files.
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
    items = [(str(Path(p).resolve()), str(o.resolve())) for p, o in zip(spec.paths, outputs)]
    with Client(address) as client:
        results = client.compute(
            dask.bag.from_sequence(items, npartitions=len(items)).map(
                _label_partition,
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
