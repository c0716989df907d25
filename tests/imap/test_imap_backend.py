"""ImapBackend against a real Dovecot: login, folders, changes, headers, IDLE, faults, TLS."""

from __future__ import annotations

import asyncio
import email
import os
import re
import socket
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from loggbok.daemon.sync.backend import (
    AuthError,
    CursorInvalid,
    Folder,
    PermanentError,
    TemporaryError,
)
from loggbok.daemon.sync.providers.imap import ImapBackend, ImapConnectError, probe
from loggbok.daemon.sync.providers.imap.connection import KEEPALIVE
from tests.imap.conftest import MakeBackend
from tests.servers.dovecot import (
    LOCALISED_SENT,
    DovecotServer,
    DovecotUser,
    free_port,
    make_message,
)

INBOX = Folder("INBOX", "inbox")
SENT = Folder("Sent", "sent")
MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>]+>)", re.IGNORECASE | re.MULTILINE)

# Generous: these wait for a real server, they do not measure it.
WAKE_TIMEOUT = 30.0


def message_id(raw_header: bytes) -> str:
    match = MESSAGE_ID.search(raw_header)
    assert match is not None, raw_header
    return match.group(1).decode()


async def all_headers(backend: ImapBackend, folder: Folder, uids: list[str]) -> list[str]:
    """Message-IDs of `uids`, fetched in the engine's chunks of 500."""
    ids: list[str] = []
    for start in range(0, len(uids), 500):
        items = await backend.fetch_headers(folder, uids[start : start + 500])
        ids += [message_id(item.raw_header) for item in items]
    return ids


# login and errors ------------------------------------------------------------------------


async def test_login_reads_capabilities_and_enables_qresync(
    make_backend: MakeBackend, user: DovecotUser
) -> None:
    backend = make_backend(user)
    await backend.connect()
    assert {"IDLE", "CONDSTORE", "QRESYNC", "SPECIAL-USE"} <= backend.capabilities


def assert_keepalive(backend: ImapBackend) -> None:
    """The fetch connection's socket has TCP keepalive with the daemon's timings."""
    conn = backend._conn
    assert conn is not None and conn._imap is not None
    sock = conn._imap.sock
    assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
    for name, value in KEEPALIVE:
        assert sock.getsockopt(socket.IPPROTO_TCP, getattr(socket, name)) == value


async def test_connections_keep_alive(make_backend: MakeBackend, user: DovecotUser) -> None:
    backend = make_backend(user)
    await backend.connect()
    assert_keepalive(backend)


async def test_wrong_password_is_auth_error(make_backend: MakeBackend, user: DovecotUser) -> None:
    backend = make_backend(user, secret="not-the-password")
    with pytest.raises(AuthError) as info:
        await backend.connect()
    assert "not-the-password" not in str(info.value)


async def test_refused_port_is_temporary(make_backend: MakeBackend, user: DovecotUser) -> None:
    backend = make_backend(user, port=free_port())
    with pytest.raises(TemporaryError) as info:
        await backend.connect()
    assert isinstance(info.value, ImapConnectError)
    assert info.value.reason == "refused"


async def test_probe_names_each_failure(dovecot: DovecotServer, user: DovecotUser) -> None:
    ok = await probe(dovecot.host, dovecot.port, "none", user.name, user.password)
    assert ok.ok and "IDLE" in ok.capabilities and ok.warnings == ()
    bad = await probe(dovecot.host, dovecot.port, "none", user.name, "wrong")
    assert (bad.ok, bad.error_kind) == (False, "auth")
    refused = await probe(dovecot.host, free_port(), "none", user.name, user.password)
    assert (refused.ok, refused.error_kind) == (False, "refused")
    dns = await probe("no-such-host.invalid", 143, "none", user.name, user.password, timeout=10)
    assert (dns.ok, dns.error_kind) == (False, "dns")
    ok_fields = dict(zip(ok._fields, ok, strict=True))
    assert user.password not in repr(ok_fields) + repr(bad)


# folders ------------------------------------------------------------------------------------


