"""R13 in the TUI against a real daemon: once the mailbox a contact's tracked
thread depends on is removed, the contact is marked ⚠ in the list and its
timeline names the blind thread and the mailbox; both go once a mailbox for
the same address replaces it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.widgets import DataTable, Static

from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.tui.app import build_app
from loggbok.tui.screens.contacts import ContactsScreen
from loggbok.tui.screens.timeline import TimelineScreen, _blind_line
from tests.conftest import DaemonProcess
from tests.support.mail import days_ago, deliver, make_maildir, make_message

from .conftest import screen_of, until

ME = "maja@firma.example"
BCC = "log-13@bcc.loggbok.example"
SIZE = (160, 48)


async def test_a_contact_with_a_blind_thread_is_marked(workdir: Path) -> None:
    box = make_maildir(workdir / "Mail", ".Sent")
    deliver(
        box / ".Sent",
        make_message(ME, ["anna@kund.example"], "Offer", "<o1@firma.example>", bcc=[BCC],
                     date=days_ago(2)),
    )  # fmt: skip
    (workdir / "data").mkdir()
    daemon = DaemonProcess(workdir / "d.sock", workdir / "data")
    await asyncio.to_thread(daemon.start)
    try:
        client = await daemon.client()
        await client.call(m.SETTINGS_SET, t.SettingsSetParams(bcc_address=BCC, own_addresses=[ME]))
        added = await client.call(m.MAILBOXES_ADD, t.MaildirAddParams(address=ME, path=str(box)))
        await client.call(m.MAILBOXES_SYNC, t.IdParams(id=added.id))
        await client.call(m.MAILBOXES_REMOVE, t.IdParams(id=added.id))

        app = build_app(daemon.socket)
        async with app.run_test(size=SIZE) as pilot:
            screen = await screen_of(app, ContactsScreen)
            table = screen.query_one(DataTable)
            await until(lambda: screen.contacts, 30)
            [anna] = screen.contacts
            assert anna.blind_threads == 1
            assert str(table.get_cell(str(anna.id), "name")).startswith("⚠ ")
            await pilot.press("enter")
            timeline = await screen_of(app, TimelineScreen)
            banner = timeline.query_one("#timeline-blind", Static)
            await until(lambda: banner.display, 30)
            shown = str(banner.render())
            assert "offer" in shown and ME in shown and "removed" in shown

            again = await client.call(
                m.MAILBOXES_ADD, t.MaildirAddParams(address=ME, path=str(box))
            )
            await client.call(m.MAILBOXES_SYNC, t.IdParams(id=again.id))
            await pilot.press("r")
            await until(lambda: not banner.display, 30)
            await pilot.press("escape")
            await until(lambda: screen.contacts and not screen.contacts[0].blind_threads, 30)
            assert not str(table.get_cell(str(anna.id), "name")).startswith("⚠")
        await client.close()
    finally:
        await asyncio.to_thread(daemon.stop)


def test_a_blind_thread_of_a_colleagues_mailbox_is_shown_without_a_date() -> None:
    """The daemon tells another member neither when nor why a colleague's mailbox
    went down (`since` empty): the banner says so without an empty date."""
    colleague = t.BlindThread(
        thread_id=1, subject="offer", mailbox_id=0, address="a colleague's mailbox",
        since="", cause="unavailable",
    )  # fmt: skip
    assert _blind_line(colleague) == (
        "⚠ Blind thread “offer”: a colleague's mailbox is unavailable; replies are read"
        " when it is connected again."
    )
    own = t.BlindThread(
        thread_id=1, subject="offer", mailbox_id=3, address=ME,
        since="2026-12-01T10:00:00Z", cause="removed",
    )  # fmt: skip
    assert ME in _blind_line(own) and "since 2026-12-01" in _blind_line(own)
