"""End to end over IMAP: the real loggbokd against a real Dovecot.

Initial sync header-first, a reply arriving through IDLE, a changed subject,
Dovecot stopped and restarted mid-IDLE, a UIDVALIDITY change, a password
changed on the server (auth_failed, then mailboxes.reconnect), and the audit.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from loggbok.protocol.errors import ErrorCode, RpcError
from tests.conftest import DaemonProcess
from tests.servers.dovecot import DovecotServer, DovecotUser
from tests.support.mail import days_ago, deliver, make_message
from tests.support.store_rows import value

ME = "maja@firma.example"
BCC = "log-77@bcc.loggbok.example"
ANNA = "Anna Berg <anna@kund.example>"


@pytest.fixture
def own_dovecot() -> Iterator[DovecotServer]:
    """A Dovecot of this test's own, for tests that stop and start it."""
    with DovecotServer() as server:
        yield server


async def _notification(client: Client, wanted: str, **match: Any) -> Any:
    while True:
        name, params = await client.notifications.get()
        if name != wanted:
            continue
        subject = params.entry if wanted == "timeline.appended" else params
        if all(getattr(subject, k) == v for k, v in match.items()):
            return params


async def _add(client: Client, server: DovecotServer, user: DovecotUser) -> int:
    await client.call(
        m.CONTACTS_CREATE, t.ContactCreateParams(email="anna@kund.example", name="Anna Berg")
    )
    await client.call(m.SETTINGS_SET, t.SettingsSetParams(bcc_address=BCC, own_addresses=[ME]))
    added = await client.call(
        m.MAILBOXES_ADD,
        t.ImapAddParams(
            host=server.host,
            port=server.port,
            security="none",
            username=user.name,
            password=user.password,
            address=ME,
        ),
    )
    await client.call(m.MAILBOXES_SYNC, t.IdParams(id=added.id))
    return added.id


def _seed_thread(server: DovecotServer, user: DovecotUser) -> None:
    server.append(
        user,
        "Sent",
        make_message(ME, [ANNA], "Offer Q3", "<i1@firma.example>", bcc=[BCC], date=days_ago(3)),
    )
    server.append(
        user,
        "INBOX",
        make_message(
            ANNA,
            [ME],
            "SV: Offer Q3",
            "<i2@kund.example>",
            in_reply_to="<i1@firma.example>",
            references=["<i1@firma.example>"],
            date=days_ago(2),
        ),
    )
    server.append(
        user,
        "INBOX",
        make_message(
            ANNA,
            [ME],
            "Something else",
            "<i3@kund.example>",
            in_reply_to="<i2@kund.example>",
            references=["<i1@firma.example>", "<i2@kund.example>"],
            date=days_ago(1),
        ),
    )


def _reply(n: int, parent: str = "<i2@kund.example>") -> bytes:
    return make_message(
        ANNA,
        [ME],
        "Re: Offer Q3",
        f"<r{n}@kund.example>",
        in_reply_to=parent,
        references=["<i1@firma.example>", parent],
        date=days_ago(0),
    )


async def _reason(client: Client, message_id: str) -> str:
    explanation = await client.call(m.MESSAGES_EXPLAIN, t.MessageRefParams(message_id=message_id))
    return explanation.reason


async def test_initial_sync_idle_and_changed_subject(
    dovecot: DovecotServer, client: Client
) -> None:
    user = dovecot.add_user()
    await asyncio.to_thread(_seed_thread, dovecot, user)
    await _add(client, dovecot, user)
    assert await _reason(client, "<i1@firma.example>") == "bcc_address"
    assert await _reason(client, "<i2@kund.example>") == "reply_in_tracked_thread"
    assert await _reason(client, "<i3@kund.example>") == "subject_changed"
    [mailbox] = (await client.call(m.MAILBOXES_LIST)).mailboxes
    # every folder but Drafts and Trash (SPECIAL-USE \\Drafts, \\Trash)
    assert {f.name: f.role for f in mailbox.folders} == {
        "INBOX": "inbox",
        "Sent": "sent",
        "Archive": "other",
    }

    await asyncio.to_thread(dovecot.append, user, "INBOX", _reply(1))
    appended = await asyncio.wait_for(
        _notification(client, "timeline.appended", message_id="<r1@kund.example>"), 30
    )
    assert appended.entry.reason == "reply_in_tracked_thread"
    assert appended.entry.snippet

    audit = await client.call(m.MAILBOXES_AUDIT, t.IdParams(id=mailbox.id))
    assert (audit.missing, audit.extra) == ([], [])
    assert audit.server_messages == audit.stored_messages == 4