async def test_folders_finds_inbox_and_special_use_sent(
    make_backend: MakeBackend, user: DovecotUser
) -> None:
    backend = make_backend(user)
    await backend.connect()
    roles = {f.name: f.role for f in await backend.folders()}
    assert roles["INBOX"] == "inbox"
    assert roles["Sent"] == "sent"
    assert (roles["Drafts"], roles["Trash"], roles["Archive"]) == ("drafts", "trash", "other")


async def test_localised_sent_without_special_use(
    dovecot: DovecotServer, make_backend: MakeBackend
) -> None:
    user = dovecot.add_user(folders=("Skickat", "Utkast"))
    backend = make_backend(user)
    await backend.connect()
    roles = {f.name: f.role for f in await backend.folders()}
    assert roles == {"INBOX": "inbox", "Skickat": "sent", "Utkast": "drafts"}


async def test_special_use_sent_with_a_non_ascii_name(
    dovecot: DovecotServer, make_backend: MakeBackend
) -> None:
    user = dovecot.add_user(folders=(LOCALISED_SENT, "Skickat"))
    dovecot.append(user, LOCALISED_SENT, make_message(1, domain="fr"))
    backend = make_backend(user)
    await backend.connect()
    folders = await backend.folders()
    sent = next(f for f in folders if f.role == "sent")
    assert sent.name == "Éléments envoyés"  # \Sent beats the localised name "Skickat"
    changes = await backend.changes(sent, None)
    items = await backend.fetch_headers(sent, changes.new)
    assert [message_id(i.raw_header) for i in items] == ["<1.fr@loggbok.test>"]


# changes and headers ---------------------------------------------------------------------------


async def test_2000_seeded_messages_each_exactly_once(
    dovecot: DovecotServer, make_backend: MakeBackend, user: DovecotUser
) -> None:
    dovecot.seed_maildir(user, "INBOX", (make_message(n) for n in range(2000)))
    backend = make_backend(user)
    await backend.connect()
    changes = await backend.changes(INBOX, None)
    assert len(changes.new) == len(set(changes.new)) == 2000
    assert changes.cursor["last_uid"] == max(int(u) for u in changes.new)
    assert changes.cursor["uidvalidity"] == int(dovecot.status(user, "INBOX", "uidvalidity"))
    ids = await all_headers(backend, INBOX, changes.new)
    assert sorted(ids) == sorted(f"<{n}.seed.example@loggbok.test>" for n in range(2000))
    items = await backend.fetch_headers(INBOX, changes.new[:3])
    assert all(item.size > 0 and item.preview == "Hej!" for item in items)
    assert [item.remote_id for item in items] == changes.new[:3]


async def test_incremental_changes_after_append(
    dovecot: DovecotServer, make_backend: MakeBackend, user: DovecotUser
) -> None:
    dovecot.seed_maildir(user, "INBOX", (make_message(n) for n in range(5)))
    backend = make_backend(user)
    await backend.connect()
    first = await backend.changes(INBOX, None)
    assert len(first.new) == 5
    again = await backend.changes(INBOX, first.cursor)
    assert again.new == []
    raw = make_message(99, subject="Re: offert", in_reply_to="<1.seed.example@loggbok.test>")
    dovecot.append(user, "INBOX", raw)
    later = await backend.changes(INBOX, again.cursor)
    assert len(later.new) == 1
    [item] = await backend.fetch_headers(INBOX, later.new)
    assert message_id(item.raw_header) == "<99.seed.example@loggbok.test>"
    assert "\\Seen" not in item.flags
    body = await backend.fetch_message(INBOX, later.new[0])
    assert email.message_from_bytes(body)["Subject"] == "Re: offert"
    # Reading never marks anything \Seen: loggbok does not write to the mailbox.
    [after] = await backend.fetch_headers(INBOX, later.new)
    assert "\\Seen" not in after.flags


