"""Speed benchmark: start-up, cold scoring, training and batch throughput, written to docs/speed.md.

Usage::

    python benchmarks/speed.py [--data DIR] [--out docs/speed.md] [--repeat N] [--rows 100000]

Every whole-process measurement runs the command ``--repeat`` times in a fresh process and
reports the median and minimum wall time (``time.perf_counter`` around the child) and the peak
resident memory (RSS) from GNU ``/usr/bin/time`` when installed, else from ``os.wait4`` (see
:func:`run_process`). Throughput is measured inside one worker process per system
(``--worker``), over the same texts in the same run, so the systems are compared on one machine
under one load; ``credscore label`` is also timed as a whole command over the same file.

External text comes from the shared corpora (``../shared/data`` beside this clone). It is only
read, sampled into files in a temporary folder and deleted afterwards; only numbers reach the
report.
"""

from __future__ import annotations

import argparse
import compileall
import csv
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DEFAULT_OUT = REPO / "docs" / "speed.md"

SEED = 20240611
SENTENCE = "Officials said 40 people were evacuated on Tuesday."
#: Texts longer than this are left out of the batch file: it stands for short segments.
MAX_BATCH_CHARS = 300
IMPORT_TOP = 8
#: Packages whose import dominates a cold start; the report says which a command loads.
HEAVY: tuple[str, ...] = ("numpy", "scipy", "sklearn", "nltk", "joblib")
PROFILE_TOP = 8

#: Corpus, the column naming its document (None: each row is its own), the mapped labels kept.
TRAINING_SOURCES: tuple[tuple[str, str | None, tuple[str, ...]], ...] = (
    ("checkthat_subj_en", None, ("reporting", "opinion")),
    ("mpqa12_sentence_subjectivity", "doc", ("reporting", "opinion")),
    ("ptc_propaganda_sentences", "article", ("disinformation",)),
)
#: Corpora the batch file draws from: every corpus, since throughput should see varied text.
BATCH_SOURCES: tuple[str, ...] = (
    "babe_media_bias",
    "checkthat_subj_en",
    "constraint2021_covid_fakenews",
    "ira_russian_troll_tweets_sample",
    "liar_politifact",
    "mediaeval2020_covid_conspiracy_tweets",
    "mpqa12_sentence_subjectivity",
    "pang_lee_subjectivity_v1",
    "ptc_propaganda_sentences",
    "semeval2023_task3_en",
    "ukraine_news_bias",
)
_SPACE = re.compile(r"\s+")
#: ``import time:   self |   cumulative | <indent>name``; the header line does not match.
_IMPORTTIME = re.compile(r"import time:\s*(\d+)\s*\|\s*(\d+)\s*\|( +)(\S.*)$")


# --------------------------------------------------------------------------------------------
# Running and timing processes


@dataclass(frozen=True)
class Run:
    """One finished child process: wall time, peak RSS and its output."""

    seconds: float
    max_rss_mb: float
    returncode: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class Measurement:
    """A command run ``len(seconds)`` times, each in a fresh process."""

    name: str
    command: str
    seconds: tuple[float, ...]
    max_rss_mb: tuple[float, ...]
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def best(self) -> float:
        return min(self.seconds)

    @property
    def peak_rss_mb(self) -> float:
        return max(self.max_rss_mb)


#: GNU time, when installed: it forks the command from a tiny process, so the peak RSS it
#: reports is the command's own. ``os.wait4`` on a child of this (larger) Python process would
#: also count the memory the child held before ``exec``, since Linux carries the peak over it.
GNU_TIME = "/usr/bin/time"


def rss_method() -> str:
    """How :func:`run_process` measures peak RSS on this machine, for the report."""
    if os.access(GNU_TIME, os.X_OK):
        return f"`{GNU_TIME} -f %M` around each command"
    return "`os.wait4` rusage (GNU time is not installed: includes the harness's RSS at spawn)"


def run_process(command: Sequence[str], *, env: dict[str, str], cwd: Path | None = None) -> Run:
    """Run ``command`` to completion and measure it.

    Parameters
    ----------
    command : sequence of str
    env : dict
        The child's whole environment.
    cwd : Path, optional

    Returns
    -------
    Run
        Wall time from spawn to exit (``time.perf_counter``; GNU time adds about a millisecond)
        and the peak RSS, from GNU time when installed, else from ``os.wait4``.
    """
    use_time = os.access(GNU_TIME, os.X_OK)
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r") as rss,
    ):
        full = [GNU_TIME, "-f", "%M", "-o", rss.name, *command] if use_time else list(command)
        started = time.perf_counter()
        process = subprocess.Popen(
            full, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env, cwd=cwd
        )
        # wait4, not wait: it also returns the child's rusage (the fallback's peak RSS).
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here; Popen must not wait
        kilobytes = usage.ru_maxrss  # kilobytes on Linux
        if use_time:
            # GNU time writes "Command exited with non-zero status N" before the number then.
            numbers = [line for line in rss.read().split() if line.isdigit()]
            kilobytes = int(numbers[-1]) if numbers else kilobytes
        out.seek(0)
        err.seek(0)
        return Run(
            seconds,
            kilobytes / 1024,
            process.returncode,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
        )


class BenchmarkError(RuntimeError):
    """A measured command failed; the message holds its last line of stderr."""


