"""Learning curve: how much a corpus's own labels help, chosen by ``annotate``'s rule or at random.

For each corpus, the rows are split once (by document where the corpus names documents, with a
fixed seed) into a pool a team could label and a held-out rest. The model is refit on the
bundled labels plus 0, 100, 300 and 1,000 rows of the pool, chosen

- by ``credscore annotate``'s rule (:func:`training.annotate.choose`: smallest margin under the
  model trained on the bundled labels, with its default random share, passing over near
  duplicates of labelled rows), and
- at random,

each with several seeds, and scored on the held-out rest: macro-F1 (reporting vs opinion, a
predicted disinformation counting as opinion) on reporting-vs-opinion corpora, disinformation F1
on the propaganda sentences. Models are fit without cross-validation
(:func:`training.train.fit`), as ``credscore train`` fits its final model.

PTC labels a sentence propaganda or not, and says nothing of whether a non-propaganda sentence
is reporting or opinion: such rows are added with the label the bundled model prefers of those
two, so only the disinformation judgement comes from the corpus.

The section between the markers in docs/benchmarks.md is replaced (the rest is left alone)::

    nice -n 10 python benchmarks/learning_curve.py --data ../shared/data
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import click
import numpy as np

from classifier import LABELS
from training.annotate import RANDOM_SHARE, choose
from training.dataset import load_dataset, normalise
from training.train import fit

sys.path.insert(0, str(Path(__file__).resolve().parent))
# the sibling script, importable once its folder is on the path
from accuracy import (
    DEFAULT_DATA,
    DISINFORMATION_VS_REST,
    REPORTING_OPINION,
    Corpus,
    read_corpus,
    score,
)

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "docs" / "benchmarks.md"
START, END = "<!-- learning-curve:start -->", "<!-- learning-curve:end -->"
CORPORA = (
    "checkthat_subj_en",
    "mpqa12_sentence_subjectivity",
    "ptc_propaganda_sentences",
    "babe_media_bias",
)
SIZES = (0, 100, 300, 1000)
SEEDS = (0, 1)
TEST_SHARE = 0.3
TEST_CAP = 3000
SPLIT_SEED = 20240601


@dataclass(frozen=True)
class Split:
    """A corpus's pool (rows to label) and held-out rest."""

    pool: list
    test: list


def split(corpus: Corpus, seen: set[str]) -> Split:
    """Pool and held-out rows, by document when the corpus names documents; rows whose text is
    in the bundled labels are left out of both."""
    rows = [r for r in corpus.rows if normalise(r.text) not in seen]
    groups = sorted({r.group for r in rows})
    rng = random.Random(f"{SPLIT_SEED}:{corpus.name}")
    if len(groups) > 1:
        rng.shuffle(groups)
        target = min(TEST_CAP, int(TEST_SHARE * len(rows)))
        test_groups, size = set(), 0
        by_group: dict[str, int] = {}
        for r in rows:
            by_group[r.group] = by_group.get(r.group, 0) + 1
        for g in groups:
            if size >= target:
                break
            test_groups.add(g)
            size += by_group[g]
        test = [r for r in rows if r.group in test_groups]
        pool = [r for r in rows if r.group not in test_groups]
    else:
        order = list(range(len(rows)))
        rng.shuffle(order)
        n_test = min(TEST_CAP, int(TEST_SHARE * len(rows)))
        test = [rows[i] for i in sorted(order[:n_test])]
        pool = [rows[i] for i in sorted(order[n_test:])]
    return Split(pool, test)


def _measure(kind: str) -> str:
    return "macro_f1" if kind == REPORTING_OPINION else "disinformation_f1"


def _label(row, proba_row) -> str:
    """The label a row is added with (see the module docstring for PTC's negatives)."""
    if row.label != "not_disinformation":
        return row.label
    reporting, opinion = (LABELS.index(x) for x in ("reporting", "opinion"))
    return "reporting" if proba_row[reporting] >= proba_row[opinion] else "opinion"


