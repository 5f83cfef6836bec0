"""Files written so that they survive the process and the machine stopping: a whole file replaced
at once, and the syncs that this takes."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def replace_file(path: Path, data: bytes) -> None:
    """Make `path` hold `data`: after a crash it holds either `data` or what it held before, never
    a part. A temporary file beside it is written and synced, renamed over it, and the folder
    synced so that the rename lasts too."""
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        # mkstemp makes the file private; what pinops writes is as readable as the repository.
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        Path(temp).replace(path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    sync_folder(folder)


def sync_data(fd: int) -> None:
    """Sync a file's data and what is needed to read it back (its new length), not its times."""
    getattr(os, "fdatasync", os.fsync)(fd)


def sync_folder(folder: Path) -> None:
    """Sync a folder, so that the names made, renamed or removed in it last."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