def _checked(run: Run, label: str) -> Run:
    """``run``, or a BenchmarkError naming the command and its last stderr line."""
    if run.returncode != 0:
        last = (run.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise BenchmarkError(f"{label}: exit code {run.returncode}: {last}")
    return run


def measure(
    name: str, command: Sequence[str], *, repeat: int, env: dict[str, str], shown: str | None = None
) -> tuple[Measurement, Run]:
    """Run ``command`` ``repeat`` times, each in a fresh process.

    Parameters
    ----------
    name : str
        Row name in the report.
    command : sequence of str
    repeat : int
    env : dict
        The children's environment.
    shown : str, optional
        The command as the report prints it (shorter paths); ``command`` joined by default.

    Returns
    -------
    (Measurement, Run)
        The timings and the last run (for its output).

    Raises
    ------
    BenchmarkError
        A run exited with a non-zero code.
    """
    runs = []
    for _ in range(repeat):
        runs.append(_checked(run_process(command, env=env), name))
        print(f"  {name}: {runs[-1].seconds:.3f} s, {runs[-1].max_rss_mb:.0f} MB", file=sys.stderr)
    measurement = Measurement(
        name,
        shown or " ".join(command),
        tuple(r.seconds for r in runs),
        tuple(r.max_rss_mb for r in runs),
    )
    return measurement, runs[-1]


def measure_round_robin(
    steps: list[tuple[str, list[str], str]], *, repeat: int, env: dict[str, str]
) -> list[Measurement]:
    """Like :func:`measure` for each (name, command, shown) step, but one run of every step in
    turn, ``repeat`` times: on a shared machine whose load drifts, the steps then see the same
    load, so their ratios (a cold score against ``import numpy``) hold.

    Raises
    ------
    BenchmarkError
        A run exited with a non-zero code.
    """
    runs: dict[str, list[Run]] = {name: [] for name, _, _ in steps}
    for _ in range(repeat):
        for name, command, _ in steps:
            runs[name].append(_checked(run_process(command, env=env), name))
            print(
                f"  {name}: {runs[name][-1].seconds:.3f} s, {runs[name][-1].max_rss_mb:.0f} MB",
                file=sys.stderr,
            )
    return [
        Measurement(
            name,
            shown,
            tuple(r.seconds for r in runs[name]),
            tuple(r.max_rss_mb for r in runs[name]),
        )
        for name, _, shown in steps
    ]


# --------------------------------------------------------------------------------------------
# Reading the shared corpora (a private loader: the accuracy benchmark keeps its own)


def read_corpus(data: Path, corpus: str) -> list[dict[str, str]]:
    """Rows of ``data/corpus/mapped.tsv`` as dicts (tab-separated; quoted fields use doubled
    quotes, the standard CSV way, as ``benchmarks/accuracy.py`` reads them too)."""
    csv.field_size_limit(sys.maxsize)
    with (data / corpus / "mapped.tsv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def _key(text: str) -> str:
    """Text as credscore compares it for duplicates (case-folded, white space collapsed)."""
    return _SPACE.sub(" ", text).strip().casefold()


def build_training_rows(
    data: Path, *, rows: int, seed: int = SEED
) -> tuple[list[tuple[str, str, str]], dict[str, Any]]:
    """External training rows: (text, label, doc), without duplicates or conflicting labels.

    Parameters
    ----------
    data : Path
        The shared data folder.
    rows : int
        How many rows at most; when more are available a seeded sample (without replacement)
        is taken, otherwise all are used (duplicates would be dropped by credscore anyway).
    seed : int

    Returns
    -------
    (list, dict)
        The rows, and facts for the report (counts per corpus and label, rows dropped).
    """
    kept: dict[str, tuple[str, str, str]] = {}
    conflicting: set[str] = set()
    for corpus, doc_column, labels in TRAINING_SOURCES:
        for row in read_corpus(data, corpus):
            text = row["text"].strip()
            if row["mapped_label"] not in labels or not text:
                continue
            key = _key(text)
            # credscore refuses the same text with two labels; drop both copies.
            if key in kept and kept[key][1] != row["mapped_label"]:
                conflicting.add(key)
            doc = row[doc_column] if doc_column else row["id"]
            kept.setdefault(key, (text, row["mapped_label"], f"{corpus}:{doc}"))
    available = [v for k, v in kept.items() if k not in conflicting]
    chosen = random.Random(seed).sample(available, rows) if rows < len(available) else available
    facts = {
        "asked": rows,
        "available": len(available),
        "rows": len(chosen),
        "conflicting_dropped": len(conflicting),
        "by_corpus": dict(sorted(Counter(doc.split(":", 1)[0] for _, _, doc in chosen).items())),
        "by_label": dict(sorted(Counter(label for _, label, _ in chosen).items())),
        "documents": len({doc for _, _, doc in chosen}),
    }
    return chosen, facts


def write_labels_tsv(rows: list[tuple[str, str, str]], path: Path) -> None:
    """Write (text, label, doc) rows as a TSV that ``credscore train --labels`` reads."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t")
        writer.writerow(["text", "label", "doc"])
        writer.writerows(rows)


def build_batch_texts(
    data: Path, *, rows: int, seed: int = SEED
) -> tuple[list[str], dict[str, Any]]:
    """The batch texts: short texts from every shared corpus, sampled with a fixed seed.

    The pool is every non-empty text of at most :data:`MAX_BATCH_CHARS` characters in
    :data:`BATCH_SOURCES` (all labels, all splits). It is shuffled with ``seed``; when ``rows``
    exceeds the pool, the whole pool is used and the rest drawn with replacement.

    Returns
    -------
    (list of str, dict)
        The texts, and facts for the report.
    """
    pool = []
    for corpus in BATCH_SOURCES:
        for row in read_corpus(data, corpus):
            text = row["text"].strip()
            if text and len(text) <= MAX_BATCH_CHARS:
                pool.append((corpus, text))
    rng = random.Random(seed)
    rng.shuffle(pool)
    if rows <= len(pool):
        chosen, mode = pool[:rows], "without replacement"
    else:
        chosen, mode = (
            pool + rng.choices(pool, k=rows - len(pool)),
            "whole pool, then the rest with replacement",
        )
    lengths = sorted(len(t) for _, t in chosen)
    facts = {
        "pool": len(pool),
        "rows": len(chosen),
        "mode": mode,
        "by_corpus": dict(sorted(Counter(c for c, _ in chosen).items())),
        "median_chars": lengths[len(lengths) // 2],
        "mean_chars": round(sum(lengths) / len(lengths), 1),
    }
    return [t for _, t in chosen], facts


# --------------------------------------------------------------------------------------------
# Throughput workers: each runs in its own process (``speed.py --worker NAME ...``), so each
# system's peak RSS is its own, and prints one JSON object on stdout.


def _read_texts(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line)["text"] for line in handle]


def _bundled(labels: str) -> tuple[list[str], list[str], list[str]]:
    """Texts, labels and documents of the training labels (the bundled ones by default)."""
    from training.dataset import load_dataset

    dataset = load_dataset([labels] if labels else None)
    return dataset.texts, dataset.labels, dataset.groups


def _chunks(texts: list[str], size: int):
    for start in range(0, len(texts), size):
        yield texts[start : start + size]


def worker_credscore(texts: list[str], *, model: str, labels: str, chunk: int) -> dict[str, Any]:
    """credscore's ``Model.predict_proba`` over ``texts`` in chunks, each text one segment."""
    from classifier.model import load_model

    started = time.perf_counter()
    loaded = load_model(model)
    setup = time.perf_counter() - started
    started = time.perf_counter()
    for part in _chunks(texts, chunk):
        loaded.predict_proba(part)
    seconds = time.perf_counter() - started
    linear = getattr(loaded.scorer, "linear", None)
    cache = getattr(linear, "_cache", None)
    words = getattr(loaded.scorer, "words", None)
    return {
        "setup_seconds": setup,
        "seconds": seconds,
        "artefact_words": len(words.squares) if words is not None else 0,
        "cached_words": cache.size if cache is not None else 0,
        "cache_capacity": cache.capacity if cache is not None else 0,
        "profile": _profile(loaded.predict_proba, texts[:chunk]),
    }


def worker_labelprofile(texts: list[str], *, model: str, labels: str, chunk: int) -> dict[str, Any]:
    """Where ``credscore label``'s time goes in one process: ``label_inputs`` over the texts
    file under cProfile, and the share of it inside ``Model.predict_proba``."""
    import cProfile
    import pstats

    from classifier.batch import label_inputs
    from classifier.inputs import InputSpec
    from classifier.model import load_model

    loaded = load_model(model)
    loaded.predict_proba(texts[:chunk])  # set-up outside the profile, as in a long run
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "in.jsonl"
        source.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
        profiler = cProfile.Profile()
        profiler.runcall(
            label_inputs, InputSpec(paths=(str(source),)), loaded, output=Path(tmp) / "out.jsonl"
        )
    stats = pstats.Stats(profiler).stats
    total = sum(entry[2] for entry in stats.values()) or 1.0
    model_time = sum(
        entry[3]
        for key, entry in stats.items()
        if key[2] == "predict_proba" and "model.py" in key[0]
    )
    outside = [  # the featurizer's own functions and NumPy's methods are the model's time
        (key, entry)
        for key, entry in stats.items()
        if "of 'numpy." not in key[2]
        and not any(
            f"classifier/{m}.py" in key[0] for m in ("features", "ngrams", "hashindex", "model")
        )
        and "numpy/" not in key[0]
    ]
    ranked = sorted(outside, key=lambda item: item[1][2], reverse=True)[:PROFILE_TOP]
    return {
        "rows": len(texts),
        "model_share": model_time / total,
        "top_outside_model": [[_function_name(k), e[2], e[2] / total] for k, e in ranked],
    }


def _profile(
    predict: Callable[[list[str]], Any], texts: list[str], *, top: int = PROFILE_TOP
) -> list[list]:
    """Self time of the costliest functions in one ``predict(texts)`` call, under cProfile.

    A profile rather than timing named stages, so it stays true whatever the model's insides
    are; cProfile's overhead inflates Python-level calls, so read shares, not absolute times.

    Returns
    -------
    list of [str, float, float]
        ``[function, self seconds, share of the profiled total]``, costliest first.
    """
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.runcall(predict, texts)
    stats = pstats.Stats(profiler).stats
    total = sum(entry[2] for entry in stats.values()) or 1.0
    ranked = sorted(stats.items(), key=lambda item: item[1][2], reverse=True)[:top]
    return [[_function_name(key), entry[2], entry[2] / total] for key, entry in ranked]


def _function_name(key: tuple[str, int, str]) -> str:
    """``package/module.py:function`` for a pstats key, or the built-in's name."""
    filename, line, name = key
    if filename == "~":  # built-ins: name is already e.g. "<method 'findall' of 're.Pattern'>"
        return name
    parts = Path(filename).parts
    return f"{'/'.join(parts[-2:])}:{line}({name})"


def worker_fasttext(texts: list[str], *, model: str, labels: str, chunk: int) -> dict[str, Any]:
    """fastText supervised (word bigrams) trained on the same labels; one call per text."""
    import fasttext

    train_texts, train_labels, _ = _bundled(labels)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "train.txt"
        path.write_text(
            "".join(
                f"__label__{y} {_SPACE.sub(' ', x)}\n" for x, y in zip(train_texts, train_labels)
            ),
            encoding="utf-8",
        )
        started = time.perf_counter()
        # thread=1: one core, like credscore's predict; the rest is close to fastText's tutorial.
        ft = fasttext.train_supervised(
            str(path), wordNgrams=2, epoch=25, lr=0.5, thread=1, verbose=0
        )
        setup = time.perf_counter() - started
    # fasttext 0.9.3's predict() wrapper breaks under NumPy 2, so call the C++ binding as it does;
    # the newline clean-up is part of the per-text work, as fastText requires one line.
    predict = ft.f.predict
    started = time.perf_counter()
    for text in texts:
        predict(_SPACE.sub(" ", text), 1, 0.0, "strict")
    return {"setup_seconds": setup, "seconds": time.perf_counter() - started}


def worker_plain(texts: list[str], *, model: str, labels: str, chunk: int) -> dict[str, Any]:
    """TF-IDF (scikit-learn defaults) + LogisticRegression, ``predict_proba`` in chunks."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    train_texts, train_labels, _ = _bundled(labels)
    started = time.perf_counter()
    pipeline = make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000)).fit(
        train_texts, train_labels
    )
    setup = time.perf_counter() - started
    started = time.perf_counter()
    for part in _chunks(texts, chunk):
        pipeline.predict_proba(part)
    return {"setup_seconds": setup, "seconds": time.perf_counter() - started}


def worker_breakdown(texts: list[str], *, model: str, labels: str, chunk: int) -> dict[str, Any]:
    """Where a cold ``credscore score`` spends its time, step by step, in one fresh process.

    Only credscore's own entry points are imported by name, so the steps stay true whatever
    libraries the runtime uses: third-party imports land in the step that triggers them.
    """
    marks = {}
    started = time.perf_counter()
    import classifier.cli  # noqa: F401  (what ``credscore`` imports before any command runs)

    marks["import classifier.cli"] = time.perf_counter() - started
    started = time.perf_counter()
    from classifier.model import load_model
    from classifier.score import score_text

    marks["import classifier.score, classifier.model"] = time.perf_counter() - started
    started = time.perf_counter()
    loaded = load_model(model)
    marks["load_model (checks, reading, imports it triggers)"] = time.perf_counter() - started
    started = time.perf_counter()
    score_text(SENTENCE, loaded)
    marks["score_text, first call (lazy set-up included)"] = time.perf_counter() - started
    started = time.perf_counter()
    score_text(SENTENCE, loaded)
    marks["score_text, second call"] = time.perf_counter() - started
    return marks


#: Throughput systems measured inside a worker process: report name -> worker.
THROUGHPUT: dict[str, Callable[..., dict[str, Any]]] = {
    "credscore (Model.predict_proba)": worker_credscore,
    "fastText supervised, bigrams": worker_fasttext,
    "plain TF-IDF + LogisticRegression": worker_plain,
}
WORKERS: dict[str, Callable[..., dict[str, Any]]] = {
    "credscore": worker_credscore,
    "fasttext": worker_fasttext,
    "plain": worker_plain,
    "breakdown": worker_breakdown,
    "labelprofile": worker_labelprofile,
}
_WORKER_OF = {worker: name for name, worker in WORKERS.items()}
#: Throughput measured as a whole process over the batch file (start-up and model load
#: included): report name -> command from (credscore script, texts file, model folder, output).
BATCH_COMMANDS: dict[str, Callable[[str, Path, Path, Path], list[str]]] = {
    "credscore label, whole process": lambda exe, texts, model, out: [
        exe,
        "label",
        str(texts),
        "-o",
        str(out),
        "-q",
        "--model",
        str(model),
    ],
    "credscore label --jobs 2, whole process": lambda exe, texts, model, out: [
        exe,
        "label",
        str(texts),
        "-o",
        str(out),
        "-q",
        "--jobs",
        "2",
        "--model",
        str(model),
    ],
}
#: Systems that need an optional package, and which.
OPTIONAL: dict[str, str] = {"fastText supervised, bigrams": "fasttext"}


@dataclass(frozen=True)
class Throughput:
    """One system's pass over the batch texts."""

    name: str
    segments: int
    seconds: float
    setup_seconds: float | None  # None: included in ``seconds`` (a whole-process run)
    max_rss_mb: float
    skipped: str = ""
    profile: list[list] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.segments / self.seconds if self.seconds else 0.0


def run_worker(
    name: str, *, texts: Path, model: Path, labels: str, chunk: int, env: dict[str, str]
) -> tuple[dict, Run]:
    """Run one worker in a fresh process; return its JSON result and the process run."""
    command = [
        sys.executable, str(Path(__file__).resolve()), "--worker", name,
        "--texts", str(texts), "--model", str(model), "--labels", labels, "--chunk", str(chunk),
    ]  # fmt: skip
    run = _checked(run_process(command, env=env, cwd=REPO), f"worker {name}")
    return json.loads(run.stdout.strip().splitlines()[-1]), run


# --------------------------------------------------------------------------------------------
# Training time by label count, throughput by input size, a Dask cluster


def _training_rows(labels: str) -> list[tuple[str, str, str]]:
    """(text, label, doc) of the training labels (the bundled ones by default)."""
    texts, answers, groups = _bundled(labels)
    return list(zip(texts, answers, groups))


def train_series(
    args: argparse.Namespace,
    report: Report,
    *,
    credscore: str,
    labels: str,
    tmp: Path,
    env: dict[str, str],
) -> None:
    """``credscore train`` on seeded subsets of the training labels (``--train-sizes``) and
    on the labels plus external rows up to ``--train-total``: how training time grows."""
    own = _training_rows(labels)
    sizes = [int(s) for s in args.train_sizes.split(",") if s.strip() and int(s) > 0]
    sets: list[tuple[str, list[tuple[str, str, str]], dict[str, Any]]] = []
    for size in sorted(s for s in sizes if s < len(own)):
        chosen = random.Random(SEED).sample(own, size)
        sets.append((f"credscore train ({size:,} rows)", chosen, {}))
    if args.train_total > len(own):
        external, facts = build_training_rows(args.data, rows=args.train_total - len(own))
        known = {_key(text) for text, _, _ in own}
        external = [row for row in external if _key(row[0]) not in known]
        facts = {**facts, "rows": len(external), "own": len(own)}
        rows = own + external
        sets.append((f"credscore train ({len(rows):,} rows)", rows, facts))
    for name, rows, facts in sets:
        path = tmp / "series.tsv"
        write_labels_tsv(rows, path)
        command = [
            credscore,
            "train",
            "--json",
            "--labels",
            str(path),
            "--output",
            str(tmp / "series"),
        ]
        measurement, run = measure(
            name,
            command,
            repeat=args.train_repeat,
            env=env,
            shown="credscore train --json --labels ROWS.tsv --output TMP",
        )
        report.training.append(measurement)
        report.training_facts[name] = {"external": facts, **_train_facts(run)}
        path.unlink()


def _prefix_file(source: Path, rows: int, target: Path) -> None:
    """The first ``rows`` lines of ``source`` into ``target``."""
    with source.open(encoding="utf-8") as handle, target.open("w", encoding="utf-8") as out:
        for _, line in zip(range(rows), handle):
            out.write(line)


@dataclass(frozen=True)
class Scale:
    """Throughput and peak memory at one input size."""

    rows: int
    predict_per_second: float
    predict_rss_mb: float
    label_per_second: float
    label_rss_mb: float


def scaling(
    credscore: str,
    texts: Path,
    model: Path,
    *,
    sizes: list[int],
    chunk: int,
    labels: str,
    tmp: Path,
    env: dict[str, str],
) -> list[Scale]:
    """``Model.predict_proba`` (a worker process) and ``credscore label`` (whole process) over
    the first N rows of the batch file, for each N in ``sizes``."""
    results = []
    for size in sizes:
        part = tmp / f"first-{size}.jsonl"
        _prefix_file(texts, size, part)
        result, run = run_worker(
            "credscore", texts=part, model=model, labels=labels, chunk=chunk, env=env
        )
        out = tmp / "scaled.jsonl"
        label = _checked(
            run_process(
                [credscore, "label", str(part), "-o", str(out), "-q", "--model", str(model)],
                env=env,
            ),
            f"credscore label ({size:,} rows)",
        )
        out.unlink(missing_ok=True)
        results.append(
            Scale(
                size,
                size / result["seconds"],
                run.max_rss_mb,
                size / label.seconds,
                label.max_rss_mb,
            )
        )
        print(
            f"  {size:,} rows: predict {size / result['seconds']:,.0f}/s, label {size / label.seconds:,.0f}/s",
            file=sys.stderr,
        )
        part.unlink()
    return results


def _spin(loops: int) -> float:
    """Seconds this process takes for ``loops`` turns of a pure-Python loop."""
    started = time.perf_counter()
    total = 0
    for i in range(loops):
        total += i
    return time.perf_counter() - started


def parallel_headroom(loops: int = 20_000_000) -> float:
    """How much CPU two processes get at once, in units of one: the same pure-Python loop run
    alone, then in two processes side by side (2.0 on two free cores; about 1.0 when other
    work leaves the equivalent of one). The ``--jobs 2`` and Dask ratios cannot exceed it."""
    from multiprocessing import get_context

    alone = _spin(loops)
    with get_context("spawn").Pool(2) as pool:
        both = pool.map(_spin, [loops, loops])
    return 2 * alone / max(both)


def dask_run(
    credscore: str, texts: Path, model: Path, *, rows: int, tmp: Path, env: dict[str, str]
) -> dict[str, Any]:
    """``credscore label --dask`` of the batch file on a ``distributed.LocalCluster`` of 2
    single-threaded worker processes, started first (as a cluster would be), timed as a whole
    command; the parts' rows are counted."""
    if not _importable("distributed"):
        return {"skipped": "distributed is not importable (pip install 'credscore[dask]')"}
    from distributed import LocalCluster

    out = tmp / "dask-out"
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        command = [credscore, "label", "--dask", cluster.scheduler_address, str(texts)]
        command += ["-o", str(out), "-q", "--model", str(model)]
        run = run_process(command, env=env)
    parts = sorted(out.glob("*.jsonl")) if out.is_dir() else []
    written = sum(1 for part in parts for _ in part.open(encoding="utf-8"))
    if run.returncode != 0 or written != rows:
        last = (run.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"skipped": f"exit code {run.returncode}, {written:,} of {rows:,} rows: {last}"}
    return {"seconds": run.seconds, "parts": len(parts), "rows": rows, "max_rss_mb": run.max_rss_mb}


# --------------------------------------------------------------------------------------------
# python -X importtime


@dataclass(frozen=True)
class ImportCost:
    """One entry of ``-X importtime``: a module and its self and cumulative microseconds."""

    name: str
    self_us: int
    cumulative_us: int
    depth: int


def parse_importtime(stderr: str) -> list[ImportCost]:
    """The ``import time:`` lines of ``python -X importtime`` output (nesting from the indent)."""
    costs = []
    for line in stderr.splitlines():
        match = _IMPORTTIME.match(line)
        if match:
            self_us, cumulative, indent, name = match.groups()
            costs.append(
                ImportCost(name.strip(), int(self_us), int(cumulative), (len(indent) - 1) // 2)
            )
    return costs


def summarise_imports(costs: list[ImportCost], *, top: int = IMPORT_TOP) -> dict[str, Any]:
    """Top-level imports by cumulative time, and self time summed per top package.

    Top-level entries (depth 0) do not overlap, so they add up to the total import time; the
    per-package self times add up to it as well, and say which library the time is spent in.
    """
    roots = [c for c in costs if c.depth == 0]
    by_package: Counter[str] = Counter()
    for c in costs:
        by_package[c.name.split(".")[0]] += c.self_us
    return {
        "total_us": sum(c.cumulative_us for c in roots),
        "modules": len(costs),
        "top_level": sorted(roots, key=lambda c: c.cumulative_us, reverse=True)[:top],
        "by_package": by_package.most_common(top),
        "all_packages": by_package.most_common(),
    }


# --------------------------------------------------------------------------------------------
# The machine


def _versions() -> dict[str, str]:
    versions = {"Python": platform.python_version()}
    for package in (
        "credscore",
        "numpy",
        "scipy",
        "scikit-learn",
        "joblib",
        "nltk",
        "click",
        "fasttext",
    ):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def machine() -> dict[str, Any]:
    """nproc, CPU model, RAM, OS, load and library versions of this machine."""
    cpu = ""
    ram_gb = 0.0
    try:
        cpu = next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            "",
        )
        meminfo = Path("/proc/meminfo").read_text()
        ram_gb = int(re.search(r"MemTotal:\s+(\d+)", meminfo).group(1)) / 1024**2
    except (OSError, AttributeError):  # not Linux: leave what cannot be read empty
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu or platform.processor() or "unknown",
        "ram_gb": round(ram_gb, 1),
        "os": f"{platform.system()} {platform.release()}",
        "versions": _versions(),
    }


# --------------------------------------------------------------------------------------------
# The report


@dataclass
class Report:
    """Everything one run measured; rendered by :func:`render_markdown`."""

    command: str
    started: str
    machine: dict[str, Any]
    repeat: int
    train_repeat: int
    startup: list[Measurement] = field(default_factory=list)
    imports: dict[str, Any] = field(default_factory=dict)
    breakdown: dict[str, float] = field(default_factory=dict)
    training: list[Measurement] = field(default_factory=list)
    training_facts: dict[str, dict[str, Any]] = field(default_factory=dict)
    batch_facts: dict[str, Any] = field(default_factory=dict)
    throughput: list[Throughput] = field(default_factory=list)
    chunk: int = 10_000
    labels: str = ""
    model_files: dict[str, float] = field(default_factory=dict)
    help_heavy: list[str] = field(default_factory=list)
    load: tuple[float, float] = (0.0, 0.0)
    seconds: float = 0.0
    scaling: list[Scale] = field(default_factory=list)
    dask: dict[str, Any] = field(default_factory=dict)
    label_profile: dict[str, Any] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict)
    load_marks: dict[str, float] = field(default_factory=dict)
    headroom: dict[str, float] = field(default_factory=dict)


