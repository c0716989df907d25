"""Search: full-text over logged mail (FTS5 syntax); a hit opens in the message view.

While the query box has focus every key is text; Escape (the app's "Leave
field") or Enter leaves it for the results, where the view keys (c u m ,)
work again; `/` or `f` returns to the query.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Header, Input, Label, OptionList
from textual.widgets.option_list import Option

from loggbok.protocol import methods
from loggbok.protocol import types as t
from loggbok.protocol.errors import RpcError
from loggbok.tui.data.link import DaemonUnreachable
from loggbok.tui.data.search_terms import pattern, terms
from loggbok.tui.data.text import plural
from loggbok.tui.screens.base import DaemonScreen
from loggbok.tui.widgets.entry_render import summary_content
from loggbok.tui.widgets.lists import OpenList


class SearchScreen(DaemonScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f", "focus_query", "Query"),
        Binding("slash", "focus_query", "Query", key_display="/", show=False),
        Binding("enter", "open", "Open"),
        Binding("w", "why", "Why?"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.hits: list[t.MessageSummary] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(
            placeholder='search logged mail: words, "a phrase", subject:offer …', id="search-query"
        )
        yield OpenList(id="search-results")
        yield Label(
            "Type a query and press Enter.", id="search-status", classes="status-bar", markup=False
        )
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Search"
        self.query_one(Input).focus()

    def load(self) -> None:
        self.mark_loaded()
        query = self.query_one(Input).value.strip()
        if query:
            self.search(query)

    @on(Input.Submitted, "#search-query")
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.search(event.value.strip())

    @work(exclusive=True, group="search")
    async def search(self, query: str) -> None:
        status = self.query_one("#search-status", Label)
        status.update(f"Searching for {query}…")
        try:
            result = await self.link.call(
                methods.MESSAGES_SEARCH, t.MessagesSearchParams(query=query, limit=200)
            )
        except (RpcError, DaemonUnreachable) as exc:
            status.update("Search failed.")
            self.report(exc, "Searching")
            return
        self.hits = list(result.hits)
        results = self.query_one(OptionList)
        width = max(20, self.app.size.width - 4)
        found = pattern(terms(query))
        results.set_options(
            [Option(summary_content(h, width, found), id=f"h{i}") for i, h in enumerate(self.hits)]
        )
        if self.hits:
            results.highlighted = 0
            results.focus()
        status.update(
            f"{plural(len(self.hits), 'hit')} for {query}"
            if self.hits
            else f"No logged mail matches {query} (only logged mail is searched; the rest is"
            " under u)."
        )

    @on(OptionList.OptionSelected, "#search-results")
    def _opened(self, event: OptionList.OptionSelected) -> None:
        from loggbok.tui.screens.message import MessageScreen

        event.stop()
        self.app.push_screen(MessageScreen(self.hits[event.option_index].id))

    def action_focus_query(self) -> None:
        self.query_one(Input).focus()

    def action_open(self) -> None:
        from loggbok.tui.screens.message import MessageScreen

        index = self.query_one(OptionList).highlighted
        if index is not None and 0 <= index < len(self.hits):
            self.app.push_screen(MessageScreen(self.hits[index].id))

    def action_why(self) -> None:
        from loggbok.tui.screens.why import WhyScreen

        index = self.query_one(OptionList).highlighted
        if index is not None and 0 <= index < len(self.hits):
            self.app.push_screen(WhyScreen(self.hits[index].id))
