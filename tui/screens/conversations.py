"""A team mailbox's conversations (R15), and one conversation's messages in order.

`ConversationsScreen(mailbox)` lists the conversations of a team mailbox (a
shared inbox), the latest activity first (`conversations.list`, more with
`n`); Enter opens `ConversationScreen`, the conversation's messages oldest
first (`conversations.get`: the customers' mail and the team's replies), and
Enter there opens a message. Both reload when mail is logged.
"""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Header, Label

from loggbok.protocol import methods
from loggbok.protocol import types as t
from loggbok.protocol.errors import RpcError
from loggbok.tui.data import text
from loggbok.tui.data.link import DaemonUnreachable
from loggbok.tui.data.reasons import label
from loggbok.tui.screens.base import DaemonScreen
from loggbok.tui.screens.message import MessageScreen
from loggbok.tui.widgets.plain import PlainTable

PAGE = 100


def who(person: t.Participant) -> str:
    return person.name or person.email


class _Live(DaemonScreen):
    """Reloads (debounced) when anything is logged."""

    def on_mount(self) -> None:
        self.loggbok.timeline_appended.subscribe(self, self._data_changed)
        self.loggbok.timeline_changed.subscribe(self, self._data_changed)

    def _data_changed(self, _event: t.TimelineAppended | t.TimelineChanged) -> None:
        self.schedule_reload()


class ConversationsScreen(_Live):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("enter", "open", "Open", show=True),
        Binding("n", "more", "More"),
        Binding("r", "reload", "Refresh"),
    ]

    def __init__(self, mailbox: t.Mailbox) -> None:
        super().__init__()
        self.mailbox = mailbox
        self.conversations: list[t.Conversation] = []
        self.next: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield PlainTable(id="conversations-table", cursor_type="row")
        yield Label("Loading…", id="conversations-status", classes="status-bar", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.sub_title = f"Conversations · {self.mailbox.address}"
        table = self.query_one(DataTable)
        for name in ("Subject", "Messages", "Latest from", "Latest"):
            table.add_column(name, key=name)
        table.focus()

    def load(self) -> None:
        self.fetch(None)

    def action_reload(self) -> None:
        self.load()

    def action_more(self) -> None:
        if self.next:
            self.fetch(self.next)

    @work(exclusive=True, group="conversations")
    async def fetch(self, before: str | None) -> None:
        try:
            page = await self.link.call(
                methods.CONVERSATIONS_LIST,
                t.ConversationsListParams(mailbox_id=self.mailbox.id, limit=PAGE, before=before),
            )
        except (RpcError, DaemonUnreachable) as exc:
            self.report(exc, "Loading conversations")
            return
        self.mark_loaded()
        shown = self.conversations if before else []
        self.conversations = [*shown, *page.conversations]
        self.next = page.next
        self._fill()

    def _fill(self) -> None:
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        for c in self.conversations:
            table.add_row(
                c.subject or "(no subject)",
                str(c.messages),
                who(c.last_from),
                text.format_date(c.last_date),
                key=str(c.id),
            )
        if self.conversations:
            table.move_cursor(row=min(row, len(self.conversations) - 1))
        more = " · n for more" if self.next else ""
        self.query_one("#conversations-status", Label).update(
            f"{len(self.conversations)} conversations{more}"
            if self.conversations
            else "No conversation yet: mail to this shared inbox shows here."
        )

    def action_open(self) -> None:
        table = self.query_one(DataTable)
        if self.conversations and 0 <= table.cursor_row < len(self.conversations):
            self.app.push_screen(ConversationScreen(self.conversations[table.cursor_row].id))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()


class ConversationScreen(_Live):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("enter", "open", "Open", show=True),
        Binding("r", "reload", "Refresh"),
    ]

    def __init__(self, conversation_id: int) -> None:
        super().__init__()
        self.conversation_id = conversation_id
        self.detail: t.ConversationDetail | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label("", id="conversation-subject", classes="dialog-title", markup=False)
        yield PlainTable(id="conversation-messages", cursor_type="row")
        yield Label("Loading…", id="conversation-status", classes="status-bar", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.sub_title = "Conversation"
        table = self.query_one(DataTable)
        for name in ("Date", "From", "", "Text", "Logged"):
            table.add_column(name, key=name or "direction")
        table.focus()

    def load(self) -> None:
        self.fetch()

    def action_reload(self) -> None:
        self.load()

    @work(exclusive=True, group="conversation")
    async def fetch(self) -> None:
        try:
            detail = await self.link.call(
                methods.CONVERSATIONS_GET, t.IdParams(id=self.conversation_id)
            )
        except (RpcError, DaemonUnreachable) as exc:
            self.report(exc, "Loading the conversation")
            return
        self.mark_loaded()
        self.detail = detail
        self.query_one("#conversation-subject", Label).update(detail.subject or "(no subject)")
        table = self.query_one(DataTable)
        table.clear()
        for m in detail.messages:
            table.add_row(
                text.format_date(m.date),
                who(m.from_),
                "→" if m.direction == "outbound" else "←",
                m.snippet,
                label(m.reason) if m.logged else f"not logged: {label(m.reason)}",
                key=str(m.id),
            )
        self.query_one("#conversation-status", Label).update(
            f"{len(detail.messages)} messages, oldest first · ← received, → sent by the team"
        )

    def action_open(self) -> None:
        table = self.query_one(DataTable)
        if self.detail and 0 <= table.cursor_row < len(self.detail.messages):
            self.app.push_screen(MessageScreen(self.detail.messages[table.cursor_row].id))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()
