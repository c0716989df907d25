"""A SQLite reader runs each read on its own thread and hands the outcome back
in one step (`store/sqlite_reader.py`): results and errors come back to their
caller, a read whose caller gave up before it began is not run, reads queue in
order, and closing ends the thread."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from loggbok.daemon.store.sqlite_db import READERS, SqliteDatabase
from loggbok.daemon.store.sqlite_reader import SqliteReader


async def test_reads_run_on_the_readers_own_thread_in_order(tmp_path: Path) -> None:
    db = tmp_path / "r.sqlite3"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE t (x INTEGER)")
    con.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(5)])
    con.commit()
    con.close()
    reader = await SqliteReader.open(db)
    try:
        threads: list[threading.Thread] = []
        ran: list[int] = []

        def note(n: int) -> Any:
            def fn(conn: sqlite3.Connection) -> int:
                threads.append(threading.current_thread())
                ran.append(n)
                return n

            return fn

        assert await asyncio.gather(*(reader.run(note(n)) for n in range(10))) == list(range(10))
        assert ran == list(range(10)) and len(set(threads)) == 1
        assert threads[0].name == "sqlite-reader" and threads[0] is not threading.main_thread()
        rows = await reader.fetchall("SELECT x FROM t WHERE x > ? ORDER BY x", (2,))
        assert [r["x"] for r in rows] == [3, 4]
        assert (await reader.fetchone("SELECT count(*) FROM t"))[0] == 5
        with pytest.raises(sqlite3.OperationalError):
            await reader.fetchall("SELECT nope FROM t")

        gate = threading.Event()
        blocked = asyncio.ensure_future(reader.run(lambda conn: gate.wait(5)))
        skipped = asyncio.ensure_future(reader.run(note(99)))
        await asyncio.sleep(0)
        skipped.cancel()
        gate.set()
        assert await blocked is True
        assert await reader.run(note(100)) == 100
        assert 99 not in ran  # cancelled while it waited: never run
    finally:
        await reader.close()
    assert not threads[0].is_alive()


async def test_every_reader_of_the_database_maps_the_file(tmp_path: Path) -> None:
    """Mapped, the readers share the OS's pages; unmapped each copied every page it read
    into a cache of its own (more CPU per read the more readers took turns)."""
    db = await SqliteDatabase.open(tmp_path / "m.sqlite3")
    try:
        sizes = await asyncio.gather(*(db.fetchval("PRAGMA mmap_size") for _ in range(READERS)))
    finally:
        await db.close()
    assert len(sizes) == READERS and all(size >= 1 << 30 for size in sizes), sizes


def test_there_are_no_more_reader_threads_than_cores_but_two_at_least() -> None:
    # a reader thread hands the interpreter's lock back and forth once per row: more
    # threads than cores queue for it (2 cores, 4 readers: twice the CPU per page)
    cores = len(os.sched_getaffinity(0))
    assert max(2, min(4, cores)) == READERS
