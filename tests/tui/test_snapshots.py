"""SVG snapshots of the main screens at 80×24 and 160×48, on the demo daemon.

The demo's clock is pinned (`LOGGBOK_DEMO_NOW`) and dates render in UTC, so
the pictures repeat. Update them only after looking at the report:
`pytest tests/tui/test_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Label, OptionList

from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from loggbok.tui.app import build_app
from loggbok.tui.screens.contacts import ContactsScreen
from loggbok.tui.screens.message import MessageScreen
from loggbok.tui.screens.settings import SettingsScreen
from loggbok.tui.screens.timeline import TimelineScreen
from loggbok.tui.screens.unlogged import UnloggedScreen
from loggbok.tui.widgets.checklist import Checklist
from tests.conftest import DaemonProcess

from .conftest import DemoDaemon, until
from .helpers import contact_with_timeline

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 48), id="160x48")]
SnapCompare = Callable[..., bool]


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
def test_unlogged(
    snap_compare: SnapCompare, demo_daemon: DemoDaemon, size: tuple[int, int]
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _loaded_contacts(pilot)
        await pilot.press("u")
        screen = pilot.app.screen
        assert isinstance(screen, UnloggedScreen)
        await until(lambda: screen.by_option)
        screen.query_one(OptionList).focus()
        await _settle(pilot)

    assert snap_compare(build_app(demo_daemon.socket), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_settings(
    snap_compare: SnapCompare, demo_daemon: DemoDaemon, size: tuple[int, int]
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _loaded_contacts(pilot)
        await pilot.press("comma")
        screen = pilot.app.screen
        assert isinstance(screen, SettingsScreen)
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
