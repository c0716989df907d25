"""R8: the forwarded original read out of every fixture client's forward.

The fixtures and the sender each one must give are listed in
`tests/data/forwards/README.md`; "unknown" means the block does not show the
sender's address and nothing may be guessed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from loggbok.daemon.mime.forward import ForwardedOriginal, Unparsed, parse_forward
from loggbok.daemon.mime.forward_block import read_address
from loggbok.daemon.mime.forward_dates import read_shown_date

DATA = Path(__file__).parents[1] / "data" / "forwards"
ROW = re.compile(r"^\| (\S+\.eml) \| (.+?) \| (\w+) \| (\S+) \|$", re.MULTILINE)
EXPECTED = {m[1]: m[4] for m in ROW.finditer((DATA / "README.md").read_text("utf-8"))}
ORIGINAL_DATE = "2024-01-08T09:12:00+00:00"
"""Monday 8 January 2024 10:12 CET, the original's time in every fixture shown with a
zone or sent from a +0100 client."""


def test_every_fixture_is_listed() -> None:
    assert sorted(EXPECTED) == sorted(p.name for p in DATA.glob("*.eml"))
    assert len(EXPECTED) >= 30


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_original_sender(name: str) -> None:
    found = parse_forward((DATA / name).read_bytes())
    if EXPECTED[name] == "unknown":
        assert isinstance(found, Unparsed), found
        return
    assert isinstance(found, ForwardedOriginal), found
    assert found.sender.email == EXPECTED[name]
    assert found.body_text.strip()
    assert found.date_shown
    assert found.date_iso.startswith("2024-01-08")
    assert not found.subject.lower().startswith(("fwd", "fw:", "wg:", "tr:", "rv:", "vb:"))


@pytest.mark.parametrize(
    "name",
    ["gmail_en.eml", "outlook_desktop_sv.eml", "thunderbird_ru.eml", "yahoo_es.eml",
     "new_outlook_es.eml", "outlook_desktop_fr.eml", "roundcube_fr.eml", "ios_de.eml"],
)  # fmt: skip
def test_date_subject_and_recipients_from_localised_labels(name: str) -> None:
    found = parse_forward((DATA / name).read_bytes())
    assert isinstance(found, ForwardedOriginal)
    assert found.date_iso in (ORIGINAL_DATE, "2024-01-08T07:12:00+00:00")
    assert "ulla@seller.example" in [a.email for a in found.to]


def test_attached_original_brings_its_own_headers_and_files() -> None:
    found = parse_forward((DATA / "attached_rfc822_signed.eml").read_bytes())
    assert isinstance(found, ForwardedOriginal)
    assert found.found_in == "attached message"
    assert found.message_id == "<orig-attached-0001@customer.example>"
    assert (found.subject, found.date_iso) == ("Offer Q3", ORIGINAL_DATE)
    assert [a.email for a in found.cc] == ["per@customer.example"]
    assert [a.filename for a in found.attachments] == ["requirements.pdf"]
    assert found.attachments[0].payload.startswith(b"%PDF")
    assert "requirements attached" in found.body_text
    assert "Signed forward" not in found.body_text


def test_inline_forward_keeps_the_forwards_attachments_and_russian_text() -> None:
    outlook = parse_forward((DATA / "outlook_desktop_en.eml").read_bytes())
    assert isinstance(outlook, ForwardedOriginal)
    assert [a.filename for a in outlook.attachments] == ["requirements.pdf"]
    russian = parse_forward((DATA / "outlook_desktop_ru.eml").read_bytes())
    assert isinstance(russian, ForwardedOriginal)
    assert (russian.sender.name, russian.subject) == ("Иван Петров", "Предложение")
    assert russian.body_text.startswith("Добрый день!")


def test_name_only_says_whom_it_names() -> None:
    found = parse_forward((DATA / "name_only_outlook_de.eml").read_bytes())
    assert isinstance(found, Unparsed)
    assert found.sender_name == "Jörg Müller"
    assert "without an address" in found.reason


def test_an_address_in_the_text_is_never_taken_for_the_sender() -> None:
    found = parse_forward((DATA / "block_lost.eml").read_bytes())
    assert isinstance(found, Unparsed)
    assert found.sender_name == ""


@pytest.mark.parametrize(
    ("value", "email", "name"),
    [
        ("Karin Kund <karin@customer.example>", "karin@customer.example", "Karin Kund"),
        ('"Kund, Karin" <Karin@Customer.example>', "karin@customer.example", "Kund, Karin"),
        ("Karin Kund [mailto:karin@customer.example]", "karin@customer.example", "Karin Kund"),
        ("karin@customer.example<mailto:karin@customer.example>", "karin@customer.example", ""),
        ("karin@customer.example", "karin@customer.example", ""),
        ("Karin Kund", "", "Karin Kund"),
        ("*Karin Kund*", "", "Karin Kund"),
    ],
)
def test_read_address(value: str, email: str, name: str) -> None:
    address = read_address(value)
    assert (address.email, address.name) == (email, name)


@pytest.mark.parametrize(
    ("shown", "offset", "iso"),
    [
        ("Mon, Jan 8, 2024 at 10:12 AM", 60, ORIGINAL_DATE),
        ("Monday, January 8, 2024 10:12 PM", 0, "2024-01-08T22:12:00+00:00"),
        ("Mo., 8. Jan. 2024 um 10:12 Uhr", 60, ORIGINAL_DATE),
        ("lundi 8 janvier 2024 10:12", 60, ORIGINAL_DATE),
        ("lunes, 8 de enero de 2024 10:12", 60, ORIGINAL_DATE),
        ("den 8 januari 2024 10:12", 60, ORIGINAL_DATE),
        ("понедельник, 8 января 2024 г. 10:12", 180, "2024-01-08T07:12:00+00:00"),
        ("mar, 9 ene 2024, 10:12", 60, "2024-01-09T09:12:00+00:00"),
        ("8 January 2024 at 10:12:00 CET", 0, ORIGINAL_DATE),
        ("8 janvier 2024 à 10:12:00 UTC+1", 0, ORIGINAL_DATE),
        ("08/01/2024 10:12 (GMT+01:00)", 0, ORIGINAL_DATE),
        ("2024-01-08 10:12", 60, ORIGINAL_DATE),
        ("Mon, 8 Jan 2024 10:12:00 +0100", 0, ORIGINAL_DATE),
    ],
)
def test_shown_dates(shown: str, offset: int, iso: str) -> None:
    from datetime import UTC, datetime

    found = read_shown_date(shown, offset, datetime(2024, 1, 9, 12, tzinfo=UTC))
    assert found is not None and found[0] == iso


def test_unreadable_date_is_none() -> None:
    assert read_shown_date("last Tuesday", 0) is None


def test_long_bodies_are_read_without_quotequail() -> None:
    """Past quotequail's bound the own reader alone finds the block; a long body of
    "From:" lines without a block gives a name only, not a hang."""
    lines = ["Fwd below", "", "From: Karin Kund <karin@customer.example>"]
    lines += ["Date: Mon, 8 Jan 2024 10:12:00 +0100", "Subject: Offer Q3", ""]
    lines += ["A long line of the original."] * 3000
    raw = (
        "From: ulla@seller.example\nTo: forward@log.example\nSubject: Fwd: Offer Q3\n"
        "Date: Tue, 9 Jan 2024 08:00:00 +0100\n\n" + "\n".join(lines)
    ).encode()
    found = parse_forward(raw)
    assert isinstance(found, ForwardedOriginal)
    assert (found.sender.email, found.found_in) == (
        "karin@customer.example",
        "inline text (header block)",
    )
    assert found.body_text.count("A long line") == 3000
    hostile = b"From: u@seller.example\nContent-Type: text/html\n\n" + b"<div>From: x</div>" * 20000
    assert isinstance(parse_forward(hostile), Unparsed)
