"""Unlogged mail: recent messages that were not logged, grouped by reason.

Each one is a keystroke from being logged by hand (l), explained (w) or opened.
The list reloads by itself when a message is logged or a sync finishes.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widgets import Footer, Header, Label, OptionList
from textual.widgets.option_list import Option

from loggbok.protocol import methods
from loggbok.protocol import types as t
from loggbok.protocol.errors import RpcError
from loggbok.tui.data.grouping import by_reason
from loggbok.tui.data.link import DaemonUnreachable
from loggbok.tui.data.reasons import label
from loggbok.tui.data.text import plural
from loggbok.tui.dialogs.contact_form import ContactDraft
from loggbok.tui.dialogs.contact_picker import ContactPicker
from loggbok.tui.screens.base import DaemonScreen
from loggbok.tui.widgets.entry_render import summary_content
from loggbok.tui.widgets.lists import OpenList

LIMIT = 500


class UnloggedScreen(DaemonScreen):
    REASON: str | None = None
    """Only messages decided with this reason (a subclass's review list)."""
    SUBTITLE = "Unlogged mail"
    NOTHING = (
        "Nothing unlogged: mail the rules do not log shows here once a mailbox syncs"
        " (m to connect one)."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("l", "log", "Log manually"),
        Binding("w", "why", "Why?"),
        Binding("enter", "open", "Open", show=True),
        Binding("r", "reload", "Refresh"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.by_option: dict[str, t.MessageSummary] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield OpenList(id="unlogged-list")
        yield Label("Loading…", id="unlogged-status", classes="status-bar", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = self.SUBTITLE
        self.loggbok.timeline_appended.subscribe(self, self._data_changed)
        self.loggbok.timeline_changed.subscribe(self, self._data_changed)
        self.loggbok.mailbox_changed.subscribe(self, self._mailbox_changed)
        self.query_one(OptionList).focus()

    def _data_changed(self, _event: t.TimelineAppended | t.TimelineChanged) -> None:
        self.schedule_reload()

    def _mailbox_changed(self, event: t.MailboxStatusChanged) -> None:
        if event.status == "idle":
            self.schedule_reload()

    def load(self) -> None:
        self.fetch()

    def action_reload(self) -> None:
        self.load()

    @work(exclusive=True, group="unlogged")
    async def fetch(self) -> None:
        try:
            result = await self.link.call(
                methods.MESSAGES_LIST,
                t.MessagesListParams(logged=False, reason=self.REASON, limit=LIMIT),
            )
        except (RpcError, DaemonUnreachable) as exc:
            self.report(exc, f"Loading {self.SUBTITLE.lower()}")
            return
        self.mark_loaded()
        options = self.query_one(OptionList)
        current = options.highlighted_option.id if options.highlighted_option else None
        self.by_option = {}
        rows: list[Option] = []
        groups = by_reason(list(result.messages))
        width = max(20, self.app.size.width - 4)
        for reason, messages in groups:
            rows.append(
                Option(
                    Content.assemble((f"{label(reason)} · {len(messages)}", "bold $secondary")),
                    disabled=True,
                )
            )
            for msg in messages:
                option_id = f"m{msg.id}"
                self.by_option[option_id] = msg
                rows.append(Option(summary_content(msg, width), id=option_id))
        options.set_options(rows)
        if current and current in self.by_option:
            options.highlighted = options.get_option_index(current)
        elif self.by_option:
            options.highlighted = options.get_option_index(next(iter(self.by_option)))
        more = " (most recent shown)" if result.next else ""
        self.query_one("#unlogged-status", Label).update(
            f"{plural(len(result.messages), 'unlogged message')} in "
            f"{plural(len(groups), 'group')}{more}"
            if result.messages
            else self.NOTHING
        )

    @property
    def current(self) -> t.MessageSummary | None:
        option = self.query_one(OptionList).highlighted_option
        return self.by_option.get(option.id or "") if option else None

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        from loggbok.tui.screens.message import MessageScreen

        msg = self.current
        if msg is not None:
            self.app.push_screen(MessageScreen(msg.id))

    def action_why(self) -> None:
        from loggbok.tui.screens.why import WhyScreen

        msg = self.current
        if msg is not None:
            self.app.push_screen(WhyScreen(msg.id))

    def action_log(self) -> None:
        msg = self.current
        if msg is None:
            return
        other = msg.from_ if msg.direction == "inbound" else (msg.to[0] if msg.to else None)
        new = ContactDraft(other.name or "", [other.email]) if other else None
        self.pick_contacts(msg, f"Log “{msg.subject}” onto…", other.email if other else "", new)

    def pick_contacts(
        self, msg: t.MessageSummary, title: str, query: str, new: ContactDraft | None = None
    ) -> None:
        """Ask for the contacts to log `msg` onto (`new` prefills a contact to create),
        then log it there (R9)."""
        self.app.push_screen(
            ContactPicker(title, suggested=list(msg.contact_ids), query=query, new=new),
            lambda ids: self._log_onto(msg, ids),
        )

    def _log_onto(self, msg: t.MessageSummary, contact_ids: list[int] | None) -> None:
        if contact_ids:
            self.log_manually(msg, contact_ids)

    @work(group="unlogged-log")
    async def log_manually(self, msg: t.MessageSummary, contact_ids: list[int]) -> None:
        try:
            await self.link.call(
                methods.MESSAGES_LOG, t.MessagesLogParams(id=msg.id, contact_ids=contact_ids)
            )
        except (RpcError, DaemonUnreachable) as exc:
            self.report(exc, "Logging")
            return
        self.notify(
            f"Logged “{msg.subject}” onto {plural(len(contact_ids), 'contact')}.", markup=False
        )
        self.load()
