"""The disk fills up under a syncing Maildir mailbox, then space returns.

A real SQLITE_FULL: the daemon caps its database at `CAP` pages (its test hook
`LOGGBOK_TEST_MAX_PAGE_COUNT`) and the test fills the free room from its own
connection under the same cap, as a filler file fills a disk; deleting the
filler frees it again.

Before: the write of the `error` status failed inside the worker's error
handler, the worker's task ended, the mailbox showed "syncing" for ever and
later mail was never seen; RPC writes answered -32603.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from loggbok.daemon.store.sqlite_db import MAX_PAGE_COUNT_VARIABLE
from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from loggbok.protocol.errors import ErrorCode, RpcError
from tests.conftest import DaemonProcess
from tests.support.mail import deliver, make_maildir, make_message

pytestmark = pytest.mark.sqlite_only  # fills the SQLite file up to its page cap

CAP = 4096
"""Pages of 4 KiB: 16 MiB, far more than the synced mail needs."""
BCC = "log@bcc.example"
BEFORE, DURING = 10, 40


def _sent(n: int) -> bytes:
    return make_message(
        "me@firma.example",
        [f"kund{n}@kund{n}.example"],
        f"Offer {n}",
        f"<offer{n}@firma.example>",
        bcc=[BCC],
        body=f"Offer number {n}.\n" + "All the details of the offer. " * 300,
    )


def _fill(database: Path) -> None:
    """Take every free page under the cap, as a filler file takes a disk's last blocks."""
    with contextlib.closing(sqlite3.connect(database, timeout=60, isolation_level=None)) as db:
        db.execute(f"PRAGMA max_page_count={CAP}")
        db.execute("CREATE TABLE IF NOT EXISTS test_filler (b BLOB)")
        for size in (65536, 4096, 512, 32):
            try:
                while True:
                    db.execute("INSERT INTO test_filler VALUES (zeroblob(?))", (size,))
            except sqlite3.OperationalError as exc:
                if "full" not in str(exc):
                    raise


def _free(database: Path) -> None:
    with contextlib.closing(sqlite3.connect(database, timeout=60, isolation_level=None)) as db:
        db.execute("DELETE FROM test_filler")


async def _status(client: Client, wanted: str, timeout: float = 180.0) -> t.MailboxStatusChanged:
    async def wait() -> t.MailboxStatusChanged:
        while True:
            name, params = await client.notifications.get()
            if name == "mailbox.status_changed" and params.status == wanted:
                return params  # type: ignore[no-any-return]

    return await asyncio.wait_for(wait(), timeout)


async def _error_code(call: Any) -> int:
    with pytest.raises(RpcError) as raised:
        await call
    return raised.value.code


async def test_a_full_disk_is_an_error_the_mailbox_recovers_from(workdir: Path) -> None:
    maildir = make_maildir(workdir / "Maildir", ".Sent")
    for n in range(BEFORE):
        deliver(maildir / ".Sent", _sent(n))
    (workdir / "data").mkdir()
    daemon = DaemonProcess(
        workdir / "d.sock", workdir / "data", env={MAX_PAGE_COUNT_VARIABLE: str(CAP)}
    )
    daemon.start()
    database = daemon.data_dir / "loggbok.sqlite3"
    try:
        client = await daemon.client()
        await client.call(
            m.SETTINGS_SET,
            t.SettingsSetParams(bcc_address=BCC, own_addresses=["me@firma.example"]),
        )
        added = await client.call(
            m.MAILBOXES_ADD,
            t.MaildirAddParams(path=str(maildir), address="me@firma.example"),
        )
        await client.call(m.MAILBOXES_SYNC, t.IdParams(id=added.id))

        await asyncio.to_thread(_fill, database)
        for n in range(BEFORE, BEFORE + DURING):
            deliver(maildir / ".Sent", _sent(n))
        failed = await _status(client, "error")
        assert failed.detail.startswith("storage full:"), failed.detail
        assert "database or disk is full" in failed.detail
        (listed,) = (await client.call(m.MAILBOXES_LIST)).mailboxes
        assert (listed.status, listed.status_detail) == ("error", failed.detail)

        # RPC writes meanwhile: a documented error, not -32603.
        create = client.call(
            m.CONTACTS_CREATE, t.ContactCreateParams(email="ny@kund.example", name="N" * 20000)
        )
        assert await _error_code(create) == ErrorCode.STORAGE_FULL == -32009
        sync = client.call(m.MAILBOXES_SYNC, t.IdParams(id=added.id))
        assert await _error_code(sync) == ErrorCode.STORAGE_FULL

        # Space returns: the mailbox resumes by itself (no call) and logs everything once.
        await asyncio.to_thread(_free, database)
        await _status(client, "idle")
        (listed,) = (await client.call(m.MAILBOXES_LIST)).mailboxes
        assert (listed.status, listed.status_detail) == ("idle", "")
        await client.close()
    finally:
        daemon.stop()
    total = BEFORE + DURING
    with contextlib.closing(sqlite3.connect(database)) as db:
        assert db.execute("SELECT count(*) FROM messages").fetchone()[0] == total
        assert db.execute("SELECT count(*) FROM message_locations").fetchone()[0] == total
        assert db.execute("SELECT count(*) FROM messages WHERE logged = 1").fetchone()[0] == total
        assert db.execute("SELECT count(*) FROM timeline_entries").fetchone()[0] == total
        unparsed = "SELECT count(*) FROM messages WHERE body_state != 'parsed'"
        assert db.execute(unparsed).fetchone()[0] == 0
        assert db.execute("SELECT status FROM mailboxes").fetchone()[0] == "idle"
