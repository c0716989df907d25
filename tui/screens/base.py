"""`DaemonScreen`: a screen whose content comes from the daemon and reloads when stale.

A screen loads in `load()` (run it from a worker). It records the link's
`generation` when it loads; when the screen becomes current again after a
reconnect, or the app reconnects while it shows, it loads again.

Every such screen shows the mailbox status line (`widgets/status_line.py`)
above its footer.

Screens whose data changes under them (a message logged, a sync finished) call
`schedule_reload()`: it reloads at most once per `RELOAD_SECONDS`; a screen
that is not shown only becomes stale, and reloads when it shows again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer

from loggbok.protocol.errors import RpcError
from loggbok.tui.data.errors import plain
from loggbok.tui.data.link import DaemonLink, DaemonUnreachable
from loggbok.tui.focus import hidden_while_typing
from loggbok.tui.widgets.status_line import MailboxStatusLine

if TYPE_CHECKING:
    from loggbok.tui.app import LoggbokApp

RELOAD_SECONDS = 1.0


def problem(exc: RpcError) -> str:
    """The daemon's reason in the user's words (`data/errors.py`): no code, no repr."""
    return plain(exc)


class DaemonScreen(Screen[None]):
    """Base of every screen that shows the daemon's data."""

    loaded_generation = -1
    _reload_timer: Timer | None = None

    @property
    def loggbok(self) -> LoggbokApp:
        return cast("LoggbokApp", self.app)

    @property
    def link(self) -> DaemonLink:
        return self.loggbok.link

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide keys that a focused text field takes as text (`tui/focus.py`)."""
        return not hidden_while_typing(self, action)

    def load(self) -> None:
        """Start loading this screen's data (subclasses start a worker)."""

    def mark_loaded(self) -> None:
        self.loaded_generation = self.link.generation

    def reload_if_stale(self) -> None:
        if self.loaded_generation != self.link.generation:
            self.load()

    def on_screen_resume(self) -> None:
        self.reload_if_stale()

    def on_mount(self) -> None:
        """Every screen gets the mailbox status line, above its footer."""
        footers = self.query(Footer)
        line = MailboxStatusLine()
        if footers:
            self.mount(line, before=footers.first())
        else:
            self.mount(line)

    def schedule_reload(self) -> None:
        """Reload soon (debounced); when not shown, reload on the next resume instead."""
        if not self.is_current:
            self.loaded_generation = -1
            return
        if self._reload_timer is None:
            self._reload_timer = self.set_timer(RELOAD_SECONDS, self._scheduled_reload)

    def _scheduled_reload(self) -> None:
        self._reload_timer = None
        if self.is_current:
            self.load()
        else:
            self.loaded_generation = -1

    def report(self, exc: Exception, doing: str) -> None:
        """Tell the user a call failed, in one line."""
        if isinstance(exc, DaemonUnreachable):
            self.notify(f"{doing}: the daemon is unreachable", severity="warning", markup=False)
        elif isinstance(exc, RpcError):
            self.notify(f"{doing}: {problem(exc)}", severity="error", markup=False)
        else:
            self.notify(f"{doing}: {exc}", severity="error", markup=False)
