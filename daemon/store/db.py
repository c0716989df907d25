"""What the query objects use of a database: `Database`, `Transaction`, `Row` and
`Dialect`, as protocols, with two implementations: SQLite (`sqlite_db.py`, the
default, one file in the data dir) and PostgreSQL (`postgres_db.py`, a team's
shared database). `open_database` picks one by URL.

The store's SQL is written once, in the subset both understand: `?` (or `:name`)
placeholders, `INSERT ... ON CONFLICT`, `RETURNING id`, booleans as 0/1 integers.
What differs is asked of `db.dialect` (`dialect.py`), never tested for by name.

Attachments: parsing writes them into `db.blobs` (`blobs.BlobStore`, a
content-addressed folder: beside a SQLite file that is where they live; with
PostgreSQL a staging folder in the data dir); `write_bodies` hands the digests a
transaction's attachment rows name to `tx.keep_blobs`, which on PostgreSQL copies
them into the database (`attachment_blobs`) in that transaction, so every
member's daemon reads them there (`db.read_blob`).

One daemon per member: `db.claim_member` holds the store's claim on serving a
member for as long as the database is open (SQLite: a lock file beside the
database; PostgreSQL: a session-level advisory lock, which ends with the
connection, even a killed process's).

Errors: a write refused for want of space is `StorageFull` (`is_storage_full`
recognises each driver's form of it); a database that cannot be used at all is
`StoreUnavailable`; a member another process serves is `MemberTaken`.
"""

from __future__ import annotations

import errno
from collections.abc import AsyncIterator, Collection, Iterable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, Protocol

from loggbok.daemon.store.blobs import BlobStore
from loggbok.daemon.store.dialect import Dialect
from loggbok.daemon.store.errors import MemberTaken, StorageFull, StoreUnavailable

SqlParams = Sequence[Any] | dict[str, Any]
__all__ = [
    "Database",
    "Dialect",
    "MemberTaken",
    "Row",
    "SqlParams",
    "StorageFull",
    "StoreUnavailable",
    "Transaction",
    "is_storage_full",
    "open_database",
    "storage_full",
]

_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
STAGING = "blob-staging"
"""The data dir's folder where attachments wait for the database (PostgreSQL). Never
`blobs`: that is where a SQLite store in the same data dir keeps its own, which the
staging folder's clearing at start must not touch."""
_IN_CHUNK = 500


