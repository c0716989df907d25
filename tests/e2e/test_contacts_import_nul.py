"""`contacts.import` of a file with a NUL in a name, an address or a company, on both
stores: never an Internal error, and nothing lost of the other cards.

A NUL is no text (PostgreSQL's text refuses it; the params check refuses it on both
stores), but a contact file is read by the daemon itself, past that check. Before:
on PostgreSQL the batch holding such a card failed whole (Internal error), the
other cards of the batch with it; on SQLite the name was stored with its NUL. Now
a name or company loses its NULs and an address holding one is invalid (named in
the errors; the card's other addresses kept).
"""

from __future__ import annotations

from pathlib import Path

from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.client import Client

VCARD = (
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Anna Före\r\nEMAIL:anna@kund.example\r\n"
    "ORG:Kundbolaget\r\nEND:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bo\x00rje\r\nEMAIL:borje@kund.example\r\n"
    "ORG:Nul\x00lbolaget\r\nEND:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Cilla\r\nEMAIL:cil\x00la@kund.example\r\n"
    "EMAIL:cilla@other.example\r\nEND:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Dan\r\nEMAIL:dan@kund.example\r\n"
    "ORG:\x00\r\nEND:VCARD\r\n"
)
CSV = (
    "Name,E-mail Address,Company\r\n"
    "Eva,eva@kund.example,Kundbolaget\r\n"
    "Fre\x00drik,fredrik@kund.example,Nul\x00lbolaget\r\n"
    "Gun,gu\x00n@kund.example,Kundbolaget\r\n"
    "Hans,hans@kund.example,Kundbolaget\r\n"
)


async def _contacts(client: Client) -> dict[str, str]:
    """address -> name of every contact (a contact's company comes from its address's
    domain, not the card's: a NUL in the card's company must only do no harm)."""
    found = await client.call(m.CONTACTS_LIST, t.ContactsListParams(limit=100))
    return {e: c.name for c in found.contacts for e in c.emails}


async def test_a_nul_in_a_contact_file_is_cleaned_and_the_other_cards_kept(
    client: Client, workdir: Path
) -> None:
    vcard = workdir / "nul.vcf"
    vcard.write_text(VCARD, encoding="utf-8")
    csv = workdir / "nul.csv"
    csv.write_text(CSV, encoding="utf-8")
    first = await client.call(m.CONTACTS_IMPORT, t.ContactsImportParams(path=str(vcard)))
    second = await client.call(m.CONTACTS_IMPORT, t.ContactsImportParams(path=str(csv)))
    assert (first.created, second.created) == (4, 3)
    contacts = await _contacts(client)
    assert contacts == {
        "anna@kund.example": "Anna Före",
        "borje@kund.example": "Borje",
        "cilla@other.example": "Cilla",
        "dan@kund.example": "Dan",
        "eva@kund.example": "Eva",
        "fredrik@kund.example": "Fredrik",
        "hans@kund.example": "Hans",
    }
    errors = first.errors + second.errors
    assert any("cil\\x00la@kund.example" in e for e in errors), errors  # named, not kept
    assert any("gu\\x00n@kund.example" in e for e in errors), errors
    assert not any("\x00" in e for e in errors)
