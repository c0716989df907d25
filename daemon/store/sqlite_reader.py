"""One SQLite reader connection on a thread of its own: a whole read runs there in
one trip.

A read through aiosqlite takes three trips between the event loop and the
connection's thread (execute, fetch, close the cursor); on a busy machine each
trip waits for the other thread to be scheduled, and a timeline page of four
statements spent most of its time in those twelve hand-overs, not in SQLite.
Here a read is one function run on the reader's thread (`run`): the statement,
its rows, the cursor closed, then one hand-over back. Readers map the database
file into memory (`MMAP_BYTES`): they share the OS's pages instead of each
copying them into a cache of its own. `SqliteDatabase` keeps a
pool of these for reads; writes stay on its aiosqlite writer (transactions).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from queue import SimpleQueue
from typing import Any, TypeVar

T = TypeVar("T")
SqlParams = Sequence[Any] | dict[str, Any]
MMAP_BYTES = 1 << 31
"""How much of the database file a reader maps into memory (`PRAGMA mmap_size`; SQLite
caps it at its build's maximum, 2,147,418,112 bytes here). Without it every
connection copies each page it reads from the OS's cache into a page cache of its
own: with four readers taking turns, each read found fewer of its pages at hand. A
timeline page cost 0.36-0.45 ms of SQLite CPU (0.41-0.43 over four connections),
mapped 0.26-0.29 (the same over four). The readers never write; the writer keeps
ordinary I/O."""


def _open(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=10000")
        conn.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
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


_Job = tuple[Callable[[Any], Any], asyncio.AbstractEventLoop, "asyncio.Future[Any]"]


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    """On the loop: the job's outcome to its caller (unless the caller gave up)."""
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


def _serve(jobs: SimpleQueue[_Job | None], holder: list[sqlite3.Connection | None]) -> None:
    """The reader's thread: each job's function called with the connection, its
    outcome handed back to the loop in one call (until a None job)."""
    while True:
        job = jobs.get()
        if job is None:
            return
        fn, loop, future = job
        if future.cancelled():  # its caller gave up before it began: not run
            continue
        try:
            result, error = fn(holder[0]), None
        except BaseException as exc:  # handed to the caller, as an executor does
            result, error = None, exc
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
            loop.call_soon_threadsafe(_settle, future, result, error)
        del job, fn, future, result, error


class SqliteReader:
    """A connection that lives on one thread; `run(fn)` calls `fn(connection)` there.

    The thread takes jobs from a queue and hands each outcome back with one
    `call_soon_threadsafe`: no executor's future, work item, locks and chained
    asyncio future per read (they were a tenth of the event loop's time for a
    timeline page)."""

    def __init__(
        self,
        jobs: SimpleQueue[_Job | None],
        thread: threading.Thread,
        holder: list[sqlite3.Connection | None],
    ) -> None:
        self._jobs = jobs
        self._thread = thread
        self._holder = holder
        """The connection, set and used on the thread only (None until opened)."""
        self._closed = False

    @classmethod
    async def open(cls, path: Path) -> SqliteReader:
        jobs: SimpleQueue[_Job | None] = SimpleQueue()
        holder: list[sqlite3.Connection | None] = [None]
        thread = threading.Thread(
            target=_serve, args=(jobs, holder), name="sqlite-reader", daemon=True
        )
        thread.start()
        reader = cls(jobs, thread, holder)

        def connect(_: Any) -> None:
            holder[0] = _open(path)

        try:
            await reader._call(connect)
        except BaseException:
            jobs.put(None)
            raise
        return reader

    def _call(self, fn: Callable[[Any], T]) -> asyncio.Future[T]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((fn, loop, future))
        return future

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """`fn(connection)` on the reader's thread (reads queue behind one another)."""
        return await self._call(fn)

    async def fetchall(self, sql: str, params: SqlParams = ()) -> list[Any]:
        return await self.run(partial(fetchall, sql, params))

    async def fetchone(self, sql: str, params: SqlParams = ()) -> Any:
        return await self.run(partial(fetchone, sql, params))

    async def close(self) -> None:
        """Close the connection and end the thread (again: nothing more to do)."""
        if self._closed:
            return
        self._closed = True
        if self._holder[0] is not None:
            await self.run(sqlite3.Connection.close)
        self._jobs.put(None)
        await asyncio.to_thread(self._thread.join)
