"""Load labelled segments from JSONL, CSV or TSV files (or folders of them) and validate them."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from classifier import LABELS
from classifier.errors import InputError, LabelError, OptionError
from classifier.inputs import JSONLineError, json_kind, parse_json, read_delimited

SUFFIXES = (".jsonl", ".csv", ".tsv")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Record:
    """One labelled segment and where it was read from."""

    id: str
    text: str
    label: str
    doc: str
    file: str
    line: int
    origin: str = ""
    source: str = ""
    note: str = ""
    topic: str = ""
    register: str = ""
    #: Every column of the row as read (text and label aside), for ``--group-by`` on any of them.
    columns: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def where(self) -> str:
        """``file:line`` for error messages."""
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Dataset:
    """Validated records, the files they came from and a content hash."""

    records: tuple[Record, ...]
    files: tuple[str, ...]
    warnings: tuple[str, ...] = field(default=())
    fingerprint: str = ""  # of the files' bytes, see :func:`fingerprint`

    @property
    def texts(self) -> list[str]:
        return [r.text for r in self.records]

    @property
    def labels(self) -> list[str]:
        return [r.label for r in self.records]

    @property
    def groups(self) -> list[str]:
        return [r.doc for r in self.records]

    @property
    def sha256(self) -> str:
        """Hash of (text, label, doc) rows in order: independent of file format and notes."""
        digest = hashlib.sha256()
        for r in self.records:
            digest.update(json.dumps([r.text, r.label, r.doc], ensure_ascii=False).encode())
            digest.update(b"\n")
        return digest.hexdigest()


def bundled_labels_dir() -> Path:
    """The ``labels/`` folder shipped with credscore (package data, or the source tree)."""
    try:
        from importlib.resources import files

        return Path(str(files("credscore_labels")))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parent.parent / "labels"


def fingerprint(paths: Iterable[str | Path] | None = None) -> str:
    """sha256 over the names and bytes of the label files: cheap to compute on every start."""
    digest = hashlib.sha256()
    for path in label_files(paths if paths else [bundled_labels_dir()]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def normalise(text: str) -> str:
    """Text as compared for duplicates: case-folded, white space collapsed."""
    return _SPACE.sub(" ", text).strip().casefold()


def label_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand folders to the label files they hold (sorted); keep files as given.

    Raises
    ------
    InputError
        A path does not exist, has an unsupported suffix, or a folder holds no label file.
    """
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.suffix in SUFFIXES and p.is_file())
            if not inside:
                raise InputError(f"{path}: folder holds no .jsonl, .csv or .tsv file")
            found.extend(inside)
        elif path.is_file():
            if path.suffix not in SUFFIXES:
                raise InputError(f"{path}: unsupported file type; use .jsonl, .csv or .tsv")
            found.append(path)
        else:
            raise InputError(f"{path}: no such file or folder")
    return found


