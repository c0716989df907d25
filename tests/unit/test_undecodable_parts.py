"""A part whose base64 cannot be decoded is recorded as `undecodable` with its
encoded size, never as a stored file of 0 bytes (a 20 MB part of junk was)."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from loggbok.daemon.mime.body import parse_message
from loggbok.daemon.mime.parts import base64_undecodable
from loggbok.daemon.store.blobs import BlobStore
from loggbok.daemon.store.store import Store
from loggbok.daemon.sync.bodies import build_body
from loggbok.daemon.sync.engine import SyncRound
from loggbok.daemon.sync.providers.maildir.backend import MaildirBackend
from loggbok.protocol import types as t
from tests.support.mail import make_maildir

JUNK = b"!#%&*()<>?~" * 20_000 + b"\n"


def _with_part(encoded: bytes, name: str = "data.bin") -> bytes:
    return (
        b"From: anna@kund.example\nTo: me@firma.example\nSubject: junk\n"
        b"Message-ID: <junk@kund>\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="B"\n\n'
        b"--B\nContent-Type: text/plain\n\nSee the file.\n"
        b"--B\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n"
        b'Content-Disposition: attachment; filename="'
        + name.encode()
        + b'"\n\n'
        + encoded
        + b"\n--B--\n"
    )


def test_the_rule() -> None:
    good = base64.encodebytes(os.urandom(3000))
    assert not base64_undecodable(good)
    assert not base64_undecodable(good.rstrip(b"=\n"))  # missing padding is mended
    assert not base64_undecodable(good + b"-- \nList footer\n")  # a little junk after it
    assert base64_undecodable(JUNK)
    assert base64_undecodable(bytes(range(128, 256)) * 100)
    assert base64_undecodable(b"QUJD" * 100 + b"Q")  # one character over: no decoding
    assert not base64_undecodable(b"")


@pytest.mark.parametrize("fast", [True, False])
def test_a_junk_part_is_undecodable_with_its_encoded_size(fast: bool) -> None:
    parsed = parse_message(_with_part(JUNK), fast=fast)
    (part,) = parsed.attachments
    assert part.undecodable and part.payload == b""
    assert part.size == len(JUNK)
    assert "attachment_undecodable" in parsed.errors
    good = parse_message(_with_part(base64.encodebytes(b"real data")), fast=fast)
    assert not good.attachments[0].undecodable
    assert good.attachments[0].payload == b"real data"


def test_build_body_records_it_and_stores_nothing(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "blobs")
    body = build_body(_with_part(JUNK), blobs, 50_000_000, 2_000_000)
    (attachment,) = body.attachments
    assert (attachment.status, attachment.size, attachment.sha256) == (
        "undecodable",
        len(JUNK),
        None,
    )
    assert body.parse_error is not None and "attachment_undecodable" in body.parse_error
    assert not (tmp_path / "blobs").exists()


async def _ignore(name: str, params: object) -> None:
    return None


async def test_messages_get_shows_it(tmp_path: Path) -> None:
    maildir = make_maildir(tmp_path / "Maildir")
    (maildir / "cur" / "1700000000.M1P1.host:2,S").write_bytes(_with_part(JUNK))
    store = await Store.open(tmp_path)
    backend = MaildirBackend(maildir)
    try:
        await store.contacts.create("anna@kund.example", "Anna")
        await store.settings.update(t.SettingsSetParams(logging_mode="all_with_contacts"))
        mailbox_id = await store.mailboxes.add("maildir", "me@firma.example", {"path": "x"})
        await backend.connect()
        await SyncRound(store, await store.mailboxes.get_row(mailbox_id), backend, _ignore).run()
        message = await store.messages.get(await store.messages.resolve(None, "<junk@kund>", 1), 1)
        assert message.logged
        [attachment] = message.attachments
        assert (attachment.status, attachment.size) == ("undecodable", len(JUNK))
        assert message.parse_error is not None and "attachment_undecodable" in message.parse_error
    finally:
        await backend.close()
        await store.close()
