"""Mailboxes: provider, status with sync progress, blind threads, last sync.

Add (after a connection test), sign in (a code or a page in a browser; started
at once after adding a mailbox that connects so), reconnect with a password, sync
now, remove, audit (server against store, `mailboxes.audit`, key x: v is the
app's Forwards to review). A mailbox
the config file declares says so beside its provider. A team mailbox (a shared
inbox, R15) says so too; t makes a mailbox a team's or a member's own again
(`mailboxes.update`), o opens a team mailbox's conversations.
"""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Header, Label, Static

from loggbok.protocol import methods
from loggbok.protocol import types as t
from loggbok.protocol.errors import RpcError
from loggbok.tui.data import text
from loggbok.tui.data.link import DaemonUnreachable
from loggbok.tui.dialogs.audit import AuditDialog
from loggbok.tui.dialogs.confirm import Confirm
from loggbok.tui.dialogs.mailbox_form import MailboxForm
from loggbok.tui.dialogs.prompt import TextPrompt
from loggbok.tui.dialogs.sign_in import SignInDialog
from loggbok.tui.screens.base import DaemonScreen
from loggbok.tui.screens.conversations import ConversationsScreen
from loggbok.tui.widgets.plain import PlainTable
from loggbok.tui.widgets.sync_bars import SyncBars

WHERE_CHARS = 40
BLIND_HINT = (
    "Blind threads: tracked conversations whose replies loggbok cannot see while their"
    " mailbox is unavailable. Reconnect it and the replies it missed are read and logged."
)


COLUMN_PADDING = 10
"""One cell either side of each of the five columns."""
NARROW_STATUS_CHARS = 14
"""Below 100 columns the status is cut here (the status line says it whole)."""


def where_text(box: t.Mailbox, chars: int = WHERE_CHARS) -> str:
    """The Maildir path or the server, its end kept when long (the end tells them apart)."""
    where = box.path or box.host or ""
    return where if len(where) <= chars else "…" + where[-(chars - 1) :]


STATUS_WORDS = {
    "new": "new",
    "syncing": "syncing",
    "idle": "up to date",
    "auth_failed": "needs a new password or sign-in",
    "disconnected": "disconnected",
    "error": "failing",
}


def status_text(box: t.Mailbox, progress: t.SyncProgress | None) -> str:
    """The status in words; while syncing, the round's messages done of its total."""
    if box.status == "syncing" and progress is not None and progress.round_total:
        return f"syncing: {progress.round_done:,} of {progress.round_total:,}"
    detail = f": {box.status_detail}" if box.status_detail else ""
    quarantined = f" · {box.quarantined} unreadable" if box.quarantined else ""
    return f"{STATUS_WORDS.get(box.status, box.status)}{detail}{quarantined}"


def provider_text(box: t.Mailbox) -> str:
    """The provider, and what else the mailbox is: a team's shared inbox, from config.toml."""
    notes = [
        n
        for n, on in (("team inbox", box.kind == "team"), ("config.toml", box.managed_by_config))
        if on
    ]
    return f"{box.provider} ({', '.join(notes)})" if notes else box.provider


