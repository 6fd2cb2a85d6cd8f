"""Calibration benchmark: why credscore calibrates on stratified row folds, not on groups.

Trains on external labelled rows from five corpora (a news subjectivity set, MPQA, the PTC
propaganda sentences, COVID conspiracy tweets, a media-bias set), with the cross-validation
groups set two ways: the corpus (as a team's export grouped by source or thread would be:
groups and labels go together) or ten random groups. For each, the previous calibration
(a sigmoid per label fitted on decision values of document-grouped folds) beside the current
one (fitted on stratified row folds, which do not read the groups), measured per corpus: on a
held-out fifth of each training corpus's documents and on the other corpora. Then the same
two designs on the bundled labels, by grouped cross-validation. Only aggregate numbers are
written, into the section of ``docs/benchmarks.md`` between this script's markers::

    nice -n 10 python benchmarks/calibration.py              # about 6 minutes on 2 busy cores
    python benchmarks/calibration.py --data ../shared/data --out /tmp/b.md
"""

from __future__ import annotations

import random
import shlex
import sys
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import accuracy  # the corpora, selections and report helpers

from classifier import LABELS
from classifier.errors import CredscoreError
from training.dataset import normalise

SECTION = "calibration"
START = f"<!-- {SECTION}.py: start -->"
END = f"<!-- {SECTION}.py: end -->"
#: The external training rows, as the issue trained on them.
TRAINING = (
    accuracy.Selection("checkthat_subj_en"),
    accuracy.Selection("mpqa12_sentence_subjectivity"),
    accuracy.Selection("ptc_propaganda_sentences", labels=("disinformation",)),
    accuracy.Selection("mediaeval2020_covid_conspiracy_tweets"),
    accuracy.Selection("babe_media_bias"),
)
#: One document in this many of each training corpus is held out for testing.
HOLD_OUT = 5
#: Test rows per corpus at most (drawn with the accuracy benchmark's seed).
TEST_ROWS = 3000
RANDOM_GROUPS = 10
LEGACY_FOLDS = 3
#: ``--fast``: tiny samples, to check the harness, not to read.
FAST_ROWS = 1500


# --- The two designs ----------------------------------------------------------------------------


def legacy_splits(labels: list[str], groups: list[str]) -> list:
    """The previous calibration folds: document-grouped where every training fold keeps every
    label, else stratified (credscore before this benchmark; kept here to measure it)."""
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    every = set(labels)
    if len(set(groups)) >= 2:
        splitter = StratifiedGroupKFold(n_splits=min(LEGACY_FOLDS, len(set(groups))))
        splits = list(splitter.split(labels, labels, groups))
        if all({labels[i] for i in train_idx} == every for train_idx, _ in splits):
            return splits
    folds = max(2, min(LEGACY_FOLDS, *(labels.count(label) for label in every)))
    return list(StratifiedKFold(n_splits=folds).split(labels, labels))