async def test_star_edge_case_returns_nothing_new(
    dovecot: DovecotServer, make_backend: MakeBackend, user: DovecotUser
) -> None:
    dovecot.append(user, "INBOX", make_message(1))
    backend = make_backend(user)
    await backend.connect()
    first = await backend.changes(INBOX, None)
    # A cursor past the last UID: `UID SEARCH UID n:*` still matches the last message.
    cursor = {**first.cursor, "last_uid": first.cursor["last_uid"], "uidnext": None}
    assert (await backend.changes(INBOX, cursor)).new == []


async def test_vanished_reported_with_qresync(
    dovecot: DovecotServer, make_backend: MakeBackend, user: DovecotUser
) -> None:
    dovecot.seed_maildir(user, "INBOX", (make_message(n) for n in range(3)))
    backend = make_backend(user)
    await backend.connect()
    first = await backend.changes(INBOX, None)
    dovecot.doveadm("expunge", "-u", user.name, "mailbox", "INBOX", "uid", first.new[0])
    later = await backend.changes(INBOX, first.cursor)
    assert later.new == [] and later.vanished == [first.new[0]]


async def test_uidvalidity_change_is_cursor_invalid(
    dovecot: DovecotServer, make_backend: MakeBackend, user: DovecotUser
) -> None:
    dovecot.append(user, "INBOX", make_message(1))
    dovecot.append(user, "Sent", make_message(2))
    backend = make_backend(user)
    await backend.connect()
    inbox = await backend.changes(INBOX, None)
    sent = await backend.changes(SENT, None)
    dovecot.change_uidvalidity(user, "INBOX")
    dovecot.recreate_folder(user, "Sent")
    with pytest.raises(CursorInvalid):
        await backend.changes(INBOX, inbox.cursor)
    with pytest.raises(CursorInvalid):
        await backend.changes(SENT, sent.cursor)
    resync = await backend.changes(INBOX, None)
    assert [message_id(i.raw_header) for i in await backend.fetch_headers(INBOX, resync.new)] == [
        "<1.seed.example@loggbok.test>"
    ]


async def test_arrival_times_are_the_internaldates(
    dovecot: DovecotServer, make_backend: MakeBackend, user: DovecotUser
) -> None:
    """What the engine orders its windows by: when the server received each message."""
    received = [
        datetime(2024, 3, day, 9, 30, tzinfo=timezone(timedelta(hours=2))) for day in (3, 1, 2)
    ]
    for n, when in enumerate(received):
        dovecot.append(user, "INBOX", make_message(n), date=when)
    backend = make_backend(user)
    await backend.connect()
    changes = await backend.changes(INBOX, None)
    times = await backend.arrival_times(INBOX, [*changes.new, "4242"])
    assert [times[uid] for uid in changes.new] == [when.timestamp() for when in received]


async def test_fetch_message_gone_is_permanent(
    make_backend: MakeBackend, user: DovecotUser
) -> None:
    backend = make_backend(user)
    await backend.connect()
    await backend.changes(INBOX, None)
    with pytest.raises(PermanentError):
        await backend.fetch_message(INBOX, "4242")
    assert await backend.fetch_headers(INBOX, ["4242"]) == []


# IDLE -------------------------------------------------------------------------------------------


async def test_idle_wakes_on_append_from_another_connection(
    dovecot: DovecotServer, make_backend: MakeBackend, user: DovecotUser
) -> None:
    backend = make_backend(user)
    await backend.connect()
    await backend.folders()
    cursor = (await backend.changes(INBOX, None)).cursor
    waiting = asyncio.create_task(backend.wait_for_changes(WAKE_TIMEOUT * 2))
    await asyncio.sleep(0.5)  # most likely in IDLE by now; either way the change is seen
    assert not waiting.done()
    await asyncio.to_thread(dovecot.append, user, "INBOX", make_message(7))
    assert await asyncio.wait_for(waiting, WAKE_TIMEOUT) is True
    assert len((await backend.changes(INBOX, cursor)).new) == 1


