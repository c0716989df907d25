"""The member's seat in Settings, and a message's visibility set from its view (`V`),
against a real demo daemon (its single user: the first user, an admin)."""

from __future__ import annotations

from textual.widgets import Label, Static

from loggbok.protocol import methods
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from loggbok.tui.app import build_app
from loggbok.tui.screens.contacts import ContactsScreen
from loggbok.tui.screens.message import MessageScreen
from loggbok.tui.screens.settings import SettingsScreen, member_text

from .conftest import DemoDaemon, screen_of, until, until_async
from .helpers import contact_with_timeline

SIZE = (160, 48)


async def test_v_moves_a_messages_visibility_on(
    demo_daemon: DemoDaemon, script_client: Client
) -> None:
    _, timeline = await contact_with_timeline(script_client)
    message_id = timeline.entries[0].id
    ref = t.MessageRefParams(id=message_id)
    app = build_app(demo_daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: isinstance(app.screen, ContactsScreen) and app.screen.contacts)
        await app.push_screen(MessageScreen(message_id))
        screen = await screen_of(app, MessageScreen)
        await until(lambda: screen.message is not None)
        heading = screen.query_one("#message-heading", Static)
        assert "Visible to: everyone" in str(heading.render())
        shown = screen.active_bindings.get("V")
        assert shown is not None and shown.enabled and shown.binding.show  # in the footer
        for want in ("team", "owner", "everyone"):
            await pilot.press("V")

            async def stored(want: str = want) -> bool:
                got = await script_client.call(methods.MESSAGES_GET, ref)
                return got.visibility == want

            await until_async(stored)
            await until(
                lambda w=want: screen.message is not None and screen.message.visibility == w
            )
        assert "Visible to: everyone" in str(heading.render())


async def test_settings_say_who_the_daemon_serves(demo_daemon: DemoDaemon) -> None:
    app = build_app(demo_daemon.socket)
    async with app.run_test(size=SIZE):
        await until(lambda: isinstance(app.screen, ContactsScreen) and app.screen.contacts)
        await app.push_screen(SettingsScreen())
        screen = await screen_of(app, SettingsScreen)
        label = screen.query_one("#member", Label)
        await until(lambda: "seat Core" in str(label.render()))
        assert "admin" in str(label.render())


def test_member_line_names_a_seat_that_cannot_log() -> None:
    viewer = t.User(
        id=2, email="viv@firma.example", name="viv", seat="view_only", team="Sales", can_log=False
    )
    assert member_text(viewer) == (
        "You: viv@firma.example · seat View-only · team Sales · view-only: you connect no"
        " mailbox and nothing of yours is logged"
    )
    assert member_text(None) == ""
