"""Content-addressed attachment files beside the database: blobs/ab/cdef… (sha256).

Writes are atomic and durable (temp file, fsync, rename) and idempotent, so a
crash leaves at worst an orphan temp file, never a half-written one under its
final name. `BlobBatch` writes many at once: the fsyncs of a batch run side by
side on a few threads (the disk waits overlap instead of adding up), and every
file is under its final name before the batch ends, so a database row that
names a blob is only ever written after the blob is safe.

With SQLite this folder (beside the database) is where attachments live, and
blobs no attachment names any more are moved into its `.trash/` (`blob_gc.py`),
from where a transaction naming one again restores it, until they are removed
after a grace. With
PostgreSQL it is a staging folder in the data dir: a transaction that names a
blob copies it into the database (`postgres_db.PostgresTransaction.keep_blobs`)
and the file is `discard`ed once that committed; what a crash left is `clear`ed
at the next start.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType

SYNC_THREADS = 8
TRASH = ".trash"


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:]

    def put(self, data: bytes) -> str:
        """Store `data` (blocking: call from a worker thread); returns its sha256."""
        with self.batch() as batch:
            return batch.put(data)

    def batch(self) -> BlobBatch:
        return BlobBatch(self)

    def get(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def trash_path(self, sha256: str) -> Path:
        return self.root / TRASH / sha256

    def read(self, sha256: str, offset: int, length: int | None = None) -> tuple[int, bytes]:
        """(the blob's size, up to `length` of its bytes from `offset`; all of them
        without `length`), blocking."""
        with self.path(sha256).open("rb") as file:
            size = os.fstat(file.fileno()).st_size
            file.seek(min(offset, size))
            return size, file.read(-1 if length is None else length)

    def discard(self, digests: Iterable[str]) -> None:
        """Remove these blobs' files (blocking; those already gone are no error)."""
        for digest in digests:
            self.path(digest).unlink(missing_ok=True)

    def to_trash(self, digests: Iterable[str]) -> list[str]:
        """Move these blobs' files into the trash, dated now (blocking); returns those
        moved (the others had no file)."""
        moved: list[str] = []
        for digest in digests:
            target = self.trash_path(digest)
            if _move(self.path(digest), target):
                os.utime(target)
                moved.append(digest)
        return moved

    def restore(self, digests: Iterable[str]) -> list[str]:
        """Move these blobs back from the trash where they are there (blocking); returns
        those that are in place now."""
        placed: list[str] = []
        for digest in digests:
            target = self.path(digest)
            if target.exists():
                self.trash_path(digest).unlink(missing_ok=True)
            elif not _move(self.trash_path(digest), target):
                continue
            placed.append(digest)
        return placed

    def trashed_before(self, seconds: float) -> list[str]:
        """The blobs in the trash for longer than `seconds` (blocking)."""
        limit = time.time() - seconds
        found: list[str] = []
        with contextlib.suppress(FileNotFoundError), os.scandir(self.root / TRASH) as entries:
            for entry in entries:
                with contextlib.suppress(FileNotFoundError):
                    if entry.is_file() and entry.stat().st_mtime < limit:
                        found.append(entry.name)
        return found

    def purge(self, digests: Iterable[str]) -> None:
        """Remove these blobs from the trash (blocking)."""
        for digest in digests:
            self.trash_path(digest).unlink(missing_ok=True)

    def clear(self) -> None:
        """Remove the folder and everything in it (blocking): a staging folder at start."""
        shutil.rmtree(self.root, ignore_errors=True)


class BlobBatch:
    """Blobs written now and made durable together when the `with` block ends."""

    def __init__(self, store: BlobStore) -> None:
        self.store = store
        self._pending: dict[Path, Path] = {}
        """temp file -> final path, written but not yet synced and renamed."""

    def put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        target = self.store.path(digest)
        if target.exists() or target in self._pending.values():
            return digest
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        with open(temp, "wb") as handle:
            handle.write(data)
        self._pending[temp] = target
        return digest

    def __enter__(self) -> BlobBatch:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        pending, self._pending = self._pending, {}
        if error is not None:
            for temp in pending:
                temp.unlink(missing_ok=True)
            return
        if len(pending) > 1:
            with ThreadPoolExecutor(min(SYNC_THREADS, len(pending))) as pool:
                list(pool.map(_fsync, pending))
        else:
            for temp in pending:
                _fsync(temp)
        for temp, target in pending.items():
            os.replace(temp, target)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _move(source: Path, target: Path) -> bool:
    """Move a blob's file (its folder made private when missing); False when there was
    no file to move."""
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.replace(source, target)
    except FileNotFoundError:
        return False
    return True