_NUMBER = re.compile(r"^-?[\d,]+(\.\d+)?%?$")


def _table(header: Sequence[str], rows: list[Sequence[Any]]) -> list[str]:
    """A Markdown table; columns holding only numbers are right-aligned."""
    numeric = [
        bool(rows) and all(_NUMBER.match(str(row[i])) for row in rows if str(row[i]))
        for i in range(len(header))
    ]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---:" if n else "---" for n in numeric) + "|",
    ]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def _measurement_rows(measurements: list[Measurement]) -> list[list[str]]:
    return [
        [
            m.name,
            f"`{m.command}`",
            f"{m.median:.3f}",
            f"{m.best:.3f}",
            f"{m.peak_rss_mb:.0f}",
            len(m.seconds),
        ]
        for m in measurements
    ]


def _find(measurements: list[Measurement], name: str) -> Measurement | None:
    return next((m for m in measurements if m.name == name), None)


def _fits_per_training() -> int | None:
    """Pipeline fits in one ``credscore train`` (CV folds + the final fit), if the module says."""
    try:
        from training.train import CV_FOLDS
    except ImportError:
        return None
    return int(CV_FOLDS) + 1


def _reading(report: Report) -> list[str]:
    """A short honest reading, built from the numbers (so it stays true when they change)."""
    lines = []
    help_run = _find(report.startup, "credscore --help")
    score = _find(report.startup, "credscore score (cold)")
    if help_run:
        verdict = "meets" if help_run.median < 0.3 else "misses"
        heavy = report.help_heavy
        lines.append(
            f"- `credscore --help` takes {help_run.median:.2f} s (median): it {verdict} the 0.3 s target; "
            + (
                f"it imports {', '.join(heavy)}."
                if heavy
                else f"it imports none of {', '.join(HEAVY)}."
            )
        )
    imported = {name for name, _ in report.imports.get("all_packages", [])}
    if score:
        line = f"- A cold `credscore score` of one sentence takes {score.median:.2f} s and {score.peak_rss_mb:.0f} MB"
        if report.imports.get("top_level"):
            biggest = report.imports["top_level"][0]
            line += (
                f"; imports are {report.imports['total_us'] / 1e6:.2f} s of it (under importtime), the "
                f"largest being `{biggest.name}` at {biggest.cumulative_us / 1e6:.2f} s"
            )
        loaded = [name for name in HEAVY if name in imported]
        if loaded:
            line += f"; it loads {', '.join(loaded)}"
        lines.append(
            line + ". Cold start is where credscore loses to a resident service or a small binary: "
            "every invocation pays the imports and the model load again."
        )
    if report.imports.get("by_package"):
        top = ", ".join(f"{name} {us / 1e6:.2f} s" for name, us in report.imports["by_package"][:4])
        lines.append(f"- Import time by package (self time, summed): {top}.")
    if report.breakdown:
        load = report.breakdown.get("load_model (checks, reading, imports it triggers)", 0.0)
        first = report.breakdown.get("score_text, first call (lazy set-up included)", 0.0)
        second = report.breakdown.get("score_text, second call", 0.0)
        lines.append(
            f"- In a fresh process, loading the model ({sum(report.model_files.values()):.1f} MB of "
            f"files, with the imports it triggers) takes {load:.2f} s, and the first `score_text` "
            f"{first:.2f} s against {second:.3f} s for the second: the difference is one-time set-up "
            "(lazy imports, tables built on first use)."
        )
    by_name = {t.name: t for t in report.throughput if not t.skipped}
    ours = by_name.get("credscore (Model.predict_proba)")
    if ours:
        for name, other in by_name.items():
            if other is ours or name not in THROUGHPUT:
                continue
            ratio = ours.per_second / other.per_second
            lines.append(
                f"- Throughput: credscore scores {ours.per_second:,.0f} segments/s, {ratio:.2f} times "
                f"the rate of {name} ({other.per_second:,.0f}/s)"
                + (": credscore loses here." if ratio < 0.8 else ".")
            )
        whole = [t for name, t in by_name.items() if name in BATCH_COMMANDS]
        if whole:
            lines.append(
                "- As a command, "
                + "; ".join(
                    f"`{t.name.split(',')[0]}` labels {t.segments:,} rows in {t.seconds:.1f} s "
                    f"({t.per_second:,.0f}/s, {t.per_second / ours.per_second:.2f} times `Model.predict_proba`'s rate)"
                    for t in whole
                )
                + ": start-up, reading and writing JSONL cost the difference"
                + (
                    "; here the second job does not pay for itself (worker start-up, 2 shared cores)."
                    if len(whole) > 1 and whole[1].per_second < whole[0].per_second
                    else "."
                )
            )
            if len(whole) > 1:
                lines.append(
                    f"- `--jobs 2` runs at {whole[1].per_second / whole[0].per_second:.2f} times the rate "
                    f"of one process; peak memory of `credscore label` "
                    f"{max(t.max_rss_mb for t in whole):.0f} MB (the targets are in the table above)."
                )
        if ours.profile:
            lines.append(
                "- Where credscore's prediction time goes (profiled self time): "
                + ", ".join(f"`{name}` {share:.0%}" for name, _, share in ours.profile[:3])
                + "."
            )
    fits = _fits_per_training()
    for m in report.training:
        facts = report.training_facts.get(m.name, {})
        if facts.get("rows"):
            line = (
                f"- `{m.name}`: {m.median:.1f} s for {facts['rows']:,} rows "
                f"({m.median / facts['rows'] * 1000:.1f} ms per row), peak {m.peak_rss_mb:.0f} MB."
            )
            if fits:
                line += (
                    f" It fits the model {fits} times (grouped-CV folds, then all rows), so one fit "
                    f"is roughly 1/{fits} of this."
                )
            lines.append(line)
    if report.load[0] > report.machine["nproc"] * 0.5:
        lines.append(
            f"- The machine was shared during the run (load average {report.load[0]:.1f} at the start, "
            f"{report.load[1]:.1f} at the end, on {report.machine['nproc']} cores): absolute times "
            "are pessimistic; the ratios, measured in the same run, hold better."
        )
    return lines


