"""One SQLite reader connection on a thread of its own: a whole read runs there in
one trip.

A read through aiosqlite takes three trips between the event loop and the
connection's thread (execute, fetch, close the cursor); on a busy machine each
trip waits for the other thread to be scheduled, and a timeline page of four
statements spent most of its time in those twelve hand-overs, not in SQLite.
Here a read is one function run on the reader's thread (`run`): the statement,
its rows, the cursor closed, then one hand-over back. `SqliteDatabase` keeps a
pool of these for reads; writes stay on its aiosqlite writer (transactions).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
SqlParams = Sequence[Any] | dict[str, Any]


def _open(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=10000")
    except BaseException:
        conn.close()
        raise
    return conn


def fetchall(sql: str, params: SqlParams, conn: sqlite3.Connection) -> list[Any]:
    cursor = conn.execute(sql, params)
    try:
        return cursor.fetchall()
    finally:
        cursor.close()


def fetchone(sql: str, params: SqlParams, conn: sqlite3.Connection) -> Any:
    cursor = conn.execute(sql, params)
    try:
        return cursor.fetchone()
    finally:
        cursor.close()


class SqliteReader:
    """A connection that lives on one thread; `run(fn)` calls `fn(connection)` there."""

    def __init__(self, pool: ThreadPoolExecutor, conn: sqlite3.Connection) -> None:
        self._pool = pool
        self._conn = conn
        self._closed = False

    @classmethod
    async def open(cls, path: Path) -> SqliteReader:
        pool = ThreadPoolExecutor(1, thread_name_prefix="sqlite-reader")
        try:
            conn = await asyncio.get_running_loop().run_in_executor(pool, _open, path)
        except BaseException:
            pool.shutdown(wait=False)
            raise
        return cls(pool, conn)

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """`fn(connection)` on the reader's thread (reads queue behind one another)."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, self._conn)

    async def fetchall(self, sql: str, params: SqlParams = ()) -> list[Any]:
        return await self.run(partial(fetchall, sql, params))

    async def fetchone(self, sql: str, params: SqlParams = ()) -> Any:
        return await self.run(partial(fetchone, sql, params))

    async def close(self) -> None:
        """Close the connection and end the thread (again: nothing more to do)."""
        if self._closed:
            return
        self._closed = True
        await self.run(sqlite3.Connection.close)
        self._pool.shutdown(wait=True)
