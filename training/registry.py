"""A model registry: numbered versions, a ``current`` link switched atomically, and a gate.

Layout of a registry folder (default: ``registry/`` in the user's credscore folder)::

    config.json      {"gold": "/abs/path/gold.jsonl", "tolerance": 0.01}
    history.jsonl    one line per promote or rollback: time, user, result, forced, metrics
    v0001/ v0002/    copies of promoted model folders, checked before and after the copy
    current -> v0002 a relative symlink

``current`` is switched by one rename: a new symlink ``current.tmp`` is made beside it and
``os.replace``-d over it, so whoever resolves ``current`` gets the old version or the new one,
never a mixture. A version folder is never changed once it is in place, so a process that
resolved ``current`` (see :func:`registry_current`) keeps reading one consistent model.

**The gate.** ``promote`` makes a model current only if, on the gold file named in the config
(or given once with ``--gold``, then kept), its macro-F1 is at least the current model's (the
default model's, before the first promotion) minus the tolerance, and every operating point
in its manifest (``operating_points``: label, threshold, promised precision) reaches on gold
the precision it promises minus the tolerance. A point that flags no gold row cannot be
checked and is reported as such. ``force`` overrides a failed gate; the history says so.
Rolling back from the first version removes ``current``: the default model is in use again.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from classifier import LABELS
from classifier.errors import CredscoreError, InputError, ModelError
from classifier.model import load_model, read_manifest

TOLERANCE = 0.01
CONFIG = "config.json"
HISTORY = "history.jsonl"
CURRENT = "current"
#: What ``rollback`` returns when it goes back past the first version, to the default model.
DEFAULT = "the default model"
_VERSION = re.compile(r"^v(\d{4,})$")


class RegistryError(CredscoreError):
    """The registry cannot do what was asked (no gold file, nothing to roll back to...)."""


def default_registry_dir() -> Path:
    """``$CREDSCORE_REGISTRY``, else ``registry/`` in the user's credscore folder."""
    import click

    if os.environ.get("CREDSCORE_REGISTRY"):
        return Path(os.environ["CREDSCORE_REGISTRY"])
    return Path(click.get_app_dir("credscore")) / "registry"


def registry_current(registry_dir: str | Path | None = None) -> Path | None:
    """The folder of the registry's current model, resolved once, or None when there is none.

    The path returned is the version folder itself (``.../v0003``), not the ``current`` link,
    so a caller that loads from it reads one version even if ``current`` is switched meanwhile.
    """
    link = Path(registry_dir) if registry_dir else default_registry_dir()
    link = link / CURRENT
    if not link.is_symlink() and not link.is_dir():
        return None
    target = Path(os.path.realpath(link))
    return target if target.is_dir() else None


@dataclass(frozen=True)
class Check:
    """One condition of the gate."""

    name: str
    value: float | None  # measured on gold
    required: float | None  # at least this
    passed: bool
    detail: str


