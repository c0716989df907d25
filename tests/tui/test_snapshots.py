"""SVG snapshots of every screen at 80×24 and 120×36, on the demo daemon.

The demo's clock is pinned (`LOGGBOK_DEMO_NOW`) and dates render in UTC, so
mail dates repeat; the two times the daemon takes from the wall clock (when a
message was decided, when a mailbox last synced) are set to the demo's "now"
on screen before the picture, as is the demo Maildir's temporary path, and
the unreachable screen's spinner is hidden.
Update the pictures only after looking at them:
`pytest tests/tui/test_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Label, LoadingIndicator, OptionList

from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from loggbok.tui.app import build_app
from loggbok.tui.data.errors import unreachable
from loggbok.tui.screens.contacts import ContactsScreen
from loggbok.tui.screens.mailboxes import MailboxesScreen
from loggbok.tui.screens.message import MessageScreen
from loggbok.tui.screens.review import ForwardReviewScreen
from loggbok.tui.screens.search import SearchScreen
from loggbok.tui.screens.settings import SettingsScreen
from loggbok.tui.screens.timeline import TimelineScreen
from loggbok.tui.screens.unlogged import UnloggedScreen
from loggbok.tui.screens.unreachable import UnreachableScreen
from loggbok.tui.screens.why import WhyScreen
from loggbok.tui.widgets.checklist import Checklist
from loggbok.tui.widgets.evidence import EvidenceGrid
from loggbok.tui.widgets.plain import plain_cell
from tests.conftest import DaemonProcess

from .conftest import DemoDaemon, screen_of, until
from .helpers import contact_with_timeline

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 36), id="120x36")]
SnapCompare = Callable[..., bool]
DEMO_NOW_SHOWN = "2025-03-14 12:00"
"""The demo's pinned clock as the TUI shows it (UTC)."""


def _first_contact(demo: DemoDaemon) -> tuple[t.Contact, t.Timeline]:
    async def find() -> tuple[t.Contact, t.Timeline]:
        async with await Client.connect(demo.socket) as client:
            return await contact_with_timeline(client)

    return asyncio.run(find())


async def _settle(pilot: Pilot[Any]) -> None:
    await pilot.pause(0.2)
    await pilot.wait_for_scheduled_animations()
    pilot.app.clear_notifications()
    await pilot.pause()


def _loaded_contacts(pilot: Pilot[Any]) -> Awaitable[object]:
    return until(lambda: isinstance(pilot.app.screen, ContactsScreen) and pilot.app.screen.contacts)


def _pin_cells(table: DataTable[Any], column: int, value: str, rows: list[int]) -> None:
    """Show the demo's "now" where the daemon put the wall clock's."""
    for row in rows:
        table.update_cell_at((row, column), plain_cell(value))


