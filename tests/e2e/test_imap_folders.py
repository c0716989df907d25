"""Every folder over IMAP, end to end: the real loggbokd against a real Dovecot.

A reply filed by a server rule into "Customers/ACME" is logged; Junk, Trash,
Drafts and an excluded folder are not read; a message copied into two folders
is one message with two locations; a message MOVEd from INBOX to Archive keeps
its decision and timeline entry and gains its new location; a folder CREATEd
while the daemon runs is read by the next round; a DELETEd folder takes only
its locations; the audit covers every synced folder.

And Gmail: `GmailProxy` (tests/servers/gmail_proxy.py) sits in front of the
real Dovecot and emulates Gmail's documented IMAP extension X-GM-EXT-1
(https://developers.google.com/gmail/imap/imap-extensions: the capability and
the X-GM-LABELS, X-GM-MSGID and X-GM-THRID fetch items, derived from the real
data), so loggbok's real IMAP client reads `[Gmail]/All Mail` once, with the
labels as the message's folders, and never the label folders themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
from pathlib import Path
from typing import Any

from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from loggbok.protocol.errors import RpcError
from tests.conftest import DaemonProcess
from tests.servers.dovecot import DovecotServer, DovecotUser, encode_mutf7
from tests.servers.gmail_proxy import ALL_MAIL, GmailProxy
from tests.support.mail import days_ago, make_message
from tests.support.store_rows import value

ME = "maja@firma.example"
BCC = "log-77@bcc.loggbok.example"
ANNA = "Anna Berg <anna@kund.example>"
OFFER = "<offer@firma.example>"


def offer() -> bytes:
    return make_message(ME, [ANNA], "Offer Q3", OFFER, bcc=[BCC], date=days_ago(9))


def reply(n: int, days: float) -> bytes:
    return make_message(
        ANNA,
        [ME],
        "SV: Offer Q3",
        f"<r{n}@kund.example>",
        in_reply_to=OFFER,
        references=[OFFER],
        date=days_ago(days),
    )


def draft() -> bytes:
    return make_message(ME, [ANNA], "Offer Q3 v2", "<draft@firma.example>", bcc=[BCC])


async def add(client: Client, host: str, port: int, user: DovecotUser, **settings: Any) -> int:
    await client.call(
        m.SETTINGS_SET, t.SettingsSetParams(bcc_address=BCC, own_addresses=[ME], **settings)
    )
    added = await client.call(
        m.MAILBOXES_ADD,
        t.ImapAddParams(
            host=host,
            port=port,
            security="none",
            username=user.name,
            password=user.password,
            address=ME,
        ),
    )
    await client.call(m.MAILBOXES_SYNC, t.IdParams(id=added.id))
    return added.id


async def get(client: Client, message_id: str) -> t.Message:
    return await client.call(m.MESSAGES_GET, t.MessageRefParams(message_id=message_id))


async def stored(client: Client, message_id: str) -> bool:
    try:
        await get(client, message_id)
    except RpcError:
        return False
    return True


def count(data_dir: Path, table: str, message_id: str | None = None) -> int:
    if message_id is None:
        return int(value(data_dir, f"SELECT count(*) FROM {table}"))
    return int(
        value(
            data_dir,
            f"SELECT count(*) FROM {table} x JOIN messages m ON m.id = x.message"
            " WHERE m.message_id IN (?, ?)",
            (message_id, message_id.strip("<>")),
        )
    )


def imap_move(
    server: DovecotServer, user: DovecotUser, message_id: str, source: str, to: str
) -> None:
    """MOVE (RFC 6851) one message by its Message-ID, as a mail client or a rule does."""
    imap = server.connect(user)
    try:
        imap.select('"' + encode_mutf7(source) + '"')
        typ, data = imap.uid("SEARCH", "HEADER", "Message-ID", message_id)
        [uid] = data[0].split()
        typ, data = imap.uid("MOVE", uid, '"' + encode_mutf7(to) + '"')
        assert typ == "OK", data
    finally:
        with contextlib.suppress(Exception):
            imap.logout()


def imap_command(server: DovecotServer, user: DovecotUser, *command: str) -> None:
    imap = server.connect(user)
    try:
        typ, data = getattr(imap, command[0])(*command[1:])
        assert typ == "OK", data
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            imap.logout()


def seed(server: DovecotServer, user: DovecotUser) -> None:
    for folder in ("Junk", "Customers/ACME", "Newsletters"):
        imap_command(server, user, "create", '"' + folder + '"')
    server.append(user, "Sent", offer())
    server.append(user, "Customers/ACME", reply(1, 8))  # filed by the user's server rule
    server.append(user, "Junk", reply(2, 7))
    server.append(user, "Trash", reply(3, 7))
    server.append(user, "Newsletters", reply(4, 7))
    server.append(user, "Drafts", draft())
    server.append(user, "INBOX", reply(5, 6))
    server.append(user, "Archive", reply(5, 6))  # the same message in two folders
    server.append(user, "INBOX", reply(7, 5))


async def test_every_folder_on_dovecot(
    dovecot: DovecotServer, daemon: DaemonProcess, client: Client
) -> None:
    user = dovecot.add_user()
    await asyncio.to_thread(seed, dovecot, user)
    mailbox_id = await add(
        client, dovecot.host, dovecot.port, user, excluded_folders=["Newsletters"]
    )
    data = daemon.data_dir
    filed = await get(client, "<r1@kund.example>")
    assert (filed.logged, filed.reason, filed.folders) == (
        True,
        "reply_in_tracked_thread",
        ["Customers/ACME"],
    )
    for message_id in ("<r2@kund.example>", "<r3@kund.example>", "<r4@kund.example>"):
        assert not await stored(client, message_id)
    assert not await stored(client, "<draft@firma.example>")
    [mailbox] = (await client.call(m.MAILBOXES_LIST)).mailboxes
    synced = {f.name: f.role for f in mailbox.folders}
    assert synced == {
        "INBOX": "inbox",
        "Sent": "sent",
        "Archive": "other",
        "Customers/ACME": "other",
    }
    copied = await get(client, "<r5@kund.example>")
    assert copied.logged and sorted(copied.folders) == ["Archive", "INBOX"]
    assert count(data, "decisions", "<r5@kund.example>") == 1
    assert count(data, "timeline_entries", "<r5@kund.example>") == 1

    # INBOX -> Archive with MOVE: a new location, the old one gone (QRESYNC), no
    # delete and no second decision
    await asyncio.to_thread(imap_move, dovecot, user, "<r7@kund.example>", "INBOX", "Archive")
    await client.call(m.MAILBOXES_SYNC, t.IdParams(id=mailbox_id))
    moved = await get(client, "<r7@kund.example>")
    assert (moved.logged, moved.reason, moved.folders) == (
        True,
        "reply_in_tracked_thread",
        ["Archive"],
    )
    assert count(data, "decisions", "<r7@kund.example>") == 1
    assert count(data, "timeline_entries", "<r7@kund.example>") == 1

    # a folder created while the daemon runs: the next round reads it from its start
    await asyncio.to_thread(imap_command, dovecot, user, "create", "Projects")
    await asyncio.to_thread(dovecot.append, user, "Projects", reply(6, 1))
    await client.call(m.MAILBOXES_SYNC, t.IdParams(id=mailbox_id))
    found = await get(client, "<r6@kund.example>")
    assert (found.logged, found.folders) == (True, ["Projects"])

    audit = await client.call(m.MAILBOXES_AUDIT, t.IdParams(id=mailbox_id))
    assert sorted(audit.folders) == sorted([*synced, "Projects"])
    assert (audit.missing, audit.extra) == ([], [])
    assert audit.server_messages == audit.stored_messages == 6

    # a folder deleted on the server: its locations go, its messages stay
    await asyncio.to_thread(imap_command, dovecot, user, "delete", "Archive")
    await client.call(m.MAILBOXES_SYNC, t.IdParams(id=mailbox_id))
    assert (await get(client, "<r7@kund.example>")).folders == []
    assert count(data, "timeline_entries", "<r7@kund.example>") == 1
    assert (await get(client, "<r5@kund.example>")).folders == ["INBOX"]
    assert count(data, "messages") == 5


def seed_gmail(server: DovecotServer, user: DovecotUser) -> None:
    """Gmail's layout: every message in All Mail, a copy in each of its labels'
    folders (which loggbok must not read)."""
    for folder in (ALL_MAIL, "[Gmail]/Sent Mail", "[Gmail]/Drafts", "Customers/ACME"):
        server.create_folder(user, folder)
    for raw, labels in (
        (offer(), ["[Gmail]/Sent Mail"]),
        (reply(1, 8), ["INBOX"]),
        (reply(2, 7), ["Customers/ACME"]),  # filed by a Gmail filter, skipping the inbox
        (reply(3, 6), ["INBOX", "Customers/ACME"]),
        (draft(), ["[Gmail]/Drafts"]),
    ):
        server.append(user, ALL_MAIL, raw)
        for label in labels:
            server.append(user, label, raw)


async def test_gmail_all_mail_once_with_labels(
    dovecot: DovecotServer, daemon: DaemonProcess, client: Client
) -> None:
    user = dovecot.add_user(folders=())
    await asyncio.to_thread(seed_gmail, dovecot, user)
    with GmailProxy(dovecot, user) as proxy:
        mailbox_id = await add(client, proxy.host, proxy.port, user)
        data = daemon.data_dir
        assert proxy.label_fetches > 0
        [mailbox] = (await client.call(m.MAILBOXES_LIST)).mailboxes
        assert [(f.name, f.role) for f in mailbox.folders] == [(ALL_MAIL, "all")]
        assert (await get(client, OFFER)).folders == [ALL_MAIL, "[Gmail]/Sent Mail"]
        first = await get(client, "<r1@kund.example>")
        assert (first.reason, first.folders) == ("reply_in_tracked_thread", [ALL_MAIL, "INBOX"])
        filed = await get(client, "<r2@kund.example>")
        assert (filed.reason, filed.folders) == (
            "reply_in_tracked_thread",
            [ALL_MAIL, "Customers/ACME"],
        )
        both = await get(client, "<r3@kund.example>")
        assert sorted(both.folders) == sorted([ALL_MAIL, "INBOX", "Customers/ACME"])
        assert not await stored(client, "<draft@firma.example>")  # labelled \Draft
        # each message read and decided once, whatever its labels
        assert count(data, "messages") == count(data, "decisions") == 4
        assert count(data, "message_locations") == 4
        assert count(data, "timeline_entries") == 4

        # new mail: IDLE on All Mail wakes the worker; decided once more, not twice
        await asyncio.to_thread(dovecot.append, user, ALL_MAIL, reply(4, 0))
        await asyncio.to_thread(dovecot.append, user, "INBOX", reply(4, 0))
        while True:
            name, params = await asyncio.wait_for(client.notifications.get(), 30)
            if name == "timeline.appended" and params.entry.message_id == "<r4@kund.example>":
                break
        assert (await get(client, "<r4@kund.example>")).folders == [ALL_MAIL, "INBOX"]
        assert count(data, "messages") == count(data, "decisions") == 5

        audit = await client.call(m.MAILBOXES_AUDIT, t.IdParams(id=mailbox_id))
        assert audit.folders == [ALL_MAIL]
        assert (audit.missing, audit.extra) == ([], [])
        assert audit.server_messages == audit.stored_messages == 5


async def test_a_folder_the_server_will_not_open_leaves_the_others(
    dovecot: DovecotServer, client: Client
) -> None:
    user = dovecot.add_user()
    dovecot.create_folder(user, "Locked")
    await asyncio.to_thread(dovecot.append, user, "Sent", offer())
    await asyncio.to_thread(dovecot.append, user, "Locked", reply(1, 2))
    await asyncio.to_thread(dovecot.append, user, "INBOX", reply(2, 1))
    locked = dovecot.maildir_path(user, "Locked")
    locked.chmod(0)  # Dovecot lists it but answers NO to EXAMINE
    try:
        mailbox_id = await add(client, dovecot.host, dovecot.port, user)
        assert (await get(client, "<r2@kund.example>")).logged
        assert not await stored(client, "<r1@kund.example>")
        [mailbox] = (await client.call(m.MAILBOXES_LIST)).mailboxes
        states = {f.name: f.state for f in mailbox.folders}
        assert (mailbox.status, states["Locked"], states["INBOX"]) == (
            "idle",
            "temporary_error",
            "idle",
        )
    finally:
        locked.chmod(0o700)
    await client.call(m.MAILBOXES_SYNC, t.IdParams(id=mailbox_id))
    assert (await get(client, "<r1@kund.example>")).folders == ["Locked"]
