"""The SQLite database (the default store): connections, pragmas, migrations and
transactions; `db.Database` and `db.Transaction` on aiosqlite.

One writer connection (all writes, serialised by a lock, in explicit
`BEGIN IMMEDIATE` transactions, on aiosqlite's thread) and a pool of `READERS`
reader connections (RPC reads see only committed data, thanks to WAL; each
reader runs its statement on its own thread, so a slow search does not hold up
a timeline page and reads scale with clients; a read is one trip to that thread,
`sqlite_reader.py`). No query blocks the event loop. Reads take turns at the
pool fairly between callers (`fair.FairGate`, as wide as the pool: one read per
free reader). Every write
transaction brings the contacts' trigram index up to date before it commits
(`contact_search.settle`).

A write that finds the disk full (SQLite's SQLITE_FULL, or ENOSPC/EDQUOT from
a file beside the database) is rolled back and raised as `StorageFull`; the
writer stays usable, and writes succeed again once space returns.

Test hook: `LOGGBOK_TEST_MAX_PAGE_COUNT=N` in the daemon's environment caps the
database at N pages on the writer connection (`PRAGMA max_page_count`), so a
test can fill it (from its own connection, under the same cap) and free it
again: a real SQLITE_FULL without a full file system. Never set it otherwise.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from loggbok.daemon.lockfile import LockHeld, LockUnopenable, hold_exclusive
from loggbok.daemon.store import contact_search
from loggbok.daemon.store.blob_gc import TRASH_GRACE
from loggbok.daemon.store.blobs import BlobStore
from loggbok.daemon.store.db import DerivedReads, is_storage_full, storage_full
from loggbok.daemon.store.dialect import SQLITE
from loggbok.daemon.store.errors import MemberTaken, StoreUnavailable
from loggbok.daemon.store.fair import FairGate
from loggbok.daemon.store.migrations import MIGRATIONS
from loggbok.daemon.store.sqlite_reader import SqliteReader

Row = sqlite3.Row
SqlParams = Sequence[Any] | dict[str, Any]
__all__ = ["SqliteDatabase", "SqliteTransaction", "is_full"]


MAX_PAGE_COUNT_VARIABLE = "LOGGBOK_TEST_MAX_PAGE_COUNT"
_SQLITE_FULL = 13


def _reader_count() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 2
    return max(2, min(4, cores))


READERS = _reader_count()
"""Reader connections: reads that run at once, one per core the daemon may use, two
to four. Each is a thread, and a read hands the interpreter's lock back and forth
with the event loop once per row; with more reader threads than cores they spent
the time queueing for it: on 2 cores with 4 readers a timeline page cost 2.42 ms
of daemon CPU with 4 clients (1.15 with one) and the throughput fell from 800 to
448 pages/s; with 2 readers 1.41 ms and 760/s. Two at least, so a slow search
leaves the other reader to everyone else."""


def is_full(exc: BaseException) -> bool:
    """True for SQLite's SQLITE_FULL."""
    if isinstance(exc, sqlite3.Error):
        code: int | None = getattr(exc, "sqlite_errorcode", None)
        if code is not None:
            return code & 0xFF == _SQLITE_FULL
        return "database or disk is full" in str(exc)
    return False


async def _connect(path: Path) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(path, isolation_level=None)
    try:
        conn.row_factory = sqlite3.Row
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA synchronous=NORMAL")
        await conn.execute("PRAGMA foreign_keys=ON")
        await conn.execute("PRAGMA busy_timeout=10000")
        await conn.create_function(
            "loggbok_lower", 1, contact_search.lower_text, deterministic=True
        )
    except BaseException:
        await conn.close()  # its thread would keep the process alive
        raise
    return conn


def _unusable(path: Path, exc: sqlite3.DatabaseError) -> StoreUnavailable:
    return StoreUnavailable(
        f"the database {path} cannot be used ({exc}): it is damaged or not a loggbok"
        " database. Moving it (and its -wal and -shm files) aside starts an empty one:"
        " contacts, settings, mailboxes and what was logged by hand are in the old file;"
        " mail is read again from the mailboxes once they are added back"
    )


