"""The line at the bottom of every screen that names a mailbox in trouble.

It shows the app's `MailboxHealth` (disconnected, failing, needs a sign-in,
"retrying in N s") and hides itself while every mailbox works, as aerc's
status line does. It reads the health each second, so the countdown moves.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol, cast

from textual.widgets import Static

from loggbok.tui.data.health import MailboxHealth

TICK_SECONDS = 1.0


class _HasHealth(Protocol):
    health: MailboxHealth


class MailboxStatusLine(Static):
    """One line, hidden while there is nothing to say."""

    def __init__(self) -> None:
        super().__init__("", id="mailbox-status-line", markup=False)
        self.display = False

    def on_mount(self) -> None:
        self.refresh_line()
        self.set_interval(TICK_SECONDS, self.refresh_line)

    def refresh_line(self) -> None:
        health = cast(_HasHealth, self.app).health
        line = health.line(datetime.now(UTC))
        self.display = bool(line)
        self.update(line)