class MailboxesScreen(DaemonScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add_mailbox", "Add"),
        Binding("p", "reconnect", "Reconnect"),
        Binding("i", "sign_in", "Sign in"),
        Binding("s", "sync", "Sync now"),
        Binding("d", "remove", "Remove"),
        Binding("x", "audit", "Audit"),
        Binding("o", "conversations", "Conversations"),
        Binding("t", "toggle_kind", "Team/own"),
        Binding("r", "reload", "Refresh"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.mailboxes: list[t.Mailbox] = []
        self.progress: dict[int, t.SyncProgress] = {}
        self.providers: dict[str, t.ProviderInfo] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield PlainTable(id="mailboxes-table", cursor_type="row")
        yield SyncBars()
        yield Static(BLIND_HINT, id="blind-hint", markup=False)
        yield Label("Loading…", id="mailboxes-status", classes="status-bar", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Mailboxes"
        table = self.query_one(DataTable)
        for name in ("Address", "Status", "Last sync", "Blind threads", "Provider"):
            table.add_column(name, key=name)
        self.loggbok.mailbox_changed.subscribe(self, self._status_changed)
        self.loggbok.sync_progress.subscribe(self, self._sync_progress)
        table.focus()

    def load(self) -> None:
        self.fetch()

    def action_reload(self) -> None:
        self.load()

    @work(exclusive=True, group="mailboxes")
    async def fetch(self) -> None:
        try:
            result = await self.link.call(methods.MAILBOXES_LIST)
        except (RpcError, DaemonUnreachable) as exc:
            self.report(exc, "Loading mailboxes")
            return
        self.mark_loaded()
        self.mailboxes = list(result.mailboxes)
        self.loggbok.health.reset(self.mailboxes)
        self._fill()

    def _fill(self) -> None:
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        width = self.app.size.width
        status_chars = NARROW_STATUS_CHARS if width < 100 else 60
        statuses = [
            text.cut(status_text(b, self.progress.get(b.id)), status_chars) for b in self.mailboxes
        ]
        providers = [provider_text(b) for b in self.mailboxes]
        # The columns beside Address: as wide as their widest cell (or heading), with padding.
        beside = (
            max([6, *map(len, statuses)])
            + len("2025-03-14 12:00")
            + len("Blind threads")
            + max([8, *map(len, providers)])
            + COLUMN_PADDING
        )
        chars = max(16, width - beside)
        for box, status, provider in zip(self.mailboxes, statuses, providers, strict=True):
            where = where_text(box, min(WHERE_CHARS, chars))
            address = text.cut(box.address, chars)
            table.add_row(
                f"{address}\n{where}" if where else address,
                status,
                text.format_date(box.last_sync) if box.last_sync else "never",
                str(box.blind_threads) if box.blind_threads else "—",
                provider,
                key=str(box.id),
                height=2 if (box.path or box.host) else 1,
            )
        if self.mailboxes:
            table.move_cursor(row=min(row, len(self.mailboxes) - 1))
        self.query_one("#blind-hint").display = any(b.blind_threads for b in self.mailboxes)
        self.query_one("#mailboxes-status", Label).update(
            text.plural(len(self.mailboxes), "mailbox")
            if self.mailboxes
            else "No mailbox connected: press a to add one."
        )

    def _status_changed(self, event: t.MailboxStatusChanged) -> None:
        for box in self.mailboxes:
            if box.id == event.id:
                box.status = event.status
                box.status_detail = event.detail
        if event.status != "syncing":
            self.progress.pop(event.id, None)
            self.run_worker(self.query_one(SyncBars).finish(event.id))
            self.load()
        self._fill()

    async def _sync_progress(self, event: t.SyncProgress) -> None:
        shown = self.progress.get(event.mailbox_id)
        if (
            shown is not None
            and shown.round_total == event.round_total
            and event.round_done < shown.round_done
        ):
            return  # a late notification: the bar only moves forward
        self.progress[event.mailbox_id] = event
        box = next((b for b in self.mailboxes if b.id == event.mailbox_id), None)
        if box is None:  # a mailbox just added: its bar shows once its address is read
            self.load()
            return
        box.status = "syncing"
        await self.query_one(SyncBars).advance(box.address, event)
        self._fill()

    @property
    def current(self) -> t.Mailbox | None:
        row = self.query_one(DataTable).cursor_row
        return self.mailboxes[row] if 0 <= row < len(self.mailboxes) else None

    # ---------------------------------------------------------------- actions

    async def _known_providers(self) -> dict[str, t.ProviderInfo]:
        """What the daemon's providers take (asked once; the form is built from it)."""
        if not self.providers:
            found = await self.link.call(methods.MAILBOXES_PROVIDERS)
            self.providers = {p.name: p for p in found.providers}
        return self.providers

    @work(exclusive=True, group="mailbox-form")
    async def action_add_mailbox(self) -> None:
        try:
            providers = await self._known_providers()
        except (RpcError, DaemonUnreachable) as exc:
            self.report(exc, "Reading the providers")
            return
        self.app.push_screen(MailboxForm(list(providers.values())), self._add)

    def _add(self, params: t.MailboxAddParams | None) -> None:
        if params is not None:
            self.add_box(params)

    @work(group="mailbox-action")
    async def add_box(self, params: t.MailboxAddParams) -> None:
        try:
            created = await self.link.call(methods.MAILBOXES_ADD, params)
        except (RpcError, DaemonUnreachable) as exc:
            self.report(exc, "Adding the mailbox")
            return
        self.load()
        if created.sign_in_needed:
            self.sign_in(created.id, params.address)
        else:
            self.notify(f"Mailbox {created.id} connected; syncing.", markup=False)

    def action_sign_in(self) -> None:
        box = self.current
        if box is not None:
            self.sign_in(box.id, box.address)

    @work(exclusive=True, group="mailbox-sign-in")
    async def sign_in(self, mailbox_id: int, address: str) -> None:
        try:
            prompt = await self.link.call(methods.MAILBOXES_SIGN_IN, t.IdParams(id=mailbox_id))
        except (RpcError, DaemonUnreachable) as exc:
            self.report(exc, "Signing in")
            return
        self.app.push_screen(SignInDialog(mailbox_id, address, prompt), self._signed_in)

    def _signed_in(self, outcome: t.MailboxStatusChanged | None) -> None:
        if outcome is None:
            return
        if outcome.status == "auth_failed":
            self.notify(f"Sign-in failed: {outcome.detail}", severity="error", markup=False)
        else:
            self.notify("Signed in; syncing.", markup=False)
        self.load()

    @work(exclusive=True, group="mailbox-form")
    async def action_reconnect(self) -> None:
        box = self.current
        if box is None:
            return
        try:
            provider = (await self._known_providers()).get(box.provider)
        except (RpcError, DaemonUnreachable) as exc:
            self.report(exc, "Reading the providers")
            return
        needs_secret = provider is not None and provider.needs_secret
        prompt = (
            "Reconnect: password (empty to retry as is)"
            if needs_secret
            else f"Reconnect {box.address} (press Enter)"
        )
        self.app.push_screen(
            TextPrompt(prompt, password=needs_secret),
            lambda pw: self._reconnect(box, pw),
        )

    def _reconnect(self, box: t.Mailbox, password: str | None) -> None:
        if password is not None:
            self.reconnect(box, password or None)

    @work(group="mailbox-action")
    async def reconnect(self, box: t.Mailbox, password: str | None) -> None:
        try:
            await self.link.call(
                methods.MAILBOXES_RECONNECT, t.MailboxReconnectParams(id=box.id, password=password)
            )
        except (RpcError, DaemonUnreachable) as exc:
            self.report(exc, "Reconnecting")
            return
        self.notify(f"Reconnecting {box.address}.", markup=False)
        self.load()

    def action_sync(self) -> None:
        box = self.current
        if box is not None:
            self.sync(box)

    @work(group="mailbox-sync")
    async def sync(self, box: t.Mailbox) -> None:
        self.notify(f"Syncing {box.address}…", markup=False)
        try:
            result = await self.link.call(methods.MAILBOXES_SYNC, t.IdParams(id=box.id))
        except (RpcError, DaemonUnreachable) as exc:
            self.report(exc, "Syncing")
            return
        self.notify(
            f"{box.address}: {result.seen} seen, {result.new} new, "
            f"{result.logged} logged, {text.plural(result.errors, 'error')}",
            markup=False,
        )
        self.load()

    def action_audit(self) -> None:
        box = self.current
        if box is not None:
            self.audit(box)

    @work(exclusive=True, group="mailbox-audit")
    async def audit(self, box: t.Mailbox) -> None:
        self.notify(f"Auditing {box.address}…", markup=False)
        try:
            result = await self.link.call(methods.MAILBOXES_AUDIT, t.IdParams(id=box.id))
        except (RpcError, DaemonUnreachable) as exc:
            self.report(exc, "Auditing")
            return
        await self.app.push_screen(AuditDialog(box.address, result))

    def action_remove(self) -> None:
        box = self.current
        if box is not None:
            self.app.push_screen(
                Confirm(f"Remove {box.address}? What it logged stays logged.", yes="Remove"),
                lambda yes: self._remove(box, yes),
            )

    def _remove(self, box: t.Mailbox, yes: bool | None) -> None:
        if yes:
            self.remove_mailbox(box)

    @work(group="mailbox-action")
    async def remove_mailbox(self, box: t.Mailbox) -> None:
        try:
            await self.link.call(methods.MAILBOXES_REMOVE, t.IdParams(id=box.id))
        except (RpcError, DaemonUnreachable) as exc:
            self.report(exc, "Removing")
            return
        self.notify(f"Removed {box.address}.", markup=False)
        self.load()

    def action_conversations(self) -> None:
        box = self.current
        if box is None:
            return
        if box.kind != "team":
            self.notify(
                f"{box.address} is not a team mailbox: t makes it one.",
                severity="warning",
                markup=False,
            )
            return
        self.app.push_screen(ConversationsScreen(box))

    def action_toggle_kind(self) -> None:
        box = self.current
        if box is None:
            return
        if box.kind == "team":
            question = (
                f"Make {box.address} a mailbox of your own again? From now on its mail is"
                " decided by your logging rules; what it logged stays logged."
            )
        else:
            question = (
                f"Make {box.address} a team mailbox (a shared inbox)? From now on every email"
                " in it is logged into a conversation, the sender made a contact;"
                " never-log lists do not apply."
            )
        self.app.push_screen(
            Confirm(question, yes="Change"), lambda yes: self._toggle_kind(box, yes)
        )

    def _toggle_kind(self, box: t.Mailbox, yes: bool | None) -> None:
        if yes:
            self.set_kind(box, "personal" if box.kind == "team" else "team")

    @work(group="mailbox-action")
    async def set_kind(self, box: t.Mailbox, kind: t.MailboxKind) -> None:
        try:
            await self.link.call(
                methods.MAILBOXES_UPDATE, t.MailboxUpdateParams(id=box.id, kind=kind)
            )
        except (RpcError, DaemonUnreachable) as exc:
            self.report(exc, "Changing the mailbox")
            return
        words = "a team mailbox" if kind == "team" else "a mailbox of your own"
        self.notify(f"{box.address} is {words} now.", markup=False)
        self.load()