#: Issue 15's targets, as (what, test on the report) -> rendered in the Targets table.
ARTEFACT_BEFORE_MB = 17.7


def _targets(report: Report) -> list[list[str]]:
    """Each target of issue 15 with what this run measured and whether it is met."""
    by_name = {t.name: t for t in report.throughput if not t.skipped}
    ours = by_name.get("credscore (Model.predict_proba)")
    fast = by_name.get("fastText supervised, bigrams")
    one = by_name.get("credscore label, whole process")
    two = by_name.get("credscore label --jobs 2, whole process")
    rows: list[list[str]] = []

    def row(what: str, measured: str, ok: bool | None) -> None:
        rows.append([what, measured, "not measured" if ok is None else ("yes" if ok else "**no**")])

    if ours and fast:
        ratio = ours.per_second / fast.per_second
        row(
            "`Model.predict_proba` >= 1.0x fastText (bigrams), same texts, same run",
            f"{ratio:.2f}x ({ours.per_second:,.0f} vs {fast.per_second:,.0f}/s)",
            ratio >= 1.0,
        )
    if ours and one:
        ratio = one.per_second / ours.per_second
        row(
            "`credscore label`, one process, >= 0.9x `Model.predict_proba`",
            f"{ratio:.2f}x",
            ratio >= 0.9,
        )
    if one and two:
        ratio = two.per_second / one.per_second
        row("`credscore label --jobs 2` >= 1.8x one process", f"{ratio:.2f}x", ratio >= 1.8)
    numpy_run = _find(report.startup, "import numpy")
    cold = _find(report.startup, "credscore score (cold)")
    if numpy_run and cold:
        ratio = cold.median / numpy_run.median
        row(
            'cold `credscore score` <= 2x `python -c "import numpy"` (medians)',
            f"{ratio:.2f}x ({cold.median:.3f} vs {numpy_run.median:.3f} s)",
            ratio <= 2.0,
        )
    rss = [t.max_rss_mb for t in (one, two) if t] + [s.label_rss_mb for s in report.scaling]
    if rss:
        row(
            "`credscore label` peak memory < 150 MB at every size measured",
            f"{max(rss):.0f} MB",
            max(rss) < 150,
        )
    size = sum(report.model_files.values())
    if size:
        row(
            f"model folder <= 2x {ARTEFACT_BEFORE_MB} MB",
            f"{size:.1f} MB",
            size <= 2 * ARTEFACT_BEFORE_MB,
        )
    if one and report.dask.get("seconds"):
        ratio = one.seconds / report.dask["seconds"]
        row(
            "`credscore label --dask`, LocalCluster of 2 one-thread workers, >= 1.7x one local process",
            f"{ratio:.2f}x",
            ratio >= 1.7,
        )
    if report.headroom and rows:
        shown = ", ".join(f"{v:.2f} {k}" for k, v in report.headroom.items())
        rows.append(
            [
                "(what the machine allowed: two pure-Python processes side by side did this "
                "many times the work of one)",
                shown,
                "-",
            ]
        )
    return rows