class DerivedReads:
    """`fetchval` and `fetchall_in`, written once from a class's own `fetchone` and
    `fetchall` (each database and transaction class of both stores inherits them)."""

    async def fetchall(self, sql: str, params: SqlParams = ()) -> list[Any]:
        raise NotImplementedError

    async def fetchone(self, sql: str, params: SqlParams = ()) -> Any:
        raise NotImplementedError

    async def fetchval(self, sql: str, params: SqlParams = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    async def fetchall_in(self, sql: str, values: Iterable[Any]) -> list[Any]:
        """Run `sql` (with one `{placeholders}`) over the distinct `values`, in chunks."""
        unique = list(dict.fromkeys(values))
        rows: list[Any] = []
        for start in range(0, len(unique), _IN_CHUNK):
            chunk = unique[start : start + _IN_CHUNK]
            rows += await self.fetchall(sql.format(placeholders=",".join("?" * len(chunk))), chunk)
        return rows


class Row(Protocol):
    """A result row: by position (`row[0]`) and by column name (`row["id"]`)."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def keys(self) -> list[str]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Transaction(Protocol):
    """Queries inside one write transaction (reads see its own writes)."""

    @property
    def dialect(self) -> Dialect: ...

    async def execute(self, sql: str, params: SqlParams = ()) -> None: ...

    async def executemany(self, sql: str, rows: Iterable[SqlParams]) -> None: ...

    async def fetchall(self, sql: str, params: SqlParams = ()) -> list[Row]: ...

    async def fetchone(self, sql: str, params: SqlParams = ()) -> Row | None: ...

    async def fetchval(self, sql: str, params: SqlParams = ()) -> Any: ...

    async def fetchall_in(self, sql: str, values: Iterable[Any]) -> list[Row]:
        """Run `sql` (with one `{placeholders}`) over the distinct `values`, in chunks."""
        ...

    async def other_writers(self) -> int:
        """A number that changes whenever another process (another connection) commits a
        change a sync plan may depend on; never for this connection's own commits."""
        ...

    async def keep_blobs(self, digests: Collection[str]) -> dict[str, str]:
        """Make the attachment blobs `digests` (written into `db.blobs`) part of what this
        transaction commits: nothing to do on SQLite, where that folder is where they
        live; on PostgreSQL those not in `attachment_blobs` yet are copied there (and
        their staged files removed once it commits). Returns those that could not be
        kept, each with the status its attachments take instead (`missing`: its file
        is gone; `over_limit`: larger than the database holds)."""
        ...

    async def drop_blobs(self, digests: Collection[str]) -> None:
        """The blobs `digests`, which no attachment names any more as this transaction
        sees it, go with its commit (`blob_gc.py`: PostgreSQL deletes their rows here;
        SQLite moves their files into the trash, back if it rolls back)."""
        ...


class Database(Protocol):
    """A store's database: reads outside transactions, and write transactions."""

    @property
    def dialect(self) -> Dialect: ...

    generation: int
    """Committed write transactions of this process that may change what a sync plan is
    based on (every one not marked plan-neutral)."""
    where: str
    """Where the data is, for messages (a path, or a URL without its password)."""
    blobs: BlobStore
    """Where parsing writes attachments (see the module): the store's own folder on
    SQLite, a staging folder on PostgreSQL."""

    def transaction(
        self, *, plan_neutral: bool = False
    ) -> AbstractAsyncContextManager[Transaction]: ...

    async def fetchall(self, sql: str, params: SqlParams = ()) -> list[Row]: ...

    async def fetchone(self, sql: str, params: SqlParams = ()) -> Row | None: ...

    async def fetchval(self, sql: str, params: SqlParams = ()) -> Any: ...

    async def fetchall_in(self, sql: str, values: Iterable[Any]) -> list[Row]:
        """Run `sql` (with one `{placeholders}`) over the distinct `values`, in chunks."""
        ...

    async def read_blob(
        self, sha256: str, offset: int = 0, length: int | None = None
    ) -> tuple[int, bytes] | None:
        """(the attachment blob's size, up to `length` of its bytes from `offset`; all of
        them without `length`), or None when the store has no such blob."""
        ...

    async def upload_blobs(self, digests: Collection[str]) -> None:
        """Copy staged blobs into the database ahead of the transaction that will name
        them, outside the store's write lock (PostgreSQL: see `postgres_db.py`); nothing
        on SQLite. That transaction's `keep_blobs` still makes sure of each."""
        ...

    async def forget_staged_blobs(self) -> None:
        """Remove attachments staged by a process that ended before they were copied into
        the database (PostgreSQL). On SQLite, where `blobs` is the store itself, put
        back what a process that ended mid-transaction left in its trash (`blob_gc.py`).
        Only while holding the data dir (the daemon's lock), before any sync."""
        ...

    async def claim_member(self, member: int) -> None:
        """Claim serving `member` on this store until `close` (one daemon per member: a
        second one would sync the same mailboxes); MemberTaken when another process
        holds the claim."""
        ...

    async def publish(self, message_ids: list[int]) -> None:
        """Tell the other processes on this database that these messages got timeline
        entries (PostgreSQL's NOTIFY; nothing on SQLite, which one process writes)."""
        ...

    def published(self) -> AsyncIterator[list[int]]:
        """What other processes `publish`ed, as it comes (LISTEN); never yields on SQLite."""
        ...

    async def close(self) -> None: ...


def is_storage_full(exc: BaseException) -> bool:
    """True for a write refused for want of space, from the database or the file system."""
    from loggbok.daemon.store import postgres_db, sqlite_db

    if isinstance(exc, StorageFull):
        return True
    if sqlite_db.is_full(exc) or postgres_db.is_full(exc):
        return True
    return isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS


def storage_full(exc: BaseException) -> StorageFull:
    """`exc` (for which `is_storage_full` holds) as a StorageFull with a clear message."""
    if isinstance(exc, StorageFull):
        return exc
    return StorageFull(f"no space left for loggbok's data ({exc})")


def database_url(data_dir: Path, given: str | None) -> str:
    """The database a store opens: `given` (`sqlite:///abs/path`, a bare path, or
    `postgresql://...`), else SQLite in the data dir."""
    if not given:
        return f"sqlite://{data_dir / 'loggbok.sqlite3'}"
    if given.startswith(("postgresql://", "postgres://")):
        return given
    if given.startswith("sqlite://"):
        path = given.removeprefix("sqlite://")
        if not path.startswith("/"):
            raise StoreUnavailable(f"--database {given}: a sqlite URL names an absolute path")
        return given
    if "://" in given:
        raise StoreUnavailable(
            f"--database {given}: not a database URL (sqlite:///path or postgresql://...)"
        )
    return f"sqlite://{Path(given).expanduser().absolute()}"


async def open_database(url: str, data_dir: Path) -> Database:
    """Open (and migrate) the database `url` names (see `database_url`); attachments are
    staged in `data_dir` when they live in the database (PostgreSQL)."""
    if url.startswith("sqlite://"):
        from loggbok.daemon.store.sqlite_db import SqliteDatabase

        return await SqliteDatabase.open(Path(url.removeprefix("sqlite://")))
    from loggbok.daemon.store.postgres_db import PostgresDatabase

    return await PostgresDatabase.open(url, BlobStore(data_dir / STAGING))
