"""Peak memory and wall time of the final training fit, by number of rows, chunked and not.

Each measurement runs in a child process of its own, so its peak resident set size
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``) is that fit's alone: the child builds the rows,
notes its peak so far (the rows themselves and the imports), then runs
:func:`training.train.fit` (features, then the calibrated linear SVM; no cross-validation, as
the final fit of ``credscore train``) and notes its peak again.

Rows are the bundled labels' texts, repeated and lightly varied by this script (about one word
in seven gets a made-up suffix, some rows get a number or have two words swapped), so the
vocabulary keeps growing with the rows as a real corpus's does. No shared corpus is read.

"one chunk" sets :data:`training.features.CHUNK_TEXTS` above the number of rows, which is how
the featurizer worked before it was chunked (one :class:`~classifier.ngrams.Chunk` for every
text); "chunked" keeps the default. The section between the markers in docs/reliability.md is
replaced (the rest is left alone)::

    nice -n 10 python benchmarks/train_memory.py --rows 10000 30000 100000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

from classifier.atomic import write_atomic

START, END = "<!-- train-memory:start -->", "<!-- train-memory:end -->"
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "docs" / "reliability.md"
_SUFFIXES = ("ka", "ori", "vex", "ul", "mand", "ette", "ski", "por", "ine", "ath", "zu", "el")


def make_rows(n: int, *, seed: int = 0) -> tuple[list[str], list[str], list[str]]:
    """``n`` (text, label, group) rows from the bundled labels, repeated with light variation.

    Copy ``k`` of a row keeps its label; its group is the row's document plus ``k // 5``, so
    the number of documents grows with the rows as in a larger labelled set.
    """
    from training.dataset import load_dataset

    dataset = load_dataset()
    base = list(zip(dataset.texts, dataset.labels, dataset.groups))
    rng = random.Random(seed)
    texts, labels, groups = [], [], []
    for i in range(n):
        text, label, group = base[i % len(base)]
        copy = i // len(base)
        if copy:
            words = text.split()
            for j in range(len(words)):
                if rng.random() < 1 / 7:
                    words[j] += rng.choice(_SUFFIXES)
            if len(words) > 2 and rng.random() < 0.3:
                j = rng.randrange(len(words) - 1)
                words[j], words[j + 1] = words[j + 1], words[j]
            if rng.random() < 0.3:
                words.append(str(rng.randrange(1000)))
            text = " ".join(words)
        texts.append(text)
        labels.append(label)
        groups.append(f"{group}#{copy // 5}")
    return texts, labels, groups


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def child(rows: int, one_chunk: bool) -> dict[str, float]:
    """Build ``rows`` rows and fit on them; peak RSS (MiB) before and after, seconds, sizes."""
    import training.features
    from training.train import fit

    texts, labels, groups = make_rows(rows)
    before = _peak_mib()
    if one_chunk:
        training.features.CHUNK_TEXTS = rows + 1
    started = time.perf_counter()
    pipeline = fit(texts, labels, groups)
    seconds = time.perf_counter() - started
    featurizer = pipeline.named_steps["features"]
    return {
        "rows": rows,
        "one_chunk": one_chunk,
        "text_mib": sum(len(t.encode("utf-8")) for t in texts) / 2**20,
        "rows_mib": before,
        "peak_mib": _peak_mib(),
        "seconds": seconds,
        "features": featurizer.n_features,
    }


def measure(rows: int, one_chunk: bool) -> dict[str, float]:
    """Run :func:`child` in a fresh interpreter and return its result."""
    args = [sys.executable, __file__, "--child", str(rows)] + (["--one-chunk"] if one_chunk else [])
    done = subprocess.run(args, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def section(results: list[dict], loads: list[float]) -> str:
    """The markdown section, markers included."""
    import training.features

    lines = [
        START,
        "## Training memory: peak RSS of the final fit by number of rows",
        "",
        "Measured by `nice -n 10 python benchmarks/train_memory.py` (one child process per row "
        "count and mode; peak RSS from `getrusage`; `training.train.fit`, the final fit of "
        "`credscore train` without cross-validation). Rows: the bundled labels repeated with "
        "made-up word variations (see the script). *one chunk* featurizes every text at once, "
        f"as before; *chunked* featurizes {training.features.CHUNK_TEXTS:,} texts at a time. "
        "*rows* is the child's peak before fitting (interpreter, imports, the rows); *fit adds* "
        "is the peak during the fit minus that.",
        "",
        "| rows | text MiB | features | mode | rows MiB | peak MiB | fit adds MiB | seconds |",
        "|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    for r in results:
        mode = "one chunk" if r["one_chunk"] else "chunked"
        lines.append(
            f"| {r['rows']:,} | {r['text_mib']:.1f} | {r['features']:,} | {mode} | "
            f"{r['rows_mib']:.0f} | {r['peak_mib']:.0f} | {r['peak_mib'] - r['rows_mib']:.0f} | "
            f"{r['seconds']:.1f} |"
        )
    pairs = {(r["rows"], r["one_chunk"]): r for r in results}
    both = [
        n
        for n in sorted({r["rows"] for r in results})
        if (n, True) in pairs and (n, False) in pairs
    ]
    if both:
        n = both[-1]
        one, chunked = pairs[n, True], pairs[n, False]
        lines += [
            "",
            f"At {n:,} rows ({one['text_mib']:.1f} MiB of text) chunking lowers the fit's peak "
            f"from {one['peak_mib']:,.0f} to {chunked['peak_mib']:,.0f} MiB "
            f"({chunked['peak_mib'] / one['peak_mib']:.0%} of it).",
        ]
    lines += [
        "",
        f"Load average during the run: {min(loads):.1f} to {max(loads):.1f} on "
        f"{os.cpu_count()} CPUs shared with other work, so the seconds are slower than on an "
        "idle machine (the memory figures do not depend on it).",
        "",
        "What still grows with the data: the sparse feature matrix (a float64 value and an "
        "int32 column index, 12 bytes, per distinct word, word pair and 3- to 5-character "
        "n-gram of each text: a few entries per character of text), liblinear's own copy of "
        "it (LinearSVC converts the matrix to its own sparse format, and the calibration fits "
        "once per fold and once on all rows, each on a copy of its rows), and the "
        "document-frequency tables of the vocabulary, which grow with the number of distinct "
        "n-grams. All are linear in the data or below it; chunking removes only the "
        "featurizer's whole-corpus "
        "arrays (code points and rolling hashes, int64 per character, several at once).",
        "",
        END,
    ]
    return "\n".join(lines)


def write_section(path: Path, text: str) -> None:
    """Replace the marked section of ``path`` (or append it), atomically."""
    old = path.read_text(encoding="utf-8") if path.is_file() else ""
    if START in old and END in old:
        head, rest = old.split(START, 1)
        new = head + text + rest.split(END, 1)[1]
    else:
        new = f"{old.rstrip()}\n\n{text}\n"
    write_atomic(path, lambda tmp: tmp.write_text(new, encoding="utf-8"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 30_000, 100_000])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--one-chunk", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.one_chunk)))
        return
    results, loads = [], [os.getloadavg()[0]]
    for rows in args.rows:
        for one_chunk in (True, False):
            result = measure(rows, one_chunk)
            loads.append(os.getloadavg()[0])
            results.append(result)
            print(json.dumps(result), file=sys.stderr, flush=True)
    write_section(args.out, section(results, loads))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()