async def test_idle_on_sent_wakes_on_a_sent_message(
    dovecot: DovecotServer, make_backend: MakeBackend, user: DovecotUser
) -> None:
    # With an hour between STATUS polls, only IDLE on Sent itself can see this in time.
    backend = make_backend(user, poll_interval=3600.0)
    await backend.connect()
    await backend.folders()
    await backend.changes(INBOX, None)
    cursor = (await backend.changes(SENT, None)).cursor
    waiting = asyncio.create_task(backend.wait_for_changes(3600.0))
    await asyncio.sleep(0.5)
    assert not waiting.done()
    await asyncio.to_thread(dovecot.append, user, "Sent", make_message(9))
    assert await asyncio.wait_for(waiting, WAKE_TIMEOUT) is True
    assert len((await backend.changes(SENT, cursor)).new) == 1
    # Both IDLE connections stay usable for the next wait.
    again = asyncio.create_task(backend.wait_for_changes(3600.0))
    await asyncio.sleep(0.5)
    await asyncio.to_thread(dovecot.append, user, "INBOX", make_message(10))
    assert await asyncio.wait_for(again, WAKE_TIMEOUT) is True


async def test_idle_sees_mail_that_arrived_before_it_started(
    dovecot: DovecotServer, make_backend: MakeBackend, user: DovecotUser
) -> None:
    backend = make_backend(user)
    await backend.connect()
    await backend.folders()
    await backend.changes(INBOX, None)
    await backend.changes(SENT, None)
    dovecot.append(user, "Sent", make_message(8))
    assert await asyncio.wait_for(backend.wait_for_changes(60), WAKE_TIMEOUT) is True


async def test_idle_times_out_without_changes(make_backend: MakeBackend, user: DovecotUser) -> None:
    backend = make_backend(user)
    await backend.connect()
    await backend.folders()
    await backend.changes(INBOX, None)
    assert await backend.wait_for_changes(1.0) is False


async def test_cancelled_wait_leaves_idle_usable(
    dovecot: DovecotServer, make_backend: MakeBackend, user: DovecotUser
) -> None:
    backend = make_backend(user)
    await backend.connect()
    await backend.folders()
    await backend.changes(INBOX, None)
    waiting = asyncio.create_task(backend.wait_for_changes(300))
    await asyncio.sleep(0.5)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    again = asyncio.create_task(backend.wait_for_changes(300))
    await asyncio.sleep(0.2)
    await asyncio.to_thread(dovecot.append, user, "INBOX", make_message(9))
    assert await asyncio.wait_for(again, WAKE_TIMEOUT) is True


async def test_close_interrupts_idle(make_backend: MakeBackend, user: DovecotUser) -> None:
    backend = make_backend(user)
    await backend.connect()
    await backend.folders()
    await backend.changes(INBOX, None)
    waiting = asyncio.create_task(backend.wait_for_changes(300))
    await asyncio.sleep(0.5)
    await backend.close()
    assert await asyncio.wait_for(waiting, WAKE_TIMEOUT) is False
    with pytest.raises(TemporaryError):
        await backend.changes(INBOX, None)


async def test_restart_mid_idle_is_temporary_then_reconnect_works() -> None:
    with DovecotServer() as server:
        user = server.add_user()
        backend = ImapBackend(
            server.host, server.port, "none", user.name, user.password, timeout=30
        )
        try:
            await backend.connect()
            await backend.folders()
            cursor = (await backend.changes(INBOX, None)).cursor
            waiting = asyncio.create_task(backend.wait_for_changes(300))
            await asyncio.sleep(0.5)
            await asyncio.to_thread(server.stop)
            with pytest.raises(TemporaryError):
                await asyncio.wait_for(waiting, WAKE_TIMEOUT)
            with pytest.raises(TemporaryError):
                await backend.changes(INBOX, cursor)  # the fetch connection died too
            await asyncio.to_thread(server.start)
            server.append(user, "INBOX", make_message(10))
        finally:
            await backend.close()
        fresh = ImapBackend(server.host, server.port, "none", user.name, user.password)
        try:
            await fresh.connect()
            changes = await fresh.changes(INBOX, cursor)
            assert len(changes.new) == 1
        finally:
            await fresh.close()