def _more_sections(report: Report) -> list[str]:
    """Scaling, the Dask cluster, where `label`'s time goes, the word cache."""
    out: list[str] = []
    by_name = {t.name: t for t in report.throughput if not t.skipped}
    ours = by_name.get("credscore (Model.predict_proba)")
    one = by_name.get("credscore label, whole process")
    if report.scaling or (ours and one):
        rows = [
            [
                f"{s.rows:,}",
                f"{s.predict_per_second:,.0f}",
                f"{s.predict_rss_mb:.0f}",
                f"{s.label_per_second:,.0f}",
                f"{s.label_rss_mb:.0f}",
            ]
            for s in report.scaling
        ]
        if ours and one:
            rows.append(
                [
                    f"{ours.segments:,}",
                    f"{ours.per_second:,.0f}",
                    f"{ours.max_rss_mb:.0f}",
                    f"{one.per_second:,.0f}",
                    f"{one.max_rss_mb:.0f}",
                ]
            )
        out += [
            "## Scaling with input size",
            "",
            f"The batch file's first N rows (its first {report.batch_facts.get('pool', 0):,} rows "
            "are its pool of texts, each once; beyond that texts repeat, so in the longest run most character "
            "words are already in the word cache: the smaller sizes show the rate on text the "
            "cache has not seen). "
            "`Model.predict_proba`: a worker process, prediction loop only, peak RSS of that "
            "process (the texts held in memory included); `credscore label`: the whole command "
            "over the JSONL file.",
            "",
            *_table(
                [
                    "rows",
                    "predict_proba rows/s",
                    "predict_proba peak MB",
                    "label rows/s",
                    "label peak MB",
                ],
                rows,
            ),
            "",
        ]
    if report.cache:
        c = report.cache
        out += [
            f"Character words: the artefact holds {c['artefact_words']:,} (the training text's "
            f"and the word vocabulary's); the {ours.segments if ours else 0:,}-row run computed "
            f"{c['cached_words']:,} "
            f"more and kept them in the per-process cache (at most {c['cache_capacity']:,} words, "
            "emptied when full).",
            "",
        ]
    d = report.dask
    if d:
        out += ["## One big file on a Dask cluster", ""]
        if d.get("skipped"):
            out += [f"Skipped: {d['skipped']}.", ""]
        elif one:
            out += [
                f"`credscore label --dask` of the {d['rows']:,}-row JSONL file on a "
                "`distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True)` "
                "started beforehand (as a cluster would be), timed as a whole command (client, "
                "model check, the line-count pass, labelling, workers' model loads): "
                f"{d['seconds']:.1f} s in {d['parts']} output parts, against {one.seconds:.1f} s "
                f"for one local `credscore label` process: **{one.seconds / d['seconds']:.2f}x**.",
                "",
            ]
    lp = report.label_profile
    if lp:
        out += [
            "## Where `credscore label`'s time goes",
            "",
            f"`cProfile` over `label_inputs` of the first {lp['rows']:,} rows in one process: "
            f"{lp['model_share']:.0%} of the time is inside `Model.predict_proba`; the rest is "
            "reading and parsing JSONL, building the output records and writing them "
            "(`classifier/inputs.py`, `rows.py`, `batch.py`). The "
            f"{PROFILE_TOP} functions outside the model (featurizer, NumPy) with the most self "
            "time:",
            "",
            *_table(
                ["function", "self s", "share"],
                [
                    [f"`{name}`", f"{s:.3f}", f"{share:.0%}"]
                    for name, s, share in lp["top_outside_model"]
                ],
            ),
            "",
        ]
    return out


