"""`AuditDialog`: what `mailboxes.audit` found, server against store.

The counts in one line, then one row per message the server has and the store
does not (`missing`) and per message the store has that left the server's
folder (`extra`), each with its folder, remote id, Message-ID and reason.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label

from loggbok.protocol import types as t
from loggbok.tui.data.text import plural
from loggbok.tui.widgets.plain import PlainTable


def audit_summary(address: str, result: t.AuditResult) -> str:
    if not result.missing and not result.extra:
        return (
            f"{address}: the server's {plural(result.server_messages, 'message')} and the"
            f" store's {result.stored_messages} agree."
        )
    return (
        f"{address}: the server has {plural(result.server_messages, 'message')}, the store"
        f" {result.stored_messages}; {len(result.missing)} not synced yet,"
        f" {len(result.extra)} no longer on the server."
    )


class AuditDialog(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close")]

    def __init__(self, address: str, result: t.AuditResult) -> None:
        super().__init__()
        self.address = address
        self.result = result

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog dialog-tall", id="audit-dialog"):
            yield Label(
                audit_summary(self.address, self.result),
                id="audit-summary",
                classes="dialog-title",
                markup=False,
            )
            yield PlainTable(id="audit-table", cursor_type="row")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Close", id="close", variant="primary")

    def on_mount(self) -> None:
        table = self.query_one(PlainTable)
        for name in ("Found", "Folder", "UID", "Message-ID", "Reason"):
            table.add_column(name, key=name)
        for kind, entries in (("missing", self.result.missing), ("extra", self.result.extra)):
            for entry in entries:
                table.add_row(kind, entry.folder, entry.uid, entry.message_id, entry.reason)
        table.display = bool(self.result.missing or self.result.extra)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
