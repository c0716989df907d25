"""The PostgreSQL database (a team's shared store): `db.Database` on psycopg 3.

Connections: one writer (all of this process's writes, serialised by a lock)
and a small pool of readers (reads outside transactions, each statement its
own snapshot of committed data, as SQLite's reader in WAL mode). A text
search is planned for its own words every time (`_prepare`).

Several daemons (one per member) write into one database at once. Every write
transaction first takes the store's write lock (`pg_advisory_xact_lock`), so
writes are serialised across processes as SQLite serialises them within one:
a sync round's snapshot-plan-write stays consistent, no thread is decided
twice and no message created twice (a message in two members' mailboxes is
one message with two locations). Every plan-changing commit bumps the one row
of `store_generation`; `Transaction.other_writers` is that row less this
process's own bumps, so it changes exactly when another process committed.
New timeline entries are announced to the other processes with `NOTIFY
loggbok_changes` (`publish`: this process's id and the messages' ids);
`published()` LISTENs and yields the other processes' message ids.

Attachments live in the database (`attachment_blobs`, one row per distinct
content, keyed by its sha256: deduplicated across members), so any member's
daemon serves any attachment its member may see. Parsing (in worker processes)
writes them into a staging folder in the data dir (`blob-staging`); the transaction
whose attachment rows name them copies in those the table lacks
(`PostgresTransaction.keep_blobs`), and their files are removed once it
committed. A sync round copies its chunk's blobs in just before that
transaction (`upload_blobs`), outside the store's write lock: megabytes of
attachment never hold up the other daemons' writes. `forget_staged_blobs`
clears what a crash left there. Blobs are read in pieces (`read_blob`:
`substring` of a column stored uncompressed, so a piece reads only its own
pages).

One daemon per member: `claim_member` takes a session-level advisory lock
keyed by the member's id on the writer connection, held while the daemon runs
and released by PostgreSQL when the connection ends, however the process
ended. Every connection names its process (`application_name`: "loggbokd pid
N on HOST"), which is how a refused daemon names the one holding the lock.

SQL arrives in the store's portable subset: `?` and `:name` placeholders are
rewritten to psycopg's (`_translate`), Python booleans bound as 0/1.

Errors: PostgreSQL's disk_full (SQLSTATE 53100) is `StorageFull`; a database
that cannot be reached, or one of a newer schema, is `StoreUnavailable`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import os
import re
import socket
from collections.abc import AsyncIterator, Collection, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.adapt import Dumper
from psycopg.rows import RowMaker

from loggbok.daemon.store.blobs import BlobStore
from loggbok.daemon.store.db import DerivedReads, is_storage_full, storage_full
from loggbok.daemon.store.dialect import POSTGRES
from loggbok.daemon.store.errors import MemberTaken, StoreUnavailable
from loggbok.daemon.store.fair import FairGate
from loggbok.daemon.store.pg_schema import PG_MIGRATIONS

SqlParams = Sequence[Any] | dict[str, Any]
__all__ = ["PostgresDatabase", "PostgresTransaction", "is_full"]

WRITE_LOCK = 0x6C6F6762  # "logb": the store's write lock (pg_advisory_xact_lock)
MEMBER_LOCK = 0x6C6F676D  # "logm": (MEMBER_LOCK, member id), a daemon's claim on its member
CLAIM_WAIT_MS = 3000
"""How long `claim_member` waits for a member's lock before naming its holder."""
MAX_BLOB = 1_000_000_000
"""The largest attachment a bytea holds (PostgreSQL's limit is 1 GiB a value); a larger
one, under a cap set higher than that, is recorded `over_limit`."""
_INT4 = 2**31 - 1
CHANNEL = "loggbok_changes"
READERS = 4
_DISK_FULL = "53100"
_NOTIFY_IDS = 500


