"""SIGKILL of the daemon during a 10,000-message initial IMAP sync, then a
restart: every message ends up stored and logged exactly once, and the audit
finds nothing missing."""

from __future__ import annotations

import asyncio

from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from tests.conftest import DaemonProcess
from tests.e2e.test_crash_safety import BCC, offer_threads
from tests.servers.dovecot import DovecotServer
from tests.support.store_rows import value

THREADS = 2000
REPLIES = 4
ME = "me@firma.example"


def _seed(server: DovecotServer, user: object) -> None:
    inbox: list[bytes] = []
    sent: list[bytes] = []
    for inbound, raw in offer_threads(THREADS, REPLIES):
        (inbox if inbound else sent).append(raw)
    server.seed_maildir(user, "INBOX", inbox)  # type: ignore[arg-type]
    server.seed_maildir(user, "Sent", sent)  # type: ignore[arg-type]


async def test_sigkill_during_10k_imap_sync(dovecot: DovecotServer, daemon: DaemonProcess) -> None:
    user = dovecot.add_user()
    await asyncio.to_thread(_seed, dovecot, user)
    total = THREADS * (REPLIES + 1)
    client = await daemon.client()
    await client.call(m.SETTINGS_SET, t.SettingsSetParams(bcc_address=BCC, own_addresses=[ME]))
    added = await client.call(
        m.MAILBOXES_ADD,
        t.ImapAddParams(
            host=dovecot.host,
            port=dovecot.port,
            security="none",
            username=user.name,
            password=user.password,
            address=ME,
        ),
    )
    while True:  # kill after some batches, not all, have committed
        name, progress = await asyncio.wait_for(client.notifications.get(), 300)
        if name == "sync.progress" and progress.phase == "decide" and progress.done >= 2000:
            assert progress.done < progress.total
            break
    daemon.kill()
    await client.close()
    data = daemon.data_dir
    partial = value(data, "SELECT count(*) FROM messages")
    assert 0 < partial < total

    daemon.start()
    client = await daemon.client()
    await client.call(m.MAILBOXES_SYNC, t.IdParams(id=added.id))
    audit = await client.call(m.MAILBOXES_AUDIT, t.IdParams(id=added.id))
    await client.close()
    assert (audit.missing, audit.extra) == ([], [])
    assert audit.server_messages == audit.stored_messages == total
    assert value(data, "SELECT count(*) FROM messages") == total
    assert value(data, "SELECT count(*) FROM messages WHERE logged = 1") == total
    assert value(data, "SELECT count(*) FROM timeline_entries") == total
    # Bodies a crash left unfetched are filled in by the next round.
    assert (
        value(data, "SELECT count(*) FROM messages WHERE logged = 1 AND body_state != 'parsed'")
        == 0
    )
    assert (
        value(
            data,
            "SELECT count(*) FROM (SELECT message FROM timeline_entries GROUP BY message"
            " HAVING count(*) > 1) AS d",
        )
        == 0
    )
