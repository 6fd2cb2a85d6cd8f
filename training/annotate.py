"""Choose the rows worth labelling next, and record a person's answers without ever losing one.

**Selection.** Every row of the inputs is scored by the current model. Rows are offered most
uncertain first (smallest margin between the two highest probabilities), mixed with a share of
rows drawn at random (``random_share``, seeded), so the labels also describe the rows the model
is sure about, right or wrong. A row is passed over when its text is already labelled, or is a
near duplicate of a labelled row (word 3-gram Jaccard above
:data:`training.audit.NEAR_DUPLICATE_JACCARD`, the measure ``credscore labels check`` uses):
the bundled labels, the answers file, and every answer given so far.

**The answers file** is JSONL in the label schema ``credscore train --labels`` reads (``id``,
``text``, ``label``, ``origin: annotated``, ``doc``, ``source``), plus where the row came from
(``file``, ``line``), ``annotator``, ``time``, ``model`` (the scoring artefact's sha256),
``model_label`` and ``picked`` (``uncertain`` or ``random``). Each answer is one line, written,
flushed and fsynced before the next row is shown: a killed session loses at most the row on
screen. A restarted session offers the same rows in the same order (same inputs, model and
seed) and passes over those already answered, so it goes on where it stopped.

**Undo** removes the last line of the file by rewriting it atomically (a temporary file beside
it, fsynced, renamed over it): a reader, or a crash, sees the file with or without that line,
never half of it. A tombstone row (``{"undo": id}``) would keep the file append-only, but every
row of a label file must be a labelled text, so ``credscore train`` could not read it.
Skipped rows are skipped for this session only; they are offered again next time.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import textwrap
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from classifier import LABELS
from classifier.atomic import write_atomic
from classifier.errors import InputError
from classifier.inputs import InputSpec, read_rows
from classifier.model import Model
from training.audit import NEAR_DUPLICATE_JACCARD, word_trigrams
from training.dataset import normalise, read_all

RANDOM_SHARE = 0.2
ORIGIN = "annotated"
#: One key per label; the other keys of a session.
KEYS = {"r": "reporting", "o": "opinion", "d": "disinformation"}
COLOURS = {"reporting": "cyan", "opinion": "yellow", "disinformation": "red"}
_WORDS = {label: key for key, label in KEYS.items()}
_CHUNK = 2000
HELP = """\
  r  reporting       attributed, checkable reporting
  o  opinion         argument, analysis, honest comment
  d  disinformation  conspiracy claims as fact, propaganda, smears, incitement
  s  skip            not now (offered again next session)
  u  undo            take back the last answer and show that row again
  ?  help            this list
  q  quit            stop; every answer so far is saved
(labels/GUIDELINES.md defines the labels)"""
PROMPT = "[r]eporting [o]pinion [d]isinformation  [s]kip [u]ndo [?]help [q]uit > "


@dataclass(frozen=True)
class Candidate:
    """A row that may be offered for labelling, with the model's view of it."""

    text: str
    file: str
    line: int | None
    source: str | None
    scores: tuple[float, ...]  # in LABELS order
    picked: str  # "uncertain" or "random"
    again: bool = False  # offered again after an undo: not passed over as labelled

    @property
    def label(self) -> str:
        return LABELS[max(range(len(LABELS)), key=self.scores.__getitem__)]

    @property
    def margin(self) -> float:
        top, second = sorted(self.scores, reverse=True)[:2]
        return top - second

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line is not None else self.file


def margins(proba: Any) -> Any:
    """Difference between the highest and second-highest probability of each row."""
    import numpy as np

    ordered = np.sort(np.asarray(proba), axis=1)
    return ordered[:, -1] - ordered[:, -2]


def ranked(
    proba: Any, *, random_share: float = RANDOM_SHARE, seed: int = 0
) -> list[tuple[int, str]]:
    """Every row index once, in the order rows are offered, with why each was picked.

    Each position is filled, with probability ``random_share``, by the next row of a seeded
    random permutation, else by the next row by smallest margin (ties in input order); rows
    already placed are passed over. The order depends only on the scores, the share and the
    seed, so a restarted session offers the same rows in the same order.
    """
    import numpy as np

    n = len(proba)
    by_margin = np.argsort(margins(proba), kind="stable") if n else np.array([], dtype=int)
    rng = np.random.default_rng(seed)
    shuffled = rng.permutation(n)
    draws = rng.random(n) < random_share
    placed = np.zeros(n, dtype=bool)
    order: list[tuple[int, str]] = []
    streams = {"uncertain": iter(by_margin.tolist()), "random": iter(shuffled.tolist())}
    for draw in draws.tolist():
        why = "random" if draw else "uncertain"
        for index in streams[why]:
            if not placed[index]:
                placed[index] = True
                order.append((index, why))
                break
    return order