def is_full(exc: BaseException) -> bool:
    """True for PostgreSQL's disk_full."""
    return isinstance(exc, psycopg.Error) and exc.sqlstate == _DISK_FULL


def redacted(url: str) -> str:
    """`url` without its password (for messages and logs)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


class PgRow:
    """A row by position and by name, as sqlite3.Row (the first column of a name wins)."""

    __slots__ = ("_index", "_values")

    def __init__(self, values: Sequence[Any], index: dict[str, int]) -> None:
        self._values = values
        self._index = index

    def __getitem__(self, key: int | str) -> Any:
        return self._values[self._index[key] if isinstance(key, str) else key]

    def keys(self) -> list[str]:
        return list(self._index)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PgRow):
            return tuple(self._values) == tuple(other._values)
        return isinstance(other, tuple) and tuple(self._values) == other

    def __hash__(self) -> int:
        return hash(tuple(self._values))

    def __repr__(self) -> str:
        return f"PgRow({tuple(self._values)!r})"


def _row_factory(cursor: Any) -> RowMaker[PgRow]:
    index: dict[str, int] = {}
    for i, column in enumerate(cursor.description or ()):
        index.setdefault(column.name, i)
    return lambda values: PgRow(values, index)


class _BoolAsInt(Dumper):
    """Booleans are 0/1 integers in the store's schema (as in SQLite)."""

    oid = psycopg.adapters.types["int8"].oid

    def dump(self, obj: Any) -> bytes:
        return b"1" if obj else b"0"


_TOKENS = re.compile(r"'(?:[^']|'')*'|\"[^\"]*\"|--[^\n]*|::|\?|:[A-Za-z_]\w*|%|[^'\"?:%-]+|.")


@functools.lru_cache(maxsize=2048)
def _translate(sql: str) -> str:
    """The store's placeholders (`?`, `:name`) as psycopg's (`%s`, `%(name)s`); a `%`
    anywhere doubled."""
    out = []
    for token in _TOKENS.findall(sql):
        if token == "?":
            out.append("%s")
        elif token.startswith(":") and token != "::":
            out.append(f"%({token[1:]})s")
        else:
            out.append(token.replace("%", "%%"))
    return "".join(out)


def application_name() -> str:
    """How this process's connections name it (pg_stat_activity; at most 63 bytes)."""
    name = f"loggbokd pid {os.getpid()} on {socket.gethostname()}"
    return name.encode()[:63].decode("utf-8", "ignore")


async def _connect(url: str) -> psycopg.AsyncConnection[PgRow]:
    try:
        conn = await psycopg.AsyncConnection.connect(
            url, autocommit=True, row_factory=_row_factory, application_name=application_name()
        )
    except psycopg.Error as exc:
        raise StoreUnavailable(f"the database {redacted(url)} cannot be reached ({exc})") from exc
    conn.adapters.register_dumper(bool, _BoolAsInt)
    return conn


def _prepare(sql: str) -> bool | None:
    """Whether psycopg may prepare `sql` (None: its default, once it ran a few times).
    Never a text search: PostgreSQL would then plan it once for every word (a generic
    plan), where the best plan depends on the word (the newest rows walked for a
    common one, the index for a rare one). Prepared, any other statement skips its
    planning (most of a timeline page's time in the database)."""
    return False if "to_tsquery(" in sql else None


