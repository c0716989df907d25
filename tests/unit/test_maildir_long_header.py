"""A Maildir file without a blank line after its headers: its header block is
searched once, piece by piece, and cut at `HEADER_CAP` (a 300 MB file was searched
again from the start after every 256 KB and blocked its mailbox for minutes), and
the message is still stored."""

from __future__ import annotations

from pathlib import Path

from loggbok.daemon.store.store import Store
from loggbok.daemon.sync.engine import SyncRound
from loggbok.daemon.sync.providers.maildir.backend import (
    _HEAD_READ,
    HEADER_CAP,
    MaildirBackend,
    read_head,
)
from tests.support.mail import make_maildir

SIZE = 64 * 1024 * 1024


async def _ignore(name: str, params: object) -> None:
    return None


def _bytes_read() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError("no rchar")


def _headers_only(path: Path) -> None:
    """64 MB of header lines and never a blank line."""
    line = b"X-Filler: " + b"a" * 100 + b"\n"
    with open(path, "wb") as file:
        file.write(b"From: anna@kund.example\nSubject: all header\nMessage-ID: <big@kund>\n")
        file.write(line * (SIZE // len(line)))


def test_the_search_is_linear_and_stops_at_the_cap(tmp_path: Path) -> None:
    path = tmp_path / "big"
    _headers_only(path)
    head = read_head(path)
    assert head.cut and head.size > SIZE - 200
    assert head.scanned <= HEADER_CAP + 3 * (HEADER_CAP // _HEAD_READ + 1)
    assert len(head.header) <= HEADER_CAP and head.header.endswith(b"\n")
    assert head.header.startswith(b"From: anna@kund.example\n")

    small = tmp_path / "small"
    small.write_bytes(b"Subject: x\r\n\r\nbody")
    head = read_head(small)
    assert (head.header, head.cut, head.scanned) == (b"Subject: x\r\n\r\n", False, 18)


async def test_a_file_without_a_blank_line_is_read_to_the_cap_and_stored(
    tmp_path: Path,
) -> None:
    maildir = make_maildir(tmp_path / "Maildir")
    _headers_only(maildir / "cur" / "1700000000.M1P1.host:2,S")
    store = await Store.open(tmp_path)
    backend = MaildirBackend(maildir)
    try:
        mailbox_id = await store.mailboxes.add("maildir", "me@firma.example", {"path": "x"})
        await backend.connect()
        before = _bytes_read()
        result = await SyncRound(
            store, await store.mailboxes.get_row(mailbox_id), backend, _ignore
        ).run()
        assert (result.seen, result.new) == (1, 1)
        message = await store.messages.get(await store.messages.resolve(None, "<big@kund>", 1), 1)
        assert message.subject == "all header"
        assert _bytes_read() - before < 4 * HEADER_CAP  # not logged: only its head is read
    finally:
        await backend.close()
        await store.close()
