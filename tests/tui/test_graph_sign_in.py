"""Adding a Microsoft 365 mailbox in the TUI against a real daemon and the Graph
test server: the form is built for the `graph` provider, saving tests and adds
it, the sign-in dialog shows the address and the code (copied to the
clipboard) and closes itself once the code is approved; `i` signs in again."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.widgets import DataTable, Input, Select, Static

from loggbok.tui.app import build_app
from loggbok.tui.dialogs.mailbox_form import MailboxForm
from loggbok.tui.dialogs.sign_in import SignInDialog
from loggbok.tui.screens.contacts import ContactsScreen
from loggbok.tui.screens.mailboxes import MailboxesScreen
from tests.backends.harnesses import GRAPH_CLIENT_ID
from tests.servers.graph.server import GraphServer
from tests.support.graph import graph_daemon

from .conftest import screen_of, until

ME = "maja@firma.example"
SIZE = (160, 48)


async def test_add_a_graph_mailbox_and_sign_in(graph_server: GraphServer, workdir: Path) -> None:
    with graph_daemon(workdir, graph_server) as daemon:
        app = build_app(daemon.socket)
        async with app.run_test(size=SIZE) as pilot:
            await screen_of(app, ContactsScreen)
            await pilot.press("m")
            screen = await screen_of(app, MailboxesScreen)
            await pilot.press("a")
            form = await screen_of(app, MailboxForm)
            form.query_one("#provider", Select).value = "graph"
            await pilot.pause()
            for name, value in (
                ("address", ME),
                ("client_id", GRAPH_CLIENT_ID),
                ("graph_url", graph_server.graph_url),
                ("authority", graph_server.authority()),
            ):
                form.query_one(f"#{name}", Input).value = value
            assert not form.query_one("#path", Input).display
            await pilot.press("ctrl+s")

            dialog = await screen_of(app, SignInDialog, seconds=30)
            code = str(dialog.query_one("#sign-in-code", Static).render())
            assert code == dialog.prompt.user_code
            # copied when the dialog is mounted, a moment after it becomes the screen
            await until(lambda: app.clipboard == code or None, 30)
            uri = str(dialog.query_one("#sign-in-uri", Static).render())
            assert uri.startswith(graph_server.base)
            await asyncio.to_thread(graph_server.approve, code, ME)
            await screen_of(app, MailboxesScreen, seconds=30)

            table = screen.query_one(DataTable)
            await until(lambda: screen.mailboxes and screen.mailboxes[0].status == "idle", 30)
            row = str(screen.mailboxes[0].id)
            assert str(table.get_cell(row, "Provider")) == "graph"

            await pilot.press("i")  # sign in again from the list
            dialog = await screen_of(app, SignInDialog, seconds=30)
            await asyncio.to_thread(graph_server.approve, dialog.prompt.user_code, ME)
            await screen_of(app, MailboxesScreen, seconds=30)
