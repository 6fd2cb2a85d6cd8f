"""Audit labelled data: problems, near duplicates, balance, a review queue and model shortcuts."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from classifier import LABELS
from classifier.explain import Explainer
from classifier.model import Model
from training.dataset import Dataset, Record, find_problems, load_dataset, normalise, read_all

#: Words for near-duplicate detection: runs of letters/digits, keeping inner apostrophes.
WORD_PATTERN = r"(?u)\b\w[\w'’]*\b"
NEAR_DUPLICATE_JACCARD = 0.5
REVIEW_SIZE = 20
#: A topic whose rarest label falls below this share of its rows gets a warning.
MIN_LABEL_SHARE = 0.2
#: A term whose rows come this much from one topic (or one source) is flagged as a shortcut.
CONCENTRATION = 0.6


@dataclass(frozen=True)
class NearDuplicate:
    """Two rows whose word 3-grams overlap by ``similarity`` (Jaccard)."""

    first: str
    second: str
    similarity: float
    text: str


@dataclass(frozen=True)
class ReviewItem:
    """A row whose given label the out-of-fold model finds unlikely."""

    where: str
    id: str
    text: str
    label: str
    given_probability: float
    predicted: str


@dataclass(frozen=True)
class Audit:
    """Everything ``credscore labels check`` reports."""

    rows: int
    files: tuple[str, ...]
    errors: tuple[str, ...]
    warnings: tuple[str, ...]
    near_duplicates: tuple[NearDuplicate, ...]
    balance: dict[str, dict[str, dict[str, int]]]
    review: tuple[ReviewItem, ...]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_WORDS = re.compile(WORD_PATTERN)


def word_trigrams(text: str) -> list[str]:
    """The lower-cased word 3-grams of ``text``: what near-duplicate detection compares.

    The same analysis as scikit-learn's ``CountVectorizer(token_pattern=WORD_PATTERN,
    ngram_range=(3, 3))``, as a function that ``credscore annotate`` shares.
    """
    words = _WORDS.findall(text.lower())
    return [" ".join(words[i : i + 3]) for i in range(len(words) - 2)]


def jaccard(first: set[str] | frozenset[str], second: set[str] | frozenset[str]) -> float:
    """Jaccard similarity of two n-gram sets (0 when both are empty)."""
    union = len(first | second)
    return len(first & second) / union if union else 0.0


def near_duplicates(
    records: list[Record], threshold: float = NEAR_DUPLICATE_JACCARD
) -> list[NearDuplicate]:
    """Pairs of rows whose word 3-gram sets have Jaccard similarity above ``threshold``.

    Exact duplicates (same normalised text) are left to :func:`find_problems`; rows of fewer
    than three words have no 3-grams and are not compared.
    """
    import numpy as np
    from sklearn.feature_extraction.text import CountVectorizer

    vectorizer = CountVectorizer(analyzer=word_trigrams, binary=True)
    try:
        grams = vectorizer.fit_transform([r.text for r in records]).tocsr()
    except ValueError:  # no row has three words
        return []
    sizes = np.asarray(grams.sum(axis=1)).ravel()
    shared = (grams @ grams.T).tocoo()
    pairs = []
    for i, j, common in zip(shared.row, shared.col, shared.data):
        if i >= j:
            continue
        similarity = common / (sizes[i] + sizes[j] - common)
        a, b = records[i], records[j]
        if similarity > threshold and normalise(a.text) != normalise(b.text):
            pairs.append(NearDuplicate(a.where, b.where, round(float(similarity), 3), b.text))
    return sorted(pairs, key=lambda p: -p.similarity)


def balance(records: list[Record]) -> dict[str, dict[str, dict[str, int]]]:
    """Label counts per topic and per register (rows without one are not counted)."""
    table: dict[str, dict[str, Counter]] = {
        "topic": defaultdict(Counter),
        "register": defaultdict(Counter),
    }
    for r in records:
        for field in table:
            if getattr(r, field):
                table[field][getattr(r, field)][r.label] += 1
    return {
        field: {
            key: {label: counts[label] for label in LABELS} for key, counts in sorted(rows.items())
        }
        for field, rows in table.items()
    }


def _imbalance_warnings(topics: dict[str, dict[str, int]]) -> list[str]:
    warnings = []
    for topic, counts in topics.items():
        total = sum(counts.values())
        rarest = min(LABELS, key=lambda label: counts[label])
        if total >= 30 and counts[rarest] / total < MIN_LABEL_SHARE:
            warnings.append(
                f"topic '{topic}': only {counts[rarest]} of {total} rows are '{rarest}'; "
                f"its words may come to predict a label"
            )
    return warnings


def review_queue(dataset: Dataset, size: int = REVIEW_SIZE) -> list[ReviewItem]:
    """The rows whose given label the out-of-fold (document-grouped) model finds least likely."""
    from training.train import out_of_fold_proba

    proba = out_of_fold_proba(dataset)
    given = [proba[i, LABELS.index(r.label)] for i, r in enumerate(dataset.records)]
    order = sorted(range(len(given)), key=given.__getitem__)[:size]
    return [
        ReviewItem(
            dataset.records[i].where,
            dataset.records[i].id,
            dataset.records[i].text,
            dataset.records[i].label,
            round(float(given[i]), 4),
            LABELS[int(proba[i].argmax())],
        )
        for i in order
    ]


def audit(
    paths: Iterable[str | Path] | None = None,
    *,
    threshold: float = NEAR_DUPLICATE_JACCARD,
    review: int = REVIEW_SIZE,
) -> Audit:
    """Check labelled data as a whole.

    Parameters
    ----------
    paths : iterable of str or Path, optional
        Label files or folders; the bundled ``labels/`` when omitted.
    threshold : float
        Word-3-gram Jaccard similarity above which two rows are near duplicates.
    review : int
        Size of the review queue (0: skip the out-of-fold model, which takes a while).

    Returns
    -------
    Audit
        Errors (conflicts, unknown labels, empty texts, duplicate ids) make the data unusable;
        the review queue is built only when there are none.
    """
    files, records = read_all(paths)
    errors, warnings = find_problems(records)
    table = balance(records)
    warnings += _imbalance_warnings(table["topic"])
    queue: list[ReviewItem] = []
    if review and not errors:
        queue = review_queue(load_dataset(files), review)
    return Audit(
        rows=len(records),
        files=tuple(map(str, files)),
        errors=tuple(errors),
        warnings=tuple(warnings),
        near_duplicates=tuple(near_duplicates(records, threshold)),
        balance=table,
        review=tuple(queue),
    )


@dataclass(frozen=True)
class Shortcut:
    """A strong term of a label, and whether its rows cluster in one topic or source."""

    term: str
    weight: float
    topic_share: float
    source_share: float

    @property
    def flagged(self) -> bool:
        return max(self.topic_share, self.source_share) >= CONCENTRATION


def shortcuts(model: Model, dataset: Dataset, k: int = 10) -> dict[str, list[Shortcut]]:
    """Per label, the ``k`` strongest terms with the share of their rows in one topic or source.

    A high share means the model may have learnt a topic or a source, not a style.
    """
    row_terms = [model.featurizer.word_terms(r.text) for r in dataset.records]
    report: dict[str, list[Any]] = {}
    for label, strongest in Explainer(model).strongest_terms(k).items():
        report[label] = []
        for term, weight in strongest:
            rows = [r for r, terms in zip(dataset.records, row_terms) if term in terms]
            topics = Counter(r.topic or r.doc for r in rows)
            sources = Counter(r.source for r in rows if r.source)
            n = len(rows) or 1
            report[label].append(
                Shortcut(
                    term,
                    weight,
                    round(max(topics.values(), default=0) / n, 3),
                    round(max(sources.values(), default=0) / n, 3),
                )
            )
    return report
