"""Forwards to review (R8) in the TUI: an unreadable forward is chosen a contact by hand.

A forward whose original sender is shown by name only lands in the demo Maildir;
the review view (key v) lists it, l opens the contact picker searching for the
name the block shows, and choosing a contact logs it as `manual`.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from textual.widgets import Input, Label, OptionList, SelectionList

from loggbok.protocol import methods
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from loggbok.tui.app import build_app
from loggbok.tui.dialogs.contact_picker import ContactPicker
from loggbok.tui.screens.contacts import ContactsScreen
from loggbok.tui.screens.review import ForwardReviewScreen

from .conftest import DemoDaemon, screen_of, until, until_async

SIZE = (160, 48)
FORWARD = Path(__file__).parents[1] / "data" / "forwards" / "name_only_outlook_en.eml"


async def test_review_a_forward_and_log_it_by_hand(
    demo_daemon: DemoDaemon, script_client: Client
) -> None:
    boxes = await script_client.call(methods.MAILBOXES_LIST)
    box = boxes.mailboxes[0]
    assert box.path is not None
    settings = await script_client.call(methods.SETTINGS_GET)
    await script_client.call(
        methods.SETTINGS_SET,
        t.SettingsSetParams(
            forwarding_address="forward@log.example",
            own_addresses=[*settings.own_addresses, "ulla@seller.example"],
        ),
    )
    karin = await script_client.call(
        methods.CONTACTS_CREATE,
        t.ContactCreateParams(email="karin.kund@customer.example", name="Karin Kund"),
    )
    inbox = Path(box.path)
    tmp = inbox / "tmp" / f"{time.time_ns()}.tui-forward"
    tmp.write_bytes(FORWARD.read_bytes())
    os.rename(tmp, inbox / "new" / tmp.name)

    async def waiting() -> list[t.MessageSummary] | None:
        found = await script_client.call(
            methods.MESSAGES_LIST, t.MessagesListParams(reason="forward_unparsed")
        )
        return found.messages or None

    (msg,) = await until_async(waiting, seconds=30)
    app = build_app(demo_daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: isinstance(app.screen, ContactsScreen) and app.screen.contacts)
        await pilot.press("v")
        review = await screen_of(app, ForwardReviewScreen)
        await until(lambda: f"m{msg.id}" in review.by_option)
        assert review.sub_title == "Forwards to review"
        options = review.query_one(OptionList)
        options.highlighted = options.get_option_index(f"m{msg.id}")
        await pilot.press("l")
        picker = await screen_of(app, ContactPicker)
        assert picker.query_one("#picker-query", Input).value == "Karin Kund"
        choices = picker.query_one(SelectionList)
        await until(
            lambda: any(
                choices.get_option_at_index(i).value == karin.id
                for i in range(choices.option_count)
            )
        )
        choices.focus()
        for i in range(choices.option_count):
            if choices.get_option_at_index(i).value == karin.id:
                choices.highlighted = i
        await pilot.press("space")
        await pilot.press("ctrl+s")
        await until(lambda: app.screen is review)

        async def logged() -> bool:
            now = await script_client.call(methods.MESSAGES_GET, t.MessageRefParams(id=msg.id))
            return now.reason == "manual" and now.contact_ids == [karin.id]

        await until_async(logged)
        await until(lambda: not review.by_option)
        status = str(review.query_one("#unlogged-status", Label).render())
        assert status == ForwardReviewScreen.NOTHING
