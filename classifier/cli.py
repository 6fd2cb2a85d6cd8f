"""The ``credscore`` command: a thin layer over the library.

Each command parses options, calls one library function, renders the result and picks the exit
code. Library errors become one line on stderr here, in :class:`_Group`, and nowhere else.
"""

from __future__ import annotations

import os
import sys
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
        help="Model folder [default: $CREDSCORE_MODEL, else the default model, trained on first use].",
    )(command)


def labels_option(command):
    """``--labels PATH`` (repeatable), passed as ``label_paths``."""
    return click.option(
        "--labels",
        "label_paths",
        multiple=True,
        type=click.Path(path_type=Path),
        help="Labelled .jsonl/.csv/.tsv file or folder (repeatable) [default: the bundled labels/].",
    )(command)


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
    """The model folder to use: ``--model`` (or ``$CREDSCORE_MODEL``), else the default model,
    trained from the bundled labels when it is missing or stale."""
    if model_path is not None:
        return model_path
    from training.default import ensure_default_model

    return ensure_default_model(_notify)


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
@threshold_option
def score_cli(text, model_path, as_json, terms, thresholds):
    """Score TEXT (or standard input) segment by segment, and decide on each: hold, review or
    accept, by the model's operating points (see 'credscore thresholds').

    \b
    Examples:
        credscore score "Putin must flatten kyiv now"
        cat article.txt | credscore score --json
        credscore score --threshold hold=0.95 "..."
    """
    from classifier.render import render_json, render_table
    from classifier.score import score_text

    text = _text_argument(text)
    overrides = _overrides(thresholds)
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
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
def train_cli(label_paths, output, group_by, as_json):
    """Train a model from labelled segments; report its cross-validation, its calibration and
    its operating points (all out of fold).

    Any .jsonl/.csv/.tsv file with 'text' and 'label' columns trains.

    \b
    Examples:
        credscore train
        credscore train --labels labels/ --labels extra.tsv --output models/mine
        credscore train --labels export.csv --group-by author --output models/ours
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
    result = train(dataset, output or default_model_dir(), group_by=group_by)
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
        self.bar = None
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
def label_cli(
    ctx,
    inputs,
    output,
    output_format,
    input_format,
    text_column,
    id_column,
    source_column,
    encoding,
    on_errors,
    documents,
    segments,
    jobs,
    resume,
    summary,
    quiet,
    dask_address,
    thresholds,
    model_path,
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
        credscore label comments.csv -o out.csv --threshold hold=0.95
    """
    from classifier.batch import BatchOptions
    from classifier.inputs import InputSpec, expand_inputs

    if dask_address and output is None:
        raise click.UsageError("--dask writes one output per input file: give a folder with -o")
    if resume and output is None:
        raise click.UsageError("--resume continues an output file: give it with -o")
    spec = InputSpec(
        paths=expand_inputs(tuple(inputs)),
        input_format=input_format,
        text_column=text_column,
        id_column=id_column,
        source_column=source_column,
        encoding=encoding,
        errors_as_rows=on_errors == "row",
        documents=documents,
    )
    overrides = _overrides(thresholds)
    model = _load(model_path)
    options = BatchOptions(
        segments=segments,
        jobs=jobs,
        resume=resume,
        output_format=output_format,
        policy=_policy(model, overrides),
    )
    if dask_address:
        report, sources = _label_on_dask(dask_address, spec, model, output, options)
    else:
        report, sources = _label_here(ctx, spec, model, output, options, quiet=quiet)
    if summary:
        from classifier.rows import write_summary

        write_summary(sources.rows(), summary)
    click.echo(
        f"decisions: {report.held} held, {report.reviewed} reviewed, the rest accepted "
        f"({options.policy.describe()})",
        err=True,
    )
    if report.first_error:
        click.echo(f"first error row: {report.first_error}", err=True)
    click.echo(f"credscore: {report.line()}", err=True)
    ctx.exit(report.exit_code)


def _label_on_dask(address: str, spec: Any, model: Any, output: Path, options: Any) -> tuple:
    from classifier.cluster import label_on_dask

    click.echo(f"Labelling {len(spec.paths)} files on {address} ...", err=True)
    return label_on_dask(address, spec, model, output, options)


def _label_here(
    ctx: click.Context, spec: Any, model: Any, output: Path | None, options: Any, *, quiet: bool
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
    """TEXT as given, else standard input; undecodable bytes become U+FFFD either way."""
    if text is not None:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    if sys.stdin is None:
        raise click.UsageError("standard input is closed: give TEXT")
    if sys.stdin.isatty():
        raise click.UsageError("give TEXT, or pipe text on standard input")
    return sys.stdin.buffer.read().decode("utf-8", "replace")


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="credscore")
