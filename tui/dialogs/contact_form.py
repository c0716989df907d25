"""`ContactForm`: name and addresses of a new or existing contact."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

from loggbok.protocol import types as t


@dataclass(frozen=True)
class ContactDraft:
    """What the form returns: a name and at least one address."""

    name: str
    emails: list[str]


def split_addresses(text: str) -> list[str]:
    return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]


class ContactForm(ModalScreen[ContactDraft | None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, contact: t.Contact | None = None, draft: ContactDraft | None = None) -> None:
        """Edit `contact`, or add one (starting from `draft` when given)."""
        super().__init__()
        self.contact = contact
        self.draft = draft or (
            ContactDraft(contact.name or "", list(contact.emails)) if contact else None
        )

    def compose(self) -> ComposeResult:
        draft = self.draft
        with Vertical(classes="dialog"):
            yield Label(
                "Edit contact" if self.contact else "Add contact",
                classes="dialog-title",
                markup=False,
            )
            yield Label("Name")
            yield Input(draft.name if draft else "", id="name", placeholder="Anna Berg")
            yield Label("Email addresses (comma-separated, first is primary)")
            yield Input(
                ", ".join(draft.emails) if draft else "",
                id="emails",
                placeholder="anna@example.com",
            )
            yield Label("", id="form-error", classes="error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    def _submit(self) -> None:
        emails = split_addresses(self.query_one("#emails", Input).value)
        if not emails or any("@" not in e for e in emails):
            self.query_one("#form-error", Label).update("Give at least one valid address.")
            return
        self.dismiss(ContactDraft(self.query_one("#name", Input).value.strip(), emails))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "save":
            self._submit()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
