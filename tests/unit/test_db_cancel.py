"""A write transaction cut off by a cancellation (a mailbox removed mid-sync, a
round cancelled at shutdown) settles on the connection before the write lock is
let go, wherever the cut falls: real SQLite through aiosqlite.

Before: a task cancelled while its BEGIN waited on the connection's thread left
that BEGIN to run with nobody to end it, and every later write of the daemon
failed with "cannot start a transaction within a transaction".
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from loggbok.daemon.store.store import Store

SLOW = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000)"
    " SELECT count(*) FROM n"
)
"""Keeps the writer's thread busy, so the next statement waits in its queue."""


async def _companies(store: Store) -> list[str]:
    return [r[0] for r in await store.db.fetchall("SELECT domain FROM companies ORDER BY 1")]


@pytest.mark.parametrize("cut", ["while it begins", "inside it", "while it commits"])
@pytest.mark.sqlite_only  # blocks aiosqlite's writer thread
async def test_a_cancelled_transaction_leaves_none_open(tmp_path: Path, cut: str) -> None:
    store = await Store.open(tmp_path)
    db = store.db
    try:
        inside = asyncio.Event()
        busy: list[asyncio.Future[object]] = []

        async def write() -> None:
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO companies (name, domain) VALUES ('A', 'a.example')")
                if cut == "inside it":
                    inside.set()
                    await asyncio.Event().wait()
                if cut == "while it commits":
                    busy.append(asyncio.ensure_future(db._writer.execute(SLOW)))  # COMMIT waits

        if cut == "while it begins":
            busy.append(asyncio.ensure_future(db._writer.execute(SLOW)))
        task = asyncio.ensure_future(write())
        if cut == "inside it":
            await inside.wait()
        else:
            await asyncio.sleep(0.1)  # the task waits for its BEGIN or COMMIT behind SLOW
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.gather(*busy)
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO companies (name, domain) VALUES ('B', 'b.example')")
        expected = ["a.example", "b.example"] if cut == "while it commits" else ["b.example"]
        assert await _companies(store) == expected
    finally:
        await store.close()


async def test_a_transaction_cancelled_inside_is_rolled_back(tmp_path: Path) -> None:
    """On either store: a task cancelled inside its transaction leaves nothing of it, and
    the next write goes through."""
    store = await Store.open(tmp_path)
    db = store.db
    try:
        inside = asyncio.Event()

        async def write() -> None:
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO companies (name, domain) VALUES ('A', 'a.example')")
                inside.set()
                await asyncio.Event().wait()

        task = asyncio.ensure_future(write())
        await inside.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO companies (name, domain) VALUES ('B', 'b.example')")
        assert await _companies(store) == ["b.example"]
    finally:
        await store.close()
