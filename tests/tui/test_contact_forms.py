"""Contacts: the add/edit form and the file import, against a real daemon."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Input, Label, ProgressBar

from loggbok.protocol import methods
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from loggbok.tui.app import build_app
from loggbok.tui.dialogs.contact_form import ContactForm
from loggbok.tui.screens.contacts import ContactsScreen

from .conftest import DemoDaemon, screen_of, until
from .helpers import contact_by_email, import_contacts_file

SIZE = (160, 48)


async def test_add_then_edit_a_contact(demo_daemon: DemoDaemon, script_client: Client) -> None:
    email = "greta.nyman@tallbacka.example"
    app = build_app(demo_daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        screen = await screen_of(app, ContactsScreen)
        await until(lambda: screen.contacts)
        await pilot.press("a")
        form = await screen_of(app, ContactForm)
        form.query_one("#name", Input).value = "Greta Nyman"
        emails = form.query_one("#emails", Input)
        emails.value = email
        emails.focus()
        await pilot.press("enter")
        await until(lambda: any(email in c.emails for c in screen.contacts))
        created = await contact_by_email(script_client, email)
        assert created is not None and created.name == "Greta Nyman"

        table = screen.query_one(DataTable)
        table.move_cursor(row=[c.id for c in screen.contacts].index(created.id))
        await pilot.press("e")
        form = await screen_of(app, ContactForm)
        name = form.query_one("#name", Input)
        assert name.value == "Greta Nyman"
        assert form.query_one("#emails", Input).value == email
        name.value = "Greta Nyman-Berg"
        name.focus()
        await pilot.press("enter")
        await until(lambda: str(table.get_row(str(created.id))[0]) == "Greta Nyman-Berg")
        edited = await script_client.call(methods.CONTACTS_GET, t.IdParams(id=created.id))
        assert edited.name == "Greta Nyman-Berg"
        assert edited.emails == [email]


VCARDS = (
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Nils Holm\r\nEMAIL:nils.holm@tallbacka.example\r\n"
    "END:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Anna Bergström\r\n"
    "EMAIL:anna.bergstrom@fjallstrom-bygg.example\r\nEND:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:No Address\r\nEND:VCARD\r\n"
)


async def test_import_shows_its_summary_after_the_bar(
    demo_daemon: DemoDaemon, script_client: Client, tmp_path: Path
) -> None:
    cards = tmp_path / "contacts.vcf"
    cards.write_text(VCARDS, encoding="utf-8")
    app = build_app(demo_daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        screen = await screen_of(app, ContactsScreen)
        await until(lambda: screen.contacts)
        await import_contacts_file(app, pilot, cards)
        summary = screen.query_one("#import-summary", Label)
        await until(lambda: "created" in str(summary.render()))
        # Anna is already a contact with that name and address: nothing changes, so skipped.
        assert str(summary.render()) == "Import: 1 created, 0 updated, 2 skipped, 1 error"
        await until(lambda: any("nils.holm@tallbacka.example" in c.emails for c in screen.contacts))
        await pilot.pause()
        assert str(summary.render()).startswith("Import: 1 created")  # a reload keeps it
        assert not screen.query_one("#import-progress", ProgressBar).display
        assert await contact_by_email(script_client, "nils.holm@tallbacka.example") is not None
