"""The sync service restarts a mailbox worker whose task ended although its
mailbox is still connected (a stray cancellation, an exception no handler
knew): the mailbox says so (`error`), then syncs again by itself.

Before: nothing watched the tasks; an ended worker left its mailbox unsynced
until the daemon restarted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from loggbok.daemon.secrets import SecretStore
from loggbok.daemon.store.mailboxes import MailboxRow
from loggbok.daemon.store.store import Store
from loggbok.daemon.sync.backend import Backend
from loggbok.daemon.sync.providers.registry import backend_factory
from loggbok.daemon.sync.service import SyncService
from loggbok.protocol.types import MailboxStatusChanged
from tests.support.mail import deliver, make_maildir, make_message
from tests.support.store_rows import value


class Escaped(BaseException):
    """Not an Exception: no handler in the worker catches it."""


class Heard:
    """The daemon's notifications, and a wait for a condition they may change."""

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


@pytest.mark.parametrize("end", ["cancelled", "raised"])
async def test_a_worker_whose_task_ends_is_restarted(tmp_path: Path, end: str) -> None:
    data = tmp_path / "data"
    data.mkdir()
    store = await Store.open(data)
    maildir = make_maildir(tmp_path / "Maildir", ".Sent")
    mailbox_id = await store.mailboxes.add("maildir", "me@firma.example", {"path": str(maildir)})
    heard = Heard()
    real = backend_factory(SecretStore(data, use_keyring=False))
    escapes = [Escaped()] if end == "raised" else []

    async def factory(mailbox: MailboxRow) -> Backend:
        if escapes:  # the first connect
            raise escapes.pop()
        return await real(mailbox)

    service = SyncService(store, heard.notify, factory)
    await service.start()
    try:
        worker = service.workers[mailbox_id]
        first = worker.task
        assert first is not None
        if end == "cancelled":
            await heard.until(lambda: worker.status == "idle")
            first.cancel()
        await heard.until(lambda: first.done())
        await heard.until(lambda: worker.task is not first and worker.status == "idle")
        ended = [s for s in heard.statuses if s.detail.startswith("worker ended unexpectedly")]
        assert [s.status for s in ended] == ["error"], heard.statuses
        assert service.restarts[mailbox_id] == 1

        # The restarted worker watches the mailbox: new mail is logged without a call.
        deliver(
            maildir / ".Sent",
            make_message("me@firma.example", ["kund@kund.example"], "Hej", "<a@firma.example>"),
        )
        await heard.until(lambda: _locations(data) == 1)
    finally:
        await service.stop()
        await store.close()


def _locations(data: Path) -> int:
    return int(value(data, "SELECT count(*) FROM message_locations"))
