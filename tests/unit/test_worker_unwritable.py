"""A mailbox worker whose database refuses every write (here SQLite's
`query_only`, as deterministic as a disk with no byte left) stays alive: its
`error` status is announced and held in memory (what `mailboxes.list` shows),
and it syncs by itself once writes work again, logging each message once.

Before: the status write failed inside the worker's error handler and the
worker's task ended; the mailbox said "syncing" for ever.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from loggbok.daemon.secrets import SecretStore
from loggbok.daemon.store.store import Store
from loggbok.daemon.sync.providers.registry import backend_factory
from loggbok.daemon.sync.service import SyncService
from loggbok.protocol.types import MailboxStatusChanged
from tests.support.mail import deliver, make_maildir, make_message
from tests.support.store_rows import value


class Heard:
    def __init__(self) -> None:
        self.statuses: list[MailboxStatusChanged] = []
        self._changed = asyncio.Condition()

    async def notify(self, method: str, params: Any) -> None:
        if method == "mailbox.status_changed":
            self.statuses.append(params)
        async with self._changed:
            self._changed.notify_all()

    async def until(self, check: Callable[[], bool], timeout: float = 60.0) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(check), timeout)


def _stored(data: Path, sql: str) -> Any:
    return value(data, sql)


@pytest.mark.sqlite_only  # SQLite's PRAGMA query_only on the daemon's writing connection
async def test_a_worker_that_cannot_write_stays_alive_and_recovers(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    store = await Store.open(data)
    maildir = make_maildir(tmp_path / "Maildir", ".Sent")
    mailbox_id = await store.mailboxes.add("maildir", "me@firma.example", {"path": str(maildir)})
    heard = Heard()
    service = SyncService(store, heard.notify, backend_factory(SecretStore(data)))
    await service.start()
    writer = store.db._writer  # the daemon's only writing connection
    try:
        worker = service.workers[mailbox_id]
        await heard.until(lambda: worker.status == "idle")
        task = worker.task
        await writer.execute("PRAGMA query_only=1")
        deliver(
            maildir / ".Sent",
            make_message("me@firma.example", ["kund@kund.example"], "Hej", "<a@firma.example>"),
        )
        await heard.until(lambda: worker.status == "error")
        assert "readonly" in heard.statuses[-1].detail
        assert worker.unsaved
        assert _stored(data, "SELECT status FROM mailboxes") == "idle"
        (listed,) = service.live(await store.mailboxes.describe())
        assert (listed.status, listed.status_detail) == ("error", heard.statuses[-1].detail)

        await writer.execute("PRAGMA query_only=0")
        await heard.until(lambda: worker.status == "idle", timeout=120)
        assert worker.task is task  # the same task all along
        assert not worker.unsaved
        assert _stored(data, "SELECT status FROM mailboxes") == "idle"
        assert _stored(data, "SELECT count(*) FROM message_locations") == 1
        assert _stored(data, "SELECT count(*) FROM messages") == 1
    finally:
        await service.stop()
        await store.close()