def _rows(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, row) pairs of one file, whatever its format; a CSV/TSV row spanning
    several lines is numbered by its first."""
    try:
        # utf-8-sig: the byte-order mark a spreadsheet's "CSV UTF-8" starts with is no text.
        with path.open(encoding="utf-8-sig", newline="") as handle:
            if path.suffix == ".jsonl":
                for number, line in enumerate(handle, 1):
                    if not line.strip():
                        continue
                    try:
                        row = parse_json(line)
                    except JSONLineError as exc:
                        raise InputError(f"{path}:{number}: {exc}") from None
                    if not isinstance(row, dict):
                        raise InputError(f"{path}:{number}: expected a JSON object")
                    yield number, row
            else:
                header = None
                delimiter = "\t" if path.suffix == ".tsv" else ","
                for number, _, values, problem in read_delimited(handle, delimiter):
                    if values is None:
                        raise InputError(f"{path}:{number}: {problem}")
                    if header is None:
                        header = values
                    elif values:  # a blank line holds no row
                        yield number, dict(zip(header, values))
    except UnicodeDecodeError:
        raise InputError(_undecodable(path)) from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None


def _undecodable(path: Path) -> str:
    """Where a file stops being UTF-8: its first bad line, and the byte within that line.

    The text decoder only knows an offset into the block it was decoding, so the file is read
    again as bytes, line by line (only on this error path).
    """
    with path.open("rb") as handle:
        for number, data in enumerate(handle, 1):
            try:
                data.decode("utf-8")
            except UnicodeDecodeError as exc:
                return (
                    f"{path}:{number}: not UTF-8 text ({exc.reason} at byte {exc.start} of the "
                    "line); save the file as UTF-8"
                )
    return f"{path}: not UTF-8 text; save the file as UTF-8"


def read_records(path: Path) -> list[Record]:
    """Parse one label file into records (not yet validated across files).

    Raises
    ------
    InputError
        The file cannot be read or parsed, or lacks a ``text`` or ``label`` column.
    """
    records = []
    for number, row in _rows(path):
        for column in ("text", "label"):
            if column not in row or row[column] is None:
                raise InputError(f"{path}:{number}: missing column '{column}'")
        if not isinstance(row["text"], str):  # a JSON value: its Python repr is no text
            raise InputError(f"{path}:{number}: text is not a string ({json_kind(row['text'])})")
        text = row["text"].strip()
        columns = {
            str(k): "" if v is None else str(v)
            for k, v in row.items()
            if k not in ("text", "label") and k is not None
        }
        records.append(
            Record(
                id=str(row.get("id") or f"{path.name}:{number}"),
                text=text,
                label=str(row["label"]).strip(),
                doc=str(row.get("doc") or path.name),
                file=str(path),
                line=number,
                **{
                    k: str(row.get(k) or "")
                    for k in ("origin", "source", "note", "topic", "register")
                },
                columns=columns,
            )
        )
    return records


def find_problems(records: list[Record]) -> tuple[list[str], list[str]]:
    """Every problem of a set of records, as ``(errors, warnings)`` messages naming file:line.

    Errors: unknown label, empty text, duplicate id, the same text with two labels.
    Warnings: the same text twice with the same label (the copy is ignored).
    """
    ids: dict[str, Record] = {}
    texts: dict[str, Record] = {}
    errors: list[str] = []
    warnings: list[str] = []
    for r in records:
        if r.label not in LABELS:
            errors.append(f"{r.where}: unknown label '{r.label}'; use one of {', '.join(LABELS)}")
        if not r.text:
            errors.append(f"{r.where}: empty text")
        if r.id in ids:
            errors.append(f"{r.where}: duplicate id '{r.id}' (first at {ids[r.id].where})")
        ids.setdefault(r.id, r)
        first = texts.setdefault(normalise(r.text), r)
        if first is r:
            continue
        if first.label != r.label:
            errors.append(
                f"{r.where}: same text as {first.where} but labelled '{r.label}', not '{first.label}'"
            )
        else:
            warnings.append(f"{r.where}: duplicate of {first.where}; the copy is ignored")
    return errors, warnings


def validate(records: list[Record]) -> list[str]:
    """Check records across files; return warnings for what is tolerated.

    Raises
    ------
    LabelError
        The first error :func:`find_problems` finds (unknown label, empty text, duplicate id,
        the same text with two labels), naming the file and line.
    """
    errors, warnings = find_problems(records)
    if errors:
        more = (
            f" (and {len(errors) - 1} more problems; see 'credscore labels check')"
            if len(errors) > 1
            else ""
        )
        raise LabelError(errors[0] + more)
    return warnings


def read_all(paths: Iterable[str | Path] | None = None) -> tuple[list[Path], list[Record]]:
    """The label files (the bundled ``labels/`` when ``paths`` is empty) and all their rows."""
    files = label_files(paths if paths else [bundled_labels_dir()])
    return files, [record for path in files for record in read_records(path)]


def load_dataset(paths: Iterable[str | Path] | None = None) -> Dataset:
    """Read and validate labelled segments.

    Parameters
    ----------
    paths : iterable of str or Path, optional
        Files (``.jsonl``, ``.csv``, ``.tsv``) or folders of them; the bundled ``labels/`` when
        omitted.

    Returns
    -------
    Dataset
        The valid records (exact duplicates with the same label dropped, with a warning).

    Raises
    ------
    InputError, LabelError
        Unreadable or malformed files, invalid records.
    """
    files, records = read_all(paths)
    if not records:
        raise LabelError(f"{', '.join(map(str, files))}: no labelled rows")
    warnings = validate(records)
    seen: set[str] = set()
    unique = []
    for r in records:
        key = normalise(r.text)
        if key not in seen:
            seen.add(key)
            unique.append(r)
    return Dataset(tuple(unique), tuple(map(str, files)), tuple(warnings), fingerprint(files))


#: Columns tried, in order, when no ``--group-by`` is given.
DEFAULT_GROUP_COLUMNS = ("doc", "source")


@dataclass(frozen=True)
class Grouping:
    """Which rows must stay together on one side of a cross-validation split, and why.

    ``column`` None means no grouping: stratified folds over rows.
    """

    column: str | None
    groups: tuple[str, ...]  # one per record; a row without a value is grouped by its file
    reason: str
    missing: int = 0  # rows without a value in ``column``

    @property
    def count(self) -> int:
        """Distinct groups (rows, when there is no grouping)."""
        return len(set(self.groups)) if self.column else len(self.groups)

    def describe(self) -> str:
        """One line for people: what the folds keep together, and why."""
        if self.column is None:
            return f"stratified folds over rows ({self.reason})"
        files = (
            f"; {self.missing} rows without a '{self.column}' value are grouped by their file"
            if self.missing
            else ""
        )
        return f"grouped by '{self.column}', {self.count} groups ({self.reason}{files})"

    def to_dict(self) -> dict[str, object]:
        return {
            "column": self.column,
            "groups": self.count,
            "reason": self.reason,
            "rows_without_value": self.missing,
        }


def _values(dataset: Dataset, column: str) -> list[str]:
    """Each record's raw value of ``column`` ('' when the row has none)."""
    return [r.columns.get(column, "").strip() for r in dataset.records]


