"""A file dropped into a watched Maildir reaches the timeline, with inotify and
with the polling fallback (LOGGBOK_MAILDIR_POLL=1)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from tests.conftest import DaemonProcess
from tests.support.mail import deliver, make_maildir, make_message


@pytest.mark.parametrize("polling", ["0", "1"], ids=["inotify", "polling"])
async def test_dropped_file_is_logged(workdir: Path, polling: str) -> None:
    maildir = make_maildir(workdir / "Maildir", ".Sent")
    (workdir / "data").mkdir()
    daemon = DaemonProcess(
        workdir / "d.sock", workdir / "data", env={"LOGGBOK_MAILDIR_POLL": polling}
    )
    daemon.start()
    try:
        client = await daemon.client()
        await client.call(m.CONTACTS_CREATE, t.ContactCreateParams(email="anna@kund.example"))
        await client.call(m.SETTINGS_SET, t.SettingsSetParams(logging_mode="all_with_contacts"))
        added = await client.call(
            m.MAILBOXES_ADD,
            t.MailboxAddParams(provider="maildir", path=str(maildir), address="me@firma.example"),
        )
        await client.call(m.MAILBOXES_SYNC, t.IdParams(id=added.id))
        deliver(
            maildir,
            make_message("anna@kund.example", ["me@firma.example"], "Hej", "<w1@kund.example>"),
            new=True,
        )
        while True:
            name, params = await asyncio.wait_for(client.notifications.get(), 20)
            if name == "timeline.appended" and params.entry.message_id == "<w1@kund.example>":
                break
        await client.close()
    finally:
        daemon.stop()
