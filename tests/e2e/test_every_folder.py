"""Every folder of a Maildir, end to end over the socket: a real loggbokd.

A reply the user's own filter files into `Customers/ACME` (Maildir++
`.Customers.ACME`) is logged; Junk, Trash, Drafts and an excluded folder are
not read; a message in two folders is one message with two locations, decided
once; a move keeps the message's decision and timeline entry and changes only
its locations; a folder created while the daemon runs is synced without a
restart (the watcher sees the new directory); a folder removed takes only its
locations; the audit covers every synced folder.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path
from typing import Any

from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from loggbok.protocol.errors import RpcError
from tests.support.daemons import synced_daemon
from tests.support.mail import days_ago, deliver, make_maildir, make_message
from tests.support.store_rows import value

ME = "me@firma.example"
BCC = "log-9@bcc.loggbok.example"
ANNA = "Anna Berg <anna@kund.example>"
OFFER = "<offer@firma.example>"


def reply(n: int, days: float) -> bytes:
    return make_message(
        ANNA,
        [ME],
        "SV: Offer",
        f"<r{n}@kund.example>",
        in_reply_to=OFFER,
        references=[OFFER],
        date=days_ago(days),
    )


def seed(root: Path) -> Path:
    maildir = make_maildir(
        root,
        ".Sent",
        ".Junk",
        ".Trash",
        ".Drafts",
        ".Customers",
        ".Customers.ACME",
        ".Newsletters",
        ".Archive",
    )
    sent = make_message(ME, [ANNA], "Offer", OFFER, bcc=[BCC], date=days_ago(9))
    deliver(maildir / ".Sent", sent)
    deliver(maildir / ".Customers.ACME", reply(1, 8))  # filed there by a server rule
    deliver(maildir / ".Junk", reply(2, 7))
    deliver(maildir / ".Trash", reply(3, 7))
    deliver(maildir / ".Newsletters", reply(4, 7))
    draft = make_message(ME, [ANNA], "Offer v2", "<draft@firma.example>", bcc=[BCC])
    deliver(maildir / ".Drafts", draft)
    copied = reply(5, 6)
    deliver(maildir, copied)
    deliver(maildir / ".Archive", copied)  # the same message in two folders
    return maildir


def decisions(data_dir: Path, message_id: str) -> int:
    return int(
        value(
            data_dir,
            "SELECT count(*) FROM decisions d JOIN messages m ON m.id = d.message"
            " WHERE m.message_id IN (?, ?)",
            (message_id, message_id.strip("<>")),
        )
    )


def timeline_entries(data_dir: Path, message_id: str) -> int:
    return int(
        value(
            data_dir,
            "SELECT count(*) FROM timeline_entries e JOIN messages m ON m.id = e.message"
            " WHERE m.message_id IN (?, ?)",
            (message_id, message_id.strip("<>")),
        )
    )


async def get(client: Client, message_id: str) -> t.Message:
    return await client.call(m.MESSAGES_GET, t.MessageRefParams(message_id=message_id))


async def stored(client: Client, message_id: str) -> bool:
    try:
        await get(client, message_id)
    except RpcError:
        return False
    return True


async def appended(client: Client, message_id: str) -> Any:
    while True:
        name, params = await client.notifications.get()
        if name == "timeline.appended" and params.entry.message_id == message_id:
            return params


async def test_every_folder_of_a_maildir(workdir: Path) -> None:
    maildir = seed(workdir / "Mail")
    settings = t.SettingsSetParams(
        bcc_address=BCC, own_addresses=[ME], excluded_folders=["newsletters"]
    )
    async with synced_daemon(workdir, maildir, settings) as (client, mailbox_id, _, daemon):
        data = daemon.data_dir
        # a reply filed by the user's server rule into Customers/ACME
        filed = await get(client, "<r1@kund.example>")
        assert (filed.logged, filed.reason) == (True, "reply_in_tracked_thread")
        assert filed.folders == [".Customers.ACME"]
        # Junk, Trash, Drafts and the excluded folder are not read at all
        for message_id in ("<r2@kund.example>", "<r3@kund.example>", "<r4@kund.example>"):
            assert not await stored(client, message_id)
        assert not await stored(client, "<draft@firma.example>")
        [mailbox] = (await client.call(m.MAILBOXES_LIST)).mailboxes
        synced = {f.name: f.role for f in mailbox.folders}
        assert synced == {
            "INBOX": "inbox",
            ".Sent": "sent",
            ".Customers": "other",
            ".Customers.ACME": "other",
            ".Archive": "other",
        }
        # one message in two folders: one message, two locations, one decision
        copied = await get(client, "<r5@kund.example>")
        assert copied.logged and sorted(copied.folders) == [".Archive", "INBOX"]
        assert decisions(data, "<r5@kund.example>") == 1
        assert timeline_entries(data, "<r5@kund.example>") == 1

        # a move: Customers/ACME -> Archive; not a delete, not decided again
        [moved] = list((maildir / ".Customers.ACME" / "cur").iterdir())
        os.rename(moved, maildir / ".Archive" / "cur" / moved.name)
        await client.call(m.MAILBOXES_SYNC, t.IdParams(id=mailbox_id))
        after = await get(client, "<r1@kund.example>")
        assert (after.logged, after.reason, after.folders) == (
            True,
            "reply_in_tracked_thread",
            [".Archive"],
        )
        assert decisions(data, "<r1@kund.example>") == 1
        assert timeline_entries(data, "<r1@kund.example>") == 1

        # a folder made while the daemon runs (as Dovecot or mbsync make one: the
        # directory, then cur/ new/ tmp/), then mail filed into it: no restart, no call
        project = maildir / ".Projects"
        project.mkdir()
        for sub in ("tmp", "cur", "new"):
            (project / sub).mkdir()
        await asyncio.sleep(0.3)
        deliver(project, reply(6, 1), new=True)
        entry = await asyncio.wait_for(appended(client, "<r6@kund.example>"), 30)
        assert entry.entry.reason == "reply_in_tracked_thread"
        assert (await get(client, "<r6@kund.example>")).folders == [".Projects"]

        audit = await client.call(m.MAILBOXES_AUDIT, t.IdParams(id=mailbox_id))
        assert sorted(audit.folders) == sorted([*synced, ".Projects"])
        assert (audit.missing, audit.extra) == ([], [])
        assert audit.server_messages == audit.stored_messages == 5  # locations

        # a folder removed: its locations go, its messages stay
        shutil.rmtree(maildir / ".Archive")
        await client.call(m.MAILBOXES_SYNC, t.IdParams(id=mailbox_id))
        gone = await get(client, "<r1@kund.example>")
        assert (gone.logged, gone.folders) == (True, [])
        assert timeline_entries(data, "<r1@kund.example>") == 1
        assert (await get(client, "<r5@kund.example>")).folders == ["INBOX"]
        [mailbox] = (await client.call(m.MAILBOXES_LIST)).mailboxes
        assert ".Archive" not in {f.name for f in mailbox.folders}

        # excluding a folder later: applied at the next round, its messages stay
        await client.call(
            m.SETTINGS_SET, t.SettingsSetParams(excluded_folders=["Newsletters", "Projects"])
        )
        await client.call(m.MAILBOXES_SYNC, t.IdParams(id=mailbox_id))
        assert (await get(client, "<r6@kund.example>")).folders == []
        assert timeline_entries(data, "<r6@kund.example>") == 1


async def test_excluded_folders_are_checked(client: Client) -> None:
    saved = await client.call(
        m.SETTINGS_SET, t.SettingsSetParams(excluded_folders=[" Lists/ ", "Lists", "Old/*"])
    )
    assert saved.excluded_folders == ["Lists", "Old/*"]
    for bad in (["INBOX"], [""], ["a\nb"]):
        try:
            await client.call(m.SETTINGS_SET, t.SettingsSetParams(excluded_folders=bad))
        except RpcError as exc:
            assert "excluded_folders" in str(exc.data)
        else:
            raise AssertionError(f"{bad!r} was accepted")