def _grouped(dataset: Dataset, column: str, values: list[str], reason: str) -> Grouping:
    groups = tuple(v or Path(r.file).name for v, r in zip(values, dataset.records))
    return Grouping(column, groups, reason, sum(1 for v in values if not v))


def grouping(dataset: Dataset, column: str | None = None) -> Grouping:
    """How cross-validation groups ``dataset``'s rows: by ``column``, else by the first of
    :data:`DEFAULT_GROUP_COLUMNS` that has at least two values, else not at all.

    Grouping keeps related rows (one document, source, author or thread) on one side of each
    split, so the cross-validation measures how the model does on groups it never saw.

    Parameters
    ----------
    dataset : Dataset
    column : str, optional
        Any column of the label files (``--group-by``); rows without a value are grouped by
        the file they come from.

    Returns
    -------
    Grouping

    Raises
    ------
    OptionError
        ``column`` is given but no row has a value in it.
    LabelError
        ``column`` is given but holds fewer than two groups.
    """
    if column is not None:
        values = _values(dataset, column)
        if not any(values):
            present = sorted({k for r in dataset.records for k, v in r.columns.items() if v})
            raise OptionError(
                f"--group-by {column}: no row of {', '.join(dataset.files)} has a '{column}' "
                f"value (columns with values: {', '.join(present) or 'none besides text and label'})"
            )
        found = _grouped(dataset, column, values, "--group-by")
        if found.count < 2:
            raise LabelError(
                f"{', '.join(dataset.files)}: every row has the same '{column}'; grouped "
                "cross-validation needs at least two groups (choose another --group-by)"
            )
        return found
    skipped = []
    for name in DEFAULT_GROUP_COLUMNS:
        values = _values(dataset, name)
        if not any(values):
            skipped.append(f"no '{name}' column")
            continue
        found = _grouped(
            dataset, name, values, "the default: " + ", ".join([*skipped, f"'{name}' present"])
        )
        if found.count >= 2:
            return found
        skipped.append(f"'{name}' has one value")
    return Grouping(None, tuple("" for _ in dataset.records), ", ".join(skipped))
