"""`KeysPanel`: every key that works here, the app's first (the `?` panel).

Textual's own panel lists the focused widget's keys first and the app's last,
so the keys that work everywhere (the views, Esc, quit) end up below a list's
cursor keys. This one reads the same active bindings and groups them: the
app's, then the screen's, then the focused widget's.
"""

from __future__ import annotations

from collections import defaultdict

from rich import box
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import ActiveBinding
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widgets import KeyPanel
from textual.widgets._key_panel import BindingsTable


def grouped(screen: Screen[object], app: DOMNode) -> list[tuple[str, list[ActiveBinding]]]:
    """The screen's enabled active bindings as (heading, bindings): app, screen, the rest."""
    groups: dict[str, list[ActiveBinding]] = defaultdict(list)
    for active in screen.active_bindings.values():
        if not active.enabled or active.binding.system or not active.binding.description:
            continue
        if active.node is app:
            heading = "Everywhere"
        elif active.node is screen:
            heading = "This screen"
        else:
            heading = "In the list or field"
        groups[heading].append(active)
    order = ("Everywhere", "This screen", "In the list or field")
    return [(heading, groups[heading]) for heading in order if groups[heading]]


class AppFirstBindings(BindingsTable):
    def render_bindings_table(self) -> Table:
        key_style = self.get_component_rich_style("bindings-table--key")
        header_style = self.get_component_rich_style("bindings-table--header")
        table = Table(padding=(0, 0), show_header=False, box=box.SIMPLE)
        table.add_column("", justify="right")
        table.add_column("")
        for heading, bindings in grouped(self.screen, self.app):
            table.add_row("", Text(heading, style=header_style))
            by_action: dict[str, list[str]] = defaultdict(list)
            described: dict[str, str] = {}
            for active in bindings:
                by_action[active.binding.action].append(self.app.get_key_display(active.binding))
                described[active.binding.action] = active.binding.description
            for action, keys in by_action.items():
                table.add_row(
                    Text(" ".join(dict.fromkeys(keys)), style=key_style),
                    Text(described[action]),
                )
            table.add_section()
        return table


class KeysPanel(KeyPanel):
    """The keys panel `?` toggles."""

    def compose(self) -> ComposeResult:
        yield AppFirstBindings(shrink=True, expand=False)
