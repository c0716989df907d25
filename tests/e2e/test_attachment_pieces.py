"""`attachments.get` in pieces: a 49 MiB attachment (under the 50 MiB default cap)
on a logged Maildir message, fetched over the real socket at most 16 MiB a call
and put back together byte for byte.

Before: the whole attachment came back in one line, 68.5 MB of base64, over the
64 MiB line limit, and the client's connection was dropped.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

import pytest

from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from loggbok.protocol.errors import ErrorCode, RpcError
from tests.support.daemons import synced_daemon
from tests.support.mail import deliver, make_maildir

SIZE = 49 * 1024 * 1024
PIECE = 16 * 1024 * 1024


def _message_with(data: bytes) -> bytes:
    """A message from a contact with `data` attached (built by hand: the email
    package takes seconds to encode 49 MiB)."""
    head = (
        "From: Anna <anna@kund.example>\r\n"
        "To: me@firma.example\r\n"
        "Subject: Ritningarna\r\n"
        "Message-ID: <big@kund.example>\r\n"
        "Date: Mon, 01 Dec 2025 10:00:00 +0000\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b1"\r\n'
        "\r\n"
        "--b1\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        "Här är ritningarna.\r\n"
        "--b1\r\n"
        "Content-Type: application/octet-stream\r\n"
        'Content-Disposition: attachment; filename="ritningar.bin"\r\n'
        "Content-Transfer-Encoding: base64\r\n"
        "\r\n"
    ).encode()
    return head + base64.encodebytes(data).replace(b"\n", b"\r\n") + b"--b1--\r\n"


async def _attachment(client: Client) -> tuple[int, t.Attachment]:
    msg = await client.call(m.MESSAGES_GET, t.MessageRefParams(message_id="<big@kund.example>"))
    assert msg.logged
    (att,) = msg.attachments
    return msg.id, att


async def test_a_large_attachment_comes_in_pieces_byte_for_byte(workdir: Path) -> None:
    data = os.urandom(SIZE)
    maildir = make_maildir(workdir / "Maildir")
    deliver(maildir, _message_with(data))
    settings = t.SettingsSetParams(logging_mode="all_with_contacts")
    async with synced_daemon(workdir, maildir, settings, ("anna@kund.example",)) as (
        client,
        _,
        _,
        _,
    ):
        message, att = await _attachment(client)
        assert (att.status, att.size) == ("stored", SIZE)
        digest = hashlib.sha256()
        offsets: list[int] = []
        offset: int | None = None
        while True:
            params = t.AttachmentGetParams(id=message, index=att.index)
            if offset is not None:  # the first call as an older client makes it
                params = t.AttachmentGetParams(id=message, index=att.index, offset=offset)
            piece = await client.call(m.ATTACHMENTS_GET, params)
            chunk = base64.b64decode(piece.data_base64)
            assert piece.size == SIZE
            assert piece.offset == (offset or 0)
            assert 0 < len(chunk) <= PIECE
            offsets.append(piece.offset)
            digest.update(chunk)
            offset = piece.next_offset
            if offset is None:
                break
            assert offset == piece.offset + len(chunk)
        assert offsets == [0, PIECE, 2 * PIECE, 3 * PIECE]
        assert digest.hexdigest() == hashlib.sha256(data).hexdigest()

        small = await client.call(
            m.ATTACHMENTS_GET,
            t.AttachmentGetParams(id=message, index=att.index, offset=SIZE - 10, length=100),
        )
        assert base64.b64decode(small.data_base64) == data[-10:]
        assert small.next_offset is None
        capped = await client.call(
            m.ATTACHMENTS_GET,
            t.AttachmentGetParams(id=message, index=att.index, offset=5, length=SIZE),
        )
        assert (capped.offset, capped.next_offset) == (5, 5 + PIECE)
        assert base64.b64decode(capped.data_base64) == data[5 : 5 + PIECE]

        with pytest.raises(RpcError) as past:
            await client.call(
                m.ATTACHMENTS_GET,
                t.AttachmentGetParams(id=message, index=att.index, offset=SIZE + 1),
            )
        assert past.value.code == ErrorCode.INVALID_PARAMS
        assert "past the end" in str(past.value.data)
        for bad in ({"offset": -1}, {"length": 0}):
            with pytest.raises(RpcError) as invalid:
                await client.call_raw(
                    m.ATTACHMENTS_GET.name, {"id": message, "index": att.index, **bad}
                )
            assert invalid.value.code == ErrorCode.INVALID_PARAMS
