"""Views refresh themselves when the daemon's data changes: no `r` needed.

A second client logs a message (`timeline.appended`) or a new mail lands in the
Maildir (a sync round ends with `mailbox.status_changed` to idle); the
Contacts and Unlogged views show it on their own.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from textual.widgets import DataTable

from loggbok.protocol import methods
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from loggbok.tui.app import build_app
from loggbok.tui.screens.contacts import ContactsScreen
from loggbok.tui.screens.unlogged import UnloggedScreen

from .conftest import DemoDaemon, screen_of, until
from .helpers import UNFOLDED

SIZE = (160, 48)


async def test_contacts_show_new_activity_without_refresh(
    demo_daemon: DemoDaemon, script_client: Client
) -> None:
    contacts = await script_client.call(methods.CONTACTS_LIST, t.ContactsListParams(limit=500))
    idle = next(c for c in contacts.contacts if c.last_activity is None)
    unlogged = await script_client.call(
        methods.MESSAGES_LIST, t.MessagesListParams(logged=False, limit=1)
    )
    msg = unlogged.messages[0]
    app = build_app(demo_daemon.socket)
    async with app.run_test(size=SIZE):
        screen = await screen_of(app, ContactsScreen)
        await until(lambda: screen.contacts)
        await script_client.call(
            methods.MESSAGES_LOG, t.MessagesLogParams(id=msg.id, contact_ids=[idle.id])
        )

        def refreshed() -> bool:
            shown = {c.id: c for c in screen.contacts}
            return shown[idle.id].last_activity is not None

        await until(refreshed)
        table = screen.query_one(DataTable)
        assert table.get_cell(str(idle.id), "last")


async def test_unlogged_view_follows_logging_and_new_mail(
    demo_daemon: DemoDaemon, script_client: Client
) -> None:
    boxes = await script_client.call(methods.MAILBOXES_LIST)
    box = boxes.mailboxes[0]
    assert box.path is not None
    contacts = await script_client.call(methods.CONTACTS_LIST, t.ContactsListParams(limit=1))
    app = build_app(demo_daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: isinstance(app.screen, ContactsScreen) and app.screen.contacts)
        await pilot.press("u")
        screen = await screen_of(app, UnloggedScreen)
        await until(lambda: screen.by_option)
        first = next(iter(screen.by_option.values()))
        await script_client.call(
            methods.MESSAGES_LOG,
            t.MessagesLogParams(id=first.id, contact_ids=[contacts.contacts[0].id]),
        )
        await until(lambda: f"m{first.id}" not in screen.by_option)

        mail = EmailMessage(policy=UNFOLDED)
        mail["From"] = "Newsletter <news@stranger.example>"
        mail["To"] = box.address
        mail["Subject"] = "A stranger writes"
        mail["Message-ID"] = make_msgid(domain="tests.loggbok.example")
        mail["Date"] = format_datetime(datetime.now(UTC))
        mail.set_content("Nobody you know.\n")
        inbox = Path(box.path)
        tmp = inbox / "tmp" / f"{time.time_ns()}.tui-test"
        tmp.write_bytes(mail.as_bytes())
        os.rename(tmp, inbox / "new" / tmp.name)
        await until(
            lambda: any(m.subject == "A stranger writes" for m in screen.by_option.values()),
            seconds=20,
        )
