"""The Mailboxes screen against a real daemon: list, add through the form, remove.

The form runs `mailboxes.test` before it saves: a bad path shows the test's
error and nothing is added; a real Maildir is added, then removed.
"""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Input, Static

from loggbok.protocol import methods
from loggbok.protocol.client import Client
from loggbok.tui.app import build_app
from loggbok.tui.dialogs.confirm import Confirm
from loggbok.tui.dialogs.mailbox_form import MailboxForm
from loggbok.tui.screens.contacts import ContactsScreen
from loggbok.tui.screens.mailboxes import MailboxesScreen
from tests.support.mail import make_maildir

from .conftest import DemoDaemon, screen_of, until, until_async

SIZE = (160, 48)


async def test_list_add_with_connection_test_and_remove(
    demo_daemon: DemoDaemon, script_client: Client, tmp_path: Path
) -> None:
    demo_box = (await script_client.call(methods.MAILBOXES_LIST)).mailboxes[0]
    second = make_maildir(tmp_path / "second")
    app = build_app(demo_daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: isinstance(app.screen, ContactsScreen) and app.screen.contacts)
        await pilot.press("m")
        screen = await screen_of(app, MailboxesScreen)
        await until(lambda: screen.mailboxes)
        table = screen.query_one(DataTable)
        row = str(demo_box.id)
        assert str(table.get_cell(row, "Address")).startswith(demo_box.address)
        assert str(table.get_cell(row, "Provider")) == "maildir"
        assert str(table.get_cell(row, "Status")) == "up to date"

        await pilot.press("a")
        form = await screen_of(app, MailboxForm)
        form.query_one("#address", Input).value = "second@nordvik-sales.example"
        form.query_one("#path", Input).value = str(tmp_path / "missing")
        await pilot.press("ctrl+s")
        result = form.query_one("#test-result", Static)
        await until(lambda: "Connection failed" in str(result.render()))
        assert "not_found" not in str(result.render())  # the reason in words, not its code
        assert app.screen is form
        assert len((await script_client.call(methods.MAILBOXES_LIST)).mailboxes) == 1

        path = form.query_one("#path", Input)
        path.value = str(second)
        path.focus()
        await pilot.press("enter")  # Enter in the last field tests and saves
        await until(lambda: app.screen is screen)
        await until(lambda: len(screen.mailboxes) == 2)
        added = next(b for b in screen.mailboxes if b.id != demo_box.id)
        assert added.path == str(second)

        table.move_cursor(row=screen.mailboxes.index(added))
        await pilot.press("d")
        await screen_of(app, Confirm)
        await pilot.press("y")
        await until(lambda: [b.id for b in screen.mailboxes] == [demo_box.id])

        async def removed() -> bool:
            boxes = await script_client.call(methods.MAILBOXES_LIST)
            return [b.id for b in boxes.mailboxes] == [demo_box.id]

        await until_async(removed)
