"""What changed between two models, on the same rows: metrics with intervals, and flipped rows.

On a labelled file (every usable row has a ``label`` naming one of ours) the per-label
precision, recall and F1 of both models are reported with the change and a paired bootstrap
95% interval of the change: the same resampled rows score both models, so the interval is that
of the difference itself, much narrower than two separate intervals would suggest.

The bootstrap is exact and vectorised: a row is one of 27 kinds (gold label x old prediction x
new prediction), and resampling n rows with replacement draws the counts of the kinds from a
multinomial distribution over their observed shares. Every statistic is a function of those 27
counts, so B resamples cost a (B, 27) array whatever the number of rows.

On any file, labelled or not, the rows whose label (or, when both manifests hold operating
points, decision) flipped are counted per ``from -> to`` and the rows that moved most are
listed, so a moderator can read what the new labels did. Decisions are made by the one rule
of :mod:`classifier.decisions` (``policy(manifest).decide_rows``), as ``score`` makes them.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from classifier import LABELS
from classifier.decisions import policy
from classifier.errors import LabelError, ModelError
from classifier.inputs import InputSpec, read_rows
from classifier.model import Model

RESAMPLES = 1000
TOP = 5
_CHUNK = 2000


@dataclass(frozen=True)
class Change:
    """One statistic for the old and new model, the change and its 95% interval."""

    old: float
    new: float
    change: float
    low: float
    high: float


@dataclass(frozen=True)
class LabelChange:
    """Precision, recall and F1 of one label, old and new."""

    label: str
    support: int
    precision: Change
    recall: Change
    f1: Change


@dataclass(frozen=True)
class FlippedRow:
    """A row whose label or decision differs between the models."""

    where: str
    text: str
    gold: str | None
    old: dict[str, float]
    new: dict[str, float]
    change: float  # how much the new label's (or decision's label's) score rose


@dataclass(frozen=True)
class Flip:
    """All rows flipped from one label (or decision) to another."""

    kind: str  # "label" or "decision"
    before: str
    after: str
    count: int
    top: tuple[FlippedRow, ...]


@dataclass(frozen=True)
class FileComparison:
    """Both models on one file."""

    file: str
    rows: int
    unusable: int
    first_unusable: str | None
    labelled: bool
    gold_rows: int  # usable rows with a gold label (all of them when ``labelled``)
    accuracy: Change | None
    macro_f1: Change | None
    labels: tuple[LabelChange, ...]
    flips: tuple[Flip, ...]

    @property
    def flipped(self) -> int:
        return sum(f.count for f in self.flips if f.kind == "label")


@dataclass(frozen=True)
class Comparison:
    """``credscore compare``'s result."""

    old: dict[str, Any]
    new: dict[str, Any]
    resamples: int
    seed: int
    files: tuple[FileComparison, ...]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _decisions(model: Model, proba: Any) -> list[str] | None:
    """Each row's decision by the model's operating points, by the rule ``score`` and ``label``
    decide with (:func:`classifier.decisions.policy`); None when its manifest has no point.

    Raises
    ------
    ModelError
        An operating point of the wrong shape.
    """
    try:
        rule = policy(model.manifest)
    except ModelError as exc:
        raise ModelError(f"{model.path}: {exc}") from None
    return rule.decide_rows(proba) if rule.points else None


def _read(
    path: str, text_column: str
) -> tuple[list[str], list[str], list[str | None], int, str | None]:
    """Texts, where they are, gold labels (None when absent) and unusable rows of one file."""
    texts, places, gold = [], [], []
    unusable, first = 0, None
    for row in read_rows(InputSpec((path,), text_column=text_column)):
        if row.text is None or not row.text.strip():
            unusable += 1
            first = first or row.error or f"{row.where}: empty text"
            continue
        label = row.fields.get("label")
        if label is not None and label != "" and str(label) not in LABELS:
            raise LabelError(
                f"{row.where}: unknown label '{label}'; compare reads gold labels named "
                f"{', '.join(LABELS)} (use 'credscore labels import --map' for another scheme)"
            )
        texts.append(row.text)
        places.append(row.where)
        gold.append(str(label) if label not in (None, "") else None)
    return texts, places, gold, unusable, first


def _proba(model: Model, texts: Sequence[str]) -> Any:
    import numpy as np

    if not texts:
        return np.zeros((0, len(LABELS)))
    return np.concatenate(
        [model.scorer.proba(list(texts[i : i + _CHUNK])) for i in range(0, len(texts), _CHUNK)]
    )


