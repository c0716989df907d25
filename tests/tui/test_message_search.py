"""Message view attachments, Search and the command palette, against a real daemon."""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path

from rich.console import Console
from textual.command import CommandList, CommandPalette
from textual.widgets import Input, OptionList, ProgressBar

from loggbok.protocol import methods
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from loggbok.tui.app import build_app
from loggbok.tui.dialogs.mailbox_form import MailboxForm
from loggbok.tui.dialogs.prompt import TextPrompt
from loggbok.tui.screens.contacts import ContactsScreen
from loggbok.tui.screens.mailboxes import MailboxesScreen
from loggbok.tui.screens.message import MessageScreen
from loggbok.tui.screens.search import SearchScreen
from loggbok.tui.screens.unlogged import UnloggedScreen
from loggbok.tui.widgets.keys_panel import AppFirstBindings, KeysPanel

from .conftest import DemoDaemon, screen_of, until

SIZE = (160, 48)


async def _pdf_offer(client: Client) -> tuple[t.Message, t.Attachment]:
    """The demo's offer to Fjällström, with its PDF."""
    hits = await client.call(
        methods.MESSAGES_SEARCH, t.MessagesSearchParams(query="Offert NordTrack", limit=50)
    )
    for hit in hits.hits:
        msg = await client.call(methods.MESSAGES_GET, t.MessageRefParams(id=hit.id))
        for att in msg.attachments:
            if att.content_type == "application/pdf" and att.status == "stored":
                return msg, att
    raise AssertionError("the demo has no stored PDF on the Fjällström offer")


async def test_save_an_attachment_from_the_message_view(
    demo_daemon: DemoDaemon, script_client: Client, tmp_path: Path
) -> None:
    msg, att = await _pdf_offer(script_client)
    expected = await script_client.call(
        methods.ATTACHMENTS_GET, t.AttachmentGetParams(id=msg.id, index=att.index)
    )
    app = build_app(demo_daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: isinstance(app.screen, ContactsScreen) and app.screen.contacts)
        await app.push_screen(MessageScreen(msg.id))
        screen = await screen_of(app, MessageScreen)
        await until(lambda: screen.message is not None)
        await pilot.press("a")
        listing = screen.query_one("#attachments-list", OptionList)
        await until(lambda: listing.option_count == len(msg.attachments))
        listing.focus()
        listing.highlighted = [a.index for a in msg.attachments].index(att.index)
        await pilot.press("enter")
        prompt = await screen_of(app, TextPrompt)
        target = tmp_path / "saved" / "offer.pdf"
        prompt.query_one(Input).value = str(target)
        await pilot.press("enter")
        await until(lambda: target.exists() and target.stat().st_size == expected.size)
        assert target.read_bytes() == base64.b64decode(expected.data_base64)
        assert target.read_bytes().startswith(b"%PDF")


