"""A team's PostgreSQL shared by the members' daemons: one daemon per member, and
attachments any member's daemon serves.

- A second daemon for the same member is refused (exit status 2) naming the one
  that holds the member (its pid and host); after a kill -9 of that one a new
  one starts (the advisory lock ends with its connection); daemons of two
  members run side by side.
- Alice's daemon logs an email with an attachment; Bob's daemon serves it
  (`attachments.get`, `archive.export` rebuilt with it) while its visibility is
  `everyone`, and refuses both once Alice makes it `owner`. The attachment is
  stored once in the database (the same file in two emails: one row), and no
  staged file is left in Alice's data dir.
- `archive.backup` on PostgreSQL is refused with the pg_dump command to use; that
  command, run as given, dumps a database pg_restore loads (attachments included).
"""

from __future__ import annotations

import asyncio
import base64
import email
import hashlib
import os
import subprocess
from email import policy
from pathlib import Path

import psycopg
import pytest

from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from loggbok.protocol.errors import ErrorCode, RpcError
from tests.conftest import DaemonProcess
from tests.servers.postgres import Cluster
from tests.support.daemons import refused_start
from tests.support.mail import days_ago, deliver, make_maildir, make_message

pytestmark = pytest.mark.postgres_only

ANNA = "Anna Berg <anna@kund.example>"
PDF = b"%PDF-1.4 offer " + bytes(range(256)) * 700  # 179 kB: more than one piece below


def _daemon(workdir: Path, name: str, pg_url: str, user: str | None = None) -> DaemonProcess:
    (workdir / name).mkdir()
    return DaemonProcess(
        workdir / f"{name}.sock",
        workdir / name,
        args=["--user", user or f"{name}@firma.example", "--database", pg_url],
    )


async def test_one_daemon_per_member(workdir: Path, pg_url: str) -> None:
    first = _daemon(workdir, "alice", pg_url)
    bob = _daemon(workdir, "bob", pg_url)
    again = _daemon(workdir, "alice3", pg_url, "alice@firma.example")
    # A SQLite store's attachments in the same data dir are not the staging folder's
    # (which a daemon clears at start).
    own = workdir / "alice" / "blobs" / "ab" / "cdef"
    own.parent.mkdir(parents=True)
    own.write_bytes(b"a SQLite store's attachment")
    try:
        first.start()
        assert own.read_bytes() == b"a SQLite store's attachment"
        client = await first.client()
        await client.call(m.USERS_ADD, t.UsersAddParams(email="bob@firma.example", seat="sales"))
        await client.close()
        bob.start()  # another member: runs beside alice's daemon

        twice = await refused_start(workdir, "alice2", "alice@firma.example", pg_url)
        assert twice.returncode == 2, twice.stderr
        assert "another loggbokd serves alice@firma.example" in twice.stderr
        assert first.process is not None
        assert f"loggbokd pid {first.process.pid} on " in twice.stderr

        first.kill()  # kill -9: its connection ends, and with it the claim
        again.start()
        client = await again.client()
        assert (await client.call(m.USERS_ME)).email == "alice@firma.example"
        await client.close()
        client = await bob.client()
        assert (await client.call(m.USERS_ME)).email == "bob@firma.example"
        await client.close()
    finally:
        for daemon in (first, bob, again):
            if daemon.process is not None:
                daemon.stop()


def _sent(maildir: Path, number: int, attachments: list[tuple[str, str, bytes]]) -> str:
    message_id = f"<offer{number}@firma.example>"
    raw = make_message(
        "Alice <alice@firma.example>", [ANNA], f"Offer {number}", message_id,
        bcc=["log-alice@bcc.example"], date=days_ago(5 - number), attachments=attachments,
    )  # fmt: skip
    deliver(maildir / ".Sent", raw)
    return message_id


async def _whole(client: Client, message: int) -> bytes:
    """The attachment read piece by piece (16 kB pieces: several round trips)."""
    data, offset = b"", 0
    while True:
        piece = await client.call(
            m.ATTACHMENTS_GET,
            t.AttachmentGetParams(id=message, index=0, offset=offset, length=16384),
        )
        data += base64.b64decode(piece.data_base64)
        if piece.next_offset is None:
            return data
        offset = piece.next_offset


def _attachment_in(raw: bytes) -> bytes | None:
    parsed = email.message_from_bytes(raw, policy=policy.default)
    for part in parsed.walk():
        if part.get_filename() == "offer.pdf":
            payload = part.get_payload(decode=True)
            return payload if isinstance(payload, bytes) else None
    return None


