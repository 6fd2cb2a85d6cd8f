"""Per-source summary of a batch run: how much of each source's text reads as each label."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from classifier import LABELS
from classifier.decisions import DECISIONS

NO_SOURCE = "(no source)"
Z95 = 1.959964


def group_key(value: Any) -> str | None:
    """The name a source, thread or author is counted under: a string as it is, any other JSON
    value as its JSON text (``42`` and ``"42"`` are then one source, and a list or an object
    can be counted and sorted with the rest); None or empty: no name."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """95% Wilson score interval of a proportion (sound for small counts and 0 or n)."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass
class _Tally:
    rows: int = 0
    errors: int = 0
    labels: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LABELS, 0))
    disinformation_score: float = 0.0
    held: int = 0
    reviewed: int = 0


class SourceSummary:
    """Accumulates labelled rows per source; memory grows with sources, not rows."""

    def __init__(self) -> None:
        self._tallies: dict[str, _Tally] = defaultdict(_Tally)

    def add(
        self,
        source: Any,
        label: str | None,
        disinformation_score: float | None,
        decision: str | None = None,
    ) -> None:
        """Count one output row (``label`` None for an error row) and its decision."""
        tally = self._tallies[group_key(source) or NO_SOURCE]
        tally.rows += 1
        if label is None:
            tally.errors += 1
            return
        tally.labels[label] += 1
        tally.disinformation_score += disinformation_score or 0.0
        tally.held += decision == "hold"
        tally.reviewed += decision == "review"

    def add_many(
        self, sources: Sequence[Any] | None, labels: Any, scores: Any, decisions: Any
    ) -> None:
        """Count many output rows at once, with the same sums, in the same order, as
        :meth:`add` row by row: per row its source (``sources`` None: none has one), its label's
        index in LABELS (-1: an error row), disinformation score and decision's index in
        DECISIONS (-1: none). NumPy arrays; a loop over the sources, not the rows."""
        import numpy as np

        if sources is None:
            self._add_group(NO_SOURCE, labels, scores, decisions)
            return
        index: dict[Any, int] = {}
        codes = np.fromiter(
            (index.setdefault(group_key(s) or NO_SOURCE, len(index)) for s in sources),
            dtype=np.intp,
            count=len(sources),
        )
        if len(index) * 16 > len(sources):  # nearly a source per row: row by row is cheaper
            for source, label, score, decision in zip(
                sources, labels.tolist(), scores.tolist(), decisions.tolist()
            ):
                self.add(
                    source,
                    None if label < 0 else LABELS[label],
                    score,
                    DECISIONS[decision] if decision >= 0 else None,
                )
            return
        order = np.argsort(codes, kind="stable")  # keeps each source's rows in input order
        bounds = np.searchsorted(codes[order], np.arange(len(index) + 1))
        for key, group in index.items():
            rows = order[bounds[group] : bounds[group + 1]]
            self._add_group(key, labels[rows], scores[rows], decisions[rows])

    def _add_group(self, key: Any, labels: Any, scores: Any, decisions: Any) -> None:
        """Count one source's rows (see :meth:`add_many`); the score sum is accumulated left
        to right from the tally's, as :meth:`add` would."""
        import numpy as np

        tally = self._tallies[key]
        labelled = labels >= 0
        tally.rows += len(labels)
        tally.errors += int(len(labels) - labelled.sum())
        counts = np.bincount(labels[labelled], minlength=len(LABELS)).tolist()
        for label, count in zip(LABELS, counts):
            tally.labels[label] += count
        added = scores[labelled]
        if len(added):
            running = np.concatenate(([tally.disinformation_score], added))
            tally.disinformation_score = float(np.add.accumulate(running)[-1])
        kept = decisions[labelled]
        tally.held += int((kept == DECISIONS.index("hold")).sum())
        tally.reviewed += int((kept == DECISIONS.index("review")).sum())

    def merge(self, other: SourceSummary) -> None:
        """Add another summary's tallies (a cluster's parts)."""
        for source, theirs in other._tallies.items():
            mine = self._tallies[source]
            mine.rows += theirs.rows
            mine.errors += theirs.errors
            mine.disinformation_score += theirs.disinformation_score
            mine.held += theirs.held
            mine.reviewed += theirs.reviewed
            for label in LABELS:
                mine.labels[label] += theirs.labels[label]

    def rows(self) -> list[dict]:
        """One record per source, most disinformation-like first (by share, then by rows), with
        how many of its rows were held and reviewed (:mod:`classifier.decisions`)."""
        out = []
        for source, t in self._tallies.items():
            scored = t.rows - t.errors
            low, high = wilson_interval(t.labels["disinformation"], scored)
            record = {"source": source, "rows": t.rows, "labelled": scored, "errors": t.errors}
            record.update(held=t.held, reviewed=t.reviewed)
            for label in LABELS:
                record[f"share_{label}"] = round(t.labels[label] / scored, 4) if scored else None
            record["mean_disinformation_score"] = (
                round(t.disinformation_score / scored, 4) if scored else None
            )
            record["disinformation_share_95ci"] = [round(low, 4), round(high, 4)]
            out.append(record)
        return sorted(
            out, key=lambda r: (-(r["share_disinformation"] or 0), -r["rows"], r["source"])
        )


