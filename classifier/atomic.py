"""Write files so that a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def write_atomic(target: str | Path, write: Callable[[Path], object]) -> None:
    """Call ``write(temporary_path)`` beside ``target``, then rename it over ``target``."""
    import tempfile  # only writers need it; scoring imports this module too

    target = Path(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