def legacy_classifier(labels: list[str], groups: list[str]) -> Any:
    """The previous design: sigmoid per label on grouped folds' decision values."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import LinearSVC

    from training.train import SVM_C

    linear = LinearSVC(C=SVM_C, class_weight="balanced", random_state=0)
    return CalibratedClassifierCV(
        linear, method="sigmoid", cv=legacy_splits(labels, groups), ensemble=False
    )


def current_classifier(labels: list[str], groups: list[str]) -> Any:
    """The current design, exactly as ``credscore train`` builds it (groups are not read)."""
    from training.train import build_pipeline

    return build_pipeline(labels).named_steps["classifier"]


DESIGNS = {
    "grouped folds (before)": legacy_classifier,
    "row folds (now)": current_classifier,
}


def _ordered(classifier: Any, matrix: Any) -> np.ndarray:
    """``predict_proba`` with columns in LABELS order (0 for a label the fit never saw)."""
    proba = np.zeros((matrix.shape[0], len(LABELS)))
    columns = [LABELS.index(str(c)) for c in classifier.classes_]
    proba[:, columns] = classifier.predict_proba(matrix)
    return proba


# --- Rows ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    """Training rows (with both groupings) and the test rows of every corpus."""

    texts: list[str]
    labels: list[str]
    corpora: list[str]
    tests: dict[str, list[accuracy.Row]]
    held_out: dict[str, int]


def _held_out(row: accuracy.Row) -> bool:
    """One document in :data:`HOLD_OUT` (a row is its own document where a corpus has none)."""
    key = row.group if ":" in row.group else row.text
    return zlib.crc32(key.encode("utf-8")) % HOLD_OUT == 0


def split(corpora: dict[str, accuracy.Corpus], *, fast: bool = False) -> Split:
    """Training rows from :data:`TRAINING` (their held-out documents aside); test rows from
    those held-out documents and from every other corpus, without texts seen in training.

    Raises
    ------
    CredscoreError
        A training corpus is missing.
    """
    missing = [s.corpus for s in TRAINING if s.corpus not in corpora]
    if missing:
        raise CredscoreError(f"the calibration benchmark needs {', '.join(missing)}")
    texts, labels, names = [], [], []
    for selection in TRAINING:
        for row in selection.take(corpora[selection.corpus]):
            if not _held_out(row):
                texts.append(row.text)
                labels.append(row.label)
                names.append(selection.corpus)
    if fast:
        keep = accuracy._sample(range(len(texts)), FAST_ROWS, "calibration:fast")
        texts, labels, names = ([xs[i] for i in keep] for xs in (texts, labels, names))
    seen = {normalise(t) for t in texts}
    trained_on = {s.corpus for s in TRAINING}
    tests, held = {}, {}
    for name, corpus in corpora.items():
        rows = [r for r in corpus.rows if name not in trained_on or _held_out(r)]
        rows = [
            r for r in rows if normalise(r.text) not in seen and not set(r.shared_with) & trained_on
        ]
        held[name] = len(rows)
        tests[name] = accuracy._sample(rows, 200 if fast else TEST_ROWS, f"calibration:{name}")
    return Split(texts, labels, names, tests, held)


def random_groups(n: int) -> list[str]:
    """Ten groups drawn at random with a fixed seed: grouping that says nothing about labels."""
    rng = random.Random(accuracy.SEED)
    return [f"g{rng.randrange(RANDOM_GROUPS)}" for _ in range(n)]


# --- Measures -----------------------------------------------------------------------------------


def _ece(scores: np.ndarray, truth: np.ndarray) -> float:
    from training.evaluate import CALIBRATION_BINS

    where = np.minimum(np.floor(scores * CALIBRATION_BINS).astype(int), CALIBRATION_BINS - 1)
    gap = 0.0
    for b in range(CALIBRATION_BINS):
        inside = where == b
        if inside.any():
            gap += inside.mean() * abs(scores[inside].mean() - truth[inside].mean())
    return float(gap)


def measure(proba: np.ndarray, gold: Sequence[str]) -> dict[str, float | None]:
    """Per corpus: recall and F1 of disinformation, the share of other rows labelled
    disinformation, and the disinformation score's expected calibration error and Brier score."""
    truth = np.array([g == "disinformation" for g in gold])
    predicted = proba.argmax(axis=1) == LABELS.index("disinformation")
    score = proba[:, LABELS.index("disinformation")]
    hits = int((predicted & truth).sum())
    recall = hits / truth.sum() if truth.any() else None
    precision = hits / predicted.sum() if predicted.any() else 0.0
    f1 = None
    if recall is not None and (~truth).any():
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "recall": recall,
        "f1": f1,
        "false_alarms": float((predicted & ~truth).sum() / (~truth).sum())
        if (~truth).any()
        else None,
        "ece": _ece(score, truth.astype(float)),
        "brier": float(np.mean((score - truth) ** 2)),
    }


