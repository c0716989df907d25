"""Settings: logging mode, BCC and forwarding addresses, own addresses, never-log
lists (the user's own, and the team's for everyone: `team_settings.get/set`,
editable by admins only, greyed out for others), folders not synced,
default visibility, attachment and body caps; above them, who the daemon serves
(`users.me`): address, seat, team, admin, and when the seat cannot log (R12).

The daemon validates: when it refuses a change, its reason shows under the
form (and the form keeps what the user typed) until the next save. A saved
change to what the rules read (mode, addresses, never-log list) offers to
re-check past mail (`PastMailScreen`); Ctrl+R offers it any time. A change to
the never-log lists alone is previewed before it is saved: a dry run with the
lists as typed (`messages.redecide` `never_log` / `team_never_log`) shows what
would be unlogged, and Apply saves the lists and re-decides past mail; Cancel
saves nothing. Keys the
config file sets are marked "set by config.toml" (a change here lasts until the
file is read again), and a config file the daemon refused shows its error and
line (`config.status`, `config.changed`).
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
from loggbok.tui.dialogs.past_mail import PastMailPreview
from loggbok.tui.screens.base import problem
from loggbok.tui.screens.past_mail import PastMailScreen

MB = 1024 * 1024
VISIBILITIES: tuple[t.Visibility, ...] = ("everyone", "team", "owner")
LABELS: dict[str, str] = {
    "logging_mode": "Logging mode",
    "bcc_address": "BCC logging address",
    "forwarding_address": "Forwarding address",
    "own_addresses": "Your own addresses (comma-separated): mail among them is not logged",
    "never_log": "Never log: your own list (addresses and @domains, comma-separated)",
    "team_never_log": "Never log for everyone: the team's list (admins edit it)",
    "excluded_folders": "Folders not synced besides Junk, Trash and Drafts (comma-separated,"
    " * wildcards)",
    "default_visibility": "Who sees what is logged from now on",
    "attachment_limit_bytes": "Attachment cap (MB): larger attachments are recorded, not stored",
    "body_limit_bytes": "Body cap (MB): longer bodies are cut",
}
"""Each setting's label; its widget's id is the key with dashes."""
MANAGED = "  · set by config.toml"


def config_text(status: t.ConfigStatus | None) -> str:
    """One line about the config file: its error, or what it manages; "" when neither."""
    if status is None:
        return ""
    if status.error is not None:
        line = f" line {status.error.line}" if status.error.line else ""
        return f"{status.path}{line}: {status.error.message} (not applied; nothing changed)"
    if status.settings:
        return (
            f"{status.path} sets {', '.join(status.settings)}: a change here lasts until"
            " the file is read again"
        )
    return ""


SEATS: dict[str, str] = {
    "core": "Core",
    "sales": "Sales",
    "service": "Service",
    "view_only": "View-only",
}


def member_text(user: t.User | None) -> str:
    """One line about the member the daemon serves; "" when the daemon does not say."""
    if user is None:
        return ""
    parts = [f"You: {user.email or user.name}", f"seat {SEATS.get(user.seat, user.seat)}"]
    if user.team:
        parts.append(f"team {user.team}")
    if user.admin:
        parts.append("admin")
    if not user.active:
        parts.append("deactivated: nothing of yours is logged")
    elif not user.can_log:
        parts.append("view-only: you connect no mailbox and nothing of yours is logged")
    return " · ".join(parts)


def parse_list(value: str) -> list[str]:
    return [part.strip() for part in value.replace("\n", ",").split(",") if part.strip()]


LISTS_PREVIEW_TITLE = "Before saving the never-log lists: what they would do to past mail"

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
    team: t.TeamSettings | None = None

    def __init__(self) -> None:
        super().__init__()
        self.config: t.ConfigStatus | None = None

    def _label(self, key: str) -> Label:
        return Label(LABELS[key], id=f"label-{key}", classes="field-label", markup=False)

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="settings-form"):
            yield Label("", id="member", classes="config-note", markup=False)
            yield Label("", id="config-note", classes="config-note", markup=False)
            yield self._label("logging_mode")
            with RadioSet(id="logging-mode"):
                yield RadioButton("Replies only: log replies in tracked threads", id="replies_only")
                yield RadioButton(
                    "All with contacts: every email exchanged with contacts", id="all_with_contacts"
                )
            yield self._label("bcc_address")
            yield Input(id="bcc-address", placeholder="log-123@loggbok.example")
            yield self._label("forwarding_address")
            yield Input(id="forwarding-address", placeholder="forward-123@loggbok.example")
            yield self._label("own_addresses")
            yield Input(id="own-addresses", placeholder="me@example.com, me@private.example")
            yield self._label("never_log")
            yield Input(id="never-log", placeholder="ceo@example.com, @lawfirm.example")
            yield self._label("team_never_log")
            yield Input(id="team-never-log", placeholder="@lawfirm.example", classes="team")
            yield self._label("excluded_folders")
            yield Input(id="excluded-folders", placeholder="Newsletters, Lists/*")
            yield self._label("default_visibility")
            with RadioSet(id="default-visibility"):
                yield RadioButton("Everyone", id="visibility-everyone")
                yield RadioButton("My team", id="visibility-team")
                yield RadioButton("Only me", id="visibility-owner")
            yield self._label("attachment_limit_bytes")
            yield Input(id="attachment-cap", type="number")
            yield self._label("body_limit_bytes")
            yield Input(id="body-cap", type="number")
            yield Label("", id="settings-error", classes="error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save", variant="primary", id="save")
                yield Button("Revert", id="revert")
                yield Button("Re-check past mail", id="recheck")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Settings"
        self.show_error("")
        self.show_config(None)
        self.show_member(None)
        self.loggbok.config_changed.subscribe(self, self.show_config)

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
        try:
            team = await self.link.call(methods.TEAM_SETTINGS_GET)
        except (RpcError, DaemonUnreachable) as exc:
            self.report(exc, "Loading the team's settings")
            return
        self.mark_loaded()
        self.show_error("")
        first, self.saved = self.saved is None, settings
        self.show(settings, keep_typed=first)
        self.show_team(team)
        member: t.User | None = None
        try:
            member = await self.link.call(methods.USERS_ME)
        except RpcError:  # a daemon older than users.me
            pass
        except DaemonUnreachable as exc:
            self.report(exc, "Loading settings")
            return
        self.show_member(member)
        try:
            config = await self.link.call(methods.CONFIG_STATUS)
        except RpcError:  # a daemon that reads no config file (the demo)
            self.show_config(None)
        except DaemonUnreachable as exc:
            self.report(exc, "Loading settings")
        else:
            self.show_config(config)

    def show_member(self, user: t.User | None) -> None:
        label = self.query_one("#member", Label)
        label.update(member_text(user))
        label.display = bool(member_text(user))

    def show_config(self, status: t.ConfigStatus | None) -> None:
        """Mark the keys the config file sets; show its error when it was refused."""
        self.config = status
        managed = set(status.settings) if status is not None else set()
        for key, text in LABELS.items():
            label = self.query_one(f"#label-{key}", Label)
            label.update(text + (MANAGED if key in managed else ""))
            label.set_class(key in managed, "managed")
        note = self.query_one("#config-note", Label)
        note.update(config_text(status))
        note.display = bool(config_text(status))
        note.set_class(status is not None and status.error is not None, "error")

    def show(self, settings: t.Settings, keep_typed: bool = False) -> None:
        """Fill the form; `keep_typed` (the first load) keeps what the user already
        typed in the focused field (the first-run steps open the screen there)."""
        typing = self.focused if isinstance(self.focused, Input) else None
        typed = typing.value if typing is not None and keep_typed else ""
        self.query_one(f"#{settings.logging_mode}", RadioButton).value = True
        self.query_one("#bcc-address", Input).value = settings.bcc_address or ""
        self.query_one("#forwarding-address", Input).value = settings.forwarding_address or ""
        self.query_one("#own-addresses", Input).value = ", ".join(settings.own_addresses)
        self.query_one("#never-log", Input).value = ", ".join(settings.never_log)
        self.query_one("#excluded-folders", Input).value = ", ".join(settings.excluded_folders)
        self.query_one(f"#visibility-{settings.default_visibility}", RadioButton).value = True
        cap = settings.attachment_limit_bytes / MB
        self.query_one("#attachment-cap", Input).value = f"{cap:g}"
        body = settings.body_limit_bytes / MB
        self.query_one("#body-cap", Input).value = f"{body:g}"
        if typing is not None and typed:
            typing.value = typed

    def show_team(self, team: t.TeamSettings) -> None:
        self.team = team
        field = self.query_one("#team-never-log", Input)
        field.value = ", ".join(team.never_log)
        field.disabled = not team.can_edit
        field.tooltip = None if team.can_edit else "Only an admin may change this list."

    def team_params(self) -> t.TeamSettingsSetParams | None:
        """The team's list as typed, when it may be saved and differs from the saved one."""
        if self.team is None or not self.team.can_edit:
            return None
        typed = parse_list(self.query_one("#team-never-log", Input).value)
        if sorted(v.lower() for v in typed) == self.team.never_log:
            return None
        return t.TeamSettingsSetParams(never_log=typed)

    def params(self) -> t.SettingsSetParams:
        """The form as settings; ValueError naming the field when a cap is not a number."""
        pressed = self.query_one("#logging-mode", RadioSet).pressed_button
        mode = cast(t.LoggingMode, pressed.id if pressed and pressed.id else "replies_only")
        shown = self.query_one("#default-visibility", RadioSet).pressed_button
        visibility = cast(
            t.Visibility,
            (shown.id or "").removeprefix("visibility-") if shown else "everyone",
        )
        caps: dict[str, int] = {}
        for field, default in (("attachment-cap", "50"), ("body-cap", "2")):
            try:
                caps[field] = int(float(self.query_one(f"#{field}", Input).value or default) * MB)
            except ValueError:
                raise ValueError(f"the {field.replace('-', ' ')} must be a number of MB") from None
        return t.SettingsSetParams(
            logging_mode=mode,
            bcc_address=self.query_one("#bcc-address", Input).value.strip() or None,
            forwarding_address=self.query_one("#forwarding-address", Input).value.strip() or None,
            own_addresses=parse_list(self.query_one("#own-addresses", Input).value),
            never_log=parse_list(self.query_one("#never-log", Input).value),
            excluded_folders=parse_list(self.query_one("#excluded-folders", Input).value),
            default_visibility=visibility if visibility in VISIBILITIES else "everyone",
            attachment_limit_bytes=caps["attachment-cap"],
            body_limit_bytes=caps["body-cap"],
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
        except ValueError as exc:
            self.show_error(str(exc))
            return
        team = self.team_params()
        if self.lists_only_changed(params, team):
            self.preview_lists(params, team)
        else:
            self.save(params, team)

    def lists_only_changed(
        self, params: t.SettingsSetParams, team: t.TeamSettingsSetParams | None
    ) -> bool:
        """True when of what the rules read only the never-log lists change."""
        if self.saved is None:
            return False
        own = params.never_log if isinstance(params.never_log, list) else []
        own_changed = sorted(v.lower() for v in own) != self.saved.never_log
        others = [n for n in RULE_SETTINGS if n != "never_log"]
        same = all(getattr(params, n) == getattr(self.saved, n) for n in others)
        return same and (own_changed or team is not None)

    @work(exclusive=True, group="settings-save")
    async def preview_lists(
        self, params: t.SettingsSetParams, team: t.TeamSettingsSetParams | None
    ) -> None:
        """What the typed lists would unlog, asked before anything is saved."""
        own = params.never_log if isinstance(params.never_log, list) else None
        everyone = team.never_log if team is not None and isinstance(team.never_log, list) else None
        try:
            preview = await self.link.call(
                methods.MESSAGES_REDECIDE,
                t.MessagesRedecideParams(dry_run=True, never_log=own, team_never_log=everyone),
            )
        except RpcError as exc:
            self.show_error(problem(exc))
            return
        except DaemonUnreachable as exc:
            self.report(exc, "Previewing the never-log lists")
            return
        if not preview.changed:
            self.save(params, team)
            return
        self.app.push_screen(
            PastMailPreview(preview, title=LISTS_PREVIEW_TITLE),
            lambda apply: self._lists_answered(params, team, apply),
        )

    def _lists_answered(
        self, params: t.SettingsSetParams, team: t.TeamSettingsSetParams | None, apply: bool | None
    ) -> None:
        if apply:
            self.save(params, team, then_apply=True)
        else:
            self.notify("Not saved: the never-log lists stay as they were.", markup=False)

    @work(exclusive=True, group="settings-save")
    async def save(
        self,
        params: t.SettingsSetParams,
        team: t.TeamSettingsSetParams | None = None,
        *,
        then_apply: bool = False,
    ) -> None:
        try:
            settings = await self.link.call(methods.SETTINGS_SET, params)
            if team is not None:
                self.show_team(await self.link.call(methods.TEAM_SETTINGS_SET, team))
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
        if then_apply:
            self.apply_past_mail()
        elif rules_changed(before, settings) or team is not None:
            self.recheck_past_mail(quiet=True)