@dataclass(frozen=True)
class PromoteResult:
    """What ``promote`` did and why."""

    promoted: bool
    forced: bool
    version: str | None  # the version now current (None when refused)
    previous: str | None
    gold: str | None
    tolerance: float
    checks: tuple[Check, ...]
    note: str = ""

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.passed)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Version:
    """One model in the registry."""

    name: str
    path: str
    current: bool
    sha256: str
    created: str
    training_rows: int | None
    cv_macro_f1: float | None
    promoted: str | None  # time of the promote that added it
    forced: bool


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in the environment or the password database
        return "unknown"


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold the registry's lock: two promotes at once would number versions twice."""
    import fcntl

    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RegistryError(
                f"{folder}: another promote or rollback is running; try again when it ends"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_config(folder: Path) -> dict[str, Any]:
    """The registry's config (empty when there is none).

    Raises
    ------
    RegistryError
        An unreadable config file.
    """
    path = folder / CONFIG
    if not path.exists():
        return {}
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RegistryError(f"{path}: unreadable registry config ({exc})") from None
    if not isinstance(config, dict):
        raise RegistryError(f"{path}: not a registry config (expected a JSON object)")
    return config


def _write_json(path: Path, data: Any) -> None:
    from classifier.atomic import write_atomic

    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _append_history(folder: Path, entry: dict[str, Any]) -> None:
    with (folder / HISTORY).open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def history(folder: str | Path | None = None) -> list[dict[str, Any]]:
    """Every promote and rollback, oldest first."""
    folder = Path(folder) if folder else default_registry_dir()
    path = folder / HISTORY
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _versions(folder: Path) -> list[str]:
    if not folder.is_dir():
        return []
    found = [p.name for p in folder.iterdir() if p.is_dir() and _VERSION.match(p.name)]
    return sorted(found, key=lambda name: int(name[1:]))


def _current_name(folder: Path) -> str | None:
    current = registry_current(folder)
    return current.name if current is not None else None


def _switch(folder: Path, version: str) -> None:
    """Point ``current`` at ``version`` with one atomic rename."""
    tmp = folder / f"{CURRENT}.tmp"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()  # left by a run that died between the two steps
    os.symlink(version, tmp)  # relative: the registry folder can move
    os.replace(tmp, folder / CURRENT)
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy_model(source: Path, folder: Path, version: str) -> Path:
    """Copy a checked model folder into the registry as ``version``, and check the copy."""
    load_model(source)  # manifest and checksums, before anything is copied
    staging = folder / f".{version}.part"
    if staging.exists():
        shutil.rmtree(staging)
    shutil.copytree(source, staging, symlinks=False)
    try:
        read_manifest(staging)
        load_model(staging)
    except ModelError as exc:
        shutil.rmtree(staging)
        raise ModelError(f"{source}: the copy in the registry does not check out ({exc})") from None
    target = folder / version
    os.rename(staging, target)
    return target


def _default_model() -> Any | None:
    """The default model, which is the one in use while the registry has no current version."""
    from training.default import default_model_dir

    try:
        return load_model(default_model_dir())
    except ModelError:
        return None


def _precision_at(
    proba: Any, gold: list[str], label: str, threshold: float
) -> tuple[float | None, int]:
    flagged = proba[:, LABELS.index(label)] >= threshold
    n = int(flagged.sum())
    if not n:
        return None, 0
    hits = sum(1 for f, g in zip(flagged.tolist(), gold) if f and g == label)
    return hits / n, n


def gate(new: Any, current: Any | None, gold_path: Path, tolerance: float) -> tuple[Check, ...]:
    """The checks ``promote`` applies, measured on the gold file.

    Parameters
    ----------
    new, current : Model
        The candidate and the model in use (None: nothing to compare macro-F1 with).
    gold_path : Path
        A labelled file ``credscore evaluate`` reads.
    tolerance : float

    Returns
    -------
    tuple of Check
    """
    from training.dataset import load_dataset

    gold = load_dataset([gold_path])
    proba = new.scorer.proba(gold.texts)
    checks = [_macro_f1_check(proba, current, gold, tolerance)]
    points = new.manifest.get("operating_points") or {}
    for name, point in sorted(points.items()):
        check = _precision_check(name, point, proba, gold.labels, tolerance)
        if check is not None:
            checks.append(check)
    return tuple(checks)


def _macro_f1(proba: Any, gold: Any) -> float:
    from training.evaluate import compute_metrics

    return compute_metrics(gold.labels, [LABELS[i] for i in proba.argmax(axis=1)]).macro_f1


def _macro_f1_check(proba: Any, current: Any | None, gold: Any, tolerance: float) -> Check:
    """The candidate's macro-F1 on gold against the current model's, less the tolerance."""
    new_f1 = _macro_f1(proba, gold)
    if current is None:
        return Check(
            "macro-F1", new_f1, None, True, f"macro-F1 on gold {new_f1:.3f}; no current model"
        )
    old_f1 = _macro_f1(current.scorer.proba(gold.texts), gold)
    required = round(old_f1 - tolerance, 4)
    return Check(
        "macro-F1",
        new_f1,
        required,
        new_f1 >= required,
        f"macro-F1 on gold {new_f1:.3f}; current model {old_f1:.3f}, tolerance {tolerance}",
    )


def _precision_check(
    name: str, point: Any, proba: Any, gold: list[str], tolerance: float
) -> Check | None:
    """An operating point's precision on gold against its promise, less the tolerance; None
    when the point promises no precision (or has no threshold)."""
    if not isinstance(point, dict) or point.get("label") not in LABELS:
        return None
    promised = point.get("precision")
    if promised is None or point.get("threshold") is None:
        return None
    required = round(float(promised) - tolerance, 4)
    what = f"'{name}' ({point['label']} >= {point['threshold']})"
    precision, flagged = _precision_at(proba, gold, point["label"], float(point["threshold"]))
    if precision is None:
        return Check(
            f"precision of '{name}'",
            None,
            required,
            True,
            f"{what} flags no gold row: its precision cannot be checked on this gold file",
        )
    return Check(
        f"precision of '{name}'",
        round(precision, 4),
        required,
        precision >= required,
        f"{what} flags {flagged} gold rows with precision {precision:.3f}; the manifest "
        f"promises {float(promised):.3f}",
    )


def promote(
    model_path: str | Path,
    *,
    registry: str | Path | None = None,
    gold: str | Path | None = None,
    tolerance: float | None = None,
    force: bool = False,
    user: str | None = None,
) -> PromoteResult:
    """Make a model the registry's current one if it passes the gate (or ``force``).

    Parameters
    ----------
    model_path : str or Path
        The model folder to promote (it is copied into the registry).
    registry : str or Path, optional
        [default: :func:`default_registry_dir`]
    gold : str or Path, optional
        The gold file; kept in the registry's config for the next promotions.
    tolerance : float, optional
        Kept in the config too [default: the config's, else 0.01].
    force : bool
        Promote even when the gate fails (recorded in the history).
    user : str, optional
        Recorded in the history [default: the user name].

    Returns
    -------
    PromoteResult
        ``promoted`` False means the gate refused the model; nothing changed but the history.

    Raises
    ------
    ModelError
        The model (or its copy) does not pass the manifest and checksum checks.
    RegistryError
        No gold file while a current model exists, or another promote is running.
    InputError, LabelError
        The gold file cannot be read.
    """
    folder = Path(registry) if registry else default_registry_dir()
    with _locked(folder):
        config = _updated_config(folder, gold, tolerance)
        gated = _measure(folder, Path(model_path), config)
        if gated.already_current:
            name, tol = gated.previous, gated.tolerance
            return PromoteResult(
                False, False, name, name, gated.gold_name, tol, (), "already current"
            )
        _write_json(folder / CONFIG, config)
        if not gated.passed and not force:
            return _refuse(folder, gated, user=user)
        return _install(folder, gated, forced=not gated.passed, user=user)


@dataclass(frozen=True)
class _Gated:
    """A promotion measured but not yet done: the two models, the gold file, the checks."""

    source: Path
    new: Any  # the candidate Model
    previous: str | None  # the current version's name
    current: Any | None  # the model in use: the current version, else the default model
    gold: Path | None
    tolerance: float
    checks: tuple[Check, ...] = ()

    @property
    def already_current(self) -> bool:
        return self.current is not None and self.current.sha256 == self.new.sha256

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def gold_name(self) -> str | None:
        return str(self.gold) if self.gold else None

    def entry(self, *, forced: bool, user: str | None) -> dict[str, Any]:
        """This promotion's line in the history, but for its result and target."""
        return {
            "time": _now(),
            "user": user or _user(),
            "action": "promote",
            "model": str(self.source.resolve()),
            "sha256": self.new.sha256,
            "from": self.previous,
            "compared_with": str(self.current.path) if self.current is not None else None,
            "gold": self.gold_name,
            "tolerance": self.tolerance,
            "forced": forced,
            "checks": [asdict(c) for c in self.checks],
        }


def _updated_config(
    folder: Path, gold: str | Path | None, tolerance: float | None
) -> dict[str, Any]:
    """The registry's config with this promotion's gold file and tolerance, when given."""
    config = read_config(folder)
    if gold is not None:
        gold_path = Path(gold).resolve()
        if not gold_path.is_file():
            raise InputError(f"{gold}: no such gold file")
        config["gold"] = str(gold_path)
    if tolerance is not None:
        config["tolerance"] = tolerance
    return config


def _measure(folder: Path, source: Path, config: dict[str, Any]) -> _Gated:
    """Load the candidate and the model in use, and gate the candidate on the gold file
    (unless it is the model in use already)."""
    tolerance = float(config.get("tolerance", TOLERANCE))
    new = load_model(source)
    previous = _current_name(folder)
    current = load_model(folder / previous) if previous else _default_model()
    gold = Path(config["gold"]) if config.get("gold") else None
    gated = _Gated(source, new, previous, current, gold, tolerance)
    if gated.already_current:
        return gated
    if gold is None and current is not None:
        raise RegistryError(
            f"{folder}: no gold file to compare the models on; pass --gold FILE "
            "(it is kept in the registry's config)"
        )
    if gold is not None and not gold.is_file():
        raise RegistryError(f"{gold}: the registry's gold file is missing; pass --gold FILE")
    checks = gate(new, current, gold, tolerance) if gold is not None else ()
    return replace(gated, checks=checks)


def _refuse(folder: Path, gated: _Gated, *, user: str | None) -> PromoteResult:
    """Record a refused promotion; nothing else changes."""
    entry = gated.entry(forced=False, user=user)
    _append_history(folder, {**entry, "result": "refused", "to": gated.previous})
    return PromoteResult(
        False, False, None, gated.previous, gated.gold_name, gated.tolerance, gated.checks
    )


def _install(folder: Path, gated: _Gated, *, forced: bool, user: str | None) -> PromoteResult:
    """Copy the candidate in as the next version, switch ``current`` to it, record it."""
    names = _versions(folder)
    version = f"v{(int(names[-1][1:]) if names else 0) + 1:04d}"
    _copy_model(gated.source, folder, version)
    _switch(folder, version)
    entry = gated.entry(forced=forced, user=user)
    _append_history(folder, {**entry, "result": "forced" if forced else "promoted", "to": version})
    note = "" if gated.gold else "no gold file yet: the first model is promoted unchecked"
    return PromoteResult(
        True, forced, version, gated.previous, gated.gold_name, gated.tolerance, gated.checks, note
    )


def rollback(
    *,
    registry: str | Path | None = None,
    to: str | None = None,
    user: str | None = None,
) -> tuple[str, str]:
    """Make an earlier version current again: the one below the current, or ``to``.

    Rolling back from the oldest version removes ``current``: the model in use is then the
    default model again, as it was before the first promotion.

    Returns
    -------
    (str, str)
        The version that was current and the one that is now (:data:`DEFAULT` after rolling
        back from the oldest version).

    Raises
    ------
    RegistryError
        No current version, or no such version.
    ModelError
        The version to go back to no longer passes its checks.
    """
    folder = Path(registry) if registry else default_registry_dir()
    with _locked(folder):
        names = _versions(folder)
        previous = _current_name(folder)
        if previous is None and to is None:
            raise RegistryError(
                f"{folder}: no current version to roll back from (the default model is in use); "
                "name one with --to"
            )
        if to is None and previous is not None:
            older = [n for n in names if int(n[1:]) < int(previous[1:])]
            to = older[-1] if older else None
        elif to not in names:
            raise RegistryError(f"{folder}: no version {to} (versions: {', '.join(names)})")
        if to is None:
            # the first version was promoted over the default model: go back to that one
            (folder / CURRENT).unlink()
            sha = None
        else:
            sha = load_model(folder / to).sha256
            _switch(folder, to)
        _append_history(
            folder,
            {
                "time": _now(),
                "user": user or _user(),
                "action": "rollback",
                "sha256": sha,
                "from": previous,
                "to": to,
                "result": "rolled back",
                "forced": False,
            },
        )
        return previous or DEFAULT, to or DEFAULT


def list_versions(registry: str | Path | None = None) -> list[Version]:
    """Every version in the registry, oldest first.

    Raises
    ------
    RegistryError
        No registry at that path.
    """
    folder = Path(registry) if registry else default_registry_dir()
    if not folder.is_dir():
        raise RegistryError(
            f"{folder}: no model registry here; 'credscore promote MODEL' makes one"
        )
    current = _current_name(folder)
    promoted = {
        e.get("to"): e
        for e in history(folder)
        if e.get("action") == "promote" and e.get("result") != "refused"
    }
    versions = []
    for name in _versions(folder):
        try:
            manifest = read_manifest(folder / name)
        except ModelError:
            manifest = {}
        entry = promoted.get(name, {})
        versions.append(
            Version(
                name=name,
                path=str(folder / name),
                current=name == current,
                sha256=manifest.get("files", {}).get("scoring.npz", ""),
                created=manifest.get("created", ""),
                training_rows=manifest.get("training_data", {}).get("rows"),
                cv_macro_f1=(manifest.get("cv_metrics") or {}).get("macro_f1"),
                promoted=entry.get("time"),
                forced=bool(entry.get("forced")),
            )
        )
    return versions