async def test_dovecot_restart_mid_idle(own_dovecot: DovecotServer, client: Client) -> None:
    user = own_dovecot.add_user()
    await asyncio.to_thread(_seed_thread, own_dovecot, user)
    mailbox_id = await _add(client, own_dovecot, user)
    await asyncio.sleep(0.5)  # the worker is in IDLE now
    await asyncio.to_thread(own_dovecot.stop)
    await asyncio.wait_for(
        _notification(client, "mailbox.status_changed", id=mailbox_id, status="disconnected"), 60
    )
    # Mail arrives while the server is down (an MDA delivers straight into the Maildir).
    delivered = deliver(own_dovecot.maildir_path(user, "INBOX"), _reply(2), new=True)
    os.chown(delivered, *own_dovecot.mail_ids)
    await asyncio.to_thread(own_dovecot.start)
    await asyncio.wait_for(
        _notification(client, "timeline.appended", message_id="<r2@kund.example>"), 90
    )
    [mailbox] = (await client.call(m.MAILBOXES_LIST)).mailboxes
    assert mailbox.status in ("idle", "syncing")


async def test_uidvalidity_change_duplicates_nothing(
    dovecot: DovecotServer, daemon: DaemonProcess, client: Client
) -> None:
    user = dovecot.add_user()
    await asyncio.to_thread(_seed_thread, dovecot, user)
    mailbox_id = await _add(client, dovecot, user)
    await asyncio.to_thread(dovecot.change_uidvalidity, user, "INBOX")
    await asyncio.to_thread(dovecot.append, user, "INBOX", _reply(3))
    await asyncio.wait_for(
        _notification(client, "timeline.appended", message_id="<r3@kund.example>"), 30
    )
    await client.call(m.MAILBOXES_SYNC, t.IdParams(id=mailbox_id))
    assert value(daemon.data_dir, "SELECT count(*) FROM messages") == 4
    assert value(daemon.data_dir, "SELECT count(*) FROM timeline_entries") == 3
    assert value(daemon.data_dir, "SELECT count(*) FROM message_locations") == 4
    audit = await client.call(m.MAILBOXES_AUDIT, t.IdParams(id=mailbox_id))
    assert (audit.missing, audit.extra) == ([], [])


async def test_password_changed_then_reconnect(own_dovecot: DovecotServer, client: Client) -> None:
    user = own_dovecot.add_user()
    await asyncio.to_thread(_seed_thread, own_dovecot, user)
    try:
        await client.call(
            m.MAILBOXES_ADD,
            t.ImapAddParams(
                host=own_dovecot.host,
                port=own_dovecot.port,
                security="none",
                username=user.name,
                password="wrong",
                address=ME,
            ),
        )
    except RpcError as exc:
        assert exc.code == ErrorCode.AUTH_FAILED
    else:
        raise AssertionError("a wrong password was accepted")
    mailbox_id = await _add(client, own_dovecot, user)

    changed = own_dovecot.set_password(user, "a-new-password")
    await asyncio.to_thread(own_dovecot.restart)  # drops the daemon's connections
    failed = await asyncio.wait_for(
        _notification(client, "mailbox.status_changed", id=mailbox_id, status="auth_failed"), 90
    )
    assert failed.detail and "a-new-password" not in failed.detail  # a reason, no secret
    [mailbox] = (await client.call(m.MAILBOXES_LIST)).mailboxes
    assert mailbox.status == "auth_failed"
    assert mailbox.blind_threads == 1  # the tracked thread cannot be followed meanwhile (R13)

    await asyncio.to_thread(own_dovecot.append, changed, "INBOX", _reply(4))
    await client.call(
        m.MAILBOXES_RECONNECT, t.MailboxReconnectParams(id=mailbox_id, password="a-new-password")
    )
    await asyncio.wait_for(
        _notification(client, "timeline.appended", message_id="<r4@kund.example>"), 60
    )
    # the thread sees again once the round that read the gap is done (R13)
    await asyncio.wait_for(
        _notification(client, "mailbox.status_changed", id=mailbox_id, status="idle"), 60
    )
    [mailbox] = (await client.call(m.MAILBOXES_LIST)).mailboxes
    assert mailbox.blind_threads == 0


@pytest.fixture
async def imap_client(daemon: DaemonProcess) -> AsyncIterator[Client]:
    conn = await daemon.client()
    yield conn
    await conn.close()


def _secret_not_in(path: Path, secret: str) -> None:
    for file in path.rglob("*"):
        if file.is_file() and file.name != "secrets.json":
            assert secret.encode() not in file.read_bytes(), file


async def test_password_is_kept_out_of_database_and_logs(
    dovecot: DovecotServer, daemon: DaemonProcess, imap_client: Client
) -> None:
    user = dovecot.add_user(password="Hemligt-L0senord-123")
    await _add(imap_client, dovecot, user)
    _secret_not_in(daemon.data_dir, user.password)
