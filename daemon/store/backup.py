"""A consistent online copy of the data dir (`archive.backup`), and its restore
(`loggbokd --restore PATH`). Blocking: the daemon runs `backup` on a thread.

Backup goes into a folder that is absent, empty or an earlier backup (never
anything else: the daemon writes there with the user's rights). The database
first, through SQLite's backup API on a connection of its own, copied in one
step (one read transaction: a consistent snapshot, even with the WAL and a
writer busy meanwhile), into a temporary file renamed into place. Then the
attachment files (`blobs/`): content-addressed, so a file already in the folder
(an earlier backup) is the same and is skipped, and since a database row only
ever names a file written before it, every file the snapshot names is there (in
`blobs/.trash/` when a transaction let go of it since: copied from there).
Secrets are not copied (they are in the keyring, or `secrets.json`).

Restore: into a data dir no daemon uses (its lock is taken for the duration)
that holds no database yet; the backup's database is checked (an SQLite
database, a schema this loggbok knows, `quick_check` ok) before anything is
written.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from loggbok.daemon.store.blobs import TRASH
from loggbok.daemon.store.migrations import MIGRATIONS
from loggbok.protocol import types as t

DATABASE = "loggbok.sqlite3"
BLOBS = "blobs"
LOCK = "daemon.lock"


class RestoreRefused(RuntimeError):
    """The restore cannot go ahead; nothing was written."""


class BackupRefused(RuntimeError):
    """The backup folder cannot be used; nothing was written."""


def _check_target(target: Path) -> None:
    """An absent or empty folder, or one holding an earlier backup (and nothing else)."""
    if not target.exists():
        return
    if not target.is_dir():
        raise BackupRefused(f"{target} is not a folder")
    names = {p.name for p in target.iterdir() if not p.name.startswith(".")}
    if names and (DATABASE not in names or not names <= {DATABASE, BLOBS}):
        raise BackupRefused(
            f"{target} is neither empty nor an earlier loggbok backup: choose an empty folder"
        )


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy_database(source: Path, target: Path) -> int:
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    temp.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(temp)
        try:
            src.backup(dst)  # pages=-1: the whole database in one step, one snapshot
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    finally:
        src.close()
    os.chmod(temp, 0o600)
    _fsync(temp)
    os.replace(temp, target)
    return target.stat().st_size


def _blob_files(root: Path) -> Iterator[tuple[Path, str]]:
    """(file, sha256) of every blob, those in the trash too (`blob_gc.py`: one the
    snapshot names may have been let go of since)."""
    if not root.is_dir():
        return
    for folder in sorted(root.iterdir()):
        if folder.is_dir() and len(folder.name) == 2:
            for file in sorted(folder.iterdir()):
                if file.is_file() and not file.name.startswith("."):
                    yield file, folder.name + file.name
    trash = root / TRASH
    if trash.is_dir():
        for file in sorted(trash.iterdir()):
            if file.is_file() and not file.name.startswith("."):
                yield file, file.name


def _copy_blobs(source: Path, target: Path) -> tuple[int, int]:
    copied = present = 0
    for file, digest in _blob_files(source):
        dest = target / digest[:2] / digest[2:]
        if dest.exists():
            present += 1
            continue
        dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
        try:
            _copy_either(file, source / TRASH / digest, temp)
        except FileNotFoundError:  # let go of and removed meanwhile: named by nothing
            continue
        _fsync(temp)
        os.replace(temp, dest)
        copied += 1
    return copied, present


def _copy_either(file: Path, trashed: Path, temp: Path) -> None:
    """Copy `file`, or, moved into the trash since it was listed, `trashed`."""
    try:
        shutil.copyfile(file, temp)
    except FileNotFoundError:
        shutil.copyfile(trashed, temp)


def backup(database: Path, target: Path) -> t.ArchiveBackupResult:
    """Copy the database file `database` and the attachments beside it into `target`
    (absent, empty, or an earlier backup; else BackupRefused)."""
    _check_target(target)
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    size = _copy_database(database, target / DATABASE)
    copied, present = _copy_blobs(database.parent / BLOBS, target / BLOBS)
    return t.ArchiveBackupResult(
        path=str(target), database_bytes=size, blobs_copied=copied, blobs_present=present
    )


def _check_backup(database: Path) -> None:
    if not database.is_file():
        raise RestoreRefused(f"{database} does not exist: not a loggbok backup")
    try:
        conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        try:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise RestoreRefused(f"{database} is not a usable database ({exc})") from None
    if version < 1 or version > len(MIGRATIONS):
        raise RestoreRefused(
            f"{database} has schema {version}; this loggbok knows 1 to {len(MIGRATIONS)}"
        )
    if check != "ok":
        raise RestoreRefused(f"{database} is damaged: {check}")


@contextlib.contextmanager
def _data_dir_lock(data_dir: Path) -> Iterator[None]:
    fd = os.open(data_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RestoreRefused(f"a loggbokd is running on {data_dir}: stop it first") from None
        yield
    finally:
        os.close(fd)


def restore(source: Path, data_dir: Path) -> t.ArchiveBackupResult:
    """Copy a backup into `data_dir`; RestoreRefused (nothing written) when it cannot."""
    _check_backup(source / DATABASE)
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    with _data_dir_lock(data_dir):
        for name in (DATABASE, f"{DATABASE}-wal"):
            if (data_dir / name).exists():
                raise RestoreRefused(
                    f"{data_dir} already holds a database ({name}): restore into an empty"
                    " data dir (--data-dir), or move that one aside"
                )
        size = _copy_database(source / DATABASE, data_dir / DATABASE)
        copied, present = _copy_blobs(source / BLOBS, data_dir / BLOBS)
    return t.ArchiveBackupResult(
        path=str(data_dir), database_bytes=size, blobs_copied=copied, blobs_present=present
    )