class NearDuplicates:
    """Labelled texts, to tell whether a new text is one of them or nearly one of them."""

    def __init__(self, threshold: float = NEAR_DUPLICATE_JACCARD):
        self.threshold = threshold
        self._grams: dict[str, frozenset[str]] = {}  # normalised text -> its word 3-grams
        self._postings: dict[str, set[str]] = {}  # 3-gram -> normalised texts holding it

    def __len__(self) -> int:
        return len(self._grams)

    def add(self, text: str) -> None:
        key = normalise(text)
        if key in self._grams:
            return
        grams = frozenset(word_trigrams(text))
        self._grams[key] = grams
        for gram in grams:
            self._postings.setdefault(gram, set()).add(key)

    def remove(self, text: str) -> None:
        key = normalise(text)
        for gram in self._grams.pop(key, frozenset()):
            self._postings[gram].discard(key)

    def match(self, text: str) -> str | None:
        """``"labelled"`` (same text), ``"near duplicate"`` (Jaccard above the threshold) or None."""
        if normalise(text) in self._grams:
            return "labelled"
        grams = frozenset(word_trigrams(text))
        shared: Counter[str] = Counter()
        for gram in grams:
            shared.update(self._postings.get(gram, ()))
        for key, common in shared.items():
            if common / (len(grams) + len(self._grams[key]) - common) > self.threshold:
                return "near duplicate"
        return None


def choose(
    texts: Sequence[str],
    proba: Any,
    n: int,
    *,
    labelled: Iterable[str] = (),
    random_share: float = RANDOM_SHARE,
    seed: int = 0,
    threshold: float = NEAR_DUPLICATE_JACCARD,
) -> list[int]:
    """The indices of the ``n`` rows ``annotate`` would offer first (for batch use).

    Parameters
    ----------
    texts : sequence of str
    proba : array of shape (len(texts), 3)
        The current model's probabilities of ``texts``.
    n : int
    labelled : iterable of str
        Texts already labelled: they and their near duplicates are passed over, as are near
        duplicates of rows chosen earlier in the list.
    random_share, seed, threshold
        See :func:`ranked` and :class:`NearDuplicates`.

    Returns
    -------
    list of int
    """
    index = NearDuplicates(threshold)
    for text in labelled:
        index.add(text)
    chosen: list[int] = []
    for i, _ in ranked(proba, random_share=random_share, seed=seed):
        if len(chosen) >= n:
            break
        if index.match(texts[i]) is None:
            chosen.append(i)
            index.add(texts[i])
    return chosen


