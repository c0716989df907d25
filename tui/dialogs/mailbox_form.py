"""`MailboxForm`: connect a mailbox; saving runs `mailboxes.test` first.

The form is built from what the daemon says its providers take
(`mailboxes.providers`): one labelled field per name any provider uses, shown
only while the chosen provider has it, with that provider's title, hint and
default. It offers exactly the providers the daemon lists (one it does not
support yet is not there to choose), opens with the provider focused, and a new
provider clears the last test's result. Port and security follow each other
(993 is TLS, 143 STARTTLS or none) while the port is one of those defaults.
It returns the params for `mailboxes.add` only after a passing connection
test; warnings (say, a provider that does not fit the domain) are shown and
need a second press of Save. Enter moves to the next field and, in the last
one, tests and saves; ctrl+s tests and saves from anywhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

import msgspec
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static

from loggbok.protocol import methods
from loggbok.protocol import types as t
from loggbok.protocol.errors import RpcError
from loggbok.tui.data.errors import plain
from loggbok.tui.data.link import DaemonUnreachable

if TYPE_CHECKING:
    from loggbok.tui.app import LoggbokApp


DEFAULT_PORTS: dict[str, int] = {"tls": 993, "starttls": 143, "none": 143}
"""The IMAP port each `security` implies (the daemon's default when no port is given)."""


def _field_names(providers: list[t.ProviderInfo]) -> list[str]:
    """Every field any provider takes, once, in the order providers declare them."""
    return list(dict.fromkeys(f.name for p in providers for f in p.fields))


class MailboxForm(ModalScreen[t.MailboxAddParams | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Test and save"),
        Binding("ctrl+t", "test", "Test connection"),
    ]

    def __init__(self, providers: list[t.ProviderInfo]) -> None:
        super().__init__()
        self._providers: dict[str, t.ProviderInfo] = {p.name: p for p in providers}
        self._tested: t.MailboxAddParams | None = None

    @property
    def provider(self) -> t.ProviderInfo:
        return self._providers[cast(str, self.query_one("#provider", Select).value)]

    def compose(self) -> ComposeResult:
        providers = list(self._providers.values())
        with VerticalScroll(classes="dialog dialog-tall", can_focus=False):
            yield Label("Add a mailbox", classes="dialog-title")
            yield Label("Provider", classes="field-label")
            yield Select(
                [(p.title, p.name) for p in providers],
                value=providers[0].name,
                allow_blank=False,
                id="provider",
            )
            for name in _field_names(providers):
                yield Label("", id=f"label-{name}", classes="field-label", markup=False)
                same_name = [f for p in providers for f in p.fields if f.name == name]
                kinds = {f.kind for f in same_name}
                if kinds == {"choice"}:
                    choices = dict.fromkeys(c for f in same_name for c in f.choices)
                    yield Select([(c, c) for c in choices], allow_blank=False, id=name)
                else:
                    yield Input(
                        id=name,
                        password="secret" in kinds,
                        type="integer" if kinds == {"integer"} else "text",
                    )
            yield Static("", id="test-result", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Test connection", id="test")
                yield Button("Save", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self._show_fields()
        self.query_one("#provider", Select).focus()

    @on(Select.Changed, "#provider")
    def _provider_changed(self, event: Select.Changed) -> None:
        self._show_fields()
        self._tested = None
        self.query_one("#test-result", Static).update("")

    def _shown(self, name: str) -> Widget | None:
        found = self.query(f"#{name}")
        return found.first() if found and found.first().display else None

    @on(Select.Changed, "#security")
    def _security_changed(self, event: Select.Changed) -> None:
        """The port follows the security while it is empty or one of the defaults."""
        port = self._shown("port")
        implied = DEFAULT_PORTS.get(str(event.value))
        if not isinstance(port, Input) or implied is None:
            return
        port.placeholder = f"default: {implied}"
        if port.value.strip() in {str(p) for p in DEFAULT_PORTS.values()}:
            port.value = str(implied)

    @on(Input.Changed, "#port")
    def _port_changed(self, event: Input.Changed) -> None:
        """A default port sets the security it implies (143 keeps STARTTLS or none)."""
        security = self._shown("security")
        if not isinstance(security, Select) or not event.value.strip().isdigit():
            return
        port = int(event.value)
        if port == DEFAULT_PORTS["tls"]:
            security.value = "tls"
        elif port == DEFAULT_PORTS["starttls"] and security.value == "tls":
            security.value = "starttls"

    def _show_fields(self) -> None:
        chosen = {f.name: f for f in self.provider.fields}
        for name in _field_names(list(self._providers.values())):
            field = chosen.get(name)
            label = self.query_one(f"#label-{name}", Label)
            widget = self.query_one(f"#{name}")
            label.display = widget.display = field is not None
            if field is None:
                continue
            label.update(field.title + ("" if field.required else " (optional)"))
            if isinstance(widget, Select):
                if field.hint:  # a choice has no placeholder: say what it means
                    label.update(f"{field.title}: {field.hint}")
                widget.set_options([(c, c) for c in field.choices])
                if field.default is not None:
                    widget.value = str(field.default)
            elif isinstance(widget, Input):
                widget.placeholder = field.hint or (
                    f"default: {field.default}" if field.default not in (None, "") else ""
                )
        security = chosen.get("security")
        if "port" in chosen and security is not None:
            implied = DEFAULT_PORTS.get(str(security.default))
            port = self.query_one("#port", Input)
            port.placeholder = f"default: {implied}" if implied else port.placeholder

    def _shown_fields(self) -> list[tuple[t.FieldInfo, Widget]]:
        return [(f, self.query_one(f"#{f.name}")) for f in self.provider.fields]

    def params(self) -> t.MailboxAddParams:
        """The params the form shows; `ValueError` names a field that is not valid."""
        values: dict[str, Any] = {"provider": self.provider.name}
        for field, widget in self._shown_fields():
            if isinstance(widget, Select):
                values[field.name] = widget.value
                continue
            text = cast(Input, widget).value.strip()
            if not text:
                continue
            if field.kind == "integer":
                if not text.isdigit():
                    raise ValueError(f"{field.title} must be a whole number")
                values[field.name] = int(text)
            else:
                values[field.name] = text
        try:
            return msgspec.convert(values, cast("type[t.MailboxAddParams]", t.MailboxAddParams))
        except msgspec.ValidationError as exc:
            raise ValueError(self._explain(exc)) from None

    def _explain(self, error: msgspec.ValidationError) -> str:
        message = str(error)
        for field in self.provider.fields:
            if f"`{field.name}`" in message or f"$.{field.name}`" in message:
                return f"{field.title}: {message.split(' - at ')[0].lower()}"
        return message

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
        result_view = self.query_one("#test-result", Static)
        address = self.query_one("#address", Input).value.strip()
        if not address:
            result_view.update("Give the mailbox's address.")
            return
        try:
            params = self.params()
        except ValueError as exc:
            result_view.update(str(exc))
            return
        result_view.update("Testing the connection…")
        app = cast("LoggbokApp", self.app)
        try:
            result = await app.link.call(methods.MAILBOXES_TEST, params)
        except RpcError as exc:
            result_view.update(f"Test failed: {plain(exc)}")
            return
        except DaemonUnreachable:
            result_view.update("Test failed: the daemon is unreachable")
            return
        if not result.ok:
            result_view.update(f"Connection failed: {result.error or 'no detail'}")
            return
        lines = ["Connection works."]
        if result.capabilities:
            lines.append("Capabilities: " + ", ".join(result.capabilities))
        if result.next_step:
            lines.append(f"Next: {result.next_step}")
        lines += [f"Warning: {w}" for w in result.warnings]
        result_view.update("\n".join(lines))
        if save and (not result.warnings or self._tested == params):
            self.dismiss(params)
        elif save:
            self._tested = params
            self.notify("Read the warnings; press Save again to connect anyway.", markup=False)

    def action_cancel(self) -> None:
        self.dismiss(None)