def render_markdown(report: Report) -> str:
    """The report as Markdown (numbers only: no corpus text)."""
    m = report.machine
    out = [
        "# credscore speed",
        "",
        "Generated by `benchmarks/speed.py`; do not edit by hand. Regenerate with:",
        "",
        "```",
        report.command,
        "```",
        "",
        f"Run {report.started}, {report.seconds / 60:.1f} min in all. Machine: {m['nproc']} CPUs "
        f"({m['cpu']}), {m['ram_gb']} GB RAM, {m['os']}; load average {report.load[0]:.2f} at the "
        f"start, {report.load[1]:.2f} at the end"
        + "".join(f", {v:.2f} {k}" for k, v in report.load_marks.items())
        + " (the machine is shared: read the ratios measured in the same run).",
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()) + ".",
        "",
        "Whole-process rows: wall time from spawn to exit, median and minimum over the runs, and "
        f"the largest peak RSS ({rss_method()}). Every child runs with `XDG_CONFIG_HOME` pointed at "
        "a temporary folder, so no real default model is read or written. credscore's own "
        "packages are byte-compiled first (`compileall`, as `pip install` does), so no start "
        "is timed compiling them from source.",
        "",
        "## Targets (issue 15)",
        "",
        *_table(["target", "measured", "met"], _targets(report)),
        "",
        "## Reading",
        "",
        *_reading(report),
        "",
        "## Start-up and cold scoring",
        "",
        *_table(
            ["what", "command", "median s", "min s", "peak RSS MB", "runs"],
            _measurement_rows(report.startup),
        ),
        "",
        f"`MODEL` is the model trained from {f'`{report.labels}`' if report.labels else 'the bundled labels'} "
        "in the training step; its folder holds "
        + ", ".join(f"`{name}` {mb:.2f} MB" for name, mb in report.model_files.items())
        + ".",
        "",
        "### Where a cold `credscore score` spends its time",
        "",
        f'`python -X importtime -m classifier score --model MODEL "..."`, one run: '
        f"{report.imports.get('modules', 0)} modules, {report.imports.get('total_us', 0) / 1e6:.3f} s of imports "
        "(importtime's own overhead included).",
        "",
        f"Top {IMPORT_TOP} top-level imports by cumulative time (they do not overlap):",
        "",
        *_table(
            ["import", "cumulative s", "self s"],
            [
                [f"`{c.name}`", f"{c.cumulative_us / 1e6:.3f}", f"{c.self_us / 1e6:.3f}"]
                for c in report.imports.get("top_level", [])
            ],
        ),
        "",
        f"Top {IMPORT_TOP} packages by self time summed over their modules:",
        "",
        *_table(
            ["package", "self s"],
            [[f"`{name}`", f"{us / 1e6:.3f}"] for name, us in report.imports.get("by_package", [])],
        ),
        "",
        "Step by step in one fresh process (`speed.py --worker breakdown`, median over the runs):",
        "",
        *_table(["step", "seconds"], [[step, f"{s:.3f}"] for step, s in report.breakdown.items()]),
        "",
        "## Training",
        "",
        *_table(
            ["what", "command", "median s", "min s", "peak RSS MB", "runs"],
            _measurement_rows(report.training),
        ),
        "",
    ]
    for name, facts in report.training_facts.items():
        line = f"- {name}: {facts.get('rows', 0):,} rows, {facts.get('documents', 0):,} documents"
        if facts.get("by_label"):
            line += ", labels " + ", ".join(f"{k} {v:,}" for k, v in facts["by_label"].items())
        if facts.get("cv_macro_f1") is not None:
            line += f"; grouped-CV macro-F1 {facts['cv_macro_f1']:.3f}"
        out.append(line + ".")
        external = facts.get("external") or {}
        if external.get("by_corpus"):
            out.append(
                f"  The training labels ({external.get('own', 0):,} rows) plus {external.get('rows', 0):,} "
                "external rows, for timing only: "
                + ", ".join(f"`{k}` {v:,}" for k, v in external["by_corpus"].items())
                + " (`mapped.tsv`: checkthat and mpqa reporting/opinion rows, ptc disinformation rows; "
                "texts compared case-folded with white space collapsed, duplicates kept once, "
                f"{external.get('conflicting_dropped', 0)} texts with two labels dropped, and any "
                f"text the training labels hold; a `random.Random({SEED})` sample when more were "
                "available), written to a temporary TSV with columns text, label, doc (doc: the "
                "corpus's document or article id; a checkthat sentence is its own document)."
            )
        elif name.startswith("credscore train (") and name[17:18].isdigit():
            out.append(
                f"  A `random.Random({SEED})` sample of the training labels, written to a temporary "
                "TSV with columns text, label, doc (doc: the row's group for cross-validation)."
            )
    b = report.batch_facts
    out += [
        "",
        "## Batch throughput",
        "",
        f"{b.get('rows', 0):,} texts, one segment each (no segmentation), from a pool of "
        f"{b.get('pool', 0):,}: every non-empty text of at most {MAX_BATCH_CHARS} characters in "
        f"every shared corpus's `mapped.tsv` (all labels and splits), shuffled with "
        f"`random.Random({SEED})` and taken {b.get('mode', '')}. Median {b.get('median_chars', 0)} "
        f"characters, mean {b.get('mean_chars', 0)}. Per corpus: "
        + ", ".join(f"`{k}` {v:,}" for k, v in b.get("by_corpus", {}).items())
        + ".",
        "",
        f"Each system runs in its own process over the same texts in this run. For the in-process "
        f"rows the time is the prediction loop only (model loading or training is the setup column); "
        f"`credscore label` rows time the whole command (start-up, model load, reading the JSONL "
        f"file, writing one JSONL row per text), `-q --model MODEL`; with `--jobs 2` the peak RSS is "
        f"the largest single process, not the sum. credscore and the "
        f"plain baseline predict in chunks of {report.chunk:,}; fastText is called once per text "
        "(`model.f.predict(text, 1, 0.0, 'strict')`: fasttext 0.9.3's `predict()` breaks under "
        "NumPy 2), with `wordNgrams=2, epoch=25, lr=0.5, thread=1`, trained on the same labels "
        "(`pip install fasttext`: the peer alone, not the whole `benchmarks` extra with torch). "
        "The plain baseline is `TfidfVectorizer()` + `LogisticRegression(max_iter=1000)`, "
        "scikit-learn defaults otherwise, `predict_proba`.",
        "",
        "How credscore keeps its character 3-5-grams at this speed: a text's character n-grams "
        "are those of its character words (maximal runs of non-blank characters, each padded "
        "with a space), and the TF-IDF weights carry no per-text deduplication, so the character "
        "block's score and norm are sums over the text's words of one vector per word (its "
        "n-grams' `idf * coef`, per label) and one number (their `idf**2`). The artefact holds "
        "these for the training text's words; any other word is computed the first time a "
        "process meets it and kept in a bounded cache. A character n-gram then costs nothing "
        "at run time; a word costs one hash look-up, as in the word block. Scores equal the "
        "scikit-learn pipeline's within 1e-9 (tests/test_export.py).",
        "",
        *_table(
            ["system", "segments", "seconds", "segments/s", "setup s", "peak RSS MB"],
            [
                [
                    t.name,
                    f"{t.segments:,}",
                    f"{t.seconds:.2f}",
                    f"{t.per_second:,.0f}",
                    "included" if t.setup_seconds is None else f"{t.setup_seconds:.2f}",
                    f"{t.max_rss_mb:.0f}",
                ]
                if not t.skipped
                else [t.name, "skipped", t.skipped, "", "", ""]
                for t in report.throughput
            ],
        ),
        "",
    ]
    ours = next(
        (t for t in report.throughput if t.name.startswith("credscore") and not t.skipped), None
    )
    ratios = [
        [f"credscore / {t.name}", f"{ours.per_second / t.per_second:.3f}"]
        for t in report.throughput
        if ours and t is not ours and t.name in THROUGHPUT and not t.skipped and t.per_second
    ]
    if ratios:
        out += [
            "Ratios of segments/s (above 1: credscore is faster):",
            "",
            *_table(["ratio", "value"], ratios),
            "",
        ]
    if ours and ours.profile:
        n = min(report.chunk, ours.segments)
        out += [
            f"Where credscore's prediction time goes: `cProfile` over one `Model.predict_proba` of {n:,} "
            f"texts after the timed loop, the {PROFILE_TOP} functions with the most self time "
            "(profiling slows Python-level code more than C code: read the shares):",
            "",
            *_table(
                ["function", "self s", "share"],
                [[f"`{name}`", f"{s:.3f}", f"{share:.0%}"] for name, s, share in ours.profile],
            ),
            "",
        ]
    out += _more_sections(report)
    return "\n".join(out)