# TLS ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("security", ["tls", "starttls"])
async def test_tls_against_the_self_signed_certificate(
    dovecot_tls: DovecotServer, security: str
) -> None:
    user = dovecot_tls.add_user()
    dovecot_tls.append(user, "INBOX", make_message(11))
    port = dovecot_tls.tls_port if security == "tls" else dovecot_tls.port
    backend = ImapBackend(
        "localhost", port, security, user.name, user.password,  # type: ignore[arg-type]
        ssl_context=dovecot_tls.client_ssl_context(),
    )  # fmt: skip
    try:
        await backend.connect()
        changes = await backend.changes(INBOX, None)
        assert len(changes.new) == 1
        assert_keepalive(backend)
    finally:
        await backend.close()


async def test_untrusted_certificate_is_a_tls_error(dovecot_tls: DovecotServer) -> None:
    user = dovecot_tls.add_user()
    result = await probe("localhost", dovecot_tls.tls_port, "tls", user.name, user.password)
    assert (result.ok, result.error_kind) == (False, "tls")
    assert result.error is not None and "certificate" in result.error
    backend = ImapBackend("localhost", dovecot_tls.port, "starttls", user.name, user.password)
    try:
        with pytest.raises(ImapConnectError) as info:
            await backend.connect()
        assert info.value.reason == "tls"
    finally:
        await backend.close()


async def test_starttls_missing_is_a_tls_error(dovecot: DovecotServer, user: DovecotUser) -> None:
    result = await probe(dovecot.host, dovecot.port, "starttls", user.name, user.password)
    assert (result.ok, result.error_kind) == (False, "tls")


async def test_body_starts_give_the_keys_a_maildir_gives(
    dovecot: DovecotServer, make_backend: MakeBackend, user: DovecotUser, tmp_path: Path
) -> None:
    """Only the start of a body is fetched, and its key is the one the same message
    gets from a Maildir file (LF line ends where IMAP gives CRLF)."""
    from loggbok.daemon.mime.headers import BODY_SAMPLE_READ, body_sample
    from loggbok.daemon.sync.providers.maildir.backend import read_body_start

    header = b"From: noreply@junk.example\nSubject: no id\n\n"
    bodies = [b"short\n", b"".join(b"line %d\n" % n for n in range(20_000))]
    for body in bodies:
        dovecot.append(user, "INBOX", (header + body).replace(b"\n", b"\r\n"))
    backend = make_backend(user)
    await backend.connect()
    await backend.folders()
    changes = await backend.changes(INBOX, None)
    starts = await backend.body_starts(INBOX, changes.new)
    assert [len(starts[uid]) for uid in changes.new] == [7, BODY_SAMPLE_READ]
    for uid, body in zip(changes.new, bodies, strict=True):
        (tmp_path / uid).write_bytes(header + body)
        assert body_sample(starts[uid]) == body_sample(read_body_start(tmp_path / uid))


async def test_open_message_spools_a_large_message_in_pieces(
    dovecot: DovecotServer, make_backend: MakeBackend, user: DovecotUser, tmp_path: Path
) -> None:
    """A message larger than a few pieces comes back as a file, byte for byte what a
    whole-message fetch gives, never held whole."""
    from loggbok.daemon.sync.providers.imap.backend import SPOOL_PIECE

    lines = b"".join(b"line %07d of a long message\r\n" % n for n in range(600_000))
    dovecot.append(user, "INBOX", b"From: a@x.se\r\nSubject: long\r\n\r\n" + lines)
    backend = make_backend(user)
    await backend.connect()
    await backend.folders()
    [uid] = (await backend.changes(INBOX, None)).new
    whole = await backend.fetch_message(INBOX, uid)
    assert len(whole) > 2 * SPOOL_PIECE
    with await backend.open_message(INBOX, uid, tmp_path) as spooled:
        assert spooled.read() == whole
    assert await asyncio.to_thread(os.listdir, tmp_path) == []  # the spool file is unnamed
    with pytest.raises(PermanentError):
        await backend.open_message(INBOX, "4242", tmp_path)
