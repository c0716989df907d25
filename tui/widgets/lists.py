"""The keys every list in loggbok shares: j/k, Home/End, PgUp/PgDn, Enter to open.

Textual's `DataTable` moves its row cursor with Home/End only with Ctrl, and
neither it nor `OptionList` knows j/k; their Enter is hidden from the footer.
`LIST_KEYS` adds what is missing, so a table (`PlainTable`) and an option
list (`OpenList`) answer the same keys, and Enter shows in the footer as
"Open" on lists whose rows open something (`opens=True`, the default).
"""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import OptionList

LIST_KEYS: list[BindingType] = [
    Binding("j", "cursor_down", "Down", show=False),
    Binding("k", "cursor_up", "Up", show=False),
]
"""Vim's j/k beside the arrows, in every list."""

OPEN_KEY = Binding("enter", "select", "Open", show=True)


class OpenList(OptionList):
    """An `OptionList` with the shared list keys; Enter (shown) opens the highlighted row."""

    BINDINGS: ClassVar[list[BindingType]] = [*LIST_KEYS, OPEN_KEY]