async def test_any_members_daemon_serves_attachments(
    workdir: Path, pg_url: str, postgres_cluster: Cluster
) -> None:
    alice_d = _daemon(workdir, "alice", pg_url)
    bob_d = _daemon(workdir, "bob", pg_url)
    clients: list[Client] = []
    try:
        alice_d.start()
        alice = await alice_d.client()
        clients.append(alice)
        await alice.call(m.USERS_ADD, t.UsersAddParams(email="bob@firma.example", seat="sales"))
        await alice.call(
            m.SETTINGS_SET,
            t.SettingsSetParams(
                bcc_address="log-alice@bcc.example", own_addresses=["alice@firma.example"]
            ),
        )
        await alice.call(m.CONTACTS_CREATE, t.ContactCreateParams(email="anna@kund.example"))
        maildir = make_maildir(workdir / "alice-mail", ".Sent")
        first = _sent(maildir, 1, [("offer.pdf", "application/pdf", PDF)])
        second = _sent(maildir, 2, [("offer.pdf", "application/pdf", PDF)])  # the same file
        added = await alice.call(
            m.MAILBOXES_ADD, t.MaildirAddParams(path=str(maildir), address="alice@firma.example")
        )
        await alice.call(m.MAILBOXES_SYNC, t.IdParams(id=added.id))
        got = await alice.call(m.MESSAGES_GET, t.MessageRefParams(message_id=first))
        assert (got.logged, got.visibility) == (True, "everyone")
        digest = hashlib.sha256(PDF).hexdigest()
        assert [(a.status, a.sha256) for a in got.attachments] == [("stored", digest)]

        # Stored once, in the database; nothing left staged in alice's data dir.
        with psycopg.connect(pg_url) as conn:
            rows = conn.execute("SELECT sha256, size FROM attachment_blobs").fetchall()
        assert rows == [(digest, len(PDF))]
        staging = workdir / "alice" / "blob-staging"
        assert staging.is_dir()
        assert not [p for p in staging.rglob("*") if p.is_file()]

        bob_d.start()
        bob = await bob_d.client()
        clients.append(bob)
        assert await _whole(bob, got.id) == PDF
        assert await _whole(alice, got.id) == PDF
        page = await bob.call(m.ARCHIVE_EXPORT, t.ArchiveExportParams(raw=True))
        exported = {x.message_id: x for x in page.messages}
        assert set(exported) == {first, second}
        mine = exported[first]
        assert mine.raw_source == "rebuilt"  # bob has no mailbox holding it
        assert _attachment_in(base64.b64decode(mine.raw_base64 or "")) == PDF

        await alice.call(
            m.MESSAGES_SET_VISIBILITY, t.MessagesSetVisibilityParams(id=got.id, visibility="owner")
        )
        with pytest.raises(RpcError) as caught:
            await bob.call(m.ATTACHMENTS_GET, t.AttachmentGetParams(id=got.id, index=0))
        assert caught.value.code == ErrorCode.NOT_FOUND
        assert caught.value.message == "No such message"
        page = await bob.call(m.ARCHIVE_EXPORT, t.ArchiveExportParams(raw=True))
        assert [x.message_id for x in page.messages] == [second]
        assert await _whole(alice, got.id) == PDF  # still the owner's

        # archive.backup: the database is backed up with pg_dump (the command is given).
        with pytest.raises(RpcError) as caught:
            await alice.call(m.ARCHIVE_BACKUP, t.ArchiveBackupParams(path=str(workdir / "b")))
        assert caught.value.code == ErrorCode.UNSUPPORTED
        assert caught.value.data["reason"] == "use_pg_dump"
        assert caught.value.data["command"].startswith("pg_dump --format=custom")
        assert pg_url.split("?")[0] in caught.value.data["command"]
        assert "pg_dump" in caught.value.message
        command = caught.value.data["command"]
    finally:
        for client in clients:
            await client.close()
        for daemon in (alice_d, bob_d):
            if daemon.process is not None:
                daemon.stop()

    # The command works: run as given (in a shell), restored with pg_restore into a new
    # database, which holds the attachment.
    dumped = await asyncio.to_thread(
        subprocess.run, ["bash", "-c", command], cwd=workdir, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert dumped.returncode == 0, dumped.stderr
    (dump,) = workdir.glob("loggbok-*.dump")  # noqa: ASYNC240
    restored = postgres_cluster.url(f"lb_restored_{os.getpid()}")
    with psycopg.connect(postgres_cluster.url("postgres"), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE lb_restored_{os.getpid()}")
    try:
        loaded = await asyncio.to_thread(
            subprocess.run, ["pg_restore", f"--dbname={restored}", str(dump)],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert loaded.returncode == 0, loaded.stderr
        with psycopg.connect(restored) as conn:
            row = conn.execute("SELECT data FROM attachment_blobs").fetchone()
        assert row is not None and bytes(row[0]) == PDF
    finally:
        postgres_cluster.drop(restored)
