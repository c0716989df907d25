"""A `PlainTable`'s columns are as wide as their cells the moment the rows are added.

Textual's `DataTable` measures new cells on its next idle; a frame drawn
before that (a busy machine, a snapshot) showed every row cut to its column's
header ("Priy" for "Priya Shah"). `PlainTable.add_row` widens the columns at once.
"""

from __future__ import annotations

from textual.app import App, ComposeResult

from loggbok.tui.widgets.plain import PlainTable


class _Tables(App[None]):
    def compose(self) -> ComposeResult:
        yield PlainTable(id="t")


async def test_columns_fit_their_cells_before_the_table_is_idle() -> None:
    app = _Tables()
    async with app.run_test(size=(100, 10)):
        table = app.query_one(PlainTable)
        table.add_column("Name", key="name")
        table.add_column("Company", key="company")
        table.add_row("Charlotte Hughes", "Harrowpike")
        table.add_row("Åsa Ek", "Kestrel Analytics AB")
        # no await in between: DataTable's own idle pass has not run
        widths = {str(c.key.value): c.content_width for c in table.ordered_columns}
        assert widths == {"name": len("Charlotte Hughes"), "company": len("Kestrel Analytics AB")}
        table.clear()
        table.add_row("Bo", "Ek")  # columns never shrink on a reload, as in DataTable
        assert table.ordered_columns[0].content_width == len("Charlotte Hughes")
