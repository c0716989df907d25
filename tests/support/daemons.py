"""A real `loggbokd` on a Maildir, synced and ready, for the end-to-end tests;
and one that is to refuse to start (`refused_start`)."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from tests.conftest import DaemonProcess


@contextlib.asynccontextmanager
async def synced_daemon(
    workdir: Path, maildir: Path, settings: t.SettingsSetParams, contacts: tuple[str, ...] = ()
) -> AsyncIterator[tuple[Client, int, list[int], DaemonProcess]]:
    """A daemon on `maildir` (address me@firma.example) with `contacts` created and
    `settings` set, after its first sync: (client, mailbox id, contact ids, daemon)."""
    (workdir / "data").mkdir()
    daemon = DaemonProcess(workdir / "d.sock", workdir / "data")
    daemon.start()
    try:
        client = await daemon.client()
        ids = [
            (await client.call(m.CONTACTS_CREATE, t.ContactCreateParams(email=email))).id
            for email in contacts
        ]
        await client.call(m.SETTINGS_SET, settings)
        added = await client.call(
            m.MAILBOXES_ADD,
            t.MaildirAddParams(path=str(maildir), address="me@firma.example"),
        )
        await client.call(m.MAILBOXES_SYNC, t.IdParams(id=added.id))
        yield client, added.id, ids, daemon
        await client.close()
    finally:
        daemon.stop()


async def refused_start(
    workdir: Path, name: str, user: str, database: str
) -> subprocess.CompletedProcess[str]:
    """`loggbokd --user USER --database DATABASE` that is to refuse to start: its
    exit status and stderr."""
    (workdir / name).mkdir()
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "loggbok.daemon.main", "--socket", str(workdir / f"{name}.sock"),
         "--data-dir", str(workdir / name), "--user", user, "--database", database],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
