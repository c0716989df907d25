"""Removing a mailbox while its first sync runs leaves the daemon writing: the
round is cancelled wherever it is, and the next writes (a contact, another
mailbox's sync) work. Before the store settled cut-off transactions, this
failed 2 runs in 3 with "cannot start a transaction within a transaction"."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bench.imap_corpus import ME, build_corpus
from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from tests.conftest import DaemonProcess
from tests.support.mail import seed_dated_maildir


def _maildir(root: Path) -> tuple[Path, list[str]]:
    corpus = build_corpus(3000)
    maildir = seed_dated_maildir(root / "Maildir", corpus.inbox, corpus.sent)
    return maildir, [p.email for p in corpus.people[:50]]


async def test_removing_a_mailbox_mid_sync_leaves_the_daemon_writing(workdir: Path) -> None:
    maildir, people = await asyncio.to_thread(_maildir, workdir)
    (workdir / "data").mkdir()
    daemon = DaemonProcess(workdir / "d.sock", workdir / "data", env={"LOGGBOK_NO_KEYRING": "1"})
    daemon.start()
    try:
        client = await daemon.client()
        deciding = asyncio.Event()
        client.subscribe(
            lambda name, params: (
                name == "sync.progress"
                and isinstance(params, t.SyncProgress)
                and params.phase == "decide"
                and deciding.set()
            )
        )
        await client.call(
            m.SETTINGS_SET,
            t.SettingsSetParams(logging_mode="all_with_contacts", own_addresses=[ME]),
        )
        for email in people:
            await client.call(m.CONTACTS_CREATE, t.ContactCreateParams(email=email))
        add = t.MaildirAddParams(path=str(maildir), address=ME)
        first = await client.call(m.MAILBOXES_ADD, add)
        await asyncio.wait_for(deciding.wait(), 60)
        await client.call(m.MAILBOXES_REMOVE, t.IdParams(id=first.id))
        await client.call(m.CONTACTS_CREATE, t.ContactCreateParams(email="after@remove.example"))
        second = await client.call(m.MAILBOXES_ADD, add)
        await client.call(m.MAILBOXES_SYNC, t.IdParams(id=second.id))
        [mailbox] = (await client.call(m.MAILBOXES_LIST)).mailboxes
        assert mailbox.status == "idle", mailbox.status_detail
        assert sum(f.messages for f in mailbox.folders) == 3000
        await client.close()
    finally:
        daemon.stop()
