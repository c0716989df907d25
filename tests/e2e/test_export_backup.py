"""`loggbok export` in each format, `loggbok import` and `loggbok backup` /
`loggbokd --restore`, against real daemons on a real Maildir: an mbox that
Python's `mailbox.mbox` reads back to the original bytes, a csv, a jsonl that
imported into a fresh data dir gives the same timelines, and a backup that
restores to the same data."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import mailbox
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest

from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from loggbok.protocol.errors import ErrorCode, RpcError
from loggbok.tui.archive import unquote_mboxrd
from tests.conftest import DaemonProcess
from tests.support.daemons import synced_daemon
from tests.support.mail import days_ago, make_maildir, make_message

ME = "me@firma.example"
BCC = "log-1@bcc.loggbok.example"
ANNA = "anna@kund.example"
BO = "bo@kund.example"
BODY = "Hello,\nFrom now on we ship on Fridays.\n>From the notes: ok.\n\nBest\n"


def _mail(maildir: Path) -> dict[str, bytes]:
    sent = {
        "<a1@firma.example>": make_message(
            ME, [ANNA], "Offer", "<a1@firma.example>", bcc=[BCC], date=days_ago(3), body=BODY,
            attachments=[("offer.pdf", "application/pdf", b"%PDF-1.4 offer" * 50)],
        ),
        "<b1@firma.example>": make_message(
            ME, [BO], "Old deal", "<b1@firma.example>", bcc=[BCC], date=days_ago(40)
        ),
    }  # fmt: skip
    inbox = {
        "<a2@kund.example>": make_message(
            ANNA, [ME], "Re: Offer", "<a2@kund.example>", in_reply_to="<a1@firma.example>",
            references=["<a1@firma.example>"], date=days_ago(2),
        ),
    }  # fmt: skip
    make_maildir(maildir, ".Sent")
    for number, raw in enumerate(sent.values()):
        (maildir / ".Sent" / "cur" / f"100{number}.M1P1.host:2,S").write_bytes(raw)
    for number, raw in enumerate(inbox.values()):
        (maildir / "cur" / f"200{number}.M1P1.host:2,S").write_bytes(raw)
    return {**sent, **inbox}


def _cli(
    socket: Path, *args: str, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "loggbok.tui.cli", "--socket", str(socket), *args],
        input=stdin,
        capture_output=True,
        timeout=120,
        check=False,
    )


async def _cli_async(socket: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return await asyncio.to_thread(_cli, socket, *args)


async def _timelines(client: Client) -> dict[str, list[dict[str, Any]]]:
    """Every contact's timeline by the contact's first address, without store ids;
    thread ids replaced by the first Message-ID seen in each thread."""
    contacts = (await client.call(m.CONTACTS_LIST, t.ContactsListParams(limit=500))).contacts
    threads: dict[int, str] = {}
    result: dict[str, list[dict[str, Any]]] = {}
    for contact in contacts:
        page = await client.call(m.TIMELINE_GET, t.TimelineGetParams(contact_id=contact.id))
        entries = []
        for entry in page.entries:
            data = msgspec.to_builtins(entry)
            for name in ("id", "entry_id", "contact_id"):
                data.pop(name)
            if entry.thread_id is not None:
                data["thread_id"] = threads.setdefault(entry.thread_id, entry.message_id)
            entries.append(data)
        if entries:
            result[contact.emails[0]] = entries
    return result


SETTINGS = t.SettingsSetParams(bcc_address=BCC, own_addresses=[ME])


async def test_export_in_each_format_and_import_gives_the_same_timelines(
    workdir: Path, another_database: Callable[[], str | None]
) -> None:
    originals = _mail(workdir / "mail")
    async with synced_daemon(workdir, workdir / "mail", SETTINGS) as (client, _, _, daemon):
        before = await _timelines(client)
        assert set(before) == {ANNA, BO} and len(before[ANNA]) == 2

        mbox = await _cli_async(daemon.socket, "export", "--format", "mbox")
        assert mbox.returncode == 0, mbox.stderr
        assert b"\n>From now on" in mbox.stdout and b"\n>>From the notes" in mbox.stdout
        (workdir / "out.mbox").write_bytes(mbox.stdout)
        read = mailbox.mbox(workdir / "out.mbox")
        back = {msg["Message-ID"]: unquote_mboxrd(read.get_bytes(key)) for key, msg in read.items()}
        read.close()
        assert back == {k: v.replace(b"\r\n", b"\n") for k, v in originals.items()}

        table = await _cli_async(daemon.socket, "export", "--format", "csv")
        rows = list(csv.DictReader(io.StringIO(table.stdout.decode())))
        assert [r["message_id"] for r in rows] == [
            "<b1@firma.example>", "<a1@firma.example>", "<a2@kund.example>"
        ]  # fmt: skip
        assert rows[1]["contacts"] == ANNA and rows[1]["reason"] == "bcc_address"
        assert rows[1]["to"] == ANNA and rows[1]["subject"] == "Offer"

        anna_id = (
            (await client.call(m.CONTACTS_LIST, t.ContactsListParams(query="anna"))).contacts[0].id
        )
        only = await _cli_async(
            daemon.socket, "export", "--format", "csv", "--contact", str(anna_id)
        )
        assert len(list(csv.DictReader(io.StringIO(only.stdout.decode())))) == 2
        since = days_ago(10).date().isoformat()
        recent = await _cli_async(daemon.socket, "export", "--format", "csv", "--since", since)
        assert len(list(csv.DictReader(io.StringIO(recent.stdout.decode())))) == 2

        jsonl = await _cli_async(daemon.socket, "export", "--format", "jsonl")
        assert jsonl.returncode == 0, jsonl.stderr
        lines = [json.loads(line) for line in jsonl.stdout.splitlines()]
        assert lines[0]["type"] == "loggbok-export"
        assert [x["type"] for x in lines[1:]].count("message") == 3
        assert all(x["raw_source"] == "mailbox" for x in lines if x["type"] == "message")
        (workdir / "out.jsonl").write_bytes(jsonl.stdout)

    fresh = workdir / "fresh"
    fresh.mkdir(mode=0o700)
    (fresh / "data").mkdir()
    elsewhere = another_database()
    other = DaemonProcess(
        fresh / "d.sock", fresh / "data", args=["--database", elsewhere] if elsewhere else []
    )
    other.start()
    try:
        imported = await _cli_async(
            other.socket, "import", "--format", "jsonl", str(workdir / "out.jsonl")
        )
        assert imported.returncode == 0, imported.stderr
        counts = json.loads(imported.stdout)
        assert counts["messages_created"] == 3 and counts["contacts_created"] == 2
        async with await other.client() as client:
            assert await _timelines(client) == before
            again = await _cli_async(other.socket, "import", str(workdir / "out.jsonl"))
            counts = json.loads(again.stdout)
            assert counts["messages_existing"] == 3 and counts["entries_created"] == 0
            assert await _timelines(client) == before
            offer = await client.call(
                m.MESSAGES_GET, t.MessageRefParams(message_id="<a1@firma.example>")
            )
            piece = await client.call(
                m.ATTACHMENTS_GET, t.AttachmentGetParams(id=offer.id, index=0)
            )
            assert piece.filename == "offer.pdf" and piece.size == len(b"%PDF-1.4 offer" * 50)
    finally:
        other.stop()


async def test_an_export_whose_mailbox_is_gone_is_rebuilt_from_the_store(workdir: Path) -> None:
    _mail(workdir / "mail")
    async with synced_daemon(workdir, workdir / "mail", SETTINGS) as (client, box, _, daemon):
        await client.call(m.MAILBOXES_REMOVE, t.IdParams(id=box))
        page = await client.call(m.ARCHIVE_EXPORT, t.ArchiveExportParams(raw=True, limit=1))
        assert page.next is not None and len(page.messages) == 1
        mbox = await _cli_async(daemon.socket, "export", "--format", "mbox")
        (workdir / "out.mbox").write_bytes(mbox.stdout)
        read = mailbox.mbox(workdir / "out.mbox")
        messages = {msg["Message-ID"]: msg for msg in read}
        read.close()
        offer = messages["<a1@firma.example>"]
        assert offer["X-Loggbok-Rebuilt"] == "yes" and offer["Subject"] == "Offer"
        parts = {p.get_filename(): p.get_payload(decode=True) for p in offer.walk()}
        assert parts["offer.pdf"] == b"%PDF-1.4 offer" * 50
        assert "From now on we ship" in offer.get_payload(0).get_payload(decode=True).decode()


@pytest.mark.sqlite_only  # copies the SQLite file (PostgreSQL: pg_dump, test_database_flag)
async def test_backup_and_restore_give_the_same_data(workdir: Path) -> None:
    _mail(workdir / "mail")
    backup = workdir / "backup"
    async with synced_daemon(workdir, workdir / "mail", SETTINGS) as (client, _, _, daemon):
        before = await _timelines(client)
        settings = await client.call(m.SETTINGS_GET)
        done = await _cli_async(daemon.socket, "backup", str(backup))
        assert done.returncode == 0, done.stderr
        assert b"1 attachment files copied" in done.stdout
        again = await _cli_async(daemon.socket, "backup", str(backup))
        assert b"0 attachment files copied, 1 already there" in again.stdout
        for bad, code in (("/", ErrorCode.BAD_INPUT), (str(workdir / "mail"), ErrorCode.BAD_INPUT),
                          ("relative", ErrorCode.INVALID_PARAMS),
                          (str(daemon.data_dir / "b"), ErrorCode.INVALID_PARAMS)):  # fmt: skip
            with pytest.raises(RpcError) as refused_path:
                await client.call(m.ARCHIVE_BACKUP, t.ArchiveBackupParams(path=bad))
            assert refused_path.value.code == code, bad
        assert "loggbok.sqlite3" not in os.listdir("/")
        assert "loggbok.sqlite3" not in os.listdir(workdir / "mail")
        refused = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "loggbok.daemon.main", "--data-dir", str(daemon.data_dir),
             "--restore", str(backup)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert refused.returncode == 1 and "running" in refused.stderr

    target = workdir / "restored"
    restore = [sys.executable, "-m", "loggbok.daemon.main", "--data-dir", str(target)]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*restore, *args], capture_output=True, text=True, timeout=60, check=False
        )

    done2 = await asyncio.to_thread(run, "--restore", str(backup))
    assert done2.returncode == 0, done2.stderr
    twice = await asyncio.to_thread(run, "--restore", str(backup))
    assert twice.returncode == 1 and "already holds a database" in twice.stderr
    other = DaemonProcess(workdir / "r.sock", target)
    other.start()
    try:
        async with await other.client() as client:
            assert await _timelines(client) == before
            assert await client.call(m.SETTINGS_GET) == settings
            offer = await client.call(
                m.MESSAGES_GET, t.MessageRefParams(message_id="<a1@firma.example>")
            )
            piece = await client.call(
                m.ATTACHMENTS_GET, t.AttachmentGetParams(id=offer.id, index=0)
            )
            assert piece.size == len(b"%PDF-1.4 offer" * 50)
    finally:
        other.stop()
