"""Why?: why a message was or was not logged, in plain words, with the fixes that apply.

The fixes come from `messages.explain`: log manually onto chosen contacts,
add the sender as a contact (the message is then decided again at once,
`messages.redecide` with its id), reconnect the mailbox (with a new password).
A message is named by the store's id or, for one found in a mail client, by
its Message-ID header (`WhyScreen.for_header`).
"""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Collapsible, DataTable, Footer, Header, Static

from loggbok.protocol import methods
from loggbok.protocol import types as t
from loggbok.protocol.errors import RpcError
from loggbok.tui.data import text
from loggbok.tui.data.evidence import evidence_rows, support_rows
from loggbok.tui.data.link import DaemonUnreachable
from loggbok.tui.data.reasons import FIX_LABELS, label
from loggbok.tui.dialogs.contact_form import ContactDraft
from loggbok.tui.dialogs.contact_picker import ContactPicker
from loggbok.tui.dialogs.prompt import TextPrompt
from loggbok.tui.screens.base import DaemonScreen, problem
from loggbok.tui.widgets.evidence import EvidenceGrid
from loggbok.tui.widgets.plain import PlainTable

FIX_ACTIONS = {"log_manually": "log", "add_contact": "add_sender", "reconnect_mailbox": "reconnect"}


class WhyScreen(DaemonScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("l", "log", "Log manually"),
        Binding("s", "add_sender", "Add sender"),
        Binding("p", "reconnect", "Reconnect"),
        Binding("o", "open", "Open"),
    ]

    def __init__(self, message_id: int, header_id: str | None = None) -> None:
        super().__init__()
        self.message_id = message_id
        self.header_id = header_id
        self.explanation: t.Explanation | None = None
        self.message: t.Message | None = None
        self.added_contact_ids: list[int] = []

    @classmethod
    def for_header(cls, header_id: str) -> WhyScreen:
        """Why? for the message with this Message-ID (with or without <>)."""
        bare = header_id.strip().strip("<>")
        return cls(0, header_id=f"<{bare}>")

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="why-scroll"):
            yield Static("Loading…", id="why-verdict", markup=False)
            yield Static("", id="why-message", markup=False)
            yield Static("", id="why-summary", markup=False)
            yield Static("Evidence", id="why-evidence-title", markup=False)
            yield EvidenceGrid(id="why-evidence")
            yield Horizontal(id="why-fixes")
            with Collapsible(title="Details for support", id="why-support"):
                yield PlainTable(id="why-support-table", show_cursor=False)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Why?"
        self.query_one("#why-support-table", DataTable).add_columns("For support", "")

    def load(self) -> None:
        self.fetch()

    @work(exclusive=True, group="why")
    async def fetch(self) -> None:
        ref = (
            t.MessageRefParams(message_id=self.header_id)
            if self.header_id
            else t.MessageRefParams(id=self.message_id)
        )
        try:
            expl = await self.link.call(methods.MESSAGES_EXPLAIN, ref)
            self.message_id, self.header_id = expl.id, None
            msg = await self.link.call(methods.MESSAGES_GET, t.MessageRefParams(id=expl.id))
            names: dict[int, str] = {}
            for contact_id in expl.evidence.contact_ids[:20]:
                contact = await self.link.call(methods.CONTACTS_GET, t.IdParams(id=contact_id))
                names[contact_id] = contact.name or (contact.emails or [f"#{contact_id}"])[0]
        except (RpcError, DaemonUnreachable) as exc:
            self.report(exc, "Asking why")
            if self.explanation is None:
                why_not = problem(exc) if isinstance(exc, RpcError) else "the daemon is unreachable"
                self.query_one("#why-verdict", Static).update(f"Cannot explain: {why_not}")
            return
        self.mark_loaded()
        self.explanation, self.message = expl, msg
        verdict = "Logged" if expl.logged else "Not logged"
        self.query_one("#why-verdict", Static).update(
            f"{verdict} — {label(expl.reason, expl.evidence.details)}"
        )
        self.query_one("#why-verdict").set_class(not expl.logged, "not-logged")
        self.query_one("#why-message", Static).update(
            f"{msg.subject or '(no subject)'}\nfrom {text.participant(msg.from_)}, "
            f"{text.format_date(msg.date)}"
        )
        self.query_one("#why-summary", Static).update(expl.summary)
        await self.query_one(EvidenceGrid).show(evidence_rows(expl, names))
        support = self.query_one("#why-support-table", DataTable)
        support.clear()
        for name, value in support_rows(expl):
            support.add_row(name, value)
        fixes = self.query_one("#why-fixes", Horizontal)
        await fixes.remove_children()
        await fixes.mount_all(
            [
                Button(Content(FIX_LABELS.get(fix, fix)), id=f"fix-{fix}", variant="primary")
                for fix in expl.fixes
            ]
        )
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open":
            return self.explanation is not None
        wanted = {v: k for k, v in FIX_ACTIONS.items()}.get(action)
        if wanted is None:
            return True
        return self.explanation is not None and wanted in self.explanation.fixes

    @on(Button.Pressed)
    async def _fix_pressed(self, event: Button.Pressed) -> None:
        fix = (event.button.id or "").removeprefix("fix-")
        if fix in FIX_ACTIONS:
            await self.run_action(FIX_ACTIONS[fix])

    def action_open(self) -> None:
        from loggbok.tui.screens.message import MessageScreen

        self.app.push_screen(MessageScreen(self.message_id))

    # ---------------------------------------------------------------- fixes

    def action_log(self) -> None:
        msg = self.message
        if msg is None:
            return
        sender = msg.from_.email if msg.direction == "inbound" else ""
        self.app.push_screen(
            ContactPicker(
                f"Log “{msg.subject}” onto…",
                suggested=[*msg.contact_ids, *self.added_contact_ids],
                query=sender,
                new=ContactDraft(msg.from_.name or "", [sender]) if sender else None,
            ),
            self._log_onto,
        )

    def _log_onto(self, contact_ids: list[int] | None) -> None:
        if contact_ids:
            self.log_manually(contact_ids)

    @work(group="why-fix")
    async def log_manually(self, contact_ids: list[int]) -> None:
        try:
            result = await self.link.call(
                methods.MESSAGES_LOG,
                t.MessagesLogParams(id=self.message_id, contact_ids=contact_ids),
            )
        except (RpcError, DaemonUnreachable) as exc:
            self.report(exc, "Logging")
            return
        self.notify(f"Logged onto {text.plural(len(result.contact_ids), 'contact')}.", markup=False)
        self.load()

    def action_add_sender(self) -> None:
        if self.message is not None:
            self.add_sender(self.message.from_)

    @work(group="why-fix")
    async def add_sender(self, sender: t.Participant) -> None:
        try:
            created = await self.link.call(
                methods.CONTACTS_CREATE,
                t.ContactCreateParams(email=sender.email, name=sender.name or None),
            )
        except (RpcError, DaemonUnreachable) as exc:
            self.report(exc, "Adding the sender")
            return
        self.added_contact_ids.append(created.id)
        try:
            again = await self.link.call(
                methods.MESSAGES_REDECIDE,
                t.MessagesRedecideParams(dry_run=False, ids=[self.message_id]),
            )
        except (RpcError, DaemonUnreachable) as exc:
            self.report(exc, "Deciding the message again")
            self.load()
            return
        if again.sample and again.sample[0].new_logged:
            now = f"it is now logged ({label(again.sample[0].new_reason)})."
        else:
            now = "the rules still do not log this message: press l to log it onto them."
        self.notify(
            f"Added {text.participant(sender)} as contact {created.id}; {now}", markup=False
        )
        self.load()

    def action_reconnect(self) -> None:
        if self.message is None or self.message.mailbox_id is None:
            self.notify("This message's mailbox is not known.", severity="warning", markup=False)
            return
        mailbox_id = self.message.mailbox_id
        self.app.push_screen(
            TextPrompt("Reconnect the mailbox: password (empty to retry as is)", password=True),
            lambda password: self._reconnect(mailbox_id, password),
        )

    def _reconnect(self, mailbox_id: int, password: str | None) -> None:
        if password is not None:
            self.reconnect(mailbox_id, password or None)

    @work(group="why-fix")
    async def reconnect(self, mailbox_id: int, password: str | None) -> None:
        try:
            await self.link.call(
                methods.MAILBOXES_RECONNECT,
                t.MailboxReconnectParams(id=mailbox_id, password=password),
            )
        except (RpcError, DaemonUnreachable) as exc:
            self.report(exc, "Reconnecting")
            return
        self.notify("Mailbox reconnecting; missed mail will be synced.", markup=False)
        self.load()
