"""The Textual app: modes for the main views, the daemon link, reconnecting, signals.

`build_app(socket_path)` is the factory the CLI and the tests use. The footer
shows the current screen's keys; the view keys (c u v m / ,) are hidden there to
fit 80 columns, and are listed first by `?` (the keys panel) and in the palette.
A view key always opens that view's top screen (not the deepest screen opened
from it); Esc goes back: out of a text field first (`tui/focus.py`), then to
the screen below, then to the view shown before. The app
owns one `DaemonLink`; a worker keeps it connected and shows the
"daemon unreachable" screen while it is not. Daemon notifications are
re-published as Textual signals that screens subscribe to.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.signal import Signal

from loggbok.protocol import methods
from loggbok.protocol import types as t
from loggbok.protocol.errors import RpcError
from loggbok.tui.commands import ActionsProvider
from loggbok.tui.data.errors import unreachable
from loggbok.tui.data.health import MailboxHealth
from loggbok.tui.data.link import DaemonLink, DaemonUnreachable
from loggbok.tui.dialogs.prompt import TextPrompt
from loggbok.tui.focus import TEXT_FIELDS, hidden_while_typing, typing
from loggbok.tui.screens.base import DaemonScreen
from loggbok.tui.screens.contacts import ContactsScreen
from loggbok.tui.screens.mailboxes import MailboxesScreen
from loggbok.tui.screens.review import ForwardReviewScreen
from loggbok.tui.screens.search import SearchScreen
from loggbok.tui.screens.settings import SettingsScreen
from loggbok.tui.screens.unlogged import UnloggedScreen
from loggbok.tui.screens.unreachable import UnreachableScreen
from loggbok.tui.screens.why import WhyScreen
from loggbok.tui.widgets.keys_panel import KeysPanel

RETRY_MAX_SECONDS = 2.0
HISTORY = 20


class LoggbokApp(App[None]):
    """loggbok's terminal UI."""

    CSS_PATH = "loggbok.tcss"
    TITLE = "loggbok"
    COMMANDS = App.COMMANDS | {ActionsProvider}
    MODES: ClassVar[dict[str, Any]] = {
        "contacts": ContactsScreen,
        "unlogged": UnloggedScreen,
        "review": ForwardReviewScreen,
        "mailboxes": MailboxesScreen,
        "search": SearchScreen,
        "settings": SettingsScreen,
    }
    DEFAULT_MODE = "contacts"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "open_view('contacts')", "Contacts", show=False),
        Binding("u", "open_view('unlogged')", "Unlogged mail", show=False),
        Binding("v", "open_view('review')", "Forwards to review", show=False),
        Binding("m", "open_view('mailboxes')", "Mailboxes", show=False),
        Binding("slash", "open_view('search')", "Search", key_display="/", show=False),
        Binding("comma", "open_view('settings')", "Settings", key_display=",", show=False),
        Binding("escape", "leave_field", "Leave field", key_display="esc"),
        Binding("escape", "back", "Back", key_display="esc"),
        Binding("question_mark", "toggle_keys", "Keys", key_display="?"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, socket_path: Path, data_dir: Path | None = None, demo: bool = False) -> None:
        super().__init__()
        self.socket_path = socket_path
        self.data_dir = data_dir
        """Where a daemon started from the unreachable screen keeps its data (None: its default)."""
        self.demo = demo
        self.link = DaemonLink(socket_path, self._on_notification)
        self.timeline_appended: Signal[t.TimelineAppended] = Signal(self, "timeline-appended")
        self.timeline_changed: Signal[t.TimelineChanged] = Signal(self, "timeline-changed")
        self.message_changed: Signal[t.MessageChanged] = Signal(self, "message-changed")
        self.mailbox_changed: Signal[t.MailboxStatusChanged] = Signal(self, "mailbox-changed")
        self.sync_progress: Signal[t.SyncProgress] = Signal(self, "sync-progress")
        self.import_progress: Signal[t.ContactsImportProgress] = Signal(self, "import-progress")
        self.config_changed: Signal[t.ConfigStatus] = Signal(self, "config-changed")
        self._unreachable: UnreachableScreen | None = None
        self.view_history: list[str] = []
        """The views shown before the current one (Esc on a view's top screen goes back)."""
        self.health = MailboxHealth()
        """Each mailbox's status, for the status line on every screen."""

    def on_mount(self) -> None:
        self.maintain_connection()

    async def on_unmount(self) -> None:
        await self.link.close()

    def _on_notification(self, name: str, params: Any) -> None:
        if isinstance(params, t.TimelineAppended):
            self.timeline_appended.publish(params)
        elif isinstance(params, t.TimelineChanged):
            self.timeline_changed.publish(params)
        elif isinstance(params, t.MessageChanged):
            self.message_changed.publish(params)
        elif isinstance(params, t.MailboxStatusChanged):
            if not self.health.changed(params):
                self.read_health()
            self.mailbox_changed.publish(params)
            if params.status == "auth_failed":
                self.notify(
                    f"{self.health.address(params.id)} needs a new password or sign-in: "
                    f"{params.detail}",
                    severity="warning",
                    timeout=10,
                    markup=False,
                )
        elif isinstance(params, t.SyncProgress):
            self.sync_progress.publish(params)
        elif isinstance(params, t.ContactsImportProgress):
            self.import_progress.publish(params)
        elif isinstance(params, t.ConfigStatus):
            self.config_changed.publish(params)
            if params.error is not None:
                line = f" line {params.error.line}" if params.error.line else ""
                self.notify(
                    f"Config file not applied ({params.path}{line}): {params.error.message}",
                    severity="error",
                    timeout=10,
                    markup=False,
                )

    @work(exclusive=True, group="connection")
    async def maintain_connection(self) -> None:
        """Connect, wait for the connection to drop, show the unreachable screen, retry."""
        delay = 0.1
        while True:
            try:
                await self.link.connect()
            except (OSError, ConnectionError, TimeoutError, RpcError) as exc:
                self._show_unreachable(unreachable(exc))
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_SECONDS)
                continue
            delay = 0.1
            self._hide_unreachable()
            self.read_health()
            for screen in self.screen_stack:
                if isinstance(screen, DaemonScreen):
                    screen.reload_if_stale()
            await self.link.wait_closed()
            self._show_unreachable("the connection closed")

    @work(exclusive=True, group="health")
    async def read_health(self) -> None:
        """Every mailbox's status afresh, for the status line."""
        try:
            found = await self.link.call(methods.MAILBOXES_LIST)
        except (RpcError, DaemonUnreachable):
            return
        self.health.reset(found.mailboxes)

    def _show_unreachable(self, error: str) -> None:
        if self._unreachable is None:
            self._unreachable = UnreachableScreen(self.socket_path, self.data_dir, self.demo)
            self.push_screen(self._unreachable)
        self._unreachable.attempts += 1
        self._unreachable.error = error

    def _hide_unreachable(self) -> None:
        screen, self._unreachable = self._unreachable, None
        if screen is not None and screen.is_attached:
            screen.dismiss()

    def action_why_message_id(self) -> None:
        """Ask for a Message-ID and explain that message, logged or not."""
        self.push_screen(
            TextPrompt("Why? for the message with Message-ID", placeholder="<abc@mail.example>"),
            self._why_for,
        )

    def _why_for(self, header_id: str | None) -> None:
        if header_id and header_id.strip().strip("<>"):
            self.push_screen(WhyScreen.for_header(header_id))

    def action_toggle_keys(self) -> None:
        """Show or hide the panel of every key: the app's first, then the screen's."""
        panels = self.screen.query(KeysPanel)
        if panels:
            panels.remove()
        else:
            self.screen.mount(KeysPanel())

    async def action_open_view(self, mode: str) -> None:
        """Show `mode`'s top screen, remembering the view it leaves for Esc."""
        if mode != self.current_mode:
            self.view_history = [*self.view_history, self.current_mode][-HISTORY:]
        await self.show_view(mode)

    async def show_view(self, mode: str) -> None:
        await self.switch_mode(mode)
        while len(self.screen_stack) > 1:
            await self.pop_screen()

    async def action_back(self) -> None:
        """Back to the screen below, or on a view's top screen to the view before."""
        if len(self.screen_stack) > 1:
            await self.pop_screen()
        elif self.view_history:
            *self.view_history, previous = self.view_history
            await self.show_view(previous)

    def action_leave_field(self) -> None:
        """Move focus out of the text field to the screen's first other widget."""
        screen = self.screen
        for widget in screen.focus_chain:
            if not isinstance(widget, TEXT_FIELDS):
                screen.set_focus(widget)
                return
        screen.set_focus(None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self._unreachable is not None and action in ("open_view", "switch_mode", "back"):
            return False
        if action == "leave_field":
            return typing(self)
        if action == "back":
            return not typing(self) and (len(self.screen_stack) > 1 or bool(self.view_history))
        return not hidden_while_typing(self, action)


def build_app(socket_path: Path, data_dir: Path | None = None, demo: bool = False) -> LoggbokApp:
    """The app talking to the daemon on `socket_path` (one it starts: `data_dir`, `demo`)."""
    return LoggbokApp(socket_path, data_dir, demo)
