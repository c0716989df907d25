"""Contacts: a searchable list by last activity; add, edit, import; Enter opens a timeline.

The list reloads by itself (debounced) when a message is logged onto a
timeline or a mailbox's sync finishes, so last-activity dates stay current.
An import shows a bar that follows the daemon's `contacts.import_progress`
(bytes of the file read), then its summary (created/updated/skipped/errors)
stays in the status bar, and past mail is re-checked with the new contacts
(asked first; `p` asks any time). A contact with a tracked thread that cannot
be followed now (R13: its mailbox is unavailable or removed) is marked ⚠ and
the list reloads when a mailbox becomes unavailable.

On an install that is not set up yet, a first-run checklist sits above the
list (`widgets/checklist.py`): contacts, the logging address, your own
addresses, a mailbox, each started by its number key and ticked as the
daemon's state says it is done (re-read whenever the screen shows, a mailbox
changes or contacts change).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widgets import DataTable, Footer, Header, Input, Label, ProgressBar

from loggbok.protocol import methods
from loggbok.protocol import types as t
from loggbok.protocol.errors import RpcError
from loggbok.tui.data import text
from loggbok.tui.data.first_run import checklist_state
from loggbok.tui.data.link import DaemonUnreachable
from loggbok.tui.dialogs.contact_form import ContactDraft, ContactForm
from loggbok.tui.dialogs.prompt import TextPrompt
from loggbok.tui.focus import typing
from loggbok.tui.screens.past_mail import PastMailScreen
from loggbok.tui.screens.timeline import TimelineScreen
from loggbok.tui.widgets.checklist import Checklist
from loggbok.tui.widgets.plain import PlainTable

PAGE = 200


NAME_CHARS = 24
COMPANY_CHARS = 20
DATE_CHARS = 16
"""Column widths at most, so the addresses fit beside them at 80 columns."""


class ContactsScreen(PastMailScreen):
    """The contact list; the app's first view."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open_timeline", "Timeline", show=True),
        Binding("f", "focus_filter", "Filter"),
        Binding("a", "add_contact", "Add"),
        Binding("e", "edit_contact", "Edit"),
        Binding("i", "import_contacts", "Import"),
        Binding("r", "reload", "Refresh", show=False),  # it reloads by itself; ? lists r
        Binding("p", "recheck_past_mail", "Re-check past mail", show=False),
        Binding("escape", "clear_filter", "Clear filter"),
        Binding("1", "import_contacts", "Set up: contacts", show=False),
        Binding("2", "set_up('bcc-address')", "Set up: logging address", show=False),
        Binding("3", "set_up('own-addresses')", "Set up: your own addresses", show=False),
        Binding("4", "set_up_mailbox", "Set up: a mailbox", show=False),
    ]

    query_text: reactive[str] = reactive("")
    import_summary: reactive[str] = reactive("")

    def __init__(self) -> None:
        super().__init__()
        self.contacts: list[t.Contact] = []
        self.next_cursor: str | None = None
        self.importing: str | None = None
        """The path of the import in flight, whose progress the bar shows."""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Checklist(id="first-run")
        yield Input(
            placeholder="filter contacts by name, address or company (f)", id="contacts-filter"
        )
        yield PlainTable(id="contacts-table", cursor_type="row", zebra_stripes=True, opens=True)
        with Horizontal(id="contacts-status-bar", classes="status-bar"):
            yield Label("Connecting to the daemon…", id="contacts-status", markup=False)
            yield ProgressBar(id="import-progress", show_eta=False)
            yield Label("", id="import-summary", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Contacts"
        table = self.query_one(DataTable)
        # Addresses last: at 80 columns they are the part that may be cut.
        table.add_column("Name", key="name")
        table.add_column("Last activity", key="last")
        table.add_column("Company", key="company")
        table.add_column("Addresses", key="emails")
        self.query_one("#import-progress").display = False
        self.query_one("#import-summary").display = False
        self.query_one(Checklist).display = False
        self.loggbok.timeline_appended.subscribe(self, self._data_changed)
        self.loggbok.timeline_changed.subscribe(self, self._data_changed)
        self.loggbok.mailbox_changed.subscribe(self, self._mailbox_changed)
        self.loggbok.import_progress.subscribe(self, self._import_progress)
        self.loggbok.config_changed.subscribe(self, lambda _status: self.refresh_checklist())
        table.focus()

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        self.refresh_checklist()

    @work(exclusive=True, group="first-run")
    async def refresh_checklist(self) -> None:
        """Tick the first-run steps from the daemon's state."""
        try:
            steps = await checklist_state(self.link)
        except (RpcError, DaemonUnreachable):
            return  # the list's own load reports the daemon's trouble
        for checklist in self.query(Checklist):  # none once the screen is torn down
            checklist.show_steps(steps)
        self.refresh_bindings()

    async def action_set_up(self, field: str) -> None:
        """Open Settings with the cursor in `field`."""
        await self.loggbok.action_open_view("settings")
        self.app.screen.query_one(f"#{field}", Input).focus()

    async def action_set_up_mailbox(self) -> None:
        """Open Mailboxes with the form to add one."""
        await self.loggbok.action_open_view("mailboxes")
        await self.app.screen.run_action("add_mailbox")

    def _data_changed(self, _event: t.TimelineAppended | t.TimelineChanged) -> None:
        self.schedule_reload()

    def _import_progress(self, event: t.ContactsImportProgress) -> None:
        if event.path != self.importing:
            return
        self.query_one("#import-progress", ProgressBar).update(
            total=max(event.total_bytes, 1), progress=event.bytes_read
        )
        self.import_summary = (
            f"Importing {Path(event.path).name}: {event.created} created,"
            f" {event.updated} updated, {event.skipped} skipped"
        )

    def _mailbox_changed(self, event: t.MailboxStatusChanged) -> None:
        self.refresh_checklist()
        if event.status in ("idle", "auth_failed", "disconnected", "error"):
            self.schedule_reload()  # new entries, or contacts going blind (R13)

    def load(self) -> None:
        self.fetch(self.query_text)
        self.refresh_checklist()

    @work(exclusive=True, group="contacts")
    async def fetch(self, query: str, more: bool = False) -> None:
        try:
            result = await self.link.call(
                methods.CONTACTS_LIST,
                t.ContactsListParams(
                    query=query, limit=PAGE, cursor=self.next_cursor if more else None
                ),
            )
        except (RpcError, DaemonUnreachable) as exc:
            self.report(exc, "Loading contacts")
            return
        self.mark_loaded()
        self.next_cursor = result.next
        self.contacts = [*self.contacts, *result.contacts] if more else list(result.contacts)
        self._fill()

    def _fill(self) -> None:
        table = self.query_one(DataTable)
        selected = self.current
        table.clear()
        width = self.app.size.width
        name_w = max((len(c.name or "—") for c in self.contacts), default=4)
        company_w = max((len(c.company or "") for c in self.contacts), default=7)
        emails_w = max((len(", ".join(c.emails)) for c in self.contacts), default=9)
        if name_w + company_w + emails_w + DATE_CHARS + 10 > width:
            # Too wide: names and companies are cut, and what is left of the screen is
            # the addresses' (cut there too), so nothing scrolls sideways.
            name_w, company_w = min(NAME_CHARS, name_w), min(COMPANY_CHARS, company_w)
            emails_w = max(12, width - name_w - company_w - DATE_CHARS - 10)
        for contact in self.contacts:
            blind = "⚠ " if contact.blind_threads else ""  # R13: a thread cannot be followed
            table.add_row(
                blind + text.cut(contact.name or "—", name_w),
                text.format_date(contact.last_activity) if contact.last_activity else "",
                text.cut(contact.company or "", company_w),
                text.cut(", ".join(contact.emails), emails_w),
                key=str(contact.id),
            )
        if selected is not None:
            for row, contact in enumerate(self.contacts):
                if contact.id == selected.id:
                    table.move_cursor(row=row)
        self.query_one("#contacts-status", Label).update(self._status_words())

    def _status_words(self) -> str:
        count = len(self.contacts)
        if count == 0 and self.query_text:
            return f"No contact matches “{self.query_text}”: Esc clears the filter."
        if count == 0:
            return "No contacts yet: import a vCard or CSV file (i) or add one (a)."
        more = " (more: scroll down)" if self.next_cursor else ""
        return f"{text.plural(count, 'contact')}{more}"

    @property
    def current(self) -> t.Contact | None:
        table = self.query_one(DataTable)
        if not self.contacts or not 0 <= table.cursor_row < len(self.contacts):
            return None
        return self.contacts[table.cursor_row]

    @on(DataTable.RowHighlighted)
    def _maybe_more(self, event: DataTable.RowHighlighted) -> None:
        if self.next_cursor and event.cursor_row >= len(self.contacts) - 5:
            self.fetch(self.query_text, more=True)

    @on(Input.Changed, "#contacts-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.query_text = event.value
        self.refresh_bindings()
        self.fetch(event.value)

    @on(Input.Submitted, "#contacts-filter")
    def _filter_submitted(self) -> None:
        self.query_one(DataTable).focus()

    @on(DataTable.RowSelected)
    def _row_selected(self) -> None:
        self.action_open_timeline()

    def action_open_timeline(self) -> None:
        contact = self.current
        if contact is not None:
            self.app.push_screen(TimelineScreen(contact))

    def action_focus_filter(self) -> None:
        self.query_one("#contacts-filter", Input).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter":  # Esc in the filter leaves it (the app's key)
            return not typing(self.app) and bool(self.query_text)
        if action in ("set_up", "set_up_mailbox"):
            shown = any(c.display for c in self.query(Checklist))
            return shown and super().check_action(action, parameters)
        return super().check_action(action, parameters)

    def action_clear_filter(self) -> None:
        self.query_one("#contacts-filter", Input).value = ""
        self.query_one(DataTable).focus()

    def action_reload(self) -> None:
        self.load()

    def action_add_contact(self) -> None:
        self.app.push_screen(ContactForm(), self._created)

    def _created(self, draft: ContactDraft | None) -> None:
        if draft is not None:
            self.save_contact(draft, None)

    def action_edit_contact(self) -> None:
        contact = self.current
        if contact is not None:
            self.app.push_screen(ContactForm(contact), lambda draft: self._edited(draft, contact))

    def _edited(self, draft: ContactDraft | None, contact: t.Contact) -> None:
        if draft is not None:
            self.save_contact(draft, contact)

    @work(group="contact-save")
    async def save_contact(self, draft: ContactDraft, contact: t.Contact | None) -> None:
        try:
            if contact is None:
                await self.link.call(
                    methods.CONTACTS_CREATE,
                    t.ContactCreateParams(
                        email=draft.emails[0], name=draft.name or None, emails=draft.emails
                    ),
                )
                self.notify(f"Added {draft.name or draft.emails[0]}", markup=False)
            else:
                await self.link.call(
                    methods.CONTACTS_UPDATE,
                    t.ContactUpdateParams(id=contact.id, name=draft.name, emails=draft.emails),
                )
                self.notify(f"Saved {draft.name or draft.emails[0]}", markup=False)
        except (RpcError, DaemonUnreachable) as exc:
            self.report(exc, "Saving the contact")
            return
        self.load()

    def action_import_contacts(self) -> None:
        self.app.push_screen(
            TextPrompt(
                "Import contacts from a vCard (.vcf) or CSV file",
                placeholder="/path/to/contacts.vcf",
            ),
            self._import_chosen,
        )

    def _import_chosen(self, path: str | None) -> None:
        if path and path.strip():
            # The daemon reads the file: send a path that does not depend on its cwd.
            self.import_contacts(str(Path(path.strip()).expanduser().absolute()))

    def watch_import_summary(self, summary: str) -> None:
        label = self.query_one("#import-summary", Label)
        label.update(summary)
        label.display = bool(summary)

    @work(exclusive=True, group="contacts-import")
    async def import_contacts(self, path: str) -> None:
        bar = self.query_one("#import-progress", ProgressBar)
        bar.update(total=None, progress=0)  # pulses until the first progress
        bar.display = True
        self.import_summary = f"Importing {Path(path).name}…"
        self.importing = path
        try:
            result = await self.link.call(
                methods.CONTACTS_IMPORT, t.ContactsImportParams(path=path)
            )
        except (RpcError, DaemonUnreachable) as exc:
            self.import_summary = f"Import of {Path(path).name} failed"
            self.report(exc, "Importing contacts")
            return
        finally:
            bar.display = False
            self.importing = None
        summary = (
            f"Import: {result.created} created, {result.updated} updated, "
            f"{result.skipped} skipped, {text.plural(len(result.errors), 'error')}"
        )
        self.import_summary = summary
        self.notify(
            summary if not result.errors else summary + "\n" + "\n".join(result.errors[:5]),
            severity="warning" if result.errors else "information",
            timeout=10 if result.errors else 5,
            markup=False,
        )
        self.load()
        if result.created or result.updated:
            self.recheck_past_mail(quiet=True)
