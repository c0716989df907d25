"""`EvidenceGrid`: label and value rows whose values wrap under themselves.

A table cuts a long value (a Message-ID, a list of subjects) at the screen's
edge; here each value wraps within its own column, so Why?'s evidence stays
readable at 80 columns and scrolls with the screen.
"""

from __future__ import annotations

from textual.containers import Grid
from textual.widgets import Static


class EvidenceGrid(Grid):
    """Two columns: the labels (as wide as the widest), the values (the rest)."""

    rows: list[tuple[str, str]]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="evidence-grid")
        self.rows = []

    async def show(self, rows: list[tuple[str, str]]) -> None:
        self.rows = list(rows)
        await self.remove_children()
        cells: list[Static] = []
        for name, value in rows:
            cells.append(Static(name, classes="evidence-label", markup=False))
            cells.append(Static(value, classes="evidence-value", markup=False))
        await self.mount_all(cells)
