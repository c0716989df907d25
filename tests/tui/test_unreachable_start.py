"""The "daemon unreachable" screen starts a daemon with a key (`s`), and the app
connects to it (a real `loggbokd`, stopped again by `loggbok stop`'s code)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from loggbok.tui import launcher
from loggbok.tui.app import build_app
from loggbok.tui.screens.contacts import ContactsScreen
from loggbok.tui.screens.unreachable import UnreachableScreen

from .conftest import screen_of, until


async def test_s_starts_the_daemon() -> None:
    root = Path(tempfile.mkdtemp(prefix="lbu-"))
    socket = root / "d.sock"
    app = build_app(socket, data_dir=root / "data")
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            unreachable = await screen_of(app, UnreachableScreen)
            await pilot.press("s")
            await until(lambda: unreachable.started, 120)  # a hang guard: as other daemon starts
            await screen_of(app, ContactsScreen, 30)
    finally:
        assert await launcher.stop_daemon(socket) is not None
        shutil.rmtree(root, ignore_errors=True)
