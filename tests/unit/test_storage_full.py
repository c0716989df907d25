"""A full disk, made real with SQLite's page cap (the daemon's test hook
`LOGGBOK_TEST_MAX_PAGE_COUNT`): a refused write is a `StorageFull`, nothing of
it is kept, and the writer works again as soon as there is room.

Before: SQLite ends the transaction itself on SQLITE_FULL, the ROLLBACK that
followed failed ("cannot rollback - no transaction is active") and that error,
not the full disk, reached the caller.
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import pytest

from loggbok.daemon.store.db import StorageFull, is_storage_full
from loggbok.daemon.store.sqlite_db import MAX_PAGE_COUNT_VARIABLE
from loggbok.daemon.store.store import Store

CAP = 400
"""Pages (of 4 KiB): room for the schema and a little more."""


@pytest.mark.sqlite_only  # SQLite's page cap makes the full disk
async def test_a_full_database_refuses_the_write_then_takes_it_once_freed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MAX_PAGE_COUNT_VARIABLE, str(CAP))
    store = await Store.open(tmp_path)
    db = store.db
    try:
        async with db.transaction() as tx:
            await tx.execute("CREATE TABLE filler (b BLOB)")
        with pytest.raises(StorageFull, match="database or disk is full"):
            for _ in range(CAP):
                async with db.transaction() as tx:
                    await tx.execute("INSERT INTO filler VALUES (zeroblob(65536))")
        kept = (await db.fetchone("SELECT count(*) FROM filler"))[0]  # type: ignore[index]
        with pytest.raises(StorageFull):
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO companies (name, domain) VALUES ('A', 'a.example')")
                await tx.execute("INSERT INTO filler VALUES (zeroblob(65536))")
        # Nothing of a refused transaction is kept, and the writer is not left inside one.
        assert await db.fetchall("SELECT 1 FROM companies") == []
        assert (await db.fetchone("SELECT count(*) FROM filler"))[0] == kept  # type: ignore[index]
        async with db.transaction() as tx:
            await tx.execute("DELETE FROM filler")
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO filler VALUES (zeroblob(65536))")
            await tx.execute("INSERT INTO companies (name, domain) VALUES ('A', 'a.example')")
        assert len(await db.fetchall("SELECT 1 FROM companies")) == 1
    finally:
        await store.close()


def test_what_counts_as_a_full_disk() -> None:
    assert is_storage_full(sqlite3.OperationalError("database or disk is full"))
    assert is_storage_full(OSError(errno.ENOSPC, "No space left on device"))
    assert is_storage_full(OSError(errno.EDQUOT, "Disk quota exceeded"))
    assert not is_storage_full(OSError(errno.EACCES, "Permission denied"))
    assert not is_storage_full(sqlite3.OperationalError("database is locked"))