def _statistics(counts: Any, present: Sequence[int]) -> dict[str, Any]:
    """Per-label precision/recall/F1, accuracy and macro-F1 from kind counts (..., 27).

    Kind ``k = 9 * gold + 3 * old + new``; returns arrays of shape (..., 3) for the per-label
    statistics of old and new, and (...,) for accuracy and macro-F1.
    """
    import numpy as np

    cube = counts.reshape(*counts.shape[:-1], 3, 3, 3)  # gold, old, new
    out: dict[str, Any] = {}
    for which, axes in (("old", (-1,)), ("new", (-2,))):
        confusion = cube.sum(axis=axes)  # (..., gold, predicted)
        tp = np.diagonal(confusion, axis1=-2, axis2=-1)
        predicted = confusion.sum(axis=-2)
        support = confusion.sum(axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            precision = np.where(predicted > 0, tp / predicted, 0.0)
            recall = np.where(support > 0, tp / support, 0.0)
            f1 = np.where(predicted + support > 0, 2 * tp / (predicted + support), 0.0)
        total = confusion.sum(axis=(-2, -1))
        out[which] = {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "accuracy": np.where(total > 0, tp.sum(axis=-1) / np.maximum(total, 1), 0.0),
            "macro_f1": f1[..., list(present)].mean(axis=-1),
        }
    return out


def _change(point_old: float, point_new: float, draws_old: Any, draws_new: Any) -> Change:
    import numpy as np

    low, high = np.percentile(draws_new - draws_old, [2.5, 97.5])
    return Change(
        round(float(point_old), 4),
        round(float(point_new), 4),
        round(float(point_new - point_old), 4),
        round(float(low), 4),
        round(float(high), 4),
    )


def _flips(
    kind: str,
    before: Sequence[str],
    after: Sequence[str],
    old: Any,
    new: Any,
    texts: Sequence[str],
    places: Sequence[str],
    gold: Sequence[str | None],
    top: int,
) -> list[Flip]:
    groups: dict[tuple[str, str], list[int]] = {}
    for i, (b, a) in enumerate(zip(before, after)):
        if b != a:
            groups.setdefault((b, a), []).append(i)
    flips = []
    for (b, a), rows in sorted(groups.items(), key=lambda item: -len(item[1])):
        column = LABELS.index(a) if a in LABELS else LABELS.index("disinformation")
        gains = sorted(rows, key=lambda i: -(new[i, column] - old[i, column]))
        flips.append(
            Flip(
                kind,
                b,
                a,
                len(rows),
                tuple(
                    FlippedRow(
                        places[i],
                        texts[i],
                        gold[i],
                        {label: round(float(p), 4) for label, p in zip(LABELS, old[i])},
                        {label: round(float(p), 4) for label, p in zip(LABELS, new[i])},
                        round(float(new[i, column] - old[i, column]), 4),
                    )
                    for i in gains[:top]
                ),
            )
        )
    return flips


def compare_file(
    old: Model,
    new: Model,
    path: str,
    *,
    resamples: int = RESAMPLES,
    seed: int = 0,
    top: int = TOP,
    text_column: str = "text",
) -> FileComparison:
    """Score one file with both models and compare them (see :func:`compare`)."""
    texts, places, gold, unusable, first = _read(path, text_column)
    p_old, p_new = _proba(old, texts), _proba(new, texts)
    rows = (p_old, p_new, texts, places, gold, top)
    flips = _flips("label", _labels(p_old), _labels(p_new), *rows)
    old_decisions, new_decisions = _decisions(old, p_old), _decisions(new, p_new)
    if old_decisions is not None and new_decisions is not None:
        flips += _flips("decision", old_decisions, new_decisions, *rows)
    labelled = bool(texts) and all(g is not None for g in gold)
    accuracy = macro = None
    labels: list[LabelChange] = []
    if labelled:
        accuracy, macro, labels = _metrics(gold, p_old, p_new, resamples=resamples, seed=seed)
    return FileComparison(
        file=path,
        rows=len(texts) + unusable,
        unusable=unusable,
        first_unusable=first,
        labelled=labelled,
        gold_rows=sum(g is not None for g in gold),
        accuracy=accuracy,
        macro_f1=macro,
        labels=tuple(labels),
        flips=tuple(flips),
    )


def _labels(proba: Any) -> list[str]:
    return [LABELS[i] for i in proba.argmax(axis=1)]


def _metrics(
    gold: Sequence[str | None], p_old: Any, p_new: Any, *, resamples: int, seed: int
) -> tuple[Change, Change, list[LabelChange]]:
    """Accuracy, macro-F1 and each present label's precision/recall/F1, old and new, with the
    paired bootstrap interval of each change."""
    import numpy as np

    kinds = (
        9 * np.array([LABELS.index(g) for g in gold if g is not None])
        + 3 * p_old.argmax(axis=1)
        + p_new.argmax(axis=1)
    )
    counts = np.bincount(kinds, minlength=27)
    present = [j for j in range(len(LABELS)) if counts.reshape(3, 9)[j].sum()]
    point = _statistics(counts.astype(float), present)
    rng = np.random.default_rng(seed)
    draws = _statistics(
        rng.multinomial(len(kinds), counts / counts.sum(), size=resamples).astype(float),
        present,
    )

    def change(name: str, j: int | None = None) -> Change:
        pick = (lambda a: a[..., j]) if j is not None else (lambda a: a)
        return _change(
            pick(point["old"][name]),
            pick(point["new"][name]),
            pick(draws["old"][name]),
            pick(draws["new"][name]),
        )

    labels = [
        LabelChange(
            label,
            int(counts.reshape(3, 9)[j].sum()),
            change("precision", j),
            change("recall", j),
            change("f1", j),
        )
        for j, label in enumerate(LABELS)
        if j in present
    ]
    return change("accuracy"), change("macro_f1"), labels


def compare(
    old: Model,
    new: Model,
    files: Sequence[str | Path],
    *,
    resamples: int = RESAMPLES,
    seed: int = 0,
    top: int = TOP,
    text_column: str = "text",
) -> Comparison:
    """Score the rows of ``files`` with both models and say what changed.

    Parameters
    ----------
    old, new : Model
    files : sequence of paths
        Any file ``credscore label`` reads (``.txt``, ``.csv``, ``.tsv``, ``.jsonl``, maybe
        gzipped). A file is labelled when every usable row has a ``label`` among ours.
    resamples : int
        Paired bootstrap resamples for the intervals.
    seed : int
        Seed of the bootstrap.
    top : int
        Rows listed per flip, those whose new label's score rose most.
    text_column : str

    Returns
    -------
    Comparison

    Raises
    ------
    InputError
        Unreadable file.
    LabelError
        A row's ``label`` is not one of ours.
    """
    return Comparison(
        old=old.info(),
        new=new.info(),
        resamples=resamples,
        seed=seed,
        files=tuple(
            compare_file(
                old,
                new,
                str(path),
                resamples=resamples,
                seed=seed,
                top=top,
                text_column=text_column,
            )
            for path in files
        ),
    )


def _signed(change: Change) -> str:
    return (
        f"{change.old:.3f} -> {change.new:.3f} ({change.change:+.3f}, "
        f"95% {change.low:+.3f} to {change.high:+.3f})"
    )


def render_comparison(result: Comparison, *, width: int = 88) -> str:
    """The comparison as text for a person."""
    lines = [
        f"old: {result.old['path']} (sha256 {result.old['sha256'][:12]})",
        f"new: {result.new['path']} (sha256 {result.new['sha256'][:12]})",
    ]
    for f in result.files:
        lines += [
            "",
            f"== {f.file}: {f.rows} rows" + (f", {f.unusable} not scored" if f.unusable else ""),
        ]
        if f.first_unusable:
            lines.append(f"   first row not scored: {f.first_unusable}")
        if f.labelled and f.macro_f1 is not None and f.accuracy is not None:
            lines.append(
                f"macro-F1 {_signed(f.macro_f1)}   (paired bootstrap, {result.resamples} resamples)"
            )
            lines.append(f"accuracy {_signed(f.accuracy)}")
            lines.append(
                f"{'label':<16}{'support':>8}  precision / recall / F1: old -> new (change, 95%)"
            )
            for c in f.labels:
                lines.append(f"{c.label:<16}{c.support:>8}")
                for name in ("precision", "recall", "f1"):
                    lines.append(f"    {name:<10} {_signed(getattr(c, name))}")
        elif f.gold_rows:
            lines.append(
                f"only {f.gold_rows} of {f.rows - f.unusable} rows have a gold label: "
                "no metrics, only the flips"
            )
        else:
            lines.append("no gold labels: only the flips")
        lines.append(f"label flipped on {f.flipped} of {f.rows - f.unusable} rows")
        for kind, title in (
            ("label", None),
            ("decision", "decision flips (hold, review, accept at each model's operating points)"),
        ):
            flips = [x for x in f.flips if x.kind == kind]
            if title and flips:
                lines.append(title)
            for flip in flips:
                lines.append(f"  {flip.before} -> {flip.after}: {flip.count}")
                for row in flip.top:
                    gold = f" (gold {row.gold})" if row.gold else ""
                    text = textwrap.shorten(row.text, max(20, width - 40))
                    lines.append(f"    {row.change:+.2f} {row.where}{gold}: {text}")
    return "\n".join(lines)