# --- The answers file ---------------------------------------------------------------------------


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class AnswerFile:
    """An append-only JSONL file of answers, each line fsynced; undo rewrites it atomically.

    Raises
    ------
    InputError
        The path is not a ``.jsonl`` file name, is not a regular file, or holds a line that is
        not a JSON object with ``text`` and ``label`` (other than a torn last line, see
        :attr:`repaired`).
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if self.path.suffix != ".jsonl":
            raise InputError(f"{self.path}: answers are written as JSONL; name the file *.jsonl")
        if self.path.exists() and not self.path.is_file():
            raise InputError(f"{self.path}: exists and is not a regular file")
        if not self.path.parent.is_dir():
            raise InputError(f"{self.path.parent}: no such folder")
        self.rows: list[dict[str, Any]] = []
        #: A last line cut short by a crash mid-write (never confirmed to the user), removed.
        self.repaired = ""
        if self.path.exists():
            self._read()
        created = not self.path.exists()
        self._handle = self.path.open("a", encoding="utf-8")
        if created:
            _fsync_folder(self.path.parent)

    def _read(self) -> None:
        try:
            content = self.path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"{self.path}: not UTF-8 text (byte {exc.start})") from None
        lines = content.split("\n")
        tail = lines.pop()  # "" when the file ends with a line break
        for number, line in enumerate(lines, 1):
            if line.strip():
                self.rows.append(self._parse(line, number))
        if tail.strip():
            try:
                self.rows.append(self._parse(tail, len(lines) + 1))
                content += "\n"  # complete, only its line break is missing
            except InputError:
                self.repaired = tail
                content = content[: len(content) - len(tail)]
            self._rewrite(content)

    def _parse(self, line: str, number: int) -> dict[str, Any]:
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{self.path}:{number}: not valid JSON ({exc.msg})") from None
        if not isinstance(row, dict) or "text" not in row or "label" not in row:
            raise InputError(f"{self.path}:{number}: not an answer row (no 'text' and 'label')")
        return row

    def _rewrite(self, content: str) -> None:
        def write(tmp: Path) -> None:
            with tmp.open("w", encoding="utf-8") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())

        write_atomic(self.path, write)
        _fsync_folder(self.path.parent)

    def append(self, row: dict[str, Any]) -> None:
        """Write one row as a line and make it durable before returning."""
        self._handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self.rows.append(row)

    def undo(self) -> dict[str, Any] | None:
        """Remove the last row (atomically) and return it; None when the file is empty."""
        if not self.rows:
            return None
        last = self.rows[-1]
        self._handle.close()
        content = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in self.rows[:-1])
        try:
            self._rewrite(content)
        finally:
            self._handle = self.path.open("a", encoding="utf-8")  # the file is a new inode now
        self.rows.pop()
        return last

    def close(self) -> None:
        self._handle.close()


# --- A session ----------------------------------------------------------------------------------


def answer_id(text: str) -> str:
    """A stable id from the text: one text is answered once, so ids stay unique."""
    return "annotated-" + hashlib.sha256(normalise(text).encode()).hexdigest()[:16]


@dataclass
class Session:
    """The rows to offer, the answers file and what is already labelled.

    Use :func:`open_session` to build one from input files.
    """

    candidates: deque[Candidate]
    answers: AnswerFile
    labelled: NearDuplicates
    model: Model
    annotator: str
    passed_over: Counter = field(default_factory=Counter)  # why rows were not offered
    answered: int = 0  # this session
    undone: int = 0
    _front: list[Candidate] = field(default_factory=list)
    _skipped: set[str] = field(default_factory=set)

    def next(self) -> Candidate | None:
        """The next row to show, or None when every row is answered, labelled or skipped."""
        while self._front or self.candidates:
            candidate = self._front.pop() if self._front else self.candidates.popleft()
            if normalise(candidate.text) in self._skipped:
                continue
            if not candidate.again:
                why = self.labelled.match(candidate.text)
                if why is not None:
                    self.passed_over[why] += 1
                    continue
            return candidate
        return None

    def answer(self, candidate: Candidate, label: str, *, now: str | None = None) -> dict[str, Any]:
        """Append the answer to the file (fsynced) and count the text as labelled."""
        if label not in LABELS:
            raise InputError(f"unknown label '{label}'; use one of {', '.join(LABELS)}")
        row: dict[str, Any] = {
            "id": answer_id(candidate.text),
            "text": candidate.text,
            "label": label,
            "origin": ORIGIN,
            "doc": candidate.source or Path(candidate.file).name,
        }
        if candidate.source:
            row["source"] = candidate.source
        row.update(
            file=candidate.file,
            line=candidate.line,
            annotator=self.annotator,
            time=now or datetime.now(timezone.utc).isoformat(timespec="seconds"),
            model=self.model.sha256,
            model_label=candidate.label,
            picked=candidate.picked,
        )
        self.answers.append(row)
        self.labelled.add(candidate.text)
        self.answered += 1
        return row

    def skip(self, candidate: Candidate) -> None:
        """Do not offer this text again in this session."""
        self._skipped.add(normalise(candidate.text))

    def undo(self, showing: Candidate | None = None) -> Candidate | None:
        """Take back the last answer in the file; it is offered next (then ``showing``).

        Returns
        -------
        Candidate or None
            The row taken back, or None when the file holds no answer.
        """
        row = self.answers.undo()
        if row is None:
            return None
        if showing is not None:
            self._front.append(showing)
        self.labelled.remove(row["text"])
        proba = self.model.scorer.proba([row["text"]])[0]
        candidate = Candidate(
            row["text"],
            str(row.get("file", self.answers.path)),
            row.get("line"),
            row.get("source"),
            tuple(float(p) for p in proba),
            str(row.get("picked", "uncertain")),
            again=True,
        )
        self._front.append(candidate)
        self.undone += 1
        return candidate

    def reserve(self, candidate: Candidate) -> None:
        """Count a row as labelled without an answer (it went into an export batch)."""
        self.labelled.add(candidate.text)

    def close(self) -> None:
        self.answers.close()


def _where(row_where: str) -> tuple[str, int | None]:
    """``file:line`` of an input row as (file, line)."""
    file, _, line = row_where.rpartition(":")
    return (file, int(line)) if file and line.isdigit() else (row_where, None)


def open_session(
    spec: InputSpec,
    model: Model,
    answers: str | Path,
    *,
    labelled_paths: Iterable[str | Path] | None = None,
    random_share: float = RANDOM_SHARE,
    seed: int = 0,
    annotator: str | None = None,
    threshold: float = NEAR_DUPLICATE_JACCARD,
) -> tuple[Session, dict[str, int]]:
    """Read and score the inputs, and open the answers file.

    Parameters
    ----------
    spec : InputSpec
        The input files, read as ``credscore label`` reads them.
    model : Model
        The current model: it ranks the rows and its sha256 goes into each answer.
    answers : str or Path
        The answers file (``.jsonl``), created when missing, else continued.
    labelled_paths : iterable of paths, optional
        Label files whose texts are already labelled [default: the bundled labels].
    random_share, seed
        See :func:`ranked`.
    annotator : str, optional
        [default: the user name]
    threshold : float
        Near-duplicate Jaccard threshold.

    Returns
    -------
    (Session, dict)
        The session, and counts of the input rows: ``rows``, ``unusable`` (rows that cannot
        be scored: empty text, bad JSON...), and ``repaired`` (1 when a torn last line of the
        answers file was removed).

    Raises
    ------
    InputError, LabelError
        Unreadable inputs, label files or answers file.
    """
    texts, places, unusable = _usable_rows(spec)
    proba = _scores(model, texts)
    file = AnswerFile(answers)
    index = _labelled_index(labelled_paths, file, threshold)
    queue = deque(
        Candidate(texts[i], *places[i][:2], places[i][2], tuple(map(float, proba[i])), why)
        for i, why in ranked(proba, random_share=random_share, seed=seed)
    )
    session = Session(queue, file, index, model, annotator or _user())
    return session, {
        "rows": len(texts) + unusable,
        "unusable": unusable,
        "repaired": int(bool(file.repaired)),
    }


def _usable_rows(
    spec: InputSpec,
) -> tuple[list[str], list[tuple[str, int | None, str | None]], int]:
    """The texts of the input rows that can be scored, where each is from, and how many cannot."""
    texts: list[str] = []
    places: list[tuple[str, int | None, str | None]] = []
    unusable = 0
    for row in read_rows(spec):
        if row.text is None or not row.text.strip():
            unusable += 1
            continue
        texts.append(row.text)
        places.append((*_where(row.where), row.source))
    return texts, places, unusable


def _scores(model: Model, texts: Sequence[str]) -> Any:
    """The model's probabilities of ``texts``, scored in chunks, shape (len(texts), 3)."""
    import numpy as np

    if not texts:
        return np.zeros((0, len(LABELS)))
    return np.concatenate(
        [model.scorer.proba(list(texts[i : i + _CHUNK])) for i in range(0, len(texts), _CHUNK)]
    )


