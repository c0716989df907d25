"""`ContactPicker`: choose the contacts a message is logged onto; returns their ids.

It searches contacts through the daemon as the user types and keeps the
choices made across searches. Suggested contacts (the message's participants
who are contacts) start selected. When the contact the message needs does not
exist yet, "New contact" (ctrl+n) creates it in place (`contacts.create`,
prefilled with the message's counterpart or the search) and chooses it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, SelectionList
from textual.widgets.selection_list import Selection

from loggbok.protocol import methods
from loggbok.protocol import types as t
from loggbok.protocol.errors import RpcError
from loggbok.tui.data.link import DaemonUnreachable
from loggbok.tui.dialogs.contact_form import ContactDraft, ContactForm

if TYPE_CHECKING:
    from loggbok.tui.app import LoggbokApp


def contact_label(contact: t.Contact) -> str:
    address = contact.emails[0] if contact.emails else ""
    return f"{contact.name or address}  <{address}>" if contact.name else address


class ContactPicker(ModalScreen[list[int] | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Log"),
        Binding("ctrl+n", "new_contact", "New contact"),
    ]

    def __init__(
        self,
        title: str,
        suggested: list[int] | None = None,
        query: str = "",
        new: ContactDraft | None = None,
    ) -> None:
        super().__init__()
        self.picker_title = title
        self.chosen: set[int] = set(suggested or [])
        self.initial_query = query
        self.new = new
        """What "New contact" starts from (the message's counterpart); else the search."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog dialog-tall"):
            yield Label(self.picker_title, classes="dialog-title", markup=False)
            yield Input(self.initial_query, placeholder="search contacts", id="picker-query")
            yield SelectionList[int](id="picker-list")
            yield Label("", id="picker-count", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Log onto chosen", variant="primary", id="save")
                yield Button("New contact", id="new")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.search(self.initial_query)
        self._count()

    @on(Input.Changed, "#picker-query")
    def _query_changed(self, event: Input.Changed) -> None:
        self.search(event.value)

    @on(Input.Submitted, "#picker-query")
    def _query_submitted(self) -> None:
        self.query_one("#picker-list", SelectionList).focus()

    @work(exclusive=True, group="picker-search")
    async def search(self, query: str) -> None:
        app = cast("LoggbokApp", self.app)
        try:
            found = await app.link.call(
                methods.CONTACTS_LIST, t.ContactsListParams(query=query, limit=100)
            )
            contacts = list(found.contacts)
            missing = self.chosen - {c.id for c in contacts}
            for contact_id in sorted(missing):
                contacts.insert(
                    0, await app.link.call(methods.CONTACTS_GET, t.IdParams(id=contact_id))
                )
        except (RpcError, DaemonUnreachable) as exc:
            self.notify(f"Searching contacts: {exc}", severity="error", markup=False)
            return
        selections = self.query_one("#picker-list", SelectionList)
        with self.prevent(SelectionList.SelectedChanged):
            selections.clear_options()
            selections.add_options(
                [Selection(Content(contact_label(c)), c.id, c.id in self.chosen) for c in contacts]
            )
        if contacts:
            selections.highlighted = 0
        self.found = len(contacts)
        self._count()

    @on(SelectionList.SelectionToggled, "#picker-list")
    def _toggled(self, event: SelectionList.SelectionToggled[int]) -> None:
        value = event.selection.value
        if value in self.chosen:
            self.chosen.discard(value)
        else:
            self.chosen.add(value)
        self._count()

    found: int | None = None
    """How many contacts the last search showed (None before it answered)."""

    def _count(self) -> None:
        chosen = f"{len(self.chosen)} chosen"
        if self.found == 0:
            chosen = f"No contact matches. Ctrl+N creates one. {chosen}"
        self.query_one("#picker-count", Label).update(chosen)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "save":
            self.action_save()
        elif event.button.id == "new":
            self.action_new_contact()
        else:
            self.dismiss(None)

    def action_new_contact(self) -> None:
        """Create a contact (prefilled) and choose it."""
        draft = self.new
        if draft is None:
            typed = self.query_one("#picker-query", Input).value.strip()
            draft = ContactDraft("", [typed]) if "@" in typed else ContactDraft(typed, [])
        self.app.push_screen(ContactForm(draft=draft), self._drafted)

    def _drafted(self, draft: ContactDraft | None) -> None:
        if draft is not None:
            self.create_contact(draft)

    @work(group="picker-create")
    async def create_contact(self, draft: ContactDraft) -> None:
        app = cast("LoggbokApp", self.app)
        try:
            created = await app.link.call(
                methods.CONTACTS_CREATE,
                t.ContactCreateParams(
                    email=draft.emails[0], name=draft.name or None, emails=draft.emails
                ),
            )
        except (RpcError, DaemonUnreachable) as exc:
            self.notify(f"Creating the contact: {exc}", severity="error", markup=False)
            return
        self.chosen.add(created.id)
        self.notify(f"Added {draft.name or draft.emails[0]}; chosen.", markup=False)
        query = self.query_one("#picker-query", Input)
        with self.prevent(Input.Changed):
            query.value = draft.emails[0]
        self.search(draft.emails[0])

    def action_save(self) -> None:
        if not self.chosen:
            self.notify(
                "Choose at least one contact (space toggles).", severity="warning", markup=False
            )
            return
        self.dismiss(sorted(self.chosen))

    def action_cancel(self) -> None:
        self.dismiss(None)