# ---------------------------------------------------------------------------------------------
# Threads: ``credscore label --thread-column --author-column --parent-column``

NO_THREAD = "(no thread)"
NO_AUTHOR = "(no author)"


@dataclass
class _GroupTally(_Tally):
    replies: int = 0  # rows that name a parent
    members: set[str] = field(default_factory=set)  # a thread's authors, an author's threads
    flagged: set[str] = field(default_factory=set)  # members with a disinformation row


def _label_fields(t: _Tally) -> dict:
    """Shares, mean disinformation score and the 95% Wilson interval, as in ``rows()``."""
    scored = t.rows - t.errors
    record: dict = {}
    for label in LABELS:
        record[f"share_{label}"] = round(t.labels[label] / scored, 4) if scored else None
    record["mean_disinformation_score"] = (
        round(t.disinformation_score / scored, 4) if scored else None
    )
    low, high = wilson_interval(t.labels["disinformation"], scored)
    record["disinformation_share_95ci"] = [round(low, 4), round(high, 4)]
    return record


class ThreadSummary:
    """Accumulates labelled comment rows per thread and per author.

    Memory grows with threads, authors and the distinct (thread, author) pairs, not with rows.
    A thread's record counts its rows, its distinct authors, its replies (rows with a parent)
    and how many of its authors wrote at least one disinformation-style row; an author's record
    counts their rows, threads and replies. Both carry the label shares and the 95% Wilson
    interval of the disinformation share that :class:`SourceSummary` gives.
    """

    def __init__(self) -> None:
        self._threads: dict[str, _GroupTally] = defaultdict(_GroupTally)
        self._authors: dict[str, _GroupTally] = defaultdict(_GroupTally)

    def add(
        self,
        thread: Any,
        author: Any,
        parent: str | None,
        label: str | None,
        disinformation_score: float | None,
    ) -> None:
        """Count one output row (``label`` None for an error row; ``parent`` empty: no reply)."""
        thread, author = group_key(thread) or NO_THREAD, group_key(author) or NO_AUTHOR
        for tally, member in ((self._threads[thread], author), (self._authors[author], thread)):
            tally.rows += 1
            tally.replies += bool(parent)
            tally.members.add(member)
            if label is None:
                tally.errors += 1
                continue
            tally.labels[label] += 1
            tally.disinformation_score += disinformation_score or 0.0
            if label == "disinformation":
                tally.flagged.add(member)

    def merge(self, other: ThreadSummary) -> None:
        """Add another summary's tallies (a cluster's parts)."""
        for mine_all, theirs_all in (
            (self._threads, other._threads),
            (self._authors, other._authors),
        ):
            for key, theirs in theirs_all.items():
                mine = mine_all[key]
                mine.rows += theirs.rows
                mine.errors += theirs.errors
                mine.replies += theirs.replies
                mine.disinformation_score += theirs.disinformation_score
                mine.members |= theirs.members
                mine.flagged |= theirs.flagged
                for label in LABELS:
                    mine.labels[label] += theirs.labels[label]

    @staticmethod
    def _sorted(records: list[dict], key: str) -> list[dict]:
        return sorted(
            records, key=lambda r: (-(r["share_disinformation"] or 0), -r["rows"], r[key])
        )

    def thread_rows(self) -> list[dict]:
        """One record per thread, most disinformation-like first (by share, then by rows)."""
        out = []
        for thread, t in self._threads.items():
            record = {
                "thread": thread,
                "rows": t.rows,
                "labelled": t.rows - t.errors,
                "errors": t.errors,
                "authors": len(t.members),
                "replies": t.replies,
                "disinformation_authors": len(t.flagged),
            }
            record.update(_label_fields(t))
            out.append(record)
        return self._sorted(out, "thread")

    def author_rows(self) -> list[dict]:
        """One record per author, most disinformation-like first (by share, then by rows)."""
        out = []
        for author, t in self._authors.items():
            record = {
                "author": author,
                "rows": t.rows,
                "labelled": t.rows - t.errors,
                "errors": t.errors,
                "threads": len(t.members),
                "replies": t.replies,
            }
            record.update(_label_fields(t))
            out.append(record)
        return self._sorted(out, "author")

    def to_dict(self) -> dict:
        """``{"threads": [...], "authors": [...]}``, the records of both roll-ups."""
        return {"threads": self.thread_rows(), "authors": self.author_rows()}
