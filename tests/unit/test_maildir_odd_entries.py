"""Odd entries in a real Maildir never stop its sync: a file name or folder name
that is not UTF-8 is stored under an escaped name (it stopped every round with a
UnicodeEncodeError in SQLite), and what is not a regular file is passed over."""

from __future__ import annotations

import os
from pathlib import Path

from loggbok.daemon.store.store import Store
from loggbok.daemon.sync.engine import SyncRound
from loggbok.daemon.sync.providers.maildir.backend import MaildirBackend
from loggbok.protocol import types as t
from tests.support.mail import make_maildir, make_message


async def _ignore(name: str, params: object) -> None:
    return None


def _odd_maildir(root: Path) -> Path:
    maildir = make_maildir(root / "Maildir")
    new = maildir / "new"
    odd = os.fsencode(new) + b"/1700000000.M1P2.h\xff\xfe:2,S"
    with open(odd, "wb") as file:
        file.write(make_message("anna@kund.example", ["me@firma.example"], "Hej", "<odd@kund>"))
    (new / "subdir").mkdir()
    os.symlink("/dev/zero", new / "zero-link")
    os.mkfifo(new / "fifo")
    sent = os.fsencode(maildir) + b"/.Sent/cur"
    os.makedirs(sent)
    os.makedirs(os.fsencode(maildir) + b"/.Sent/new")
    with open(sent + b"/1700000001.M2P2.\xe4:2,S", "wb") as file:  # Latin-1 in the name
        file.write(make_message("me@firma.example", ["anna@kund.example"], "Svar", "<sent@f>"))
    archive = os.fsencode(maildir) + b"/.Arkiv-\xe4"  # a Latin-1 folder name
    for sub in (b"/cur", b"/new", b"/tmp"):
        os.makedirs(archive + sub)
    return maildir


async def test_odd_names_and_entries_sync(tmp_path: Path) -> None:
    maildir = _odd_maildir(tmp_path)
    store = await Store.open(tmp_path)
    backend = MaildirBackend(maildir)
    try:
        await store.contacts.create("anna@kund.example", "Anna")
        await store.settings.update(t.SettingsSetParams(logging_mode="all_with_contacts"))
        config = {"path": str(maildir)}
        mailbox_id = await store.mailboxes.add("maildir", "me@firma.example", config)
        await backend.connect()
        folders = {f.name for f in await backend.folders()}
        assert folders == {"INBOX", ".Sent", ".Arkiv-\\xe4"}
        result = await SyncRound(
            store, await store.mailboxes.get_row(mailbox_id), backend, _ignore
        ).run()
        assert (result.seen, result.new, result.errors) == (2, 2, 0)
        inbound = await store.messages.get(await store.messages.resolve(None, "<odd@kund>", 1), 1)
        assert inbound.logged and inbound.reason == "contact_email"
        assert (
            await store.messages.get(await store.messages.resolve(None, "<sent@f>", 1), 1)
        ).logged
        again = await SyncRound(
            store, await store.mailboxes.get_row(mailbox_id), backend, _ignore
        ).run()
        assert again.new == 0
    finally:
        await backend.close()
        await store.close()
