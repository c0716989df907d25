"""Where a store keeps attachments, on a real store (SQLite and PostgreSQL).

SQLite: files beside the database (`db.blobs`), read from there. PostgreSQL: the
transaction that writes a message's attachment rows copies the staged blobs into
`attachment_blobs` (once per content, whichever message or member brought it; a
sync round copies its chunk's in just before, outside the write lock), the
staged files go once it committed, and a blob whose staged file is gone is recorded
`missing` rather than named by a row the database cannot serve.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

from loggbok.daemon.mime.headers import parse_headers
from loggbok.daemon.rules.context import RuleSettings
from loggbok.daemon.rules.planner import Incoming
from loggbok.daemon.store.bodies import StoredAttachment, StoredBody, write_bodies
from loggbok.daemon.store.store import Store

RULES = RuleSettings(mode="all_with_contacts", own_addresses=frozenset({"me@f.example"}))
PDF = b"%PDF-1.4 " + bytes(range(256)) * 40


def _incoming(folder: int, uid: int) -> Incoming:
    lines = [
        "From: anna@k.example",
        "To: me@f.example",
        f"Subject: Offer {uid}",
        f"Message-ID: <m{uid}@k.example>",
        "Date: 02 Jan 2023 09:00:00 +0000",
    ]
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode()
    return Incoming(folder, str(uid), parse_headers(raw), raw)


def _body(*attachments: StoredAttachment) -> StoredBody:
    return StoredBody("see attached", "see attached", "see attached", attachments)


async def test_attachments_are_kept_where_the_store_keeps_them(
    tmp_path: Path, store_backend: str
) -> None:
    store = await Store.open(tmp_path)
    try:
        await store.contacts.create("anna@k.example", "Anna")
        mailbox = await store.mailboxes.add("maildir", "me@f.example", {})
        inbox = await store.mailboxes.folder(mailbox, "INBOX", "inbox")
        round_ = store.rounds.begin(mailbox, RULES, {inbox.id: "INBOX"}, "everyone")
        written = await round_.write([_incoming(inbox.id, n) for n in (1, 2, 3)], None)
        first, second, third = (m.id for m in written.plan.messages)
        digest = store.blobs.put(PDF)
        gone = hashlib.sha256(b"never staged").hexdigest()
        pdf = StoredAttachment(0, "offer.pdf", "application/pdf", len(PDF), "stored", digest)
        lost = StoredAttachment(1, "lost.txt", "text/plain", 12, "stored", gone)
        await round_.write_bodies(
            {first: _body(pdf, lost), second: _body(pdf)}, {}, [], forwards=False
        )
        # Not a sync round (a retry, an import): copied by the transaction itself.
        note = store.blobs.put(b"a note")
        async with store.db.transaction() as tx:
            await write_bodies(tx, {third: _body(replace(pdf, sha256=note, size=6))})
        assert await store.db.read_blob(note) == (6, b"a note")

        assert await store.db.read_blob(digest) == (len(PDF), PDF)
        assert await store.db.read_blob(digest, 100, 50) == (len(PDF), PDF[100:150])
        assert await store.db.read_blob(digest, len(PDF) + 5, 50) == (len(PDF), b"")
        assert await store.db.read_blob(gone) is None
        got = await store.messages.get(first, 1)
        statuses = [(a.filename, a.status) for a in got.attachments]
        if store_backend == "postgres":
            # Copied once for two messages; the staged file gone; the lost one not named.
            rows = await store.db.fetchall("SELECT sha256, size FROM attachment_blobs")
            assert sorted(tuple(r) for r in rows) == sorted([(digest, len(PDF)), (note, 6)])
            assert not store.blobs.path(digest).exists()
            assert not store.blobs.path(note).exists()
            assert statuses == [("offer.pdf", "stored"), ("lost.txt", "missing")]
        else:
            assert store.blobs.path(digest).read_bytes() == PDF  # the files are the store
            assert statuses == [("offer.pdf", "stored"), ("lost.txt", "stored")]
    finally:
        await store.close()
