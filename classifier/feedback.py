"""Moderators' verdicts, appended to a labels file that ``credscore train`` reads as it is.

``credscore serve --feedback feedback.jsonl`` writes one JSON line per verdict
(``comments:suggestscore`` or the page's buttons):

- a verdict with a text and a credscore label goes to ``feedback.jsonl``: a labelled row
  (``id``, ``text``, ``label``, ``origin: "feedback"``, ``doc``) plus what the verdict said
  (``via``, ``attributes``, ``clientToken``, ``communityId``, ``sessionId``, ``time``), so that
  ``credscore train --labels labels/ --labels feedback.jsonl`` retrains on it;
- a verdict that cannot teach the model (sent with ``doNotStore``, so without its text; one
  that names no label, such as Coral's ``APPROVED``; a comment that does not look English) goes
  to ``feedback.verdicts.ndjson`` beside it, the same JSON lines under a suffix the labels
  reader does not take, so a labels folder may hold both files.

Lines never interleave: each is one ``os.write`` of the whole line to a file opened with
``O_APPEND``, under a lock (threads of one server process), followed by ``fsync``. With
``O_APPEND`` the kernel moves to the end of the file and writes in one step, so the worker
processes of one server, each with its own descriptor, append whole lines too (on a local file
system; not over NFS). A write the disk cuts short (a full disk) fails the request, and may
leave a partial last line that ``credscore train`` then names by file and line.
"""

from __future__ import annotations

import os
import stat
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson

from classifier.atomic import check_target
from classifier.errors import InputError, OptionError

ORIGIN = "feedback"
UNTRAINED_SUFFIX = ".verdicts.ndjson"


def untrained_path(path: str | Path) -> Path:
    """Where the verdicts that cannot train go: ``feedback.jsonl`` -> ``feedback.verdicts.ndjson``."""
    path = Path(path)
    return path.with_name(path.stem + UNTRAINED_SUFFIX)


@dataclass(frozen=True)
class Verdict:
    """What a moderator said about one text."""

    via: str  # "suggestscore" or "page"
    text: str | None  # None: not to be stored (doNotStore)
    label: str | None  # None: the verdict names no credscore label
    attributes: dict[str, float] = field(default_factory=dict)
    client_token: str | None = None
    community_id: str | None = None
    session_id: str | None = None
    source: str | None = None
    decision: str | None = None  # the model's decision the moderator saw
    language: str | None = None  # "und" when the text does not look English
    time: str = ""

    @property
    def trainable(self) -> bool:
        """Whether the verdict makes a labelled row: a stored English text with a label."""
        return (
            bool(self.text and self.text.strip())
            and self.label is not None
            and (self.language in (None, "en"))
        )

    def to_row(self) -> dict[str, Any]:
        """The verdict's JSON line (see the module's description)."""
        time = self.time or datetime.now(timezone.utc).isoformat(timespec="seconds")
        row: dict[str, Any] = {"id": f"{ORIGIN}:{uuid.uuid4().hex}"}
        if self.text is not None:
            row["text"] = self.text
        row["label"] = self.label
        row["origin"] = ORIGIN
        # Grouped cross-validation keeps a community's verdicts in one fold.
        row["doc"] = f"{ORIGIN}:{self.community_id}" if self.community_id else ORIGIN
        optional = {
            "source": self.source,
            "clientToken": self.client_token,
            "communityId": self.community_id,
            "sessionId": self.session_id,
            "decision": self.decision,
            "language": self.language,
        }
        row.update({k: v for k, v in optional.items() if v is not None})
        row["via"] = self.via
        if self.attributes:
            row["attributes"] = self.attributes
        row["time"] = time
        return row


class FeedbackLog:
    """Appends verdicts to a feedback file and its untrained sibling, whole lines only.

    Parameters
    ----------
    path : str or Path
        A ``.jsonl`` file (created when missing); its folder must exist.

    Raises
    ------
    OptionError
        ``path`` is not a ``.jsonl`` file name.
    InputError
        ``path`` or its sibling is a folder, a symbolic link or another non-regular file, or
        cannot be opened for appending.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if self.path.suffix != ".jsonl":
            raise OptionError(
                f"--feedback {self.path}: give a .jsonl file, which 'credscore train --labels' reads"
            )
        self.untrained = untrained_path(self.path)
        check_target(self.untrained)
        self._lock = threading.Lock()
        self._fds: dict[Path, int] = {}
        self._fd(self.path)  # fail now, at start-up, rather than on the first verdict

    def _fd(self, path: Path) -> int:
        """An append-only descriptor of ``path``, opened once."""
        fd = self._fds.get(path)
        if fd is not None:
            return fd
        check_target(path)
        # O_NOFOLLOW and O_NONBLOCK: a link or a FIFO put there after the check fails, never blocks.
        flags = (
            os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK
        )
        try:
            fd = os.open(path, flags, 0o644)
        except OSError as exc:
            raise InputError(f"{path}: cannot open for appending ({exc.strerror})") from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise InputError(f"{path}: is not a regular file; refusing to append to it")
        self._fds[path] = fd
        return fd

    def append(self, verdict: Verdict) -> bool:
        """Append one verdict, as one whole line, and flush it to disk.

        Returns
        -------
        bool
            Whether it went to the feedback file (trainable), not to the untrained sibling.

        Raises
        ------
        OSError
            The disk refused the write.
        """
        line = orjson.dumps(verdict.to_row()) + b"\n"
        target = self.path if verdict.trainable else self.untrained
        with self._lock:
            fd = self._fd(target)
            written = os.write(fd, line)
            while written < len(line):  # only a full disk or a signal cuts a regular file's write
                written += os.write(fd, line[written:])
            os.fsync(fd)
        return verdict.trainable

    def close(self) -> None:
        """Close the descriptors."""
        with self._lock:
            for fd in self._fds.values():
                os.close(fd)
            self._fds.clear()
