"""`MailboxForm`: connect a mailbox; saving runs `mailboxes.test` first.

The form returns the params for `mailboxes.add` only after a passing
connection test; warnings (say, a provider that does not fit the domain) are
shown and need a second press of Save. Enter moves to the next field and, in
the last one, tests and saves; ctrl+s tests and saves from anywhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from loggbok.protocol import methods
from loggbok.protocol import types as t
from loggbok.protocol.errors import RpcError
from loggbok.tui.data.link import DaemonUnreachable

if TYPE_CHECKING:
    from loggbok.tui.app import LoggbokApp

PROVIDERS: list[tuple[str, t.Provider]] = [
    ("Maildir (mbsync, offlineimap)", "maildir"),
    ("IMAP", "imap"),
    ("Gmail", "gmail"),
    ("Microsoft 365 (Graph)", "graph"),
    ("Exchange (EWS)", "ews"),
]
SECURITY: list[tuple[str, t.Security]] = [
    ("TLS", "tls"),
    ("STARTTLS", "starttls"),
    ("none", "none"),
]


class MailboxForm(ModalScreen[t.MailboxAddParams | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Test and save"),
        Binding("ctrl+t", "test", "Test connection"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._tested: t.MailboxAddParams | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog dialog-tall"):
            yield Label("Add a mailbox", classes="dialog-title")
            yield Select(PROVIDERS, value="maildir", allow_blank=False, id="provider")
            yield Input(placeholder="address: you@example.com", id="address")
            yield Input(placeholder="Maildir path: ~/Mail/work", id="path")
            yield Input(placeholder="IMAP host", id="host", classes="remote")
            yield Input(placeholder="port (993)", id="port", type="integer", classes="remote")
            yield Select(SECURITY, value="tls", allow_blank=False, id="security", classes="remote")
            yield Input(
                placeholder="username (default: the address)", id="username", classes="remote"
            )
            yield Input(placeholder="password", password=True, id="password", classes="remote")
            yield Static("", id="test-result", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Test connection", id="test")
                yield Button("Save", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self._show_fields("maildir")

    @on(Select.Changed, "#provider")
    def _provider_changed(self, event: Select.Changed) -> None:
        self._show_fields(str(event.value))

    def _show_fields(self, provider: str) -> None:
        self.query_one("#path").display = provider == "maildir"
        for widget in self.query(".remote"):
            widget.display = provider != "maildir"

    def params(self) -> t.MailboxAddParams:
        def text(widget_id: str) -> str | None:
            return self.query_one(f"#{widget_id}", Input).value.strip() or None

        port = text("port")
        provider = cast(t.Provider, self.query_one("#provider", Select).value)
        return t.MailboxAddParams(
            provider=provider,
            address=text("address") or "",
            path=text("path") if provider == "maildir" else None,
            host=text("host") if provider != "maildir" else None,
            port=int(port) if port and provider != "maildir" else None,
            security=cast(t.Security, self.query_one("#security", Select).value),
            username=text("username") if provider != "maildir" else None,
            password=text("password") if provider != "maildir" else None,
        )

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        shown = [i for i in self.query(Input) if i.display]
        if shown and event.input is shown[-1]:
            self.run_test(save=True)
        else:
            self.focus_next(Input)

    def action_save(self) -> None:
        self.run_test(save=True)

    def action_test(self) -> None:
        self.run_test(save=False)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "cancel":
            self.dismiss(None)
        else:
            self.run_test(save=event.button.id == "save")

    @work(exclusive=True, group="mailbox-test")
    async def run_test(self, save: bool) -> None:
        params = self.params()
        result_view = self.query_one("#test-result", Static)
        if not params.address:
            result_view.update("Give the mailbox's address.")
            return
        result_view.update("Testing the connection…")
        app = cast("LoggbokApp", self.app)
        try:
            result = await app.link.call(methods.MAILBOXES_TEST, params)
        except (RpcError, DaemonUnreachable) as exc:
            result_view.update(f"Test failed: {exc}")
            return
        if not result.ok:
            kind = f" ({result.error_kind})" if result.error_kind else ""
            result_view.update(f"Connection failed{kind}: {result.error or 'no detail'}")
            return
        lines = ["Connection works."]
        if result.capabilities:
            lines.append("Capabilities: " + ", ".join(result.capabilities))
        lines += [f"Warning: {w}" for w in result.warnings]
        result_view.update("\n".join(lines))
        if save and (not result.warnings or self._tested == params):
            self.dismiss(params)
        elif save:
            self._tested = params
            self.notify("Read the warnings; press Save again to connect anyway.", markup=False)

    def action_cancel(self) -> None:
        self.dismiss(None)
