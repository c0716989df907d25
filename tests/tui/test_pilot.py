"""The TUI driven through Textual's pilot against a real `loggbokd --demo`.

Each test opens the app on the daemon's socket and works the screens as a
user would; a second client (as a script would) checks what the daemon did.
"""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from textual.widgets import DataTable, Input, OptionList, SelectionList, Static

from loggbok.protocol import methods
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from loggbok.tui.app import build_app
from loggbok.tui.dialogs.contact_picker import ContactPicker
from loggbok.tui.dialogs.prompt import TextPrompt
from loggbok.tui.screens.contacts import ContactsScreen
from loggbok.tui.screens.message import MessageScreen
from loggbok.tui.screens.timeline import TimelineScreen
from loggbok.tui.screens.unlogged import UnloggedScreen
from loggbok.tui.screens.unreachable import UnreachableScreen
from loggbok.tui.screens.why import WhyScreen

from .conftest import DemoDaemon, screen_of, until, until_async
from .helpers import TRACKING, contact_by_email, contact_with_timeline, reply_to, unlogged_fixable

SIZE = (160, 48)


async def open_timeline(app_screen: ContactsScreen, pilot: object, email: str) -> None:
    """Filter the contact list down to `email` and press Enter on it."""
    from textual.pilot import Pilot

    assert isinstance(pilot, Pilot)
    await until(lambda: app_screen.contacts)
    await pilot.press("f")
    app_screen.query_one("#contacts-filter", Input).value = email
    await until(lambda: len(app_screen.contacts) == 1 and email in app_screen.contacts[0].emails)
    await pilot.press("enter")  # leaves the filter for the table
    assert app_screen.query_one(DataTable).has_focus
    await pilot.press("enter")


async def timeline_of(app: object, pilot: object, email: str) -> TimelineScreen:
    """From the Contacts view: open `email`'s timeline and wait for its first page."""
    from textual.app import App

    assert isinstance(app, App)
    contacts = app.screen
    assert isinstance(contacts, ContactsScreen)
    await open_timeline(contacts, pilot, email)
    screen = await screen_of(app, TimelineScreen)
    await until(lambda: screen.timeline.entries)
    return screen


