"""`PastMailPreview`: what re-checking past mail would change, asked before it is done.

Shows a `messages.redecide` dry run in plain words: how many messages would
change, the counts by old -> new reason ("No contact takes part -> Email with
a contact: 12") and a sample of the messages. Returns True for Apply.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label

from loggbok.protocol import types as t
from loggbok.tui.data import text
from loggbok.tui.data.reasons import label
from loggbok.tui.widgets.plain import PlainTable


def change_words(change: t.ReasonChange) -> str:
    """One line of the counts: "Not in a tracked thread → Email with a contact"."""
    if change.from_ == change.to:
        return f"{label(change.to)}: contacts change"
    return f"{label(change.from_)} → {label(change.to)}"


def headline(preview: t.RedecideResult) -> str:
    entries = []
    if preview.entries_added:
        entries.append(
            f"{text.plural(preview.entries_added, 'timeline entry', 'timeline entries')} added"
        )
    if preview.entries_removed:
        entries.append(f"{preview.entries_removed} removed")
    more = f" ({', '.join(entries)})" if entries else ""
    return f"{preview.changed} of {preview.examined} messages would change{more}."


def contacts_words(message: t.RedecidedMessage) -> str:
    parts = []
    if message.contacts_gained:
        parts.append(f"+{len(message.contacts_gained)}")
    if message.contacts_lost:
        parts.append(f"−{len(message.contacts_lost)}")
    return " ".join(parts)


class PastMailPreview(ModalScreen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "apply", "Apply"),
    ]

    def __init__(
        self,
        preview: t.RedecideResult,
        title: str = "Re-check past mail with today's contacts and settings",
    ) -> None:
        super().__init__()
        self.preview = preview
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog dialog-wide"):
            yield Label(self.title_text, id="past-mail-title", classes="dialog-title", markup=False)
            yield Label(headline(self.preview), id="past-mail-headline", markup=False)
            yield PlainTable(id="past-mail-counts", show_cursor=False)
            yield Label("For example:", classes="field-label")
            yield PlainTable(id="past-mail-sample", show_cursor=False)
            if self.preview.kept:
                yield Label(
                    f"{self.preview.kept} messages stay as they are (decided by hand, or"
                    " mail of a team mailbox).",
                    id="past-mail-kept",
                    markup=False,
                )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Apply", variant="primary", id="apply")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        counts = self.query_one("#past-mail-counts", PlainTable)
        counts.add_columns("Change", "Messages")
        for change in self.preview.changes:
            counts.add_row(change_words(change), str(change.count))
        sample = self.query_one("#past-mail-sample", PlainTable)
        sample.add_columns("Date", "Subject", "Now", "Contacts")
        for message in self.preview.sample:
            sample.add_row(
                text.format_date(message.date),
                message.subject or "(no subject)",
                label(message.new_reason),
                contacts_words(message),
            )
        self.query_one("#apply", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "apply")

    def action_apply(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
