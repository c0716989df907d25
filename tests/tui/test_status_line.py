"""A mailbox in trouble is named on every screen: the status line, against a real
daemon whose Maildir went away (disconnected, "retrying in N s"), and gone again
once the mailbox works."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from loggbok.protocol import methods
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from loggbok.protocol.errors import RpcError
from loggbok.tui.app import build_app
from loggbok.tui.data.health import MailboxHealth
from loggbok.tui.screens.base import DaemonScreen
from loggbok.tui.screens.contacts import ContactsScreen
from loggbok.tui.screens.search import SearchScreen
from loggbok.tui.screens.settings import SettingsScreen
from loggbok.tui.widgets.status_line import MailboxStatusLine
from tests.conftest import DaemonProcess
from tests.support.mail import make_maildir

from .conftest import screen_of, until

ME = "maja@firma.example"


def _line(screen: DaemonScreen) -> str:
    line = screen.query_one(MailboxStatusLine)
    return str(line.render()) if line.display else ""


async def test_disconnected_mailbox_shows_on_every_screen(
    daemon: DaemonProcess, client: Client, workdir: Path
) -> None:
    maildir = make_maildir(workdir / "Maildir", ".Sent")
    added = await client.call(
        methods.MAILBOXES_ADD, t.MaildirAddParams(path=str(maildir), address=ME)
    )
    await client.call(methods.MAILBOXES_SYNC, t.IdParams(id=added.id))
    app = build_app(daemon.socket)
    async with app.run_test(size=(80, 24)) as pilot:
        contacts = await screen_of(app, ContactsScreen)
        await pilot.pause(0.3)
        assert _line(contacts) == ""

        maildir.rename(workdir / "gone")
        with pytest.raises(RpcError):
            await client.call(methods.MAILBOXES_SYNC, t.IdParams(id=added.id))
        await until(lambda: "retrying in" in _line(contacts))
        shown = _line(contacts)
        assert shown.startswith(f"⚠ {ME}: disconnected")
        assert " s" in shown.split("retrying in", 1)[1]
        for mode, kind in (("search", SearchScreen), ("settings", SettingsScreen)):
            await app.switch_mode(mode)
            screen = await screen_of(app, kind)
            await until(lambda screen=screen: "retrying in" in _line(screen))  # type: ignore[misc]

        (workdir / "gone").rename(maildir)
        await client.call(methods.MAILBOXES_RECONNECT, t.MailboxReconnectParams(id=added.id))
        await asyncio.wait_for(_idle(client, added.id), 30)
        await until(lambda: _line(app.screen) == "")  # type: ignore[arg-type]


async def _idle(client: Client, mailbox_id: int) -> None:
    while True:
        boxes = (await client.call(methods.MAILBOXES_LIST)).mailboxes
        if any(b.id == mailbox_id and b.status == "idle" for b in boxes):
            return
        await asyncio.sleep(0.1)


def test_line_words() -> None:
    now = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    health = MailboxHealth()
    box = t.Mailbox(id=1, provider="imap", address="a@x.example", status="idle")
    other = t.Mailbox(id=2, provider="imap", address="b@x.example", status="idle")
    health.reset([box, other])
    assert health.line(now) == ""
    soon = (now + timedelta(seconds=12)).isoformat()
    health.changed(
        t.MailboxStatusChanged(id=1, status="disconnected", detail="gone", retry_at=soon)
    )
    assert health.line(now) == "⚠ a@x.example: disconnected (gone), retrying in 12 s · m: Mailboxes"
    health.changed(t.MailboxStatusChanged(id=2, status="auth_failed", detail="bad password"))
    assert health.line(now + timedelta(seconds=20)) == (
        "⚠ 2 mailboxes need attention: a@x.example disconnected, retrying now; "
        "b@x.example needs a new password or sign-in · m: Mailboxes"
    )
    assert not health.changed(t.MailboxStatusChanged(id=3, status="idle"))