def _positive_share(rows: Sequence, kind: str) -> float:
    positive = "opinion" if kind == REPORTING_OPINION else "disinformation"
    return sum(r.label == positive for r in rows) / len(rows) if rows else float("nan")


def curve(corpus: Corpus, bundled, base, log) -> dict:
    """Every cell of one corpus's table."""
    parts = split(corpus, {normalise(t) for t in bundled.texts})
    kind = corpus.kind
    measure = _measure(kind)
    gold = [r.label for r in parts.test]
    test_texts = [r.text for r in parts.test]
    pool_texts = [r.text for r in parts.pool]
    pool_proba = base.predict_proba(pool_texts)
    columns = [list(base.classes_).index(label) for label in LABELS]
    pool_proba = pool_proba[:, columns]

    def evaluate(pipeline) -> float:
        proba = pipeline.predict_proba(test_texts)
        predicted = [str(pipeline.classes_[i]) for i in proba.argmax(axis=1)]
        value = score(kind, gold, predicted)[measure]
        return float("nan") if value is None else value

    base_value = evaluate(base)
    results: dict = {
        "corpus": corpus.name,
        "kind": kind,
        "measure": measure,
        "pool": len(parts.pool),
        "test": len(parts.test),
        "base": base_value,
        "cells": {},
        "added": {},
        "positive_share": {},
    }
    largest = min(max(SIZES), len(parts.pool))
    for strategy in ("rule", "random"):
        for seed in SEEDS:
            if strategy == "rule":
                order = choose(
                    pool_texts,
                    pool_proba,
                    largest,
                    labelled=bundled.texts,
                    random_share=RANDOM_SHARE,
                    seed=seed,
                )
            else:
                order = random.Random(seed).sample(range(len(parts.pool)), largest)
            for size in SIZES[1:]:
                chosen = order[: min(size, largest)]
                rows = [parts.pool[i] for i in chosen]
                started = time.perf_counter()
                pipeline = fit(
                    [*bundled.texts, *(r.text for r in rows)],
                    [*bundled.labels, *(_label(r, pool_proba[i]) for r, i in zip(rows, chosen))],
                    [*bundled.groups, *(r.group for r in rows)],
                )
                value = evaluate(pipeline)
                results["cells"].setdefault((strategy, size), []).append(value)
                results["added"][(strategy, size)] = len(chosen)
                if size == 300:
                    results["positive_share"].setdefault(strategy, []).append(
                        _positive_share(rows, kind)
                    )
                log(
                    f"{corpus.name} {strategy} seed {seed} +{len(chosen)}: {measure} {value:.3f} "
                    f"({time.perf_counter() - started:.1f} s)"
                )
    return results


def _cell(values: list[float]) -> str:
    mean = statistics.fmean(values)
    if len(values) == 1:
        return f"{mean:.3f}"
    return f"{mean:.3f} ({min(values):.3f}–{max(values):.3f})"