class PostgresDatabase(DerivedReads):
    """Owns the writer and the readers. Create with `await PostgresDatabase.open(url)`."""

    dialect = POSTGRES

    def __init__(
        self,
        url: str,
        writer: psycopg.AsyncConnection[PgRow],
        readers: list[psycopg.AsyncConnection[PgRow]],
        blobs: BlobStore,
    ) -> None:
        self.url = url
        self.where = redacted(url)
        self.blobs = blobs
        """The staging folder parsing writes attachments into (see the module)."""
        self._writer = writer
        self._write_lock = asyncio.Lock()
        self._all_readers = readers
        self._idle = list(readers)
        """Readers not running a statement now (the gate lets in at most as many reads)."""
        self._reader_gate = FairGate(width=max(1, len(readers)))
        self.generation = 0

    @classmethod
    async def open(cls, url: str, blobs: BlobStore) -> PostgresDatabase:
        """Open (and migrate) the database; attachments are staged in `blobs`."""
        writer = await _connect(url)
        readers: list[psycopg.AsyncConnection[PgRow]] = []
        try:
            await _migrate(writer, url)
            readers = [await _connect(url) for _ in range(READERS)]
            db = cls(url, writer, readers, blobs)
        except BaseException:
            for conn in (writer, *readers):
                await conn.close()
            raise
        return db

    async def close(self) -> None:
        for conn in (self._writer, *self._all_readers):
            await conn.close()

    @asynccontextmanager
    async def transaction(
        self, *, plan_neutral: bool = False
    ) -> AsyncIterator[PostgresTransaction]:
        """A write transaction under the store's write lock; commits on success, rolls back
        on any error. Plan-changing ones (not `plan_neutral`) bump the generation row."""
        async with self._write_lock:
            conn = self._writer
            try:
                await conn.execute("BEGIN")
                await conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
                tx = PostgresTransaction(conn, self)
                yield tx
                if not plan_neutral:
                    await conn.execute("UPDATE store_generation SET generation = generation + 1")
                await conn.execute("COMMIT")
                if tx.kept:  # in the database now: their staged files can go
                    with contextlib.suppress(OSError):
                        await asyncio.to_thread(self.blobs.discard, tx.kept)
            except BaseException as exc:
                await asyncio.shield(self._roll_back())
                if is_storage_full(exc):
                    raise storage_full(exc) from exc
                raise
            finally:
                if not plan_neutral:
                    self.generation += 1

    async def _roll_back(self) -> None:
        with contextlib.suppress(psycopg.Error):
            if self._writer.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                await self._writer.execute("ROLLBACK")

    @asynccontextmanager
    async def _reader(self) -> AsyncIterator[psycopg.AsyncConnection[PgRow]]:
        """An idle reader, for this caller's turn (`FairGate`, as on SQLite)."""
        async with self._reader_gate.turn():
            conn = self._idle.pop()
            try:
                yield conn
            finally:
                self._idle.append(conn)

    async def fetchall(self, sql: str, params: SqlParams = ()) -> list[Any]:
        async with self._reader() as conn:
            cursor = await conn.execute(_translate(sql), params or None, prepare=_prepare(sql))
            return await cursor.fetchall()

    async def fetchone(self, sql: str, params: SqlParams = ()) -> Any:
        async with self._reader() as conn:
            cursor = await conn.execute(_translate(sql), params or None, prepare=_prepare(sql))
            return await cursor.fetchone()

    async def read_blob(
        self, sha256: str, offset: int = 0, length: int | None = None
    ) -> tuple[int, bytes] | None:
        if length is None:
            sql = "SELECT size, data FROM attachment_blobs WHERE sha256 = %s"
            params: tuple[object, ...] = (sha256,)
        else:
            sql = """SELECT size, substring(data FROM %s::integer FOR %s::integer)
                     FROM attachment_blobs WHERE sha256 = %s"""
            params = (min(offset, _INT4 - 1) + 1, min(length, _INT4), sha256)
        async with self._reader() as conn:
            cursor = await conn.execute(sql, params, binary=True)
            row = await cursor.fetchone()
        return None if row is None else (int(row[0]), bytes(row[1]))

    async def upload_blobs(self, digests: Collection[str]) -> None:
        """Copy staged blobs the database lacks into it ahead of the transaction that will
        name them, each in a statement of its own outside the store's write lock, so the
        bytes do not hold up the other daemons' writes (the transaction then finds them
        there). One whose transaction never commits stays unnamed (rows are kept)."""
        if not digests:
            return
        async with self._write_lock:
            conn = self._writer
            cursor = await conn.execute(
                "SELECT sha256 FROM attachment_blobs WHERE sha256 = ANY(%s)", (sorted(digests),)
            )
            present = {row[0] for row in await cursor.fetchall()}
            for digest in sorted(set(digests) - present):
                data = await asyncio.to_thread(_staged, self.blobs, digest)
                if data is not None and len(data) <= MAX_BLOB:
                    await _insert_blob(conn, digest, data)

    async def forget_staged_blobs(self) -> None:
        """Remove the staging folder's files: what a process that ended before copying
        them into the database left (call while holding the data dir, no transaction of
        this process open)."""
        await asyncio.to_thread(self.blobs.clear)

    async def claim_member(self, member: int) -> None:
        """A session-level advisory lock (MEMBER_LOCK, `member`) on the writer; MemberTaken
        naming its holder (its `application_name`) when another session has it."""
        async with self._write_lock:
            conn = self._writer
            try:
                # A holder that has just died (kill -9) is let go of within moments:
                # wait that long for it rather than refuse at once.
                async with conn.transaction():
                    await conn.execute(f"SET LOCAL lock_timeout = '{CLAIM_WAIT_MS}ms'")
                    await conn.execute(
                        "SELECT pg_advisory_lock(%s::integer, %s::integer)", (MEMBER_LOCK, member)
                    )
                return  # a session-level lock outlives the transaction that took it
            except psycopg.errors.LockNotAvailable:
                pass
            cursor = await conn.execute(
                """SELECT a.application_name FROM pg_locks l
                   LEFT JOIN pg_stat_activity a ON a.pid = l.pid
                   WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
                     AND l.database = (SELECT oid FROM pg_database
                                       WHERE datname = current_database())
                     AND l.classid::bigint = %s AND l.objid::bigint = %s""",
                (MEMBER_LOCK, member),
            )
            holder = await cursor.fetchone()
        named = holder[0] if holder is not None and holder[0] else "another connection"
        raise MemberTaken(f" ({named})")

    async def publish(self, message_ids: list[int]) -> None:
        """NOTIFY the message ids (in payloads under PostgreSQL's 8,000-byte cap)."""
        me = str(os.getpid())
        async with self._reader() as conn:
            for start in range(0, len(message_ids), _NOTIFY_IDS):
                chunk = message_ids[start : start + _NOTIFY_IDS]
                payload = " ".join([me, *map(str, chunk)])
                await conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))

    async def published(self) -> AsyncIterator[list[int]]:
        """Other processes' `publish`ed message ids (LISTEN on a connection of its own,
        opened here and closed when the iteration ends)."""
        conn = await _connect(self.url)
        loop = asyncio.get_running_loop()
        readable = asyncio.Event()
        # The connection's socket, read when it is readable: psycopg's notifies() wakes
        # every 100 ms to look, and an idle daemon must sleep.
        fd = conn.pgconn.socket
        try:
            await conn.execute(f"LISTEN {CHANNEL}")
            loop.add_reader(fd, readable.set)
            me = str(os.getpid())
            while True:
                await readable.wait()
                readable.clear()
                conn.pgconn.consume_input()
                while (note := conn.pgconn.notifies()) is not None:
                    sender, *ids = note.extra.decode().split()
                    if sender != me and ids:
                        yield [int(i) for i in ids]
        finally:
            loop.remove_reader(fd)
            await conn.close()