class SqliteDatabase(DerivedReads):
    """Owns the connections. Create with `await SqliteDatabase.open(path)`."""

    dialect = SQLITE

    def __init__(self, path: Path, writer: aiosqlite.Connection, readers: list[SqliteReader]):
        self.path = path
        self.where = str(path)
        self.blobs = BlobStore(path.parent / "blobs")
        """Attachments live beside the database file (members sharing it share them)."""
        self._member_lock: int | None = None
        self._writer = writer
        self._readers = readers
        self._idle = list(readers)
        """Readers not running a statement now (the gate lets in at most as many reads)."""
        self._write_lock = asyncio.Lock()
        self._reader_gate = FairGate(width=max(1, len(readers)))
        self.before_commit: list[Callable[[SqliteTransaction], Awaitable[None]]] = [
            contact_search.settle
        ]
        """Run at the end of every write transaction, inside it (derived data brought
        up to date in one statement rather than row by row: `contact_search.settle`)."""
        self.generation = 0
        """Committed write transactions that may change what a sync plan is based on
        (see `transaction`); a round that carries a snapshot across batches compares it."""

    @classmethod
    async def open(cls, path: Path) -> SqliteDatabase:
        """Open (and migrate) the database; StoreUnavailable when it cannot be used."""
        try:
            writer = await _connect(path)
        except sqlite3.DatabaseError as exc:
            raise _unusable(path, exc) from exc
        db = cls(path, writer, [])
        try:
            await db._migrate()
            if cap := os.environ.get(MAX_PAGE_COUNT_VARIABLE):
                await writer.execute(f"PRAGMA max_page_count={int(cap)}")
            for _ in range(READERS):
                db._readers.append(await SqliteReader.open(path))
            db._idle = list(db._readers)
            db._reader_gate = FairGate(width=len(db._readers))
        except BaseException as exc:
            for reader in db._readers:
                await reader.close()
            await writer.close()
            if isinstance(exc, sqlite3.DatabaseError):
                raise _unusable(path, exc) from exc
            raise
        return db

    async def _migrate(self) -> None:
        async with self._writer.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        version = int(row[0]) if row else 0
        if version > len(MIGRATIONS):
            raise StoreUnavailable(
                f"the database {self.path} was written by a newer loggbok (schema {version};"
                f" this one knows up to {len(MIGRATIONS)}): run that version, or move the"
                " file aside to start afresh"
            )
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            await self._writer.executescript(
                f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version={number};\nCOMMIT;"
            )

    async def close(self) -> None:
        for reader in self._readers:
            await reader.close()
        await self._writer.close()
        if self._member_lock is not None:
            os.close(self._member_lock)
            self._member_lock = None

    async def claim_member(self, member: int) -> None:
        """An exclusive lock on a file beside the database (`.NAME.user-ID.lock`, 0600),
        held until `close`."""
        path = self.path.parent / f".{self.path.name}.user-{member}.lock"
        try:
            self._member_lock = hold_exclusive(path)
        except LockUnopenable as exc:  # another account's lock, a folder not ours
            raise MemberTaken(f"? {exc}") from None
        except LockHeld:
            raise MemberTaken("") from None

    async def upload_blobs(self, digests: Collection[str]) -> None:
        """Nothing to copy: the blob folder beside the database is where they live."""

    async def forget_staged_blobs(self) -> None:
        """Nothing is staged: the blob folder is where attachments live. A process that
        ended between moving blobs into the trash and committing (`blob_gc.py`) left
        blobs there that attachments still name: they go back."""
        if not await asyncio.to_thread(self.blobs.trashed_before, -60.0):
            return
        async with self.transaction(plan_neutral=True) as tx:
            trashed = await asyncio.to_thread(self.blobs.trashed_before, -60.0)
            named = await tx.fetchall_in(
                "SELECT DISTINCT sha256 FROM attachments WHERE sha256 IN ({placeholders})",
                trashed,
            )
            await asyncio.to_thread(self.blobs.restore, sorted(str(r[0]) for r in named))

    async def read_blob(
        self, sha256: str, offset: int = 0, length: int | None = None
    ) -> tuple[int, bytes] | None:
        try:
            return await asyncio.to_thread(self.blobs.read, sha256, offset, length)
        except FileNotFoundError:
            return None

    @asynccontextmanager
    async def transaction(self, *, plan_neutral: bool = False) -> AsyncIterator[SqliteTransaction]:
        """A write transaction; commits on success, rolls back on any error.

        Every commit bumps `generation`, except with `plan_neutral`: the caller
        promises to touch nothing a sync plan reads (messages by key, threads, thread
        keys, contacts and their addresses, the id counters), e.g. a body filled in.
        """
        async with self._write_lock:
            try:
                await self._run_to_end("BEGIN IMMEDIATE")
            except asyncio.CancelledError:
                await self._run_to_end("ROLLBACK")  # the BEGIN ran all the same
                raise
            tx = SqliteTransaction(self._writer, self.blobs)
            try:
                yield tx
            except BaseException as exc:
                await self._roll_back()
                await tx.undo_drops()
                if is_storage_full(exc):
                    raise storage_full(exc) from exc
                raise
            try:
                # the hooks belong to the commit: a cancellation now waits for both
                await self._run_to_end("COMMIT", self._settle(tx))
            except BaseException as exc:
                # A COMMIT refused (disk full, say) leaves the transaction open: end it,
                # or every later BEGIN on this connection fails.
                await self._roll_back()
                await tx.undo_drops()
                if is_storage_full(exc):
                    raise storage_full(exc) from exc
                raise
            finally:
                if not plan_neutral:
                    self.generation += 1

    async def _then(self, first: Awaitable[None] | None, sql: str) -> None:
        if first is not None:
            await first
        await self._writer.execute(sql)

    async def _settle(self, tx: SqliteTransaction) -> None:
        for settle in self.before_commit:
            await settle(tx)

    async def _roll_back(self) -> None:
        """ROLLBACK when a transaction is open (SQLite ends some by itself on an
        error such as SQLITE_FULL; a ROLLBACK then would fail and hide that error)."""
        if self._writer.in_transaction:
            await self._run_to_end("ROLLBACK")

    async def _run_to_end(self, sql: str, first: Awaitable[None] | None = None) -> None:
        """Run `sql` on the writer and wait for it to finish even if this task is
        cancelled meanwhile: it runs on the connection's thread whatever the task does,
        and the transaction it begins or ends must be settled before the write lock is
        let go (a BEGIN cut off by a cancellation used to leave the connection inside
        a transaction: every later write failed until a restart). A cancellation that
        came meanwhile is raised once the statement is done. `first` (the commit's
        `before_commit` hooks) runs before `sql`, under the same promise."""
        step = asyncio.ensure_future(self._then(first, sql))
        cancelled = False
        while not step.done():
            try:
                await asyncio.shield(step)
            except asyncio.CancelledError:
                cancelled = True
        step.result()
        if cancelled:
            raise asyncio.CancelledError

    @asynccontextmanager
    async def _reader(self) -> AsyncIterator[SqliteReader]:
        """An idle reader, for this caller's turn (`FairGate`: one turn per idle reader)."""
        async with self._reader_gate.turn():
            reader = self._idle.pop()
            try:
                yield reader
            finally:
                self._idle.append(reader)

    async def fetchall(self, sql: str, params: SqlParams = ()) -> list[Any]:
        async with self._reader() as reader:
            return await reader.fetchall(sql, params)

    async def fetchone(self, sql: str, params: SqlParams = ()) -> Any:
        async with self._reader() as reader:
            return await reader.fetchone(sql, params)

    async def publish(self, message_ids: list[int]) -> None:
        """Nothing: one process writes a SQLite store."""

    async def published(self) -> AsyncIterator[list[int]]:
        """Never yields: one process writes a SQLite store."""
        await asyncio.Event().wait()
        yield []


