"""Logging by hand onto a contact that does not exist yet: the picker creates it
(prefilled with the message's sender), chooses it, and the message is logged there."""

from __future__ import annotations

from textual.widgets import Input, OptionList

from loggbok.protocol import methods
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from loggbok.tui.app import build_app
from loggbok.tui.dialogs.contact_form import ContactForm
from loggbok.tui.dialogs.contact_picker import ContactPicker
from loggbok.tui.screens.contacts import ContactsScreen
from loggbok.tui.screens.unlogged import UnloggedScreen

from .conftest import DemoDaemon, screen_of, until, until_async
from .helpers import contact_by_email

NEW = "new.person@client-new.example"


async def test_create_the_contact_from_the_manual_log_picker(
    demo_daemon: DemoDaemon, script_client: Client
) -> None:
    app = build_app(demo_daemon.socket)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(lambda: isinstance(app.screen, ContactsScreen) and app.screen.contacts)
        await pilot.press("u")
        screen = await screen_of(app, UnloggedScreen)
        await until(lambda: screen.by_option)
        screen.query_one(OptionList).focus()
        msg = await until(lambda: screen.current)
        await pilot.press("l")
        picker = await screen_of(app, ContactPicker)
        await pilot.press("ctrl+n")
        form = await screen_of(app, ContactForm)
        counterpart = msg.from_ if msg.direction == "inbound" else msg.to[0]
        emails = form.query_one("#emails", Input)
        assert emails.value == counterpart.email  # prefilled from the message
        emails.value = NEW
        form.query_one("#name", Input).value = "New Person"
        await pilot.press("enter")
        await until(lambda: app.screen is picker)
        contact = await until_async(lambda: contact_by_email(script_client, NEW))
        await until(lambda: contact.id in picker.chosen)
        await pilot.press("ctrl+s")
        await until(lambda: app.screen is screen)

        async def logged() -> bool:
            timeline = await script_client.call(
                methods.TIMELINE_GET, t.TimelineGetParams(contact_id=contact.id, limit=10)
            )
            return any(e.id == msg.id for e in timeline.entries)

        await until_async(logged)