@dataclass(frozen=True)
class Run:
    """One design under one grouping: its measures per corpus."""

    design: str
    grouping: str
    seconds: float
    per_corpus: dict[str, dict[str, float | None]]


def external_runs(data: Split, *, log: Any) -> list[Run]:
    """Every design under both groupings, trained once each on the same featurised rows."""
    from training.features import PipelineFeaturizer

    started = time.perf_counter()
    featurizer = PipelineFeaturizer().fit(data.texts)
    matrix = featurizer.transform(data.texts)
    tests = {
        name: featurizer.transform([r.text for r in rows]) for name, rows in data.tests.items()
    }
    log(f"featurised {len(data.texts)} training rows in {time.perf_counter() - started:.0f} s")
    groupings = {"corpus": data.corpora, "random": random_groups(len(data.texts))}
    runs = []
    for design, build in DESIGNS.items():
        for name, groups in groupings.items():
            if build is current_classifier and runs and runs[-1].design == design:
                # the current calibration does not read the groups: the same model again
                runs.append(Run(design, name, runs[-1].seconds, runs[-1].per_corpus))
                continue
            clock = time.perf_counter()
            classifier = build(data.labels, groups).fit(matrix, data.labels)
            per_corpus = {
                corpus: measure(_ordered(classifier, tests[corpus]), [r.label for r in rows])
                for corpus, rows in data.tests.items()
                if rows
            }
            runs.append(Run(design, name, time.perf_counter() - clock, per_corpus))
            log(f"{design}, groups = {name}: {runs[-1].seconds:.0f} s")
    return runs


def bundled_runs(*, log: Any, fast: bool = False) -> dict[str, dict[str, Any]]:
    """Grouped cross-validation on the bundled labels with each design's calibration."""
    from training.dataset import grouping, load_dataset
    from training.evaluate import compute_calibration, compute_metrics
    from training.features import PipelineFeaturizer
    from training.train import cv_splits

    dataset = load_dataset()
    if fast:
        import dataclasses

        kept = accuracy._sample(dataset.records, FAST_ROWS, "calibration:fast")
        dataset = dataclasses.replace(dataset, records=tuple(kept))
    texts, labels = dataset.texts, dataset.labels
    groups = grouping(dataset)
    out = {}
    for design, build in DESIGNS.items():
        clock = time.perf_counter()
        proba = np.zeros((len(texts), len(LABELS)))
        for train_idx, test_idx in cv_splits(labels, groups):
            fold_texts = [texts[i] for i in train_idx]
            fold_labels = [labels[i] for i in train_idx]
            featurizer = PipelineFeaturizer().fit(fold_texts)
            classifier = build(fold_labels, [groups.groups[i] for i in train_idx])
            classifier.fit(featurizer.transform(fold_texts), fold_labels)
            proba[test_idx] = _ordered(
                classifier, featurizer.transform([texts[i] for i in test_idx])
            )
        metrics = compute_metrics(labels, [LABELS[i] for i in proba.argmax(axis=1)])
        calibration = compute_calibration(labels, proba)
        out[design] = {
            "macro_f1": metrics.macro_f1,
            "ece": {k: v.ece for k, v in calibration.per_label.items()},
            "brier": calibration.brier,
            "grouping": groups.describe(),
        }
        log(f"bundled labels, {design}: {time.perf_counter() - clock:.0f} s")
    return out


# --- Report -------------------------------------------------------------------------------------


