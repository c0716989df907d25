"""Settings: logging mode, BCC and forwarding addresses, never-log list, folders not
synced, attachment cap.

The daemon validates: when it refuses a change, its reason shows under the
form (and the form keeps what the user typed) until the next save. A saved
change to what the rules read (mode, addresses, never-log list) offers to
re-check past mail (`PastMailScreen`); Ctrl+R offers it any time.
"""

from __future__ import annotations

from typing import ClassVar, cast

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Footer, Header, Input, Label, RadioButton, RadioSet

from loggbok.protocol import methods
from loggbok.protocol import types as t
from loggbok.protocol.errors import RpcError
from loggbok.tui.data.link import DaemonUnreachable
from loggbok.tui.screens.base import problem
from loggbok.tui.screens.past_mail import PastMailScreen

MB = 1024 * 1024


def parse_list(value: str) -> list[str]:
    return [part.strip() for part in value.replace("\n", ",").split(",") if part.strip()]


RULE_SETTINGS = ("logging_mode", "bcc_address", "forwarding_address", "never_log", "own_addresses")
"""What the rules read: changing one may change past decisions."""


def rules_changed(before: t.Settings | None, after: t.Settings) -> bool:
    return before is not None and any(
        getattr(before, name) != getattr(after, name) for name in RULE_SETTINGS
    )


class SettingsScreen(PastMailScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save"),
        Binding("r", "reload", "Revert"),
        Binding("ctrl+r", "recheck_past_mail", "Re-check past mail"),
    ]

    saved: t.Settings | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="settings-form"):
            yield Label("Logging mode", classes="field-label")
            with RadioSet(id="logging-mode"):
                yield RadioButton("Replies only: log replies in tracked threads", id="replies_only")
                yield RadioButton(
                    "All with contacts: every email exchanged with contacts", id="all_with_contacts"
                )
            yield Label("BCC logging address", classes="field-label")
            yield Input(id="bcc-address", placeholder="log-123@loggbok.example")
            yield Label("Forwarding address", classes="field-label")
            yield Input(id="forwarding-address", placeholder="forward-123@loggbok.example")
            yield Label(
                "Never log (addresses and @domains, comma-separated)", classes="field-label"
            )
            yield Input(id="never-log", placeholder="ceo@example.com, @lawfirm.example")
            yield Label(
                "Folders not synced besides Junk, Trash and Drafts (comma-separated, * wildcards)",
                classes="field-label",
            )
            yield Input(id="excluded-folders", placeholder="Newsletters, Lists/*")
            yield Label(
                "Attachment cap (MB): larger attachments are recorded, not stored",
                classes="field-label",
            )
            yield Input(id="attachment-cap", type="number")
            yield Label("", id="settings-error", classes="error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save", variant="primary", id="save")
                yield Button("Revert", id="revert")
                yield Button("Re-check past mail", id="recheck")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Settings"
        self.show_error("")

    def load(self) -> None:
        self.fetch()

    def action_reload(self) -> None:
        self.load()

    @work(exclusive=True, group="settings")
    async def fetch(self) -> None:
        try:
            settings = await self.link.call(methods.SETTINGS_GET)
        except (RpcError, DaemonUnreachable) as exc:
            self.report(exc, "Loading settings")
            return
        self.mark_loaded()
        self.show_error("")
        self.saved = settings
        self.show(settings)

    def show(self, settings: t.Settings) -> None:
        self.query_one(f"#{settings.logging_mode}", RadioButton).value = True
        self.query_one("#bcc-address", Input).value = settings.bcc_address or ""
        self.query_one("#forwarding-address", Input).value = settings.forwarding_address or ""
        self.query_one("#never-log", Input).value = ", ".join(settings.never_log)
        self.query_one("#excluded-folders", Input).value = ", ".join(settings.excluded_folders)
        cap = settings.attachment_limit_bytes / MB
        self.query_one("#attachment-cap", Input).value = f"{cap:g}"

    def params(self) -> t.SettingsSetParams:
        pressed = self.query_one(RadioSet).pressed_button
        mode = cast(t.LoggingMode, pressed.id if pressed and pressed.id else "replies_only")
        cap = float(self.query_one("#attachment-cap", Input).value or "50")
        return t.SettingsSetParams(
            logging_mode=mode,
            bcc_address=self.query_one("#bcc-address", Input).value.strip() or None,
            forwarding_address=self.query_one("#forwarding-address", Input).value.strip() or None,
            never_log=parse_list(self.query_one("#never-log", Input).value),
            excluded_folders=parse_list(self.query_one("#excluded-folders", Input).value),
            attachment_limit_bytes=int(cap * MB),
        )

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        elif event.button.id == "revert":
            self.load()
        elif event.button.id == "recheck":
            self.action_recheck_past_mail()

    def show_error(self, problem: str) -> None:
        label = self.query_one("#settings-error", Label)
        label.update(f"Not saved: {problem}" if problem else "")
        label.display = bool(problem)

    def action_save(self) -> None:
        try:
            params = self.params()
        except ValueError:
            self.show_error("the attachment cap must be a number of MB")
            return
        self.save(params)

    @work(exclusive=True, group="settings-save")
    async def save(self, params: t.SettingsSetParams) -> None:
        try:
            settings = await self.link.call(methods.SETTINGS_SET, params)
        except RpcError as exc:
            self.show_error(problem(exc))
            return
        except DaemonUnreachable as exc:
            self.report(exc, "Saving settings")
            return
        self.show_error("")
        before, self.saved = self.saved, settings
        self.show(settings)
        self.notify("Settings saved.", markup=False)
        if rules_changed(before, settings):
            self.recheck_past_mail(quiet=True)
