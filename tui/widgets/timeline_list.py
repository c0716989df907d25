"""`TimelineList`: a contact's timeline entries, newest first, asking for more near the end.

It holds the entries it shows (view state); the screen feeds pages in with
`add_page` and live entries with `prepend`. Scrolling or moving the cursor
near the end posts `TimelineList.NeedMore` once per page. It is an
`OpenList` (an `OptionList` with the keys every list shares), which renders
only the visible lines, so long timelines stay smooth.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from loggbok.protocol import types as t
from loggbok.tui.widgets.entry_render import entry_content
from loggbok.tui.widgets.lists import OpenList

MORE_MARGIN_LINES = 20
MORE_MARGIN_ENTRIES = 5


class TimelineList(OpenList):
    """Entries as options; option ids are `e<entry_id>`."""

    @dataclass
    class NeedMore(Message):
        """The user reached the end of what is loaded."""

        timeline_list: TimelineList

    @dataclass
    class Opened(Message):
        """The user chose an entry (Enter)."""

        entry: t.TimelineEntry

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.entries: list[t.TimelineEntry] = []
        self.limit_bytes: int | None = None
        self.exhausted = False
        self._asked = False

    @property
    def current(self) -> t.TimelineEntry | None:
        if self.highlighted is None or not 0 <= self.highlighted < len(self.entries):
            return None
        return self.entries[self.highlighted]

    def _option(self, entry: t.TimelineEntry) -> Option:
        width = max(20, self.app.size.width - 4)
        return Option(entry_content(entry, self.limit_bytes, width), id=f"e{entry.entry_id}")

    def reset(self) -> None:
        self.entries = []
        self.exhausted = False
        self._asked = False
        self.clear_options()

    def add_page(self, entries: list[t.TimelineEntry], exhausted: bool) -> None:
        """Append one page (older entries) below what is shown."""
        known = {e.entry_id for e in self.entries}
        fresh = [e for e in entries if e.entry_id not in known]
        self.entries.extend(fresh)
        self.add_options([self._option(e) for e in fresh])
        if self.highlighted is None and self.entries:
            self.highlighted = 0
        self.exhausted = exhausted
        self._asked = False

    def prepend(self, entry: t.TimelineEntry) -> None:
        """Show a live entry at the top, keeping the cursor on the entry it was on."""
        if any(e.entry_id == entry.entry_id for e in self.entries):
            return
        highlighted = self.highlighted
        scroll = self.scroll_y
        self.entries.insert(0, entry)
        # Reuse the Option objects: each keeps its rendered visual, so only the new one renders.
        self.set_options([self._option(entry), *self.options])
        self.highlighted = 0 if highlighted is None else highlighted + 1
        if scroll:
            self.scroll_to(y=scroll, animate=False)

    def _maybe_more(self) -> None:
        if self.exhausted or self._asked or not self.entries:
            return
        near_bottom = self.max_scroll_y - self.scroll_y <= MORE_MARGIN_LINES
        near_cursor = (self.highlighted or 0) >= len(self.entries) - MORE_MARGIN_ENTRIES
        if near_bottom or near_cursor:
            self._asked = True
            self.post_message(self.NeedMore(self))

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._maybe_more()

    def watch_highlighted(self, highlighted: int | None) -> None:
        super().watch_highlighted(highlighted)
        self._maybe_more()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if 0 <= event.option_index < len(self.entries):
            self.post_message(self.Opened(self.entries[event.option_index]))
