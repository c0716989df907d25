"""The PostgreSQL database (a team's shared store): `db.Database` on psycopg 3.

Connections: one writer (all of this process's writes, serialised by a lock)
and a small pool of readers (reads outside transactions, each statement its
own snapshot of committed data, as SQLite's reader in WAL mode).

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

SQL arrives in the store's portable subset: `?` and `:name` placeholders are
rewritten to psycopg's (`_translate`), Python booleans bound as 0/1.

Errors: PostgreSQL's disk_full (SQLSTATE 53100) is `StorageFull`; a database
that cannot be reached, or one of a newer schema, is `StoreUnavailable`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import re
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.adapt import Dumper
from psycopg.rows import RowMaker

from loggbok.daemon.store.db import DerivedReads, is_storage_full, storage_full
from loggbok.daemon.store.dialect import POSTGRES
from loggbok.daemon.store.errors import StoreUnavailable
from loggbok.daemon.store.fair import FairGate
from loggbok.daemon.store.pg_schema import PG_MIGRATIONS

SqlParams = Sequence[Any] | dict[str, Any]
__all__ = ["PostgresDatabase", "PostgresTransaction", "is_full"]

WRITE_LOCK = 0x6C6F6762  # "logb": the store's write lock (pg_advisory_xact_lock)
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


async def _connect(url: str) -> psycopg.AsyncConnection[PgRow]:
    try:
        conn = await psycopg.AsyncConnection.connect(url, autocommit=True, row_factory=_row_factory)
    except psycopg.Error as exc:
        raise StoreUnavailable(f"the database {redacted(url)} cannot be reached ({exc})") from exc
    conn.adapters.register_dumper(bool, _BoolAsInt)
    return conn


class PostgresDatabase(DerivedReads):
    """Owns the writer and the readers. Create with `await PostgresDatabase.open(url)`."""

    dialect = POSTGRES

    def __init__(
        self,
        url: str,
        writer: psycopg.AsyncConnection[PgRow],
        readers: list[psycopg.AsyncConnection[PgRow]],
    ) -> None:
        self.url = url
        self.where = redacted(url)
        self._writer = writer
        self._write_lock = asyncio.Lock()
        self._all_readers = readers
        self._idle = list(readers)
        """Readers not running a statement now (the gate lets in at most as many reads)."""
        self._reader_gate = FairGate(width=max(1, len(readers)))
        self.generation = 0

    @classmethod
    async def open(cls, url: str) -> PostgresDatabase:
        writer = await _connect(url)
        readers: list[psycopg.AsyncConnection[PgRow]] = []
        try:
            await _migrate(writer, url)
            readers = [await _connect(url) for _ in range(READERS)]
            db = cls(url, writer, readers)
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
                yield PostgresTransaction(conn, self)
                if not plan_neutral:
                    await conn.execute("UPDATE store_generation SET generation = generation + 1")
                await conn.execute("COMMIT")
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
            cursor = await conn.execute(_translate(sql), params or None)
            return await cursor.fetchall()

    async def fetchone(self, sql: str, params: SqlParams = ()) -> Any:
        async with self._reader() as conn:
            cursor = await conn.execute(_translate(sql), params or None)
            return await cursor.fetchone()

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

    async def execute(self, sql: str, params: SqlParams = ()) -> None:
        await self._conn.execute(_translate(sql), params or None)

    async def executemany(self, sql: str, rows: Iterable[SqlParams]) -> None:
        batch = list(rows)
        if batch:
            async with self._conn.cursor() as cursor:
                await cursor.executemany(_translate(sql), batch)

    async def fetchall(self, sql: str, params: SqlParams = ()) -> list[Any]:
        cursor = await self._conn.execute(_translate(sql), params or None)
        return await cursor.fetchall()

    async def fetchone(self, sql: str, params: SqlParams = ()) -> Any:
        cursor = await self._conn.execute(_translate(sql), params or None)
        return await cursor.fetchone()

    async def other_writers(self) -> int:
        """The generation row less this process's own bumps (see the module)."""
        value = await self.fetchval("SELECT generation FROM store_generation")
        return int(value) - self._db.generation


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
