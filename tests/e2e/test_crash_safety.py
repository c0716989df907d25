"""SIGKILL during an initial sync of 5,000 messages, then a restart: every
message is stored once and every logged email sits on its timeline exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from tests.conftest import DaemonProcess
from tests.support.mail import deliver, make_maildir
from tests.support.store_rows import rows, value

BCC = "log@bcc.example"
THREADS = 1000
REPLIES = 4


def _raw(
    sender: str,
    to: str,
    subject: str,
    msgid: str,
    parent: str | None,
    day: int,
    minute: int,
    bcc: bool = False,
) -> bytes:
    lines = [
        f"From: {sender}",
        f"To: {to}",
        f"Subject: {subject}",
        f"Message-ID: <{msgid}>",
        f"Date: {1 + day % 28:02d} Mar 2026 {minute // 60 % 24:02d}:{minute % 60:02d}:00 +0000",
    ]
    if bcc:
        lines.append(f"Bcc: {BCC}")
    if parent:
        lines += [f"In-Reply-To: <{parent}>", f"References: <{parent}>"]
    return ("\r\n".join(lines) + "\r\n\r\nHello,\r\nsee below.\r\n").encode()


ME = "me@firma.example"


def offer_threads(threads: int, replies: int) -> Iterator[tuple[bool, bytes]]:
    """(inbound, raw) of each thread in time order: the offer (sent, BCC to the
    logging address), then `replies` replies alternating customer and me."""
    for n in range(threads):
        contact = f"kund{n}@kund{n % 50}.example"
        parent = f"t{n}@firma.example"
        yield False, _raw(ME, contact, f"Offer {n}", parent, None, n % 28, n, bcc=True)
        for r in range(replies):
            inbound = r % 2 == 0
            sender, to = (contact, ME) if inbound else (ME, contact)
            msgid = f"t{n}r{r}@x.example"
            yield inbound, _raw(sender, to, f"Re: Offer {n}", msgid, parent, n % 28, n + 1 + r)
            parent = msgid


def build(root: Path) -> None:
    make_maildir(root, ".Sent")
    for inbound, raw in offer_threads(THREADS, REPLIES):
        deliver(root if inbound else root / ".Sent", raw)


async def test_sigkill_during_initial_sync_loses_and_duplicates_nothing(
    daemon: DaemonProcess, workdir: Path
) -> None:
    maildir = workdir / "Maildir"
    await asyncio.to_thread(build, maildir)
    client = await daemon.client()
    await client.call(
        m.SETTINGS_SET, t.SettingsSetParams(bcc_address=BCC, own_addresses=["me@firma.example"])
    )
    await client.call(
        m.MAILBOXES_ADD,
        t.MaildirAddParams(path=str(maildir), address="me@firma.example"),
    )
    while True:  # wait until some batches, not all, have committed
        name, progress = await asyncio.wait_for(client.notifications.get(), 120)
        if name == "sync.progress" and progress.phase == "decide":
            assert progress.done < progress.total
            break
    daemon.kill()
    await client.close()

    data = daemon.data_dir
    partial = value(data, "SELECT count(*) FROM messages")
    assert 0 < partial < THREADS * (REPLIES + 1)

    daemon.start()
    client = await daemon.client()
    result = await client.call(m.MAILBOXES_SYNC, t.IdParams(id=1))
    await client.close()
    assert result.errors == 0
    total = THREADS * (REPLIES + 1)
    assert value(data, "SELECT count(*) FROM messages") == total
    assert value(data, "SELECT count(*) FROM message_locations") == total
    assert value(data, "SELECT count(*) FROM messages WHERE logged = 1") == total
    assert value(data, "SELECT count(*) FROM timeline_entries") == total
    # Bodies a crash left unfetched are filled in by the next round.
    assert (
        value(data, "SELECT count(*) FROM messages WHERE logged = 1 AND body_state != 'parsed'")
        == 0
    )
    per_contact = rows(
        data,
        "SELECT min(n), max(n) FROM (SELECT count(*) AS n FROM timeline_entries"
        " GROUP BY contact_id) AS c",
    )
    assert per_contact == [(REPLIES + 1, REPLIES + 1)]
    assert value(data, "SELECT count(*) FROM contacts") == THREADS
