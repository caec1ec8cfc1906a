"""Owner-only data files (issue #12): the data directory 0700, every database file 0600.

The SQLite files hold citizen DIDs, sharing requests and consent records. Whatever the
process umask, :func:`owner_only` (run before a store opens its file) creates the data
directory as 0700 and the database file as 0600 -- SQLite gives its ``-wal`` and ``-shm``
files the mode of the database file -- and tightens any of them found looser, saying so
in one log line.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger("identity.storage")

DIR_MODE = 0o700
FILE_MODE = 0o600
SIDE_FILES = ("-wal", "-shm", "-journal")


def _tighten(path: Path, mode: int, loose: list[str]) -> None:
    current = stat.S_IMODE(path.stat().st_mode)
    if current & ~mode:
        path.chmod(mode)
        loose.append(f"{path} was {current:04o}")


def owner_only(database: Path, *, directory_is_ours: bool = True) -> list[str]:
    """Make ``database`` (created if absent) and its side files 0600, and its directory
    0700 when ``directory_is_ours`` (the service's data directory; a directory the
    operator named in the storage URL is only reported). Returns what was too loose."""
    loose: list[str] = []
    folder = database.parent
    folder.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    if directory_is_ours:
        _tighten(folder, DIR_MODE, loose)
    elif stat.S_IMODE(folder.stat().st_mode) & 0o077:
        log.warning("database directory %s is readable by others; make it 0700", folder)
    fd = os.open(database, os.O_CREAT | os.O_RDWR, FILE_MODE)  # umask cannot widen 0600
    os.close(fd)
    _tighten(database, FILE_MODE, loose)
    for suffix in SIDE_FILES:
        side = database.with_name(database.name + suffix)
        if side.exists():
            _tighten(side, FILE_MODE, loose)
    if loose:
        log.warning(
            "data files were readable by others; tightened to owner-only: %s", "; ".join(loose)
        )
    return loose