def render(results: list[dict], seconds: float) -> str:
    """The markdown section, markers included."""
    lines = [
        START,
        "## Learning curve: the bundled labels plus a corpus's own rows",
        "",
        "Written by `benchmarks/learning_curve.py` (rerun it to replace this section). Each corpus "
        f"is split once into a pool to label and a held-out rest ({TEST_SHARE:.0%}, at most "
        f"{TEST_CAP:,} rows, by document where the corpus names documents). The model is refit "
        "(no cross-validation) on the bundled labels plus 0, 100, 300 and 1,000 pool rows chosen "
        "by `credscore annotate`'s rule (smallest margin under the bundled model, "
        f"{RANDOM_SHARE:.0%} random, no near duplicates) or at random, each with seeds "
        f"{', '.join(map(str, SEEDS))}; cells are the mean over seeds (min–max). Measures: "
        "macro-F1, reporting vs opinion, for the reporting-vs-opinion corpora; disinformation "
        "F1 for PTC, whose non-propaganda rows are added with the label the bundled model "
        "prefers of reporting and opinion (the corpus does not say which).",
        "",
    ]
    wins = 0
    compared = 0
    for r in results:
        positive = "opinion" if r["kind"] == REPORTING_OPINION else "disinformation"
        lines += [
            f"### {r['corpus']} ({r['measure'].replace('_', ' ').replace('f1', 'F1')}; "
            f"pool {r['pool']:,} rows, held out {r['test']:,})",
            "",
            "| rows added | annotate's rule | random | rule − random |",
            "|---:|---:|---:|---:|",
            f"| 0 | {r['base']:.3f} | {r['base']:.3f} | |",
        ]
        for size in SIZES[1:]:
            rule, rand = r["cells"][("rule", size)], r["cells"][("random", size)]
            added = {r["added"][(s, size)] for s in ("rule", "random")}
            label = (
                f"{size:,}"
                if added == {size}
                else f"{size:,} (the pool offers {' / '.join(f'{n:,}' for n in sorted(added))})"
            )
            diff = statistics.fmean(rule) - statistics.fmean(rand)
            lines.append(f"| {label} | {_cell(rule)} | {_cell(rand)} | {diff:+.3f} |")
            if size == 300:
                compared += 1
                wins += diff > 0
        shares = {k: statistics.fmean(v) for k, v in r["positive_share"].items()}
        lines += [
            "",
            f"Share of `{positive}` among the 300 rows chosen: rule {shares['rule']:.0%}, "
            f"random {shares['random']:.0%}.",
            "",
        ]
    verdict = "beats" if wins > compared / 2 else "does not beat"
    lines += [
        f"**At 300 rows, annotate's rule beats random on {wins} of {compared} corpora** (mean over "
        f"seeds): it {verdict} random on most corpora.",
        "",
        f"Run time {seconds / 60:.1f} min on this machine (2 shared cores).",
        END,
    ]
    return "\n".join(lines) + "\n"


def replace_section(document: str, section: str) -> str:
    """``document`` with the marked section replaced, or appended at the end."""
    if START in document and END in document:
        head, rest = document.split(START, 1)
        _, tail = rest.split(END, 1)
        return head + section.rstrip("\n") + tail
    return document.rstrip("\n") + "\n\n" + section


@click.command()
@click.option("--data", type=click.Path(path_type=Path), default=DEFAULT_DATA, show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=DEFAULT_OUT, show_default=True)
@click.option("--corpora", default=",".join(CORPORA), show_default=True)
@click.option(
    "--seeds", default=len(SEEDS), show_default=True, type=click.IntRange(1), help="Seeds per cell."
)
def main(data: Path, out: Path, corpora: str, seeds: int) -> None:
    """Measure the learning curve and write it into docs/benchmarks.md."""
    global SEEDS
    SEEDS = tuple(range(seeds))
    if not data.is_dir():
        click.echo(f"skipped: {data} not found (the shared corpora); pass --data DIR", err=True)
        return
    from classifier.atomic import write_atomic

    started = time.perf_counter()
    bundled = load_dataset()
    click.echo(f"fitting on the bundled labels ({len(bundled.records)} rows) ...", err=True)
    base = fit(bundled.texts, bundled.labels, bundled.groups)
    results = []
    for name in corpora.split(","):
        path = data / name / "mapped.tsv"
        if not path.is_file():
            click.echo(f"skipped {name}: {path} not found", err=True)
            continue
        corpus = read_corpus(path)
        if corpus.kind not in (REPORTING_OPINION, DISINFORMATION_VS_REST):
            click.echo(f"skipped {name}: no measure for a corpus of kind {corpus.kind}", err=True)
            continue
        results.append(curve(corpus, bundled, base, lambda m: click.echo(m, err=True)))
    section = render(results, time.perf_counter() - started)
    document = out.read_text(encoding="utf-8") if out.exists() else ""
    text = replace_section(document, section)
    write_atomic(out, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    click.echo(section)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
