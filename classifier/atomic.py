"""Write files so that a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

from classifier.errors import InputError


def check_target(target: str | Path) -> None:
    """Refuse to write over anything but a regular file (or nothing).

    Raises
    ------
    InputError
        ``target`` is a folder, a symbolic link, a FIFO, a device or a socket, or its folder
        does not exist.
    """
    target = Path(target)
    try:
        mode = os.lstat(target).st_mode
    except FileNotFoundError:
        if not target.parent.is_dir():
            raise InputError(f"{target}: its folder {target.parent} does not exist") from None
        return
    if stat.S_ISLNK(mode):
        raise InputError(
            f"{target}: is a symbolic link; give the file it points to, or another name"
        )
    if not stat.S_ISREG(mode):
        kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file"
        raise InputError(f"{target}: is {kind}; refusing to replace it")


def write_atomic(target: str | Path, write: Callable[[Path], object]) -> None:
    """Call ``write(temporary_path)`` beside ``target``, then rename it over ``target``.

    Raises
    ------
    InputError
        ``target`` exists and is not a regular file (see :func:`check_target`).
    """
    import tempfile  # only writers need it; scoring imports this module too

    check_target(target)
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