async def test_a_large_attachment_is_saved_in_pieces_with_progress(
    demo_daemon: DemoDaemon, script_client: Client, tmp_path: Path
) -> None:
    """The screen asks for a quarter of the file a call here (the daemon's own cap,
    16 MiB, is tested end to end): the bar follows each piece, the bytes arrive
    whole, and no temp file is left beside them."""
    msg, att = await _pdf_offer(script_client)
    expected = bytearray()
    offset: int | None = 0
    while offset is not None:
        piece = await script_client.call(
            methods.ATTACHMENTS_GET,
            t.AttachmentGetParams(id=msg.id, index=att.index, offset=offset),
        )
        expected += base64.b64decode(piece.data_base64)
        offset = piece.next_offset
    assert len(expected) == att.size > 4
    app = build_app(demo_daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: isinstance(app.screen, ContactsScreen) and app.screen.contacts)
        await app.push_screen(MessageScreen(msg.id, tab="attachments", piece_bytes=att.size // 4))
        screen = await screen_of(app, MessageScreen)
        await until(lambda: screen.message is not None)
        bar = screen.query_one("#attachment-progress", ProgressBar)
        assert not bar.display
        steps: list[tuple[float, float | None, bool]] = []
        screen.watch(
            bar, "progress", lambda value: steps.append((value, bar.total, bar.display)), init=False
        )
        listing = screen.query_one("#attachments-list", OptionList)
        await until(lambda: listing.option_count == len(msg.attachments))
        listing.focus()
        listing.highlighted = [a.index for a in msg.attachments].index(att.index)
        await pilot.press("enter")
        prompt = await screen_of(app, TextPrompt)
        target = tmp_path / "offer.pdf"
        prompt.query_one(Input).value = str(target)
        await pilot.press("enter")
        await until(lambda: target.exists())
        await until(lambda: not bar.display)
        assert target.read_bytes() == bytes(expected)
        assert os.listdir(tmp_path) == ["offer.pdf"]  # no temp file left
        progress = [value for value, _, _ in steps if value]
        assert len(progress) >= 4
        assert progress == sorted(progress)
        assert progress[-1] == att.size
        assert all(total == att.size and shown for value, total, shown in steps if value)


async def test_search_then_open_a_hit(demo_daemon: DemoDaemon, script_client: Client) -> None:
    expected = await script_client.call(
        methods.MESSAGES_SEARCH, t.MessagesSearchParams(query="pilot", limit=200)
    )
    assert expected.hits
    app = build_app(demo_daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: isinstance(app.screen, ContactsScreen) and app.screen.contacts)
        await pilot.press("slash")
        screen = await screen_of(app, SearchScreen)
        assert screen.query_one(Input).has_focus
        await pilot.press(*"pilot", "enter")
        results = screen.query_one(OptionList)
        await until(lambda: results.option_count == len(expected.hits))
        assert results.has_focus
        await pilot.press("down", "enter")
        message = await screen_of(app, MessageScreen)
        assert message.message_id == expected.hits[1].id
        await until(lambda: message.message is not None)
        assert message.message is not None and message.message.subject == expected.hits[1].subject


async def test_command_palette_lists_the_main_actions(demo_daemon: DemoDaemon) -> None:
    app = build_app(demo_daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: isinstance(app.screen, ContactsScreen) and app.screen.contacts)
        await pilot.press("ctrl+p")
        palette = await screen_of(app, CommandPalette)
        commands = palette.query_one(CommandList)
        wanted = {
            "Contacts",
            "Add contact",
            "Import contacts (vCard/CSV)",
            "Unlogged mail",
            "Mailboxes",
            "Add mailbox",
            "Search logged mail",
            "Settings",
        }

        def titles() -> set[str]:
            shown = (commands.get_option_at_index(i).prompt for i in range(commands.option_count))
            return {str(p).split("\n")[0] for p in shown}

        await until(lambda: wanted <= titles())
        await pilot.press(*"add mailbox", "enter")
        await screen_of(app, MailboxForm)


async def test_keys_panel_lists_the_view_keys_hidden_from_the_footer(
    demo_daemon: DemoDaemon,
) -> None:
    app = build_app(demo_daemon.socket)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(lambda: isinstance(app.screen, ContactsScreen) and app.screen.contacts)
        await pilot.press("question_mark")
        panel = app.screen.query_one(KeysPanel)
        await pilot.pause()
        console = Console(width=80, record=True, file=io.StringIO())
        console.print(panel.query_one(AppFirstBindings).render_bindings_table())
        table = console.export_text()
        for view in ("Contacts", "Unlogged mail", "Mailboxes", "Search", "Settings"):
            assert view in table
        # the app's keys first, then this screen's, then the list's
        assert table.index("Everywhere") < table.index("This screen") < table.index("Add")
        assert table.index("Quit") < table.index("This screen")
        await pilot.press("question_mark")
        assert not app.screen.query(KeysPanel)


async def test_escape_leaves_the_query_and_view_keys_work_from_the_results(
    demo_daemon: DemoDaemon,
) -> None:
    app = build_app(demo_daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: isinstance(app.screen, ContactsScreen) and app.screen.contacts)
        await pilot.press("slash")
        screen = await screen_of(app, SearchScreen)
        query = screen.query_one(Input)
        await pilot.press(*"cum")  # typed, not view switches
        assert query.value == "cum"
        assert app.screen is screen
        await pilot.press("escape")
        assert screen.query_one(OptionList).has_focus
        await pilot.press("u")
        await screen_of(app, UnloggedScreen)
        await pilot.press("slash")
        await screen_of(app, SearchScreen)
        await pilot.press("slash")  # on the Search screen, / goes back to the query
        assert query.has_focus
        await pilot.press("escape", "m")
        await screen_of(app, MailboxesScreen)
