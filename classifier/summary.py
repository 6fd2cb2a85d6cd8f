"""Per-source summary of a batch run: how much of each source's text reads as each label."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

from classifier import LABELS

NO_SOURCE = "(no source)"
Z95 = 1.959964


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
        source: str | None,
        label: str | None,
        disinformation_score: float | None,
        decision: str | None = None,
    ) -> None:
        """Count one output row (``label`` None for an error row) and its decision."""
        tally = self._tallies[source or NO_SOURCE]
        tally.rows += 1
        if label is None:
            tally.errors += 1
            return
        tally.labels[label] += 1
        tally.disinformation_score += disinformation_score or 0.0
        tally.held += decision == "hold"
        tally.reviewed += decision == "review"

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
