"""Messages without a Message-ID are keyed by their header block and the start of
their body: junk files sharing one header block stay apart (2,500 became 23
messages), while the same file in two folders stays one message."""

from __future__ import annotations

from pathlib import Path

from loggbok.daemon.mime.headers import BODY_SAMPLE_READ, content_key, parse_headers
from loggbok.daemon.store.store import Store
from loggbok.daemon.sync.engine import SyncRound
from loggbok.daemon.sync.providers.maildir.backend import MaildirBackend, read_body_start
from tests.support.mail import make_maildir
from tests.support.store_rows import value

HEADER = b"From: noreply@junk.example\nTo: me@firma.example\nSubject: You won\n\n"
JUNK = 200


async def _ignore(name: str, params: object) -> None:
    return None


def test_keys_follow_the_body_start_and_ignore_line_ends() -> None:
    lf = HEADER + b"line one\nline two\n" * 3000
    crlf = lf.replace(b"\n", b"\r\n")
    header_lf, _, body_lf = lf.partition(b"\n\n")
    header_crlf, _, body_crlf = crlf.partition(b"\r\n\r\n")
    assert not parse_headers(lf).has_message_id
    same = content_key(header_lf + b"\n\n", body_lf[:BODY_SAMPLE_READ])
    assert same == content_key(header_crlf + b"\r\n\r\n", body_crlf[:BODY_SAMPLE_READ])
    assert same != content_key(header_lf + b"\n\n", b"another body")
    assert same != parse_headers(lf).message_key  # the header-only key


async def test_junk_with_one_header_block_stays_apart_and_a_copy_stays_one(
    tmp_path: Path,
) -> None:
    maildir = make_maildir(tmp_path / "Maildir", ".Sent")
    for n in range(JUNK):
        (maildir / "cur" / f"17000{n:05d}.M{n}P1.host:2,S").write_bytes(
            HEADER + f"junk number {n}\n".encode() * 10
        )
    copied = HEADER + b"the same file in two folders\n"
    (maildir / "cur" / "1700100000.M1P2.host:2,S").write_bytes(copied)
    (maildir / ".Sent" / "cur" / "1700100000.M1P3.host:2,S").write_bytes(copied)
    assert read_body_start(maildir / "cur" / "1700100000.M1P2.host:2,S") == copied[len(HEADER) :]
    store = await Store.open(tmp_path)
    backend = MaildirBackend(maildir)
    try:
        mailbox_id = await store.mailboxes.add("maildir", "me@firma.example", {"path": "x"})
        await backend.connect()
        result = await SyncRound(
            store, await store.mailboxes.get_row(mailbox_id), backend, _ignore
        ).run()
        assert result.seen == JUNK + 2
    finally:
        await backend.close()
        await store.close()
    assert value(tmp_path, "SELECT count(*) FROM messages") == JUNK + 1
    assert value(tmp_path, "SELECT count(*) FROM message_locations") == JUNK + 2
