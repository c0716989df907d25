"""A new user's first run on an empty install (a real `loggbokd`, empty data dir):
the checklist, each step one key away and ticked from the daemon's state; Esc out
of every text field; the view keys from every screen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import App
from textual.binding import Binding
from textual.widgets import Input, Label

from loggbok.protocol import methods
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from loggbok.tui.app import build_app
from loggbok.tui.dialogs.contact_form import ContactForm
from loggbok.tui.dialogs.contact_picker import ContactPicker
from loggbok.tui.dialogs.mailbox_form import MailboxForm
from loggbok.tui.dialogs.prompt import TextPrompt
from loggbok.tui.focus import TEXT_FIELDS
from loggbok.tui.screens.contacts import ContactsScreen
from loggbok.tui.screens.mailboxes import MailboxesScreen
from loggbok.tui.screens.review import ForwardReviewScreen
from loggbok.tui.screens.search import SearchScreen
from loggbok.tui.screens.settings import SettingsScreen
from loggbok.tui.screens.timeline import TimelineScreen
from loggbok.tui.screens.unlogged import UnloggedScreen
from loggbok.tui.widgets.checklist import Checklist
from loggbok.tui.widgets.plain import PlainTable
from tests.conftest import DaemonProcess
from tests.support.mail import make_maildir

from .conftest import screen_of, until

SIZE = (120, 36)
VIEWS: dict[str, type[Any]] = {
    "c": ContactsScreen,
    "u": UnloggedScreen,
    "v": ForwardReviewScreen,
    "m": MailboxesScreen,
    "slash": SearchScreen,
    "comma": SettingsScreen,
}


def ticks(app: App[Any]) -> list[bool]:
    return [s.done for s in app.screen.query_one(Checklist).steps]


def footer_keys(app: App[Any]) -> dict[str, str]:
    """What the footer offers now: key -> description of the shown, enabled bindings."""
    return {
        key: active.binding.description
        for key, active in app.screen.active_bindings.items()
        if active.binding.show and active.enabled
    }


async def test_first_run_checklist_ticks_each_step(
    daemon: DaemonProcess, client: Client, tmp_path: Path
) -> None:
    app = build_app(daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        contacts = await screen_of(app, ContactsScreen)
        checklist = contacts.query_one(Checklist)
        await until(lambda: checklist.display and checklist.steps)
        assert ticks(app) == [False, False, False, False]
        status = contacts.query_one("#contacts-status", Label)
        await until(lambda: "No contacts yet" in str(status.render()))
        assert "(i)" in str(status.render()) and "(a)" in str(status.render())

        # 2: the logging address, one key away, typed where the cursor already is
        await pilot.press("2")
        settings = await screen_of(app, SettingsScreen)
        bcc = settings.query_one("#bcc-address", Input)
        await until(lambda: bcc.has_focus)
        await until(lambda: settings.saved is not None)
        assert footer_keys(app).get("escape") == "Leave field"
        assert "q" not in footer_keys(app)  # q is text here, not Quit
        await pilot.press(*"log@crm.example")
        await pilot.press("ctrl+s")
        await until(lambda: settings.saved is not None and settings.saved.bcc_address)
        await pilot.press("escape")
        assert not isinstance(app.focused, TEXT_FIELDS)
        await pilot.press("c")
        await screen_of(app, ContactsScreen)
        await until(lambda: ticks(app) == [False, True, False, False])

        # 1: a contact, from the same screen
        await pilot.press("a")
        form = await screen_of(app, ContactForm)
        form.query_one("#name", Input).value = "Anna Berg"
        form.query_one("#emails", Input).value = "anna@client.example"
        await pilot.press("enter")
        await until(lambda: ticks(app) == [True, True, False, False])

        # 4: a mailbox added by another client ticks live, while the screen shows
        maildir = make_maildir(tmp_path / "Mail", ".Sent")
        await client.call(
            methods.MAILBOXES_ADD,
            t.MaildirAddParams(address="me@us.example", path=str(maildir)),
        )
        await until(lambda: ticks(app) == [True, True, False, True])

        # 3: own addresses; once every step is done the checklist goes
        await pilot.press("3")
        settings = await screen_of(app, SettingsScreen)
        own = settings.query_one("#own-addresses", Input)
        await until(lambda: own.has_focus)
        await pilot.press(*"me@us.example", "ctrl+s")
        await until(lambda: settings.saved is not None and settings.saved.own_addresses)
        await pilot.press("escape", "c")
        await screen_of(app, ContactsScreen)
        await until(lambda: not checklist.display)
        assert ticks(app) == [True, True, True, True]


async def test_mailbox_step_opens_the_form(daemon: DaemonProcess) -> None:
    app = build_app(daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        contacts = await screen_of(app, ContactsScreen)
        await until(lambda: contacts.query_one(Checklist).display)
        await pilot.press("4")
        form = await screen_of(app, MailboxForm)
        assert app.focused is form.query_one("#provider")
        await pilot.press("escape")
        await screen_of(app, MailboxesScreen)


async def test_escape_leaves_every_text_field(daemon: DaemonProcess) -> None:
    """On a screen Esc leaves the field (then the view keys work); in a dialog it closes it."""
    app = build_app(daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await screen_of(app, ContactsScreen)
        for view_key in ("c", "slash", "comma"):
            await pilot.press("escape", "escape", view_key)  # out of any field first
            screen = await screen_of(app, VIEWS[view_key])
            for field in list(screen.query(Input)):
                if not field.display or field.disabled:
                    continue
                field.focus()
                await pilot.pause()
                assert footer_keys(app).get("escape") == "Leave field", field.id
                await pilot.press("1")
                assert field.value.endswith("1")  # typed, not a key
                await pilot.press("escape")
                assert not isinstance(app.focused, TEXT_FIELDS), field.id
                await pilot.press("m")  # the view keys work again
                await screen_of(app, MailboxesScreen)
                await pilot.press("escape")  # back to the view it came from
                assert app.screen is screen

        await pilot.press("c")
        dialogs: list[tuple[str, type[Any]]] = [("a", ContactForm), ("i", TextPrompt)]
        for key, kind in dialogs:
            await pilot.press(key)
            dialog = await screen_of(app, kind)
            await until(lambda: isinstance(app.focused, Input))
            await pilot.press(*"qq", "escape")
            await until(lambda d=dialog: not d.is_attached)
            assert isinstance(app.screen, ContactsScreen)
        await app.push_screen(ContactPicker("Log onto…"))
        picker = await screen_of(app, ContactPicker)
        picker.query_one(Input).focus()
        await pilot.press("escape")
        await until(lambda: not picker.is_attached)
        await pilot.press("m", "a")
        form = await screen_of(app, MailboxForm)
        form.query_one("#address", Input).focus()
        await pilot.press(*"c,", "escape")
        await screen_of(app, MailboxesScreen)


async def test_view_keys_open_the_top_of_each_view_from_every_screen(
    daemon: DaemonProcess, client: Client
) -> None:
    await client.call(
        methods.CONTACTS_CREATE, t.ContactCreateParams(email="anna@client.example", name="Anna")
    )
    app = build_app(daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        contacts = await screen_of(app, ContactsScreen)
        await until(lambda: contacts.contacts)
        await pilot.press("enter")
        timeline = await screen_of(app, TimelineScreen)
        # every empty state says what would fill it and how
        status = timeline.query_one("#timeline-status", Label)
        await until(lambda: "by hand" in str(status.render()))
        assert footer_keys(app).get("enter") == "Open"
        assert footer_keys(app).get("escape") == "Back"
        for start in VIEWS:
            for key, kind in VIEWS.items():
                await pilot.press(start)
                await screen_of(app, VIEWS[start])
                if isinstance(app.focused, TEXT_FIELDS):
                    await pilot.press("escape")
                await pilot.press(key)
                try:
                    screen = await screen_of(app, kind, seconds=5)
                except TimeoutError:
                    raise AssertionError((start, key, app.screen, app.focused)) from None
                assert len(app.screen_stack) == 1, (start, key)  # the view's top
                if key != start:
                    if isinstance(app.focused, TEXT_FIELDS):  # Search's query
                        await pilot.press("escape")  # leaves the field first
                    await pilot.press("escape")  # then goes back to the view before
                    await screen_of(app, VIEWS[start])
                else:
                    assert app.screen is screen
        assert not timeline.is_attached  # c went to the Contacts list, not the timeline
        await pilot.press("u")
        unlogged = await screen_of(app, UnloggedScreen)
        status = unlogged.query_one("#unlogged-status", Label)
        await until(lambda: "once a mailbox syncs" in str(status.render()))


def test_no_screen_takes_a_view_key() -> None:
    """A screen's binding on c u v m / , would shadow the view key there (Search's /
    goes to its own query, the top of that view)."""
    import importlib
    import inspect
    import pkgutil

    from textual.screen import Screen

    import loggbok.tui.screens as screens_pkg
    from loggbok.tui.app import LoggbokApp

    view_keys = {
        b.key for b in LoggbokApp.BINDINGS if isinstance(b, Binding) and "open_view" in b.action
    }
    assert view_keys == {"c", "u", "v", "m", "slash", "comma"}

    for module_info in pkgutil.iter_modules(screens_pkg.__path__):
        module = importlib.import_module(f"loggbok.tui.screens.{module_info.name}")
        for _, kind in inspect.getmembers(module, inspect.isclass):
            if not issubclass(kind, Screen) or kind.__module__ != module.__name__:
                continue
            taken = {b.key for b in kind.BINDINGS if isinstance(b, Binding) and b.key in view_keys}
            allowed = {"slash"} if kind is SearchScreen else set()
            assert taken <= allowed, (kind.__name__, taken)


async def test_lists_share_their_keys(daemon: DaemonProcess, client: Client) -> None:
    """j/k, Home/End on the contact table (a DataTable) as on every option list."""
    for name in ("Anna", "Bo", "Cia"):
        await client.call(
            methods.CONTACTS_CREATE,
            t.ContactCreateParams(email=f"{name.lower()}@client.example", name=name),
        )
    app = build_app(daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        contacts = await screen_of(app, ContactsScreen)
        await until(lambda: len(contacts.contacts) == 3)
        table = contacts.query_one("#contacts-table", PlainTable)
        assert table.has_focus
        await pilot.press("j")
        assert table.cursor_row == 1
        await pilot.press("end")
        assert table.cursor_row == 2
        await pilot.press("k")
        assert table.cursor_row == 1
        await pilot.press("home")
        assert table.cursor_row == 0
        await pilot.press("end", "enter")
        timeline = await screen_of(app, TimelineScreen)
        assert timeline.contact.id == contacts.contacts[2].id