def _labelled_index(
    labelled_paths: Iterable[str | Path] | None, answers: AnswerFile, threshold: float
) -> NearDuplicates:
    """The texts already labelled: the label files' and the answers file's."""
    index = NearDuplicates(threshold)
    _, records = read_all(labelled_paths)
    for record in records:
        index.add(record.text)
    for answer in answers.rows:
        index.add(str(answer["text"]))
    return index


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in the environment or the password database
        return "unknown"


# --- The terminal loop --------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionReport:
    """How a session ended."""

    answered: int
    undone: int
    in_file: int
    #: "quit", "end of input", "no more rows", "limit", "interrupted" (Ctrl-C), or "exported"
    #: (the rows went into a task file instead, see :class:`BatchExport`)
    stopped: str
    passed_over: dict[str, int]
    exported: int = 0  # rows written to the task file

    def line(self) -> str:
        passed = ", ".join(f"{n} {why}" for why, n in sorted(self.passed_over.items()))
        return (
            f"{self.answered} answers this session ({self.undone} undone), {self.in_file} in the "
            f"file; stopped: {self.stopped}" + (f"; passed over: {passed}" if passed else "")
        )


def render_candidate(candidate: Candidate, model: Model, *, number: int, width: int = 88) -> str:
    """The row as shown: where it is from, its segments coloured by label, the model's scores."""
    import click

    from classifier.segment import segment

    pieces = segment(candidate.text) or []
    lines = [
        click.style(
            f"── {number} · {candidate.where}"
            + (f" · source {candidate.source}" if candidate.source else "")
            + f" · picked: {candidate.picked} ",
            bold=True,
        )
    ]
    if pieces:
        proba = model.scorer.proba([p.text for p in pieces])
        for piece, row in zip(pieces, proba):
            label = LABELS[int(row.argmax())]
            tag = f"{label[:3]} {float(row.max()):.2f} │ "
            wrapped = textwrap.wrap(piece.text, width - len(tag)) or [""]
            for k, part in enumerate(wrapped):
                prefix = tag if k == 0 else " " * (len(tag) - 2) + "│ "
                lines.append(click.style(prefix + part, fg=COLOURS[label]))
    scores = "  ".join(
        click.style(f"{label} {score:.2f}", fg=COLOURS[label])
        for label, score in zip(LABELS, candidate.scores)
    )
    lines.append(
        f"model: {click.style(candidate.label, bold=True)}   {scores}   margin {candidate.margin:.2f}"
    )
    return "\n".join(lines)


