"""Timeline of one contact: logged emails newest first, paged on scroll, live.

Pages come from `timeline.get` with `before`; a `timeline.appended`
notification for this contact puts the entry on top without a refresh;
`timeline.changed` and `message.changed` (an entry's attachments came in after a
scan, R11) for this contact re-read it. Above the entries, the contact's blind
threads (R13: their mailbox is unavailable, replies cannot be read until it
is back), from the first page's `blind`.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Header, Label, Static

from loggbok.protocol import methods
from loggbok.protocol import types as t
from loggbok.protocol.errors import RpcError
from loggbok.tui.data import text
from loggbok.tui.data.link import DaemonUnreachable
from loggbok.tui.screens.base import DaemonScreen
from loggbok.tui.widgets.timeline_list import TimelineList

PAGE = 50


class TimelineScreen(DaemonScreen):
    """The selected contact's timeline."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", show=True),
        Binding("w", "why", "Why?"),
        Binding("h", "headers", "Headers"),
        Binding("r", "reload", "Refresh"),
    ]

    def __init__(self, contact: t.Contact, page_size: int = PAGE) -> None:
        super().__init__()
        self.contact = contact
        self.page_size = page_size
        self.next_before: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self._heading(), id="timeline-heading", markup=False)
        yield Static("", id="timeline-blind", markup=False)
        yield TimelineList(id="timeline-list")
        yield Label("Loading…", id="timeline-status", classes="status-bar", markup=False)
        yield Footer()

    def _heading(self) -> str:
        c = self.contact
        company = f" · {c.company}" if c.company else ""
        return f"{c.name or c.emails[0]}{company}\n{', '.join(c.emails)}"

    def on_mount(self) -> None:
        self.sub_title = f"Timeline · {self.contact.name or self.contact.emails[0]}"
        self.loggbok.timeline_appended.subscribe(self, self._appended)
        self.loggbok.timeline_changed.subscribe(self, self._changed)
        self.loggbok.message_changed.subscribe(self, self._changed)
        self.query_one(TimelineList).focus()
        self.query_one("#timeline-blind", Static).display = False

    @property
    def timeline(self) -> TimelineList:
        return self.query_one(TimelineList)

    def load(self) -> None:
        self.timeline.reset()
        self.next_before = None
        self.fetch_page(first=True)

    def action_reload(self) -> None:
        self.load()

    @work(exclusive=True, group="timeline-page")
    async def fetch_page(self, first: bool = False) -> None:
        try:
            if first:
                settings = await self.link.call(methods.SETTINGS_GET)
                self.timeline.limit_bytes = settings.attachment_limit_bytes
            page = await self.link.call(
                methods.TIMELINE_GET,
                t.TimelineGetParams(
                    contact_id=self.contact.id,
                    limit=self.page_size,
                    before=None if first else self.next_before,
                ),
            )
        except (RpcError, DaemonUnreachable) as exc:
            self.report(exc, "Loading the timeline")
            return
        if first:
            self.mark_loaded()
            self._show_blind(page.blind)
        self.next_before = page.next
        self.timeline.add_page(list(page.entries), exhausted=page.next is None)
        self._status()

    def _show_blind(self, blind: list[t.BlindThread]) -> None:
        view = self.query_one("#timeline-blind", Static)
        view.display = bool(blind)
        view.update("\n".join(_blind_line(b) for b in blind))

    def _status(self) -> None:
        count = len(self.timeline.entries)
        if count == 0:
            status = (
                "Nothing logged yet: mail with this contact is logged as it syncs;"
                " log one by hand from Unlogged mail (u, then l)."
            )
        else:
            more = "scroll for older" if self.next_before else "the beginning"
            status = f"{text.plural(count, 'entry', 'entries')} shown · {more}"
        self.query_one("#timeline-status", Label).update(status)

    @on(TimelineList.NeedMore)
    def _need_more(self) -> None:
        if self.next_before:
            self.fetch_page()

    def _appended(self, event: t.TimelineAppended) -> None:
        if event.contact_id == self.contact.id:
            self.timeline.prepend(event.entry)
            self._status()

    def _changed(self, event: t.TimelineChanged | t.MessageChanged) -> None:
        if self.contact.id in event.contact_ids:
            self.schedule_reload()

    @on(TimelineList.Opened)
    def _opened(self, event: TimelineList.Opened) -> None:
        self._open_message(event.entry.id, tab="body")

    def _open_message(self, message_id: int, tab: str) -> None:
        from loggbok.tui.screens.message import MessageScreen

        self.app.push_screen(MessageScreen(message_id, tab=tab))

    def action_open(self) -> None:
        entry = self.timeline.current
        if entry is not None:
            self._open_message(entry.id, tab="body")

    def action_headers(self) -> None:
        entry = self.timeline.current
        if entry is not None:
            self._open_message(entry.id, tab="headers")

    def action_why(self) -> None:
        from loggbok.tui.screens.why import WhyScreen

        entry = self.timeline.current
        if entry is not None:
            self.app.push_screen(WhyScreen(entry.id))


def _blind_line(b: t.BlindThread) -> str:
    """One blind thread; one tracked in a colleague's mailbox comes without when or why
    (the daemon tells those to the mailbox's owner only: `since` is empty)."""
    if not b.since:
        return (
            f"⚠ Blind thread “{b.subject}”: {b.address} is unavailable; replies are read "
            "when it is connected again."
        )
    return (
        f"⚠ Blind thread “{b.subject}”: {b.address} unavailable since "
        f"{text.format_date(b.since)} ({b.cause}); replies are read when it is "
        "connected again."
    )