def _cell(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


MEASURES = (
    ("recall", "Recall of disinformation (rows labelled disinformation, whole text)"),
    ("f1", "F1 of disinformation (where the corpus has other rows too)"),
    (
        "false_alarms",
        "Share of the other rows (reporting, opinion, not disinformation) labelled disinformation",
    ),
    ("ece", "Expected calibration error of the disinformation score (10 bins; lower is better)"),
)


def _short(name: str) -> str:
    return accuracy.SHORT_NAMES.get(name, name)


def _reading(runs: list[Run], bundled: dict[str, dict[str, Any]]) -> list[str]:
    """What the tables say, computed from them."""
    by = {(r.design, r.grouping): r for r in runs}
    before, now = list(DESIGNS)
    lines = []
    dis = [c for c, m in by[(now, "random")].per_corpus.items() if m["recall"] is not None]

    def recalls(design: str, grouping: str) -> str:
        values = [by[(design, grouping)].per_corpus[c]["recall"] for c in dis]
        return ", ".join(f"{_short(c)} {v:.2f}" for c, v in zip(dis, values))

    lines.append(
        f"- Grouped by corpus, the previous calibration's recall of disinformation: {recalls(before, 'corpus')}; "
        f"with random groups: {recalls(before, 'random')}. The current calibration, under either "
        f"grouping: {recalls(now, 'corpus')}."
    )
    worse = [
        c
        for c in dis
        if (by[(before, "corpus")].per_corpus[c]["recall"] or 0)
        < (by[(now, "corpus")].per_corpus[c]["recall"] or 0) - 0.05
    ]
    lines.append(
        f"- The label collapse: on {len(worse)} of the {len(dis)} corpora with disinformation rows, "
        "the previous calibration grouped by corpus finds more than 0.05 less of it than the "
        "current one."
    )
    eces = {
        key: np.mean([m["ece"] for m in by[key].per_corpus.values()])
        for key in ((before, "corpus"), (before, "random"), (now, "corpus"))
    }
    current = by[(now, "corpus")].per_corpus
    low, high = (
        min(current, key=lambda c: current[c]["ece"]),
        max(current, key=lambda c: current[c]["ece"]),
    )
    lines.append(
        f"- Mean over corpora of the disinformation score's calibration error: previous design "
        f"{eces[(before, 'corpus')]:.3f} grouped by corpus, {eces[(before, 'random')]:.3f} with "
        f"random groups; current {eces[(now, 'corpus')]:.3f}, from {current[low]['ece']:.3f} "
        f"({_short(low)}) to {current[high]['ece']:.3f} ({_short(high)}). A score is a calibrated "
        "probability for text like the training rows only; on other corpora, read it as a ranking."
    )
    lines.append(
        f"- Bundled labels, grouped cross-validation: macro-F1 {bundled[before]['macro_f1']:.3f} "
        f"before, {bundled[now]['macro_f1']:.3f} now; disinformation ECE "
        f"{bundled[before]['ece']['disinformation']:.3f} before, {bundled[now]['ece']['disinformation']:.3f} now "
        "(the bundled topics carry every label in equal shares, so grouping there never starved a label)."
    )
    return lines


def render_section(
    data: Split,
    runs: list[Run],
    bundled: dict[str, dict[str, Any]],
    *,
    command: str,
    started: datetime,
    seconds: float,
    host: dict[str, str],
    fast: bool = False,
) -> str:
    """The Markdown section, markers included."""
    counts = accuracy._label_counts(data.labels)
    columns = [f"{r.design}, groups = {r.grouping}" for r in runs]
    corpora = [c for c in data.tests if data.tests[c]]
    lines = [
        START,
        "## Calibration: grouped folds or row folds",
        "",
        *(
            ["**Fast mode: tiny samples, for checking the harness, not for reading.**", ""]
            if fast
            else []
        ),
        f"Generated by `benchmarks/calibration.py`; do not edit by hand. Command: `{command}`; "
        f"{started.isoformat(timespec='seconds')}; wall time {seconds / 60:.1f} min on "
        f"{host['cores']} cores (load average at start {host['load']}).",
        "",
        "Calibration turns the SVM's decision values into probabilities: one sigmoid per label, "
        "fitted on decision values the SVM gives rows it did not train on. Before, those rows came "
        "from folds grouped by document; now they come from stratified row folds, and grouping is "
        "used only to evaluate (the cross-validation, the calibration report and the operating "
        "points). The question: what happens when groups and labels go together, as they do in a "
        "team's export grouped by source or thread, here grouped by corpus?",
        "",
        f"Training rows ({len(data.texts)}; {counts}): "
        + "; ".join(s.describe() for s in TRAINING)
        + f", less one document in {HOLD_OUT} of each (a row is its own document where a corpus "
        "names none). Groups: the corpus (5 groups), or "
        f"{RANDOM_GROUPS} random groups. Test rows: the held-out documents of the training corpora "
        f"and every other corpus, at most {TEST_ROWS} per corpus (fixed seed), leaving out texts "
        "seen in training and rows from documents of a training corpus. Each text is labelled "
        "whole. The current design does not read the groups, so its two columns are one model.",
        "",
        "| corpus | test rows | gold labels |",
        "|---|---:|---|",
        *(
            f"| {_short(c)} | {len(data.tests[c])} | {accuracy._label_counts([r.label for r in data.tests[c]])} |"
            for c in corpora
        ),
    ]
    for key, title in MEASURES:
        shown = [c for c in corpora if any(r.per_corpus[c][key] is not None for r in runs)]
        lines += ["", f"**{title}**", ""]
        lines += accuracy._table(
            ["corpus", *columns],
            [[_short(c), *(_cell(r.per_corpus[c][key]) for r in runs)] for c in shown],
        )
    lines += [
        "",
        f"**Bundled labels, grouped cross-validation ({next(iter(bundled.values()))['grouping']})**",
        "",
    ]
    lines += accuracy._table(
        ["calibration", "macro-F1", "ECE reporting", "ECE opinion", "ECE disinformation", "Brier"],
        [
            [
                design,
                f"{b['macro_f1']:.3f}",
                *(f"{b['ece'][label]:.3f}" for label in LABELS),
                f"{b['brier']:.3f}",
            ]
            for design, b in bundled.items()
        ],
    )
    lines += ["", "Reading:", "", *_reading(runs, bundled), "", END]
    return "\n".join(lines)


def replace_section(text: str, section: str) -> str:
    """``text`` with this script's section replaced, or appended when it has none yet."""
    if START in text and END in text:
        head, rest = text.split(START, 1)
        return head + section + rest.split(END, 1)[1]
    return text.rstrip("\n") + "\n\n" + section + "\n"


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--data",
    type=click.Path(path_type=Path, file_okay=False),
    default=accuracy.DEFAULT_DATA,
    show_default=True,
    help="Folder of corpus folders, each with a mapped.tsv.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=accuracy.DEFAULT_OUT,
    show_default=True,
    help="Markdown report whose calibration section to write (created if missing).",
)
@click.option("--fast", is_flag=True, help=f"Samples of {FAST_ROWS} rows, to check the harness.")
def main(data: Path, out: Path, fast: bool) -> None:
    """Measure the two calibration designs; write the section of the benchmarks report.

    \b
    Examples:
        nice -n 10 python benchmarks/calibration.py
        python benchmarks/calibration.py --data ../shared/data --out /tmp/b.md
    """
    started, clock = datetime.now(timezone.utc), time.perf_counter()
    host = accuracy.machine()

    def log(line: str) -> None:
        click.echo(line, err=True)

    try:
        rows = split(accuracy.load_corpora(data), fast=fast)
        runs = external_runs(rows, log=log)
        bundled = bundled_runs(log=log, fast=fast)
    except (CredscoreError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    section = render_section(
        rows,
        runs,
        bundled,
        command=shlex.join(["python", *sys.argv]),
        started=started,
        seconds=time.perf_counter() - clock,
        host=host,
        fast=fast,
    )
    old = out.read_text(encoding="utf-8") if out.exists() else "# Accuracy benchmarks\n"
    accuracy.write_atomic(out, replace_section(old, section))
    click.echo(
        f"wrote the calibration section of {out} in {(time.perf_counter() - clock) / 60:.1f} min",
        err=True,
    )


if __name__ == "__main__":
    main()