def _key(answer: str) -> str:
    """A typed answer as one key: ``o``, ``opinion`` and ``O`` are the same answer."""
    answer = answer.strip().lower()
    return _WORDS.get(answer, answer[:1] if len(answer) == 1 else answer)


def run_session(
    session: Session,
    *,
    read_key: Callable[[], str],
    write: Callable[..., None],
    limit: int | None = None,
) -> SessionReport:
    """Offer rows one by one and record the answers until the user quits or input ends.

    Parameters
    ----------
    session : Session
    read_key : callable
        Returns the next key (a terminal) or line (a pipe); raises ``EOFError`` at the end of
        input. ``KeyboardInterrupt`` is left to the caller: every answer given is already
        on disk.
    write : callable
        ``write(text, end="\n")`` shows text to the user.
    limit : int, optional
        Stop after this many answers (an undone answer does not count).

    Returns
    -------
    SessionReport
    """
    stopped = "no more rows"
    showing = session.next()
    try:
        while showing is not None:
            if limit is not None and session.answered - session.undone >= limit:
                stopped = "limit"
                break
            write(render_candidate(showing, session.model, number=len(session.answers.rows) + 1))
            showing, stop = _ask(session, showing, read_key=read_key, write=write)
            if stop is not None:
                stopped = stop
                break
    finally:
        session.close()
    return _report(session, stopped)


def _ask(
    session: Session,
    showing: Candidate,
    *,
    read_key: Callable[[], str],
    write: Callable[..., None],
) -> tuple[Candidate | None, str | None]:
    """Prompt until a key moves on from ``showing``: the next row, or why the session stops."""
    while True:
        write(PROMPT, end="")
        try:
            key = _key(read_key())
        except EOFError:
            return None, "end of input"
        if key == "q":
            return None, "quit"
        if key in KEYS:
            session.answer(showing, KEYS[key])
            write(f"saved: {KEYS[key]}")
            return session.next(), None
        if key == "s":
            session.skip(showing)
            return session.next(), None
        if key == "u":
            taken = session.undo(showing)
            if taken is not None:
                write(f"undone: {taken.where} (answer it again)")
                return session.next(), None
            write("nothing to undo: the answers file is empty")
        elif key == "?":
            write(HELP)
        else:
            write(f"unknown key {key!r}; press ? for help")


