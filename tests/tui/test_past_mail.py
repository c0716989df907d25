"""Second thoughts in the TUI, against a real demo daemon: re-checking past mail
after a settings change (preview with counts in plain words, then Apply), and
Why?'s "add sender" deciding that message again at once."""

from __future__ import annotations

from textual.widgets import RadioButton, Static

from loggbok.protocol import methods
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from loggbok.tui.app import build_app
from loggbok.tui.dialogs.past_mail import PastMailPreview
from loggbok.tui.screens.contacts import ContactsScreen
from loggbok.tui.screens.settings import SettingsScreen
from loggbok.tui.screens.why import WhyScreen
from loggbok.tui.widgets.plain import PlainTable

from .conftest import DemoDaemon, screen_of, until, until_async

SIZE = (160, 48)


def _rows(table: PlainTable) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(row)] for row in range(table.row_count)]


async def test_settings_change_previews_and_applies_past_mail(
    demo_daemon: DemoDaemon, script_client: Client
) -> None:
    app = build_app(demo_daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: isinstance(app.screen, ContactsScreen) and app.screen.contacts)
        await pilot.press("p")  # the demo is already decided with its own settings
        await until(
            lambda: any("nothing would change" in str(n.message) for n in app._notifications)
        )

        await pilot.press("comma")
        settings = await screen_of(app, SettingsScreen)
        await until(lambda: settings.saved is not None)
        settings.query_one("#all_with_contacts", RadioButton).value = True
        await pilot.press("ctrl+s")
        preview = await screen_of(app, PastMailPreview)
        expected = await script_client.call(
            methods.MESSAGES_REDECIDE, t.MessagesRedecideParams(dry_run=True)
        )
        assert expected.changed and expected == preview.preview
        counts = _rows(preview.query_one("#past-mail-counts", PlainTable))
        wanted = next(c for c in expected.changes if c.from_ == "not_in_tracked_thread")
        assert ["Not in a tracked thread → Email with a contact", str(wanted.count)] in counts
        headline = str(preview.query_one("#past-mail-headline", Static).render())
        assert headline.startswith(f"{expected.changed} of {expected.examined} messages")
        sample = _rows(preview.query_one("#past-mail-sample", PlainTable))
        assert len(sample) == len(expected.sample) and sample[0][2]

        moved = next(s for s in expected.sample if s.new_reason == "contact_email")
        await pilot.click("#apply")
        contact = moved.contacts_gained[0]

        async def on_timeline() -> bool:
            page = await script_client.call(
                methods.TIMELINE_GET, t.TimelineGetParams(contact_id=contact, limit=500)
            )
            return moved.id in [e.id for e in page.entries]

        await until_async(on_timeline, 30)
        after = await script_client.call(
            methods.MESSAGES_REDECIDE, t.MessagesRedecideParams(dry_run=True)
        )
        assert after.changed == 0


async def test_why_add_sender_decides_the_message_again(
    demo_daemon: DemoDaemon, script_client: Client
) -> None:
    await script_client.call(
        methods.SETTINGS_SET, t.SettingsSetParams(logging_mode="all_with_contacts")
    )
    listing = await script_client.call(
        methods.MESSAGES_LIST,
        t.MessagesListParams(logged=False, reason="no_contact_participant", limit=500),
    )
    boxes = await script_client.call(methods.MAILBOXES_LIST)
    own = {b.address.rpartition("@")[2] for b in boxes.mailboxes}
    msg = next(
        m
        for m in listing.messages
        if m.direction == "inbound" and m.from_.email.rpartition("@")[2] not in own
    )
    app = build_app(demo_daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: isinstance(app.screen, ContactsScreen) and app.screen.contacts)
        await app.push_screen(WhyScreen(msg.id))
        why = await screen_of(app, WhyScreen)
        await until(lambda: why.explanation is not None)
        assert why.explanation is not None and why.explanation.reason == "no_contact_participant"
        await pilot.press("s")
        await until(lambda: why.explanation is not None and why.explanation.logged, 30)
        assert why.explanation is not None and why.explanation.reason == "contact_email"
    explained = await script_client.call(methods.MESSAGES_EXPLAIN, t.MessageRefParams(id=msg.id))
    assert (explained.logged, explained.reason) == (True, "contact_email")
    assert explained.evidence.details["previous_reason"] == "no_contact_participant"
