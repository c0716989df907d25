"""The "daemon unreachable — reconnecting…" screen, shown while there is no daemon."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Center, Vertical
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Label, LoadingIndicator, Static


class UnreachableScreen(Screen[None]):
    """Covers the app while the daemon does not answer; the app dismisses it on reconnect."""

    attempts: reactive[int] = reactive(0)
    error: reactive[str] = reactive("")

    def __init__(self, socket_path: Path) -> None:
        super().__init__()
        self.socket_path = socket_path

    def compose(self) -> ComposeResult:
        with Center(), Vertical(id="unreachable"):
            yield Label("Daemon unreachable — reconnecting…", id="unreachable-title", markup=False)
            yield LoadingIndicator()
            yield Static(f"Socket: {self.socket_path}", id="unreachable-socket", markup=False)
            yield Static("", id="unreachable-detail", markup=False)
            yield Static(
                "loggbok keeps trying by itself. Start the daemon with `loggbokd`, "
                "or run `loggbok` which starts it in the background.",
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