class PostgresTransaction(DerivedReads):
    """Queries inside one write transaction (reads see its own writes)."""

    dialect = POSTGRES

    def __init__(self, conn: psycopg.AsyncConnection[PgRow], db: PostgresDatabase) -> None:
        self._conn = conn
        self._db = db
        self.kept: set[str] = set()
        """Blobs this transaction makes sure of: their staged files go once it commits."""

    async def execute(self, sql: str, params: SqlParams = ()) -> None:
        await self._conn.execute(_translate(sql), params or None)

    async def executemany(self, sql: str, rows: Iterable[SqlParams]) -> None:
        batch = list(rows)
        if batch:
            async with self._conn.cursor() as cursor:
                await cursor.executemany(_translate(sql), batch)

    async def fetchall(self, sql: str, params: SqlParams = ()) -> list[Any]:
        cursor = await self._conn.execute(_translate(sql), params or None, prepare=_prepare(sql))
        return await cursor.fetchall()

    async def fetchone(self, sql: str, params: SqlParams = ()) -> Any:
        cursor = await self._conn.execute(_translate(sql), params or None, prepare=_prepare(sql))
        return await cursor.fetchone()

    async def other_writers(self) -> int:
        """The generation row less this process's own bumps (see the module)."""
        value = await self.fetchval("SELECT generation FROM store_generation")
        return int(value) - self._db.generation

    async def keep_blobs(self, digests: Collection[str]) -> dict[str, str]:
        """Copy into `attachment_blobs` the staged blobs it lacks (one at a time: at most
        one attachment held at once); see `db.Transaction.keep_blobs`."""
        wanted = sorted(set(digests))
        present = {
            row[0]
            for row in await self.fetchall_in(
                "SELECT sha256 FROM attachment_blobs WHERE sha256 IN ({placeholders})", wanted
            )
        }
        left: dict[str, str] = {}
        for digest in wanted:
            if digest in present:
                self.kept.add(digest)
                continue
            data = await asyncio.to_thread(_staged, self._db.blobs, digest)
            if data is None:
                left[digest] = "missing"
            elif len(data) > MAX_BLOB:
                left[digest] = "over_limit"
            else:
                await _insert_blob(self._conn, digest, data)
                self.kept.add(digest)
        return left

    async def drop_blobs(self, digests: Collection[str]) -> None:
        """Delete the blobs' rows, under the store's write lock: a transaction of another
        daemon about to name one copies it in again from its staged file (`keep_blobs`;
        `blob_gc.py`)."""
        await self.executemany(
            "DELETE FROM attachment_blobs WHERE sha256 = ?", [(d,) for d in sorted(digests)]
        )


