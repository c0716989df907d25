"""Why? for any message (by Message-ID, from the message view), Settings
validation, and reconnecting a mailbox, against a real daemon."""

from __future__ import annotations

from textual.command import CommandPalette
from textual.widgets import Input, Label, Static

from loggbok.protocol import methods
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from loggbok.tui.app import build_app
from loggbok.tui.dialogs.prompt import TextPrompt
from loggbok.tui.screens.contacts import ContactsScreen
from loggbok.tui.screens.mailboxes import MailboxesScreen
from loggbok.tui.screens.message import MessageScreen
from loggbok.tui.screens.settings import SettingsScreen
from loggbok.tui.screens.why import WhyScreen

from .conftest import DemoDaemon, screen_of, until

SIZE = (160, 48)


def _verdict(why: WhyScreen) -> str:
    return str(why.query_one("#why-verdict", Static).render())


async def test_why_for_a_message_id_from_the_palette(
    demo_daemon: DemoDaemon, script_client: Client
) -> None:
    unlogged = await script_client.call(
        methods.MESSAGES_LIST, t.MessagesListParams(logged=False, limit=1)
    )
    msg = unlogged.messages[0]
    app = build_app(demo_daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: isinstance(app.screen, ContactsScreen) and app.screen.contacts)
        await pilot.press("ctrl+p")
        await screen_of(app, CommandPalette)
        await pilot.press(*"why? for a message", "enter")
        prompt = await screen_of(app, TextPrompt)
        prompt.query_one(Input).value = msg.message_id.strip("<>")  # as pasted, without <>
        await pilot.press("enter")
        why = await screen_of(app, WhyScreen)
        await until(lambda: why.explanation is not None)
        assert why.message_id == msg.id
        assert _verdict(why).startswith("Not logged")

        await pilot.press("escape")
        await app.run_action("why_message_id")
        await pilot.pause()
        prompt = await screen_of(app, TextPrompt)
        prompt.query_one(Input).value = "<no-such-message@nowhere.example>"
        await pilot.press("enter")
        missing = await screen_of(app, WhyScreen)
        await until(lambda: _verdict(missing).startswith("Cannot explain"))
        await pilot.press("o")  # nothing to open
        assert app.screen is missing


async def test_why_from_the_message_view(demo_daemon: DemoDaemon, script_client: Client) -> None:
    unlogged = await script_client.call(
        methods.MESSAGES_LIST, t.MessagesListParams(logged=False, limit=1)
    )
    msg = unlogged.messages[0]
    expected = await script_client.call(methods.MESSAGES_EXPLAIN, t.MessageRefParams(id=msg.id))
    app = build_app(demo_daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: isinstance(app.screen, ContactsScreen) and app.screen.contacts)
        await app.push_screen(MessageScreen(msg.id))
        message = await screen_of(app, MessageScreen)
        await until(lambda: message.message is not None)
        assert not message.check_action("retry", ())  # "Read again" is for unreadable bodies
        await pilot.press("w")
        why = await screen_of(app, WhyScreen)
        await until(lambda: why.explanation is not None)
        assert str(why.query_one("#why-summary", Static).render()) == expected.summary


async def test_settings_show_the_daemons_refusal_then_save(
    demo_daemon: DemoDaemon, script_client: Client
) -> None:
    app = build_app(demo_daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: isinstance(app.screen, ContactsScreen) and app.screen.contacts)
        await pilot.press("comma")
        screen = await screen_of(app, SettingsScreen)
        cap = screen.query_one("#attachment-cap", Input)
        await until(lambda: cap.value)
        error = screen.query_one("#settings-error", Label)
        assert not screen.query_one("#settings-error").display
        cap.value = "-1"
        await pilot.press("ctrl+s")
        await until(lambda: "must be >= 0" in str(error.render()))
        assert error.display
        assert cap.value == "-1"  # what the user typed stays
        unchanged = await script_client.call(methods.SETTINGS_GET)
        assert unchanged.attachment_limit_bytes == 50 * 1024 * 1024

        cap.value = "25"
        screen.query_one("#never-log", Input).value = "ceo@nordvik-sales.example, @lawfirm.example"
        screen.query_one("#excluded-folders", Input).value = "Newsletters, Lists/*"
        await pilot.press("ctrl+s")
        await until(lambda: not error.display)
        saved = await script_client.call(methods.SETTINGS_GET)
        assert saved.attachment_limit_bytes == 25 * 1024 * 1024
        assert sorted(saved.never_log) == ["@lawfirm.example", "ceo@nordvik-sales.example"]
        assert saved.excluded_folders == ["Newsletters", "Lists/*"]


async def test_reconnect_a_mailbox(demo_daemon: DemoDaemon, script_client: Client) -> None:
    app = build_app(demo_daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: isinstance(app.screen, ContactsScreen) and app.screen.contacts)
        await pilot.press("m")
        screen = await screen_of(app, MailboxesScreen)
        await until(lambda: screen.mailboxes)
        await pilot.press("p")
        prompt = await screen_of(app, TextPrompt)
        assert not prompt.query_one(Input).password  # a Maildir has no password
        await pilot.press("enter")
        await until(lambda: app.screen is screen)
        boxes = await script_client.call(methods.MAILBOXES_LIST)
        assert boxes.mailboxes[0].status in ("idle", "syncing")
        await until(lambda: screen.mailboxes and screen.mailboxes[0].status == "idle")