class SqliteTransaction(DerivedReads):
    """Queries inside one write transaction (reads see its own writes)."""

    dialect = SQLITE

    def __init__(self, conn: aiosqlite.Connection, blobs: BlobStore) -> None:
        self._conn = conn
        self._blobs = blobs
        self.trashed: list[str] = []
        """Blobs this transaction moved into the trash (moved back if it rolls back)."""

    async def execute(self, sql: str, params: SqlParams = ()) -> None:
        await self._conn.execute(sql, params)

    async def executemany(self, sql: str, rows: Iterable[SqlParams]) -> None:
        await self._conn.executemany(sql, rows)

    async def fetchall(self, sql: str, params: SqlParams = ()) -> list[Any]:
        async with self._conn.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def fetchone(self, sql: str, params: SqlParams = ()) -> Any:
        async with self._conn.execute(sql, params) as cursor:
            row: Any = await cursor.fetchone()
            return row

    async def other_writers(self) -> int:
        """SQLite's `PRAGMA data_version` on this connection: it changes when another
        connection (another process) commits, never for this connection's own commits."""
        return int(await self.fetchval("PRAGMA data_version"))

    async def keep_blobs(self, digests: Collection[str]) -> dict[str, str]:
        """Nothing to copy: the blob folder beside the database is where they live. One
        that another transaction moved into the trash since its file was written (or
        found there) is moved back (`blob_gc.py`)."""
        wanted = sorted(set(digests))
        if wanted:
            await asyncio.to_thread(self._blobs.restore, wanted)
        return {}

    async def drop_blobs(self, digests: Collection[str]) -> None:
        """Move the blobs' files into the trash (under the database's write lock: no
        other process commits meanwhile); remove those in it for longer than the
        grace that no attachment names (one that is named goes back)."""
        self.trashed += await asyncio.to_thread(self._blobs.to_trash, sorted(digests))
        old = await asyncio.to_thread(self._blobs.trashed_before, TRASH_GRACE)
        if not old:
            return
        named = {
            str(r[0])
            for r in await self.fetchall_in(
                "SELECT DISTINCT sha256 FROM attachments WHERE sha256 IN ({placeholders})", old
            )
        }
        await asyncio.to_thread(self._blobs.restore, sorted(named))
        await asyncio.to_thread(self._blobs.purge, sorted(set(old) - named))

    async def undo_drops(self) -> None:
        """After a rollback: the blobs it moved into the trash go back."""
        if self.trashed:
            await asyncio.to_thread(self._blobs.restore, self.trashed)
            self.trashed = []