async def test_open_contact_and_see_timeline(
    demo_daemon: DemoDaemon, script_client: Client
) -> None:
    contact, timeline = await contact_with_timeline(script_client)
    app = build_app(demo_daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        contacts = app.screen
        screen = await timeline_of(app, pilot, contact.emails[0])
        shown = screen.timeline.entries
        assert [e.entry_id for e in shown] == [e.entry_id for e in timeline.entries]
        first = str(screen.timeline.get_option_at_index(0).prompt)
        assert timeline.entries[0].subject in first
        assert timeline.entries[0].from_.email in first
        await pilot.press("escape")
        assert app.screen is contacts


async def test_live_entry_from_a_reply_dropped_into_the_maildir(
    demo_daemon: DemoDaemon, script_client: Client
) -> None:
    contact, timeline = await contact_with_timeline(script_client, reasons=TRACKING)
    boxes = await script_client.call(methods.MAILBOXES_LIST)
    box = boxes.mailboxes[0]
    assert box.path is not None
    app = build_app(demo_daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        screen = await timeline_of(app, pilot, contact.emails[0])
        before = len(screen.timeline.entries)
        raw, message_id = reply_to(
            timeline.entries[0],
            contact.emails[0],
            box.address,
            "Yes, Thursday at ten works for us.\n",
        )
        inbox = Path(box.path)
        tmp = inbox / "tmp" / f"{time.time_ns()}.tui-test"
        tmp.write_bytes(raw)
        os.rename(tmp, inbox / "new" / tmp.name)
        await until(lambda: screen.timeline.entries[0].message_id == message_id, seconds=20)
        assert len(screen.timeline.entries) == before + 1
        assert "Thursday at ten" in str(screen.timeline.get_option_at_index(0).prompt)


async def test_live_entry_logged_by_a_second_client(
    demo_daemon: DemoDaemon, script_client: Client
) -> None:
    contact, _ = await contact_with_timeline(script_client)
    unlogged = await script_client.call(
        methods.MESSAGES_LIST, t.MessagesListParams(logged=False, limit=1)
    )
    msg = unlogged.messages[0]
    app = build_app(demo_daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        screen = await timeline_of(app, pilot, contact.emails[0])
        await script_client.call(
            methods.MESSAGES_LOG, t.MessagesLogParams(id=msg.id, contact_ids=[contact.id])
        )
        await until(lambda: any(e.id == msg.id for e in screen.timeline.entries))


async def test_headers_tab_save_and_copy(
    demo_daemon: DemoDaemon, script_client: Client, tmp_path: Path
) -> None:
    contact, timeline = await contact_with_timeline(script_client)
    entry = timeline.entries[0]
    expected = await script_client.call(methods.MESSAGES_HEADERS, t.MessageRefParams(id=entry.id))
    app = build_app(demo_daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await timeline_of(app, pilot, contact.emails[0])
        await pilot.press("h")
        message = await screen_of(app, MessageScreen)
        await until(lambda: message.headers is not None)
        assert message.query_one("#headers-text").text == expected.raw  # type: ignore[attr-defined]
        await pilot.press("y")
        assert app.clipboard == expected.raw
        await pilot.press("t")
        prompt = await screen_of(app, TextPrompt)
        target = tmp_path / "headers.txt"
        prompt.query_one(Input).value = str(target)
        await pilot.press("enter")
        await until(target.exists)
        await until(lambda: target.stat().st_size > 0)
        assert target.read_bytes() == base64.b64decode(expected.raw_base64)


async def test_why_not_logged_then_log_manually(
    demo_daemon: DemoDaemon, script_client: Client
) -> None:
    msg, expl = await unlogged_fixable(script_client)
    sender = await contact_by_email(script_client, msg.from_.email)
    if sender is None:
        created = await script_client.call(
            methods.CONTACTS_CREATE, t.ContactCreateParams(email=msg.from_.email)
        )
        sender = await script_client.call(methods.CONTACTS_GET, t.IdParams(id=created.id))
    app = build_app(demo_daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: isinstance(app.screen, ContactsScreen) and app.screen.contacts)
        await pilot.press("u")
        unlogged = await screen_of(app, UnloggedScreen)
        await until(lambda: f"m{msg.id}" in unlogged.by_option)
        options = unlogged.query_one(OptionList)
        options.highlighted = options.get_option_index(f"m{msg.id}")
        await pilot.press("w")
        why = await screen_of(app, WhyScreen)
        await until(lambda: why.explanation is not None)
        verdict = str(why.query_one("#why-verdict", Static).render())
        assert verdict.startswith("Not logged")
        assert str(why.query_one("#why-summary", Static).render()) == expl.summary
        await pilot.press("l")
        picker = await screen_of(app, ContactPicker)
        choices = picker.query_one(SelectionList)
        await until(
            lambda: any(
                choices.get_option_at_index(i).value == sender.id
                for i in range(choices.option_count)
            )
        )
        choices.focus()
        for i in range(choices.option_count):
            if choices.get_option_at_index(i).value == sender.id:
                choices.highlighted = i
        await pilot.press("space")
        assert sender.id in picker.chosen
        await pilot.press("ctrl+s")
        await until(lambda: app.screen is why)

        async def logged() -> bool:
            now = await script_client.call(methods.MESSAGES_EXPLAIN, t.MessageRefParams(id=msg.id))
            return now.logged and now.reason == "manual"

        await until_async(logged)
        await until(
            lambda: str(why.query_one("#why-verdict", Static).render()).startswith("Logged")
        )
        timeline = await script_client.call(
            methods.TIMELINE_GET, t.TimelineGetParams(contact_id=sender.id, limit=200)
        )
        assert any(e.id == msg.id for e in timeline.entries)


async def test_unreachable_screen_then_reconnects() -> None:
    """No daemon: the unreachable screen shows, and goes when one starts on the socket."""
    root = Path(tempfile.mkdtemp(prefix="lbu-"))
    socket = root / "d.sock"
    app = build_app(socket)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await until(lambda: isinstance(app.screen, UnreachableScreen))
            await pilot.press("m")  # switching views is off while unreachable
            assert isinstance(app.screen, UnreachableScreen)
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "loggbok.daemon.main",
                "--socket",
                str(socket),
                "--data-dir",
                str(root / "data"),
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
            try:
                await until(lambda: isinstance(app.screen, ContactsScreen), seconds=30)
                process.terminate()
                await process.wait()
                await until(lambda: isinstance(app.screen, UnreachableScreen), seconds=10)
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
    finally:
        shutil.rmtree(root, ignore_errors=True)


async def test_timeline_rereads_itself_on_a_bulk_change(
    demo_daemon: DemoDaemon, script_client: Client
) -> None:
    """`timeline.changed` (a bulk sync batch) makes an open timeline read its page again;
    one for other contacts leaves it alone."""
    contact, timeline = await contact_with_timeline(script_client)
    app = build_app(demo_daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        screen = await timeline_of(app, pilot, contact.emails[0])
        screen.timeline.reset()  # as if the shown page had gone stale
        other = t.TimelineChanged(contact_ids=[contact.id + 10_000], entries=3)
        app.timeline_changed.publish(other)
        await pilot.pause(0.5)
        assert screen.timeline.entries == []
        app.timeline_changed.publish(t.TimelineChanged(contact_ids=[contact.id], entries=3))
        shown = await until(lambda: screen.timeline.entries)
        assert [e.entry_id for e in shown] == [e.entry_id for e in timeline.entries]
