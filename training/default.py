"""The default model: where it lives, when it is stale, and training it on first use.

The default model is trained from the bundled labels the first time a command needs it, and
again when the bundled label files change (a cheap fingerprint of their bytes, compared on every
start). Several processes starting at once take a lock: one trains, the others wait and then
use what it wrote.
"""

from __future__ import annotations

import fcntl
from collections.abc import Callable
from pathlib import Path

from classifier.errors import ModelError
from classifier.model import read_manifest


def default_model_dir() -> Path:
    """The default model's folder, in the user's credscore folder."""
    import click

    return Path(click.get_app_dir("credscore")) / "models" / "default"


def staleness(folder: Path) -> str | None:
    """Why the default model at ``folder`` must be (re)trained, or None when it is current."""
    from training.dataset import fingerprint

    try:
        manifest = read_manifest(folder)
    except ModelError:
        return f"No default model yet: training one from the bundled labels into {folder} ..."
    if (manifest.get("training_data") or {}).get("fingerprint") != fingerprint():
        return f"The bundled labels changed: retraining the default model in {folder} ..."
    if "operating_points" not in manifest:
        return (
            f"The default model predates moderation decisions: retraining it in {folder} "
            "(calibration and operating points) ..."
        )
    return None


def ensure_default_model(notify: Callable[[str], None] = lambda message: None) -> Path:
    """The default model's folder, trained first when it is missing or stale.

    Parameters
    ----------
    notify : callable
        Told, in one line each, when training starts, when this process waits for another
        one's training, and how training went.

    Returns
    -------
    Path
    """
    folder = default_model_dir()
    if staleness(folder) is None:
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    lock_path = folder.parent / f".{folder.name}.lock"
    with open(lock_path, "a+b") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            notify(
                f"Another credscore process is training the default model; waiting for it ({lock_path}) ..."
            )
            fcntl.flock(lock, fcntl.LOCK_EX)
        reason = staleness(folder)  # the other process may have trained it meanwhile
        if reason is not None:
            notify(reason)
            _train_default(folder, notify)
    return folder


def model_in_use(notify: Callable[[str], None] = lambda message: None) -> Path:
    """The model a command uses when given none: the registry's current version when there is
    one (``credscore promote``), else the default model (trained first when needed)."""
    from training.registry import registry_current

    return registry_current() or ensure_default_model(notify)


def _train_default(folder: Path, notify: Callable[[str], None]) -> None:
    from training.dataset import load_dataset
    from training.train import train

    result = train(load_dataset(), folder, progress=notify)
    macro = result.cv_metrics.macro_f1
    notify(f"Trained in {result.seconds:.1f} s (grouped-CV macro-F1 {macro:.3f}).")
