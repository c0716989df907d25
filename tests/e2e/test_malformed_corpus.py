"""A Maildir full of broken mail syncs without a crash or a hang; every file is
recorded, and the daemon keeps answering."""

from __future__ import annotations

import shutil
from pathlib import Path

from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from tests.conftest import DaemonProcess
from tests.support.mail import make_maildir
from tests.support.store_rows import rows, value

CORPUS = Path(__file__).resolve().parents[1] / "data" / "malformed"


async def test_malformed_corpus_syncs(daemon: DaemonProcess, client: Client, workdir: Path) -> None:
    maildir = make_maildir(workdir / "Maildir")
    files = sorted(p for p in CORPUS.iterdir() if p.suffix in (".txt", ".eml"))
    assert len(files) > 50
    for n, path in enumerate(files):
        shutil.copy(path, maildir / "cur" / f"{n}.corpus.host:2,S")
    await client.call(m.SETTINGS_SET, t.SettingsSetParams(logging_mode="all_with_contacts"))
    # Make a contact of every sender that can be read, so bodies get parsed too.
    await client.call(m.CONTACTS_CREATE, t.ContactCreateParams(email="bperson@dom.ain"))
    added = await client.call(
        m.MAILBOXES_ADD,
        t.MaildirAddParams(path=str(maildir), address="me@example.com"),
    )
    await client.call(m.MAILBOXES_SYNC, t.IdParams(id=added.id))
    data = daemon.data_dir
    assert value(data, "SELECT count(*) FROM message_locations") == len(files)
    stored = value(data, "SELECT count(*) FROM messages")
    assert 0 < stored <= len(files)
    logged = rows(data, "SELECT id FROM messages WHERE logged = 1")
    assert logged, "some corpus messages come from the contact and must be logged"
    for (message_id,) in logged:
        got = await client.call(m.MESSAGES_GET, t.MessageRefParams(id=message_id))
        assert got.id == message_id
    everything = await client.call(m.MESSAGES_LIST, t.MessagesListParams(limit=500))
    for summary in everything.messages:
        explanation = await client.call(m.MESSAGES_EXPLAIN, t.MessageRefParams(id=summary.id))
        assert explanation.summary
    assert (await client.call(m.HELLO)).daemon_version
