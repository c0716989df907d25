"""Text from mail, contacts, files and the daemon shown as it is: never read as markup.

Textual reads a `str` as content markup almost everywhere: `Static` and
`Label` (and their `update`), `DataTable` cells, option and selection
prompts, button labels, `notify`. A subject holding `[/]` would raise
`MarkupError` and close the TUI; one holding `[@click=app.quit]…` would
become a clickable action. loggbok styles with `Content` spans and CSS, never
with markup inside strings, so the rule in `tui/` is:

- a `Static` or `Label` that shows anything but a fixed string is made with
  `markup=False`; so is every one with an id (something may update it);
- every `notify` passes `markup=False`;
- option, selection and button prompts built from data are `Content(text)`;
- tables are `PlainTable`, whose `add_row` turns `str` cells into plain `Text`
  (so `get_cell` gives `Text`: compare `str(cell)`).

`tests/tui/test_plain_text.py` checks the first, second and last rule in the
sources, and all of them on screen with hostile names, subjects, bodies and
file names served by a real daemon.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text, TextType
from textual.binding import Binding, BindingType
from textual.widgets import DataTable
from textual.widgets.data_table import CursorType, RowKey

from loggbok.tui.widgets.lists import LIST_KEYS


def plain_cell(value: str | Text, height: int | None = 1) -> Text:
    """A table cell showing `value` literally, laid out as `DataTable` lays out a `str`.

    Like Textual's own formatter: a one-line row does not wrap, and only the
    lines the row can show are kept (so a hidden line does not widen the column).
    """
    if isinstance(value, Text):
        return value
    if height:
        value = "\n".join(value.split("\n")[:height])
    return Text(value, no_wrap=height == 1, end="")


class PlainTable(DataTable[Text]):
    """A `DataTable` whose `str` cells are plain text, not markup, with the keys every
    list shares (`widgets/lists.py`): j/k, Home/End to the first and last row, and
    Enter shown as "Open" when its rows open something (`opens=True`)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *LIST_KEYS,
        Binding("home", "scroll_top", "First", show=False),
        Binding("end", "scroll_bottom", "Last", show=False),
        Binding("enter", "select_cursor", "Open", show=True),
    ]

    def __init__(
        self,
        *,
        id: str | None = None,
        cursor_type: CursorType = "cell",
        zebra_stripes: bool = False,
        show_cursor: bool = True,
        opens: bool = False,
    ) -> None:
        super().__init__(
            id=id, cursor_type=cursor_type, zebra_stripes=zebra_stripes, show_cursor=show_cursor
        )
        self.opens = opens

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.opens or action != "select_cursor"

    def add_row(
        self,
        *cells: str | Text,
        height: int | None = 1,
        key: str | None = None,
        label: TextType | None = None,
    ) -> RowKey:
        shown = [plain_cell(value, height) for value in cells]
        row_key = super().add_row(
            *shown,
            height=height,
            key=key,
            label=None if label is None else plain_cell(label, height),
        )
        self._widen_columns(shown)
        return row_key

    def _widen_columns(self, cells: list[Text]) -> None:
        """Grow each auto-width column to its new cell now, as `DataTable` does on its
        next idle: a frame drawn in between (a busy app, a screenshot) would show the
        rows cut to the headers' widths. One-line cells only (a taller row's width
        depends on how it wraps: left to `DataTable`)."""
        for column, cell in zip(self.ordered_columns, cells, strict=False):
            if column.auto_width and cell.no_wrap:
                column.content_width = max(column.content_width, cell.cell_len)
