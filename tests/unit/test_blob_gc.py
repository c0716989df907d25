"""A blob no attachment names any more goes; one another attachment names stays; one a
concurrent writer is about to name is never lost. On a real store (both stores).

Before: `attachment_blobs` (PostgreSQL) and the blob files (SQLite) only grew: a body
written again, or R11's real files in place of a scanner's placeholders, left the old
content stored for ever. (Nothing deletes a message in this store; a deletion added
later releases its blobs the same way.) Now the transaction that lets go of a blob drops it when no
attachment names it (`store/blob_gc.py`).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from loggbok.daemon.store import blob_gc
from loggbok.daemon.store.backup import backup
from loggbok.daemon.store.bodies import StoredAttachment, StoredBody, write_bodies
from loggbok.daemon.store.rescans import PENDING_SCAN
from loggbok.daemon.store.store import Store
from tests.unit.test_attachment_blobs import RULES, _incoming

PDF = b"%PDF-1.4 " + bytes(range(256)) * 40
NOTE = b"a note, written later"


def _body(data: bytes, digest: str) -> StoredBody:
    pdf = StoredAttachment(0, "offer.pdf", "application/pdf", len(data), "stored", digest)
    return StoredBody("see attached", "see attached", "see attached", (pdf,))


async def _messages(store: Store, count: int) -> list[int]:
    await store.contacts.create("anna@k.example", "Anna")
    mailbox = await store.mailboxes.add("maildir", "me@f.example", {})
    inbox = await store.mailboxes.folder(mailbox, "INBOX", "inbox")
    round_ = store.rounds.begin(mailbox, RULES, {inbox.id: "INBOX"}, "everyone")
    written = await round_.write([_incoming(inbox.id, n) for n in range(1, count + 1)], None)
    return [m.id for m in written.plan.messages]


async def _write(store: Store, message: int, data: bytes) -> str:
    digest = store.blobs.put(data)
    async with store.db.transaction() as tx:
        await write_bodies(tx, {message: _body(data, digest)})
    return digest


async def test_a_blob_goes_with_the_last_attachment_naming_it(tmp_path: Path) -> None:
    store = await Store.open(tmp_path)
    try:
        first, second = await _messages(store, 2)
        pdf = await _write(store, first, PDF)
        assert await _write(store, second, PDF) == pdf  # one blob, two messages
        note = await _write(store, first, NOTE)  # the first's body written again
        assert await store.db.read_blob(pdf) == (len(PDF), PDF)  # the second names it
        assert await _write(store, second, NOTE) == note
        assert await store.db.read_blob(pdf) is None  # named by nothing: gone
        assert await store.db.read_blob(note) == (len(NOTE), NOTE)
        got = await store.messages.get(second, 1)
        assert [a.sha256 for a in got.attachments] == [note]
        trash = store.blobs.trash_path(pdf)
        if store.db.dialect.name == "postgresql":
            assert not await store.db.fetchall(
                "SELECT 1 FROM attachment_blobs WHERE sha256 = ?", (pdf,)
            )
        else:  # out of the store at once; off the disk once the grace has passed
            assert not store.blobs.path(pdf).exists()
            old = time.time() - blob_gc.TRASH_GRACE - 60
            os.utime(trash, (old, old))
            third = await _write(store, first, b"a third content")
            assert await _write(store, second, b"a third content") == third  # `note` goes
            assert not trash.exists()  # and the next release removed the old one
            assert store.blobs.trash_path(note).exists()
            assert await store.db.read_blob(third) is not None
    finally:
        await store.close()


async def test_a_blob_being_named_by_another_writer_is_never_lost(tmp_path: Path) -> None:
    """Another writer (on PostgreSQL another member's daemon) staged the blob, found it
    stored (nothing to copy), and is about to name it, when a transaction lets go of the
    last attachment naming it: its own transaction gets the blob back."""
    store = await Store.open(tmp_path)
    try:
        first, second = await _messages(store, 2)
        pdf = await _write(store, first, PDF)
        staged = store.blobs.put(PDF)  # the other writer's parse: its blob is there
        await store.db.upload_blobs({staged})  # stored already: nothing copied
        await _write(store, first, NOTE)  # the last attachment naming it lets go
        assert await store.db.read_blob(pdf) is None
        async with store.db.transaction() as tx:  # the other writer's transaction
            await write_bodies(tx, {second: _body(PDF, staged)})
        assert await store.db.read_blob(pdf) == (len(PDF), PDF)
        got = await store.messages.get(second, 1)
        assert [(a.sha256, a.status) for a in got.attachments] == [(pdf, "stored")]
    finally:
        await store.close()


async def test_a_rolled_back_release_keeps_the_blob(tmp_path: Path) -> None:
    store = await Store.open(tmp_path)
    try:
        (first,) = await _messages(store, 1)
        pdf = await _write(store, first, PDF)
        note = store.blobs.put(NOTE)
        try:
            async with store.db.transaction() as tx:
                await write_bodies(tx, {first: _body(NOTE, note)})
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        assert await store.db.read_blob(pdf) == (len(PDF), PDF)
        got = await store.messages.get(first, 1)
        assert [a.sha256 for a in got.attachments] == [pdf]
    finally:
        await store.close()


async def test_r11_real_files_replace_a_scanners_notice(tmp_path: Path) -> None:
    """A message stored with a scanner's placeholder and a notice file of its own: the
    real files fetched again in their place (R11) let go of the notice's blob."""
    store = await Store.open(tmp_path)
    try:
        (first,) = await _messages(store, 1)
        shown = b"<html>The attachment is being scanned</html>"
        notice = store.blobs.put(shown)
        stored = StoredAttachment(0, "notice.html", "text/html", len(shown), "stored", notice)
        pending = StoredAttachment(1, "offer.pdf", "application/pdf", 0, PENDING_SCAN, None)
        async with store.db.transaction() as tx:
            await write_bodies(tx, {first: StoredBody("x", "x", "x", (stored, pending))})
        assert await store.db.read_blob(notice) is not None
        pdf = store.blobs.put(PDF)
        assert await store.messages.replace_scanned(first, _body(PDF, pdf), time.time())
        assert await store.db.read_blob(notice) is None
        assert await store.db.read_blob(pdf) == (len(PDF), PDF)
    finally:
        await store.close()


@pytest.mark.sqlite_only  # a copy of the SQLite file and its blob folder
async def test_a_backup_copies_a_blob_let_go_of_after_its_snapshot(tmp_path: Path) -> None:
    """A blob moved into the trash after the backup's snapshot (which still names it) is
    copied from there, into its place."""
    (tmp_path / "data").mkdir()
    store = await Store.open(tmp_path / "data")
    try:
        (first,) = await _messages(store, 1)
        pdf = await _write(store, first, PDF)
        await _write(store, first, NOTE)  # `pdf` is in the trash now
        assert store.blobs.trash_path(pdf).exists()
        result = backup(store.db.path, tmp_path / "backup")  # type: ignore[attr-defined]
        copy = tmp_path / "backup" / "blobs" / pdf[:2] / pdf[2:]
        assert copy.read_bytes() == PDF
        assert result.blobs_copied == 2
    finally:
        await store.close()


async def test_a_body_written_again_with_fewer_attachments_keeps_no_stale_rows(
    tmp_path: Path,
) -> None:
    """Before: rows were upserted by (message, idx) and never deleted, so a body written
    again with one attachment instead of two still listed the second (and kept its blob)."""
    store = await Store.open(tmp_path)
    try:
        (message,) = await _messages(store, 1)
        pdf, note = store.blobs.put(PDF), store.blobs.put(NOTE)
        two = StoredBody(
            "see attached",
            "see attached",
            "see attached",
            (
                StoredAttachment(0, "offer.pdf", "application/pdf", len(PDF), "stored", pdf),
                StoredAttachment(1, "note.txt", "text/plain", len(NOTE), "stored", note),
            ),
        )
        async with store.db.transaction() as tx:
            await write_bodies(tx, {message: two})
        assert len((await store.messages.get(message, 1)).attachments) == 2
        async with store.db.transaction() as tx:
            await write_bodies(tx, {message: _body(PDF, pdf)})
        got = await store.messages.get(message, 1)
        assert [(a.filename, a.sha256) for a in got.attachments] == [("offer.pdf", pdf)]
        assert await store.db.read_blob(note) is None  # named by nothing now: gone
        assert await store.db.read_blob(pdf) == (len(PDF), PDF)
    finally:
        await store.close()