def kept_sections(path: Path) -> str:
    """The sections of an existing report that other benchmarks write between
    ``<!-- NAME:start -->`` and ``<!-- NAME:end -->`` (``benchmarks/serve.py``), kept as they are."""
    if not path.is_file():
        return ""
    text = path.read_text(encoding="utf-8")
    marked = re.finditer(r"<!-- (\w+):start -->.*?<!-- \1:end -->", text, re.S)
    blocks = [m.group(0) for m in marked]
    return "".join(f"\n{block}\n" for block in blocks)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file beside it and a rename."""
    from classifier.atomic import write_atomic as replace_atomically

    path.parent.mkdir(parents=True, exist_ok=True)
    replace_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


# --------------------------------------------------------------------------------------------
# The run


def _credscore() -> str:
    """The ``credscore`` script of the interpreter running this benchmark."""
    beside = Path(sys.executable).parent / "credscore"
    return str(beside) if beside.exists() else "credscore"


def compile_bytecode() -> list[str]:
    """Byte-compile credscore's own packages where they are imported from, as ``pip install``
    does for a regular install, and return their folders.

    Without it an editable install run with ``PYTHONDONTWRITEBYTECODE`` set (or from a
    read-only checkout) compiles every module from source at each start: a cold ``credscore
    score`` measured 0.40 s that way and 0.29 s with bytecode on this machine, which is no
    start a user's install makes twice."""
    import classifier
    import training

    folders = [str(Path(package.__file__).parent) for package in (classifier, training)]
    for folder in folders:
        compileall.compile_dir(folder, quiet=1)
    return folders


def _child_env(tmp: Path) -> dict[str, str]:
    """The environment of every child: user folders in ``tmp``, no model chosen by the caller."""
    env = dict(os.environ)
    env["XDG_CONFIG_HOME"] = str(tmp / "config")
    env.pop("CREDSCORE_MODEL", None)
    return env


def _train_facts(run: Run) -> dict[str, Any]:
    """Rows, documents, labels and CV macro-F1 from ``credscore train --json`` output."""
    try:
        manifest = json.loads(run.stdout)
    except json.JSONDecodeError:
        return {}
    data = manifest.get("training_data", {})
    return {
        "rows": data.get("rows", 0),
        "documents": data.get("documents", 0),
        "by_label": data.get("label_counts", {}),
        "cv_macro_f1": (manifest.get("cv_metrics") or {}).get("macro_f1"),
    }


