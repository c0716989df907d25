"""The "daemon unreachable — reconnecting…" screen, shown while there is no daemon.

The app keeps trying by itself; `s` starts a daemon in the background (as
`loggbok` does at start), and the app connects once it answers.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Vertical
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Label, LoadingIndicator, Static

from loggbok.tui import launcher, paths


class UnreachableScreen(Screen[None]):
    """Covers the app while the daemon does not answer; the app dismisses it on reconnect."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("s", "start_daemon", "Start the daemon")]

    attempts: reactive[int] = reactive(0)
    error: reactive[str] = reactive("")

    def __init__(self, socket_path: Path, data_dir: Path | None = None, demo: bool = False) -> None:
        super().__init__()
        self.socket_path = socket_path
        self.data_dir = data_dir
        self.demo = demo
        self.started = False

    def compose(self) -> ComposeResult:
        with Center(), Vertical(id="unreachable"):
            yield Label("Daemon unreachable — reconnecting…", id="unreachable-title", markup=False)
            yield LoadingIndicator()
            yield Static(f"Socket: {self.socket_path}", id="unreachable-socket", markup=False)
            yield Static("", id="unreachable-detail", markup=False)
            yield Static(
                "loggbok keeps trying by itself. Press s to start the daemon here (it runs"
                " in the background), or run `loggbokd` in another terminal.",
                id="unreachable-hint",
                markup=False,
            )
        yield Footer()

    def _update_detail(self) -> None:
        # A reconnect attempt can report before the screen's widgets are composed
        # (it is mounted, its children not yet): then on_mount shows it.
        for detail in self.query("#unreachable-detail").results(Static):
            detail.update(f"Attempt {self.attempts}: {self.error}")

    def watch_attempts(self) -> None:
        self._update_detail()

    def watch_error(self) -> None:
        self._update_detail()

    def on_mount(self) -> None:
        self._update_detail()

    @work(exclusive=True, group="start-daemon")
    async def action_start_daemon(self) -> None:
        data_dir = self.data_dir or (paths.demo_data_dir() if self.demo else paths.data_dir())
        hint = self.query_one("#unreachable-hint", Static)
        hint.update(f"Starting loggbokd (its log: {data_dir / launcher.LOG_NAME})…")
        try:
            await launcher.ensure_daemon(self.socket_path, data_dir, demo=self.demo)
        except launcher.DaemonStartError as exc:
            hint.update(f"The daemon did not start: {exc}")
            return
        self.started = True
        hint.update("The daemon answers; connecting…")