async def _insert_blob(conn: psycopg.AsyncConnection[PgRow], digest: str, data: bytes) -> None:
    await conn.execute(
        """INSERT INTO attachment_blobs (sha256, size, data) VALUES (%s, %s, %b)
           ON CONFLICT (sha256) DO NOTHING""",
        (digest, len(data), data),
    )


def _staged(blobs: BlobStore, digest: str) -> bytes | None:
    """A staged blob's bytes, or None when its file is gone or does not hash to its name."""
    try:
        data = blobs.get(digest)
    except FileNotFoundError:
        return None
    return data if hashlib.sha256(data).hexdigest() == digest else None


async def _migrate(conn: psycopg.AsyncConnection[PgRow], url: str) -> None:
    """Bring the schema to the newest version, one migration per transaction, under the
    write lock (daemons starting together migrate once)."""
    await conn.execute("BEGIN")
    try:
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
        await conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        cursor = await conn.execute("SELECT version FROM schema_version")
        row = await cursor.fetchone()
        if row is None:
            await conn.execute("INSERT INTO schema_version VALUES (0)")
        version = int(row[0]) if row else 0
        if version > len(PG_MIGRATIONS):
            raise StoreUnavailable(
                f"the database {redacted(url)} was written by a newer loggbok (schema"
                f" {version}; this one knows up to {len(PG_MIGRATIONS)}): run that version"
            )
        for number, script in enumerate(PG_MIGRATIONS[version:], start=version + 1):
            await conn.execute(script.encode())
            await conn.execute("UPDATE schema_version SET version = %s", (number,))
        await conn.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(psycopg.Error):
            await conn.execute("ROLLBACK")
        raise
