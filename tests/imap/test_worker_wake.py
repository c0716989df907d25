"""A wake-up that comes while a mailbox worker's round runs is not lost: the
worker starts another round once this one ends.

The real `MailboxWorker`, driven in-process through its notifications: the
wake-up is given from inside the round itself (when the round announces
`syncing`, or its failure `auth_failed`), so nothing depends on timing.

Before: the wake-up flag was cleared after the round, before the wait, and
what was set during the round was dropped; the worker waited for the next
change in the mailbox (25 minutes with none), and a mailbox whose new password
came while its sign-in was failing stayed `auth_failed` until another reconnect.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from loggbok.daemon.secrets import SecretStore, mailbox_secret_key
from loggbok.daemon.store.store import Store
from loggbok.daemon.sync.providers.registry import backend_factory
from loggbok.daemon.sync.worker import MailboxWorker
from loggbok.protocol.types import MailboxStatusChanged
from tests.imap.in_process import imap_mailbox
from tests.servers.dovecot import DovecotServer
from tests.support.mail import make_maildir, make_message

HANG_GUARD = 60.0
"""Only turns a lost wake-up (a wait of 25 minutes) into a failure."""


class Heard:
    """Status notifications, an action on the first one of a status, and a wait."""

    def __init__(self, on_first: str, action: Callable[[], None]) -> None:
        self.statuses: list[str] = []
        self._on_first = on_first
        self._action: Callable[[], None] | None = action
        self._changed = asyncio.Condition()

    async def notify(self, method: str, params: Any) -> None:
        if method == "mailbox.status_changed":
            assert isinstance(params, MailboxStatusChanged)
            self.statuses.append(params.status)
            if params.status == self._on_first and self._action is not None:
                action, self._action = self._action, None
                action()  # inside the round (or its failure), before the worker waits
        async with self._changed:
            self._changed.notify_all()

    async def until(self, check: Callable[[], bool]) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(check), HANG_GUARD)


@pytest.mark.sqlite_only
async def test_a_wake_up_during_a_round_starts_another(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    store = await Store.open(data)
    maildir = make_maildir(tmp_path / "Maildir", ".Sent")
    mailbox_id = await store.mailboxes.add("maildir", "me@firma.example", {"path": str(maildir)})
    row = await store.mailboxes.get_row(mailbox_id)
    worker: MailboxWorker | None = None

    def wake() -> None:
        assert worker is not None
        worker.reconnect()

    heard = Heard("syncing", wake)
    factory = backend_factory(SecretStore(data, use_keyring=False))
    worker = MailboxWorker(store, row, factory, heard.notify)
    worker.start()
    try:
        await heard.until(lambda: heard.statuses.count("idle") >= 2)
        assert heard.statuses[:4] == ["syncing", "idle", "syncing", "idle"]
        await asyncio.sleep(0.5)  # and then it waits: one wake-up, one more round
        assert heard.statuses.count("syncing") == 2
    finally:
        await worker.stop()
        await store.close()


@pytest.mark.sqlite_only
async def test_a_new_password_during_a_failing_sign_in_is_used(
    tmp_path: Path, dovecot: DovecotServer
) -> None:
    user = dovecot.add_user()
    mailbox = await imap_mailbox(tmp_path, dovecot, user)  # no password yet: sign-in fails
    store, row, secrets, mailbox_id = mailbox.store, mailbox.row, mailbox.secrets, mailbox.row.id
    worker: MailboxWorker | None = None

    def new_password() -> None:  # what mailboxes.reconnect {password} does
        assert worker is not None
        secrets.set(mailbox_secret_key(mailbox_id), user.password)
        worker.reconnect()

    heard = Heard("auth_failed", new_password)
    worker = MailboxWorker(store, row, backend_factory(secrets), heard.notify)
    worker.start()
    try:
        await heard.until(lambda: "idle" in heard.statuses)
        assert heard.statuses[0] == "auth_failed"
        assert worker.status == "idle"
    finally:
        await worker.stop()
        await store.close()


@pytest.mark.sqlite_only
async def test_a_sync_that_succeeds_after_a_failed_sign_in_resumes_watching(
    tmp_path: Path, dovecot: DovecotServer
) -> None:
    """`mailboxes.sync` on an `auth_failed` mailbox that works again: the worker's task,
    which waited for a reconnect, watches the mailbox again (a new mail is synced)."""
    user = dovecot.add_user()
    mailbox = await imap_mailbox(tmp_path, dovecot, user)
    store, row, secrets, mailbox_id = mailbox.store, mailbox.row, mailbox.secrets, mailbox.row.id
    heard = Heard("never", lambda: None)
    worker = MailboxWorker(store, row, backend_factory(secrets), heard.notify)
    worker.start()
    try:
        await heard.until(lambda: "auth_failed" in heard.statuses)
        secrets.set(mailbox_secret_key(mailbox_id), user.password)  # fixed elsewhere
        await worker.sync_now()
        await heard.until(lambda: heard.statuses.count("idle") >= 2)  # the task's own round
        rounds = heard.statuses.count("syncing")
        dovecot.append(
            user, "INBOX", make_message("kund@kund.example", ["me@firma.example"], "Hej", "<n@k>")
        )
        await heard.until(lambda: heard.statuses.count("syncing") > rounds)
    finally:
        await worker.stop()
        await store.close()