@pytest.mark.parametrize("size", SIZES)
def test_contacts(
    snap_compare: SnapCompare, demo_daemon: DemoDaemon, size: tuple[int, int]
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _loaded_contacts(pilot)
        await _settle(pilot)

    assert snap_compare(build_app(demo_daemon.socket), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_timeline(
    snap_compare: SnapCompare, demo_daemon: DemoDaemon, size: tuple[int, int]
) -> None:
    contact, _ = _first_contact(demo_daemon)

    async def run_before(pilot: Pilot[Any]) -> None:
        await _loaded_contacts(pilot)
        await pilot.app.push_screen(TimelineScreen(contact))
        screen = pilot.app.screen
        assert isinstance(screen, TimelineScreen)
        await until(lambda: screen.timeline.entries)
        await _settle(pilot)

    assert snap_compare(build_app(demo_daemon.socket), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_message(snap_compare: SnapCompare, demo_daemon: DemoDaemon, size: tuple[int, int]) -> None:
    _, timeline = _first_contact(demo_daemon)

    async def run_before(pilot: Pilot[Any]) -> None:
        await _loaded_contacts(pilot)
        await pilot.app.push_screen(MessageScreen(timeline.entries[0].id))
        screen = pilot.app.screen
        assert isinstance(screen, MessageScreen)
        await until(lambda: screen.message is not None)
        await _settle(pilot)

    assert snap_compare(build_app(demo_daemon.socket), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_why(snap_compare: SnapCompare, demo_daemon: DemoDaemon, size: tuple[int, int]) -> None:
    _, timeline = _first_contact(demo_daemon)

    async def run_before(pilot: Pilot[Any]) -> None:
        await _loaded_contacts(pilot)
        await pilot.app.push_screen(WhyScreen(timeline.entries[0].id))
        screen = pilot.app.screen
        assert isinstance(screen, WhyScreen)
        await until(lambda: screen.explanation is not None)
        grid = screen.query_one(EvidenceGrid)
        await until(lambda: grid.rows)
        await grid.show([*grid.rows[:-1], ("Decided", DEMO_NOW_SHOWN)])
        await _settle(pilot)

    assert snap_compare(build_app(demo_daemon.socket), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_unlogged(
    snap_compare: SnapCompare, demo_daemon: DemoDaemon, size: tuple[int, int]
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _loaded_contacts(pilot)
        await pilot.app.switch_mode("unlogged")
        screen = await screen_of(pilot.app, UnloggedScreen)
        await until(lambda: screen.by_option)
        screen.query_one(OptionList).focus()
        await _settle(pilot)

    assert snap_compare(build_app(demo_daemon.socket), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_review(snap_compare: SnapCompare, demo_daemon: DemoDaemon, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _loaded_contacts(pilot)
        await pilot.app.switch_mode("review")
        screen = await screen_of(pilot.app, ForwardReviewScreen)
        await until(lambda: screen.loaded_generation >= 0)
        screen.query_one(OptionList).focus()
        await _settle(pilot)

    assert snap_compare(build_app(demo_daemon.socket), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_mailboxes(
    snap_compare: SnapCompare, demo_daemon: DemoDaemon, size: tuple[int, int]
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _loaded_contacts(pilot)
        await pilot.app.switch_mode("mailboxes")
        screen = await screen_of(pilot.app, MailboxesScreen)
        await until(lambda: screen.mailboxes)
        await _settle(pilot)  # a reload after the pinning would show the wall clock again
        table = screen.query_one(DataTable)
        _pin_cells(table, 2, DEMO_NOW_SHOWN, list(range(table.row_count)))
        for row in range(table.row_count):  # the demo's Maildir is in a temp dir
            shown = str(table.get_cell_at((row, 0))).split("\n")[0]
            table.update_cell_at((row, 0), plain_cell(f"{shown}\n~/demo-mail/Maildir", 2))
        await _settle(pilot)

    assert snap_compare(build_app(demo_daemon.socket), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_search(snap_compare: SnapCompare, demo_daemon: DemoDaemon, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _loaded_contacts(pilot)
        await pilot.app.switch_mode("search")
        screen = await screen_of(pilot.app, SearchScreen)
        screen.query_one(Input).value = "pilot"
        screen.search("pilot")
        await until(lambda: screen.hits)
        await _settle(pilot)

    assert snap_compare(build_app(demo_daemon.socket), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_settings(
    snap_compare: SnapCompare, demo_daemon: DemoDaemon, size: tuple[int, int]
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _loaded_contacts(pilot)
        await pilot.app.switch_mode("settings")
        screen = await screen_of(pilot.app, SettingsScreen)
        await until(lambda: screen.query_one("#bcc-address", Input).value)
        await _settle(pilot)

    assert snap_compare(build_app(demo_daemon.socket), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_first_run(snap_compare: SnapCompare, daemon: DaemonProcess, size: tuple[int, int]) -> None:
    """An empty install: the checklist above an empty contact list."""

    async def run_before(pilot: Pilot[Any]) -> None:
        screen = pilot.app.screen
        assert isinstance(screen, ContactsScreen)
        checklist = screen.query_one(Checklist)
        await until(lambda: checklist.display and checklist.steps)
        status = screen.query_one("#contacts-status", Label)
        await until(lambda: "No contacts yet" in str(status.render()))
        await _settle(pilot)

    assert snap_compare(build_app(daemon.socket), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_unreachable(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    socket = Path(tempfile.mkdtemp(prefix="lbs-")) / "none.sock"

    async def run_before(pilot: Pilot[Any]) -> None:
        screen = await screen_of(pilot.app, UnreachableScreen)
        pilot.app.workers.cancel_group(pilot.app, "connection")
        await pilot.pause()
        screen.socket_path = Path("/run/user/1000/loggbok/daemon.sock")
        screen.query_one("#unreachable-socket").update(f"Socket: {screen.socket_path}")  # type: ignore[attr-defined]
        screen.attempts, screen.error = 3, unreachable(FileNotFoundError())
        screen.query_one(LoadingIndicator).display = False
        await _settle(pilot)

    assert snap_compare(build_app(socket), terminal_size=size, run_before=run_before)
