"""Resuming an interrupted batch run from its ``.part`` file.

A run writes its output to a hidden ``.NAME.part`` beside the target and, beside that, a key
(``.NAME.part.json``) of what the rows depend on: the inputs (path, size, modification time and
a hash of their first and last mebibyte), the reading options, the output format and the model.
``--resume`` refuses a run whose key differs, then keeps every record the part file holds whole
and cuts off a record whose writing was interrupted.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from classifier.errors import InputError
from classifier.inputs import STDIN, InputSpec

_EDGE = 1 << 20
_WHAT = {
    "inputs": "an input file or its contents",
    "spec": "the reading options",
    "segments": "--segment",
    "format": "the output format",
    "model_sha256": "the model",
    "decisions": "the decision thresholds (--threshold, or the model's operating points)",
}


def part_path(output: Path) -> Path:
    """The hidden file an output is written to until the run completes."""
    return output.with_name(f".{output.name}.part")


def key_path(output: Path) -> Path:
    """Where the key of the run writing ``output`` is kept."""
    return output.with_name(f".{output.name}.part.json")


def _identity(path: str) -> dict[str, Any]:
    """What tells one input file's contents from another's, without reading all of it."""
    stat = os.stat(path)
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        digest.update(handle.read(_EDGE))
        if stat.st_size > _EDGE:
            handle.seek(max(_EDGE, stat.st_size - _EDGE))
            digest.update(handle.read(_EDGE))
    return {
        "path": os.path.abspath(path),
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "edges_sha256": digest.hexdigest(),
    }


def run_key(
    spec: InputSpec,
    model_sha256: str,
    *,
    segments: bool,
    fmt: str,
    decisions: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What a resumed run must share with the interrupted one (``decisions``: the policy's
    operating points, which a model's manifest can change without changing its arrays)."""
    return {
        "inputs": [_identity(p) if p != STDIN else p for p in spec.paths],
        "spec": {k: v for k, v in asdict(spec).items() if k != "paths"},
        "segments": segments,
        "format": fmt,
        "model_sha256": model_sha256,
        "decisions": decisions or {},
    }


def check_resumable(output: Path, spec: InputSpec, key: dict[str, Any]) -> None:
    """Refuse to resume unless an interrupted run with the same key left its part file.

    Raises
    ------
    InputError
        Standard input (it cannot be checked), no interrupted run, or another key.
    """
    if STDIN in spec.paths:
        raise InputError("--resume cannot check that standard input holds the same rows again")
    part, saved = part_path(output), key_path(output)
    if not part.is_file() or not saved.is_file():
        raise InputError(f"{output}: no interrupted run to resume (no {part.name})")
    try:
        previous = json.loads(saved.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{saved}: unreadable ({exc}); run without --resume") from None
    if previous != key:
        changed = [_WHAT[k] for k in key if previous.get(k) != key[k]]
        raise InputError(
            f"{output}: the interrupted run used other inputs, options or model (what differs: "
            f"{', '.join(changed)}); run without --resume"
        )


class Finished:
    """The whole records of an interrupted run's part file, read one at a time.

    After iterating, ``end`` is the byte length they span and ``header`` the delimited file's
    header (None for JSONL).
    """

    def __init__(self, part: Path, fmt: str):
        self.part, self.fmt = part, fmt
        self.end = 0
        self.header: list[str] | None = None

    def _lines(self, handle: Any, consumed: list[int]) -> Iterator[str]:
        for data in handle:
            if not data.endswith(b"\n"):
                return  # the write was cut in the middle of this line
            consumed[0] += len(data)
            yield data.decode("utf-8")

    def __iter__(self) -> Iterator[dict[str, Any]]:
        consumed = [0]
        with self.part.open("rb") as handle:
            lines = self._lines(handle, consumed)
            if self.fmt == "jsonl":
                for line in lines:
                    try:
                        record = json.loads(line)
                    except ValueError:
                        return
                    self.end = consumed[0]
                    yield record
                return
            for values in csv.reader(lines, delimiter="\t" if self.fmt == "tsv" else ","):
                if self.header is None:
                    self.header = values
                elif len(values) == len(self.header):
                    self.end = consumed[0]
                    yield dict(zip(self.header, values))
                    continue
                else:
                    return
                self.end = consumed[0]

    def cut(self) -> None:
        """Drop whatever follows the whole records (a line the interruption cut short)."""
        with self.part.open("r+b") as handle:
            handle.truncate(self.end)