def benchmark(args: argparse.Namespace, command_line: str) -> Report:
    """Run every measurement and return the report.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line (see :func:`parse_args`).
    command_line : str
        How this run was started, for the report.

    Returns
    -------
    Report

    Raises
    ------
    BenchmarkError
        A measured command failed.
    """
    began = time.perf_counter()
    report = Report(
        command=command_line,
        started=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        machine=machine(),
        repeat=args.repeat,
        train_repeat=args.train_repeat,
        chunk=args.chunk,
        labels=args.labels,
        load=(os.getloadavg()[0], 0.0),
    )
    compile_bytecode()
    credscore = _credscore()
    python = sys.executable
    labels = str(Path(args.labels).resolve()) if args.labels else ""
    with tempfile.TemporaryDirectory(prefix="credscore-speed-") as name:
        tmp = Path(name)
        env = _child_env(tmp)
        model = tmp / "model"

        print("training ...", file=sys.stderr)
        bundled_name = (
            "credscore train (bundled labels)" if not labels else "credscore train (--labels given)"
        )
        command = [credscore, "train", "--json", "--output", str(model)] + (
            ["--labels", labels] if labels else []
        )
        shown = "credscore train --json --output MODEL" + (
            f" --labels {args.labels}" if labels else ""
        )
        measurement, run = measure(
            bundled_name, command, repeat=args.train_repeat, env=env, shown=shown
        )
        report.training.append(measurement)
        report.training_facts[bundled_name] = _train_facts(run)
        report.model_files = {
            f.name: f.stat().st_size / 1e6 for f in sorted(model.iterdir()) if f.is_file()
        }

        train_series(args, report, credscore=credscore, labels=labels, tmp=tmp, env=env)

        print("start-up ...", file=sys.stderr)
        steps: list[tuple[str, list[str], str]] = [
            ("credscore --help", [credscore, "--help"], "credscore --help"),
            ("python -c pass", [python, "-c", "pass"], "python -c pass"),
            ("import numpy", [python, "-c", "import numpy"], 'python -c "import numpy"'),
            ("import sklearn", [python, "-c", "import sklearn"], 'python -c "import sklearn"'),
            ("import nltk", [python, "-c", "import nltk"], 'python -c "import nltk"'),
            (
                "credscore score (cold)",
                [credscore, "score", "--model", str(model), SENTENCE],
                f'credscore score --model MODEL "{SENTENCE}"',
            ),
        ]
        report.startup += measure_round_robin(steps, repeat=args.repeat, env=env)

        run = _checked(
            run_process(
                [
                    python,
                    "-X",
                    "importtime",
                    "-m",
                    "classifier",
                    "score",
                    "--model",
                    str(model),
                    SENTENCE,
                ],
                env=env,
                cwd=REPO,
            ),
            "importtime",
        )
        report.imports = summarise_imports(parse_importtime(run.stderr))
        run = _checked(
            run_process(
                [python, "-X", "importtime", "-m", "classifier", "--help"], env=env, cwd=REPO
            ),
            "importtime",
        )
        loaded = {cost.name.split(".")[0] for cost in parse_importtime(run.stderr)}
        report.help_heavy = [name for name in HEAVY if name in loaded]

        dummy = tmp / "none.jsonl"
        dummy.write_text("")
        marks: dict[str, list[float]] = {}
        for _ in range(args.repeat):
            result, _ = run_worker(
                "breakdown", texts=dummy, model=model, labels=labels, chunk=args.chunk, env=env
            )
            for step, seconds in result.items():
                marks.setdefault(step, []).append(seconds)
        report.breakdown = {step: statistics.median(values) for step, values in marks.items()}

        print("throughput ...", file=sys.stderr)
        texts, report.batch_facts = build_batch_texts(args.data, rows=args.rows)
        texts_path = tmp / "batch.jsonl"
        with texts_path.open("w", encoding="utf-8") as handle:
            handle.writelines(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts)
        for system, worker in THROUGHPUT.items():
            package = OPTIONAL.get(system)
            if package and not _importable(package):
                reason = f"{package} is not importable"
                print(f"  {system}: skipped ({reason})", file=sys.stderr)
                report.throughput.append(Throughput(system, 0, 0.0, 0.0, 0.0, skipped=reason))
                continue
            try:
                result, run = run_worker(
                    _WORKER_OF[worker],
                    texts=texts_path,
                    model=model,
                    labels=labels,
                    chunk=args.chunk,
                    env=env,
                )
            except BenchmarkError as exc:
                if not package:
                    raise
                print(f"  {system}: skipped ({exc})", file=sys.stderr)
                report.throughput.append(Throughput(system, 0, 0.0, 0.0, 0.0, skipped=str(exc)))
                continue
            entry = Throughput(
                system,
                len(texts),
                result["seconds"],
                result["setup_seconds"],
                run.max_rss_mb,
                profile=result.get("profile", []),
            )
            if "cached_words" in result:
                report.cache = {
                    k: result[k] for k in ("artefact_words", "cached_words", "cache_capacity")
                }
            print(f"  {system}: {entry.per_second:,.0f} segments/s", file=sys.stderr)
            report.throughput.append(entry)
        report.headroom["before the label runs"] = parallel_headroom()
        report.throughput += batch_commands(
            credscore, texts_path, model, rows=len(texts), tmp=tmp, env=env
        )
        report.load_marks["after the 1M-row runs"] = os.getloadavg()[0]
        print("dask ...", file=sys.stderr)
        report.dask = dask_run(credscore, texts_path, model, rows=len(texts), tmp=tmp, env=env)
        report.headroom["after the Dask run"] = parallel_headroom()
        print(f"  {report.dask}", file=sys.stderr)
        print("scaling ...", file=sys.stderr)
        sizes = [
            int(s) for s in args.scale_rows.split(",") if s.strip() and 0 < int(s) < len(texts)
        ]
        report.scaling = scaling(
            credscore,
            texts_path,
            model,
            sizes=sizes,
            chunk=args.chunk,
            labels=labels,
            tmp=tmp,
            env=env,
        )
        profile_rows = min(len(texts), args.profile_rows)
        part = tmp / "profiled.jsonl"
        _prefix_file(texts_path, profile_rows, part)
        report.label_profile, _ = run_worker(
            "labelprofile", texts=part, model=model, labels=labels, chunk=2000, env=env
        )
    report.load = (report.load[0], os.getloadavg()[0])
    report.seconds = time.perf_counter() - began
    return report


def batch_commands(
    credscore: str, texts: Path, model: Path, *, rows: int, tmp: Path, env: dict[str, str]
) -> list[Throughput]:
    """Run each :data:`BATCH_COMMANDS` entry once over the batch file, as a whole process.

    Parameters
    ----------
    credscore : str
        The ``credscore`` script.
    texts : Path
        The batch file (JSONL, one ``{"text": ...}`` per line).
    model : Path
    rows : int
        Lines in ``texts``.
    tmp : Path
        Where the outputs go (deleted after counting).
    env : dict

    Returns
    -------
    list of Throughput
        One per command; skipped (with the reason) when this credscore has no ``label`` command,
        the command fails, or its output does not hold one row per input row.
    """
    results = []
    has_label = run_process([credscore, "label", "--help"], env=env).returncode == 0
    for name, build in BATCH_COMMANDS.items():
        if not has_label:
            results.append(
                Throughput(name, 0, 0.0, None, 0.0, skipped="this credscore has no `label` command")
            )
            continue
        out = tmp / "labelled.jsonl"
        run = run_process(build(credscore, texts, model, out), env=env)
        written = sum(1 for _ in out.open(encoding="utf-8")) if out.is_file() else 0
        out.unlink(missing_ok=True)
        if run.returncode != 0 or written != rows:
            last = (run.stderr.strip().splitlines() or ["(no output)"])[-1]
            reason = f"exit code {run.returncode}, {written:,} of {rows:,} rows written: {last}"
            print(f"  {name}: skipped ({reason})", file=sys.stderr)
            results.append(Throughput(name, 0, 0.0, None, 0.0, skipped=reason))
            continue
        results.append(Throughput(name, rows, run.seconds, None, run.max_rss_mb))
        print(f"  {name}: {results[-1].per_second:,.0f} segments/s", file=sys.stderr)
    return results


def _importable(package: str) -> bool:
    """Whether ``package`` is installed for this interpreter (found, not imported)."""
    import importlib.util

    return importlib.util.find_spec(package) is not None


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line (``--worker`` is internal: one throughput worker)."""
    parser = argparse.ArgumentParser(
        description="Measure credscore's speed and write docs/speed.md."
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_DATA,
        help="shared corpora folder [default: %(default)s]",
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="report to write [default: docs/speed.md]"
    )
    parser.add_argument(
        "--repeat", type=int, default=5, help="runs of each start-up measurement [default: 5]"
    )
    parser.add_argument(
        "--train-repeat",
        type=int,
        default=1,
        help="runs of each training measurement (minutes each) [default: 1]",
    )
    parser.add_argument(
        "--rows", type=int, default=100_000, help="batch texts for throughput [default: 100000]"
    )
    parser.add_argument(
        "--train-sizes",
        default="1000,3000",
        help="also train on seeded subsets of the training labels of these sizes [default: 1000,3000]",
    )
    parser.add_argument(
        "--train-total",
        type=int,
        default=22_000,
        help="also train on the labels plus external rows up to this many; 0 skips [default: 22000]",
    )
    parser.add_argument(
        "--scale-rows",
        default="10000,100000",
        help="smaller input sizes for the scaling table (the batch file's first rows) [default: 10000,100000]",
    )
    parser.add_argument(
        "--profile-rows",
        type=int,
        default=100_000,
        help="rows of the profiled in-process `label` run [default: 100000]",
    )
    parser.add_argument(
        "--labels",
        default="",
        help="train on this label file instead of the bundled labels (for quick runs)",
    )
    parser.add_argument(
        "--chunk", type=int, default=10_000, help="texts per predict call [default: 10000]"
    )
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--texts", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--model", default="", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run the benchmark (or one worker) and write the report.

    Returns
    -------
    int
        The exit code.
    """
    args = parse_args(argv)
    if args.worker:
        texts = _read_texts(args.texts) if args.texts else []
        result = WORKERS[args.worker](texts, model=args.model, labels=args.labels, chunk=args.chunk)
        print(json.dumps(result))
        return 0
    if not (args.data / "checkthat_subj_en" / "mapped.tsv").is_file():
        sys.exit(
            f"speed.py: {args.data}: shared corpora not found "
            "(expected ../shared/data beside this clone); pass --data DIR"
        )
    if min(args.repeat, args.train_repeat, args.rows, args.chunk) < 1:
        sys.exit("speed.py: --repeat, --train-repeat, --rows and --chunk must be at least 1")
    shown = ["python", "benchmarks/speed.py", *(sys.argv[1:] if argv is None else argv)]
    try:
        report = benchmark(args, " ".join(shown))
    except BenchmarkError as exc:
        sys.exit(f"speed.py: {exc}")
    write_atomic(args.out, render_markdown(report) + "\n" + kept_sections(args.out))
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
