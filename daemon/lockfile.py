"""An exclusive lock file (flock, made 0600), held by a daemon while it runs:
the data dir's lock (`app.py`) and, on a SQLite store, the member's lock
beside the database (`store/sqlite_db.py`)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class LockHeld(Exception):
    """Another process holds the lock."""


class LockUnopenable(Exception):
    """The lock file cannot be opened (another account's file, a folder not ours)."""


def hold_exclusive(path: Path) -> int:
    """The open descriptor of `path`, locked; the lock ends when it is closed."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise LockUnopenable(f"cannot open {path}: {exc.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise LockHeld from None
    return fd