def _report(session: Session, stopped: str, *, exported: int = 0) -> SessionReport:
    return SessionReport(
        session.answered,
        session.undone,
        len(session.answers.rows),
        stopped,
        dict(session.passed_over),
        exported,
    )


def export_batch(session: Session, n: int, output: str | Path, fmt: str) -> int:
    """Write the next ``n`` rows to label as a task file for doccano, Label Studio or Prodigy.

    Rows carry where they came from and the model's label and scores (a Label Studio
    pre-annotation); near duplicates within the batch are left out too.

    Returns
    -------
    int
        Rows written (fewer than ``n`` when the inputs run out).

    Raises
    ------
    InputError
        An output that is not a regular file, or a format these tools do not read tasks in.
    """
    from training.annotations import check_output, export_rows

    if fmt not in ("doccano", "label-studio", "prodigy"):
        raise InputError(
            f"--format {fmt}: batches are written for doccano, label-studio or prodigy"
        )
    output = Path(output)
    check_output(output, session.answers.path)
    rows: list[dict[str, Any]] = []
    try:
        while len(rows) < n and (candidate := session.next()) is not None:
            session.reserve(candidate)
            rows.append(
                {
                    "text": candidate.text,
                    "id": answer_id(candidate.text),
                    "doc": candidate.source or Path(candidate.file).name,
                    "source": candidate.source,
                    "meta": {
                        "file": candidate.file,
                        "line": candidate.line,
                        "model_label": candidate.label,
                        "scores": dict(zip(LABELS, (round(s, 4) for s in candidate.scores))),
                        "picked": candidate.picked,
                    },
                    "prediction": {
                        "label": candidate.label,
                        "score": round(max(candidate.scores), 4),
                        "model": session.model.sha256[:12],
                    },
                }
            )
    finally:
        session.close()
    text = export_rows(rows, fmt)
    write_atomic(output, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return len(rows)


# --- The whole command --------------------------------------------------------------------------


@dataclass(frozen=True)
class Opened:
    """What a session found when it opened: told to the user before the first row."""

    rows: int  # input rows
    unusable: int  # input rows without a text to score
    answers: int  # answers already in the file
    repaired: str  # a last line cut short by a crash and removed, or ""


@dataclass(frozen=True)
class BatchExport:
    """Write the next ``n`` rows to ``path`` as tasks for a tool, instead of asking."""

    n: int
    path: Path
    fmt: str = "label-studio"  # "doccano", "label-studio" or "prodigy"


def annotate(
    spec: InputSpec,
    model: Model,
    answers: str | Path,
    *,
    read_key: Callable[[], str],
    write: Callable[..., None],
    opened: Callable[[Opened], None] = lambda opening: None,
    limit: int | None = None,
    export: BatchExport | None = None,
    labelled_paths: Iterable[str | Path] | None = None,
    random_share: float = RANDOM_SHARE,
    seed: int = 0,
    annotator: str | None = None,
) -> SessionReport:
    """Open a session on the inputs, then ask for answers (or export the next rows as tasks).

    Parameters
    ----------
    spec, model, answers
        As for :func:`open_session`.
    read_key, write, limit
        As for :func:`run_session`.
    opened : callable
        Called with an :class:`Opened` once the inputs are scored, before the first row.
    export : BatchExport, optional
        Write rows to a task file (:func:`export_batch`) instead of asking.
    labelled_paths, random_share, seed, annotator
        As for :func:`open_session`.

    Returns
    -------
    SessionReport
        ``stopped`` is ``"interrupted"`` after Ctrl-C (every answer given is on disk), and
        ``"exported"`` with ``exported`` rows after an export.

    Raises
    ------
    InputError, LabelError
        Unreadable inputs, label files or answers file; an export file that cannot be written.
    """
    session, counts = open_session(
        spec,
        model,
        answers,
        labelled_paths=labelled_paths,
        random_share=random_share,
        seed=seed,
        annotator=annotator,
    )
    file = session.answers
    opened(Opened(counts["rows"], counts["unusable"], len(file.rows), file.repaired))
    if export is not None:
        written = export_batch(session, export.n, export.path, export.fmt)
        return _report(session, "exported", exported=written)
    try:
        return run_session(session, read_key=read_key, write=write, limit=limit)
    except KeyboardInterrupt:
        return _report(session, "interrupted")
