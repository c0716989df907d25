"""Contacts files: vCard 2.1/3.0/4.0, the common CSV exports, bad rows and encodings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from loggbok.daemon import contacts_import
from loggbok.daemon.contacts_import import (
    ImportedContact,
    normalise_email,
    parse_contacts_file,
)


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


# --- vCard ------------------------------------------------------------------------------


def test_vcard_21_quoted_printable_name_and_bare_type_params(tmp_path: Path) -> None:
    text = (
        "BEGIN:VCARD\r\n"
        "VERSION:2.1\r\n"
        "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Bergstr=C3=B6m;Anna;;;\r\n"
        "FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Anna Bergstr=C3=B6m fr=C3=A5n =\r\n"
        "Bor=C3=A5s\r\n"
        "ORG;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:Fj=C3=A4llstr=C3=B6m AB\r\n"
        "EMAIL;INTERNET;WORK:Anna.Bergstrom@Fjallstrom-Bygg.example\r\n"
        "TEL;WORK;VOICE:+46 33 70 215 40\r\n"
        "END:VCARD\r\n"
        "BEGIN:VCARD\r\n"
        "VERSION:2.1\r\n"
        "N;ENCODING=QUOTED-PRINTABLE;CHARSET=ISO-8859-1:=C5kesson;Sofia\r\n"
        "EMAIL;PREF;INTERNET:sofia.akesson@fjallstrom-bygg.example\r\n"
        "END:VCARD\r\n"
    )
    batch = parse_contacts_file(_write(tmp_path, "phone.vcf", text))
    assert batch.format == "vcard"
    assert batch.errors == []
    assert batch.contacts == [
        ImportedContact(
            "Anna Bergström från Borås",
            ("anna.bergstrom@fjallstrom-bygg.example",),
            "Fjällström AB",
        ),
        ImportedContact("Sofia Åkesson", ("sofia.akesson@fjallstrom-bygg.example",), None),
    ]


def test_vcard_30_folding_groups_types_and_escapes(tmp_path: Path) -> None:
    text = (
        "BEGIN:VCARD\r\n"
        "VERSION:3.0\r\n"
        "N:Weber;Lukas;;;\r\n"
        "FN:Lukas Weber\r\n"
        "ORG:Brandt Logistik\\, Hamburg GmbH;Lager\r\n"
        "item1.EMAIL;type=INTERNET;type=pref:l.weber@brandt-logistik.example\r\n"
        "item1.X-ABLabel:Work\r\n"
        "EMAIL;TYPE=work:lukas.weber@brandt-logis\r\n"
        " tik.example\r\n"
        "EMAIL;TYPE=home:L.Weber@Brandt-Logistik.example\r\n"
        "NOTE:met at LogiMAT\\; wants a demo\r\n"
        "END:VCARD\r\n"
        "BEGIN:VCARD\n"
        "VERSION:3.0\n"
        "FN:Oliver\n"
        "  Bennett\n"
        "EMAIL;TYPE=INTERNET,WORK:oliver.bennett@harrowpike.example\n"
        "END:VCARD\n"
    )
    batch = parse_contacts_file(_write(tmp_path, "contacts.vcf", text))
    assert batch.errors == []
    assert batch.contacts == [
        ImportedContact(
            "Lukas Weber",
            ("l.weber@brandt-logistik.example", "lukas.weber@brandt-logistik.example"),
            "Brandt Logistik, Hamburg GmbH",
        ),
        ImportedContact("Oliver Bennett", ("oliver.bennett@harrowpike.example",), None),
    ]


def test_vcard_40(tmp_path: Path) -> None:
    text = (
        "BEGIN:VCARD\r\n"
        "VERSION:4.0\r\n"
        "FN:Priya Shah\r\n"
        "N:Shah;Priya;;Dr.;\r\n"
        'EMAIL;TYPE="work,internet";PREF=1:priya.shah@kestrel-analytics.example\r\n'
        "EMAIL;TYPE=home:mailto:priya@example.org\r\n"
        "ORG:Kestrel Analytics Ltd;Operations\r\n"
        "END:VCARD\r\n"
    )
    batch = parse_contacts_file(_write(tmp_path, "priya.vcf", text))
    assert batch.contacts == [
        ImportedContact(
            "Priya Shah",
            ("priya.shah@kestrel-analytics.example", "priya@example.org"),
            "Kestrel Analytics Ltd",
        )
    ]


def test_vcard_name_from_n_and_fallback_to_address(tmp_path: Path) -> None:
    text = (
        "BEGIN:VCARD\nVERSION:3.0\nN:Shah;Priya;;Dr.;\nEMAIL:p@k.example\nEND:VCARD\n"
        "BEGIN:VCARD\nVERSION:3.0\nEMAIL:nobody@k.example\nEND:VCARD\n"
    )
    batch = parse_contacts_file(_write(tmp_path, "n.vcf", text))
    assert [c.name for c in batch.contacts] == ["Dr. Priya Shah", "nobody@k.example"]


def test_vcard_bad_cards_are_skipped_with_notes(tmp_path: Path) -> None:
    text = (
        "BEGIN:VCARD\nVERSION:3.0\nFN:No Mail\nTEL:+46 8 123\nEND:VCARD\n"
        "BEGIN:VCARD\nVERSION:3.0\nFN:Bad Mail\nEMAIL:bad mail@x\nEND:VCARD\n"
        "BEGIN:VCARD\nVERSION:3.0\nFN:Half Good\nEMAIL:not-an-address\n"
        "EMAIL:good@x.example\nthis line has no colon\nEND:VCARD\n"
        "BEGIN:VCARD\nVERSION:3.0\nFN:Cut Off\nEMAIL:cut@x.example\n"
    )
    batch = parse_contacts_file(_write(tmp_path, "bad.vcf", text))
    assert [c.name for c in batch.contacts] == ["Half Good", "Cut Off"]
    assert batch.skipped == 2
    joined = "\n".join(batch.errors)
    assert "card 1 (line 1, No Mail): no valid email address, skipped" in joined
    assert "card 2" in joined and "'bad mail@x'" in joined
    assert "'not-an-address' ignored" in joined
    assert "unreadable line" in joined
    assert "card 4 (line 18): missing END:VCARD" in joined


def test_vcard_sniffed_without_extension(tmp_path: Path) -> None:
    text = "BEGIN:VCARD\nVERSION:3.0\nFN:A\nEMAIL:a@b.example\nEND:VCARD\n"
    batch = parse_contacts_file(_write(tmp_path, "export.txt", text))
    assert batch.format == "vcard"
    assert len(batch.contacts) == 1


# --- CSV --------------------------------------------------------------------------------


def test_google_csv_old_format_with_multiple_addresses(tmp_path: Path) -> None:
    text = (
        "Name,Given Name,Additional Name,Family Name,Group Membership,E-mail 1 - Type,"
        "E-mail 1 - Value,E-mail 2 - Type,E-mail 2 - Value,Organization 1 - Type,"
        "Organization 1 - Name\n"
        "Anna Bergström,Anna,,Bergström,* myContacts,* Work,"
        "anna.bergstrom@fjallstrom-bygg.example ::: anna@example.org,,,,Fjällström AB\n"
        "Erik Sandberg,Erik,,Sandberg,* myContacts,Work,erik.sandberg@solvik-energi.example,"
        "Home,ERIK@example.net,,Solvik Energi AB\n"
    )
    batch = parse_contacts_file(_write(tmp_path, "google.csv", text))
    assert batch.format == "csv"
    assert batch.errors == []
    assert batch.contacts == [
        ImportedContact(
            "Anna Bergström",
            ("anna.bergstrom@fjallstrom-bygg.example", "anna@example.org"),
            "Fjällström AB",
        ),
        ImportedContact(
            "Erik Sandberg",
            ("erik.sandberg@solvik-energi.example", "erik@example.net"),
            "Solvik Energi AB",
        ),
    ]


def test_google_csv_new_format(tmp_path: Path) -> None:
    text = (
        "First Name,Middle Name,Last Name,Phonetic First Name,Organization Name,"
        "Organization Title,E-mail 1 - Label,E-mail 1 - Value,Phone 1 - Label,Phone 1 - Value\n"
        "Katrin,,Hoffmann,,Brandt Logistik GmbH,Einkauf,* Work,k.hoffmann@brandt-logistik.example"
        ",Work,+49 40 1\n"
    )
    batch = parse_contacts_file(_write(tmp_path, "contacts.csv", text))
    assert batch.contacts == [
        ImportedContact(
            "Katrin Hoffmann", ("k.hoffmann@brandt-logistik.example",), "Brandt Logistik GmbH"
        )
    ]


def test_outlook_csv(tmp_path: Path) -> None:
    text = (
        '"First Name","Middle Name","Last Name","Title","Company","Department",'
        '"E-mail Address","E-mail Type","E-mail Display Name","E-mail 2 Address",'
        '"E-mail 2 Type","Mailing Address"\r\n'
        '"Jürgen","","Schäfer","","Brandt Logistik GmbH","",'
        '"j.schaefer@brandt-logistik.example","SMTP","Jürgen Schäfer (j.schaefer@...)",'
        '"juergen@example.de","SMTP","Billbrookdeich 1, Hamburg"\r\n'
    )
    batch = parse_contacts_file(_write(tmp_path, "outlook.csv", text))
    assert batch.errors == []
    assert batch.contacts == [
        ImportedContact(
            "Jürgen Schäfer",
            ("j.schaefer@brandt-logistik.example", "juergen@example.de"),
            "Brandt Logistik GmbH",
        )
    ]


def test_hubspot_csv(tmp_path: Path) -> None:
    text = (
        "Record ID,First Name,Last Name,Email,Company Name,Lifecycle Stage,Marketing "
        "emails opted out\n"
        "501,Oliver,Bennett,Oliver.Bennett@HarrowPike.example,Harrow & Pike Ltd,customer,false\n"
        '502,Charlotte,Hughes,charlotte.hughes@harrowpike.example,"Harrow & Pike, Ltd",lead,\n'
    )
    batch = parse_contacts_file(_write(tmp_path, "hubspot-export.csv", text))
    assert batch.errors == []
    assert batch.contacts == [
        ImportedContact(
            "Oliver Bennett", ("oliver.bennett@harrowpike.example",), "Harrow & Pike Ltd"
        ),
        ImportedContact(
            "Charlotte Hughes", ("charlotte.hughes@harrowpike.example",), "Harrow & Pike, Ltd"
        ),
    ]


def test_simple_csv_semicolon_delimited(tmp_path: Path) -> None:
    text = "namn;e-post;företag\nLinnea Holm;linnea.holm@solvik-energi.example;Solvik Energi\n"
    batch = parse_contacts_file(_write(tmp_path, "lista.csv", text))
    assert batch.contacts == [
        ImportedContact("Linnea Holm", ("linnea.holm@solvik-energi.example",), "Solvik Energi")
    ]


def test_simple_csv_name_email_and_headerless(tmp_path: Path) -> None:
    with_header = "name,email\nTom Whitaker,tom.whitaker@kestrel-analytics.example\n"
    batch = parse_contacts_file(_write(tmp_path, "a.csv", with_header))
    assert batch.contacts == [
        ImportedContact("Tom Whitaker", ("tom.whitaker@kestrel-analytics.example",), None)
    ]
    headerless = "Tom Whitaker,tom.whitaker@kestrel-analytics.example\nPriya,priya@k.example\n"
    batch = parse_contacts_file(_write(tmp_path, "b.csv", headerless))
    assert [c.name for c in batch.contacts] == ["Tom Whitaker", "Priya"]


def test_csv_garbage_rows(tmp_path: Path) -> None:
    text = (
        "Name,Email,Company\n"
        "Good One,good@x.example,X\n"
        "No Mail,,X\n"
        "\n"
        ",,\n"
        "Bad Mail,bob at x.example,X\n"
        "Short Row\n"
        'Broken "quote,quote@x.example,X\n'
        "Long Row,long@x.example,X,extra,cells\n"
        "Display Form,Ann <ANN@X.example>,X\n"
    )
    batch = parse_contacts_file(_write(tmp_path, "messy.csv", text))
    assert [c.emails[0] for c in batch.contacts] == [
        "good@x.example",
        "quote@x.example",
        "long@x.example",
        "ann@x.example",
    ]
    assert batch.skipped == 3
    joined = "\n".join(batch.errors)
    assert "line 3 (No Mail): no valid email address, skipped" in joined
    assert "line 6: invalid email address 'bob at x.example'" in joined
    assert "line 7 (Short Row)" in joined


def test_csv_without_email_column(tmp_path: Path) -> None:
    text = "Name,Phone\nAnna,+46 1\nErik,+46 2\n"
    batch = parse_contacts_file(_write(tmp_path, "phones.csv", text))
    assert batch.contacts == []
    assert batch.skipped == 2
    assert "no email column" in batch.errors[0]


def test_utf8_bom(tmp_path: Path) -> None:
    text = "\ufeffName,E-mail Address\nSofia Åkesson,sofia.akesson@fjallstrom-bygg.example\n"
    batch = parse_contacts_file(_write(tmp_path, "bom.csv", text))
    assert batch.contacts == [
        ImportedContact("Sofia Åkesson", ("sofia.akesson@fjallstrom-bygg.example",), None)
    ]


def test_utf16_with_bom(tmp_path: Path) -> None:
    text = "Name\tE-mail Address\nSofia Åkesson\tsofia@f.example\n"
    batch = parse_contacts_file(_write(tmp_path, "utf16.csv", text.encode("utf-16")))
    assert batch.contacts == [ImportedContact("Sofia Åkesson", ("sofia@f.example",), None)]


def test_cp1252_fallback(tmp_path: Path) -> None:
    text = (
        "First Name;Last Name;E-mail Address;Company\nJürgen;Schäfer;js@b.example;Brandt – Nord\n"
    )
    batch = parse_contacts_file(_write(tmp_path, "excel.csv", text.encode("cp1252")))
    assert batch.contacts == [ImportedContact("Jürgen Schäfer", ("js@b.example",), "Brandt – Nord")]


def test_cp1252_vcard(tmp_path: Path) -> None:
    text = "BEGIN:VCARD\nVERSION:3.0\nFN:Åsa Öberg\nEMAIL:asa@x.example\nEND:VCARD\n"
    batch = parse_contacts_file(_write(tmp_path, "old.vcf", text.encode("cp1252")))
    assert batch.contacts[0].name == "Åsa Öberg"


@pytest.mark.parametrize("name", ["empty.csv", "empty.vcf"])
def test_empty_file(tmp_path: Path, name: str) -> None:
    batch = parse_contacts_file(_write(tmp_path, name, b""))
    assert batch.contacts == []
    assert batch.skipped == 0
    assert batch.errors == ["file is empty"]


def test_vcf_without_cards(tmp_path: Path) -> None:
    batch = parse_contacts_file(_write(tmp_path, "x.vcf", "hello\nworld\n"))
    assert batch.contacts == []
    assert batch.errors == ["no BEGIN:VCARD found"]


def test_unknown_format_and_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown contacts file format"):
        parse_contacts_file(_write(tmp_path, "notes.txt", "just some notes\n"))
    with pytest.raises(ValueError, match="unknown contacts file format"):
        parse_contacts_file(_write(tmp_path, "empty.txt", b""))
    with pytest.raises(ValueError, match="cannot read contacts file"):
        parse_contacts_file(tmp_path / "missing.vcf")
    with pytest.raises(ValueError, match="cannot read contacts file"):
        parse_contacts_file(tmp_path)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Anna@Example.COM", "anna@example.com"),
        ("  mailto:a.b+c@sub.example.se ", "a.b+c@sub.example.se"),
        ("Anna <anna@x.example>", "anna@x.example"),
        ("anna@x", None),
        ("anna@@x.example", None),
        (".anna@x.example", None),
        ("an..na@x.example", None),
        ("anna@-x.example", None),
        ("anna x@x.example", None),
        ("", None),
    ],
)
def test_normalise_email(value: str, expected: str | None) -> None:
    assert normalise_email(value) == expected


def test_only_regular_files_of_a_sane_size_are_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pipe, a device or a huge file given by mistake is refused, never read
    (a FIFO would block the daemon's thread, /dev/zero would fill its memory)."""
    fifo = tmp_path / "contacts.vcf"
    os.mkfifo(fifo)
    for path in (fifo, Path("/dev/zero"), tmp_path):
        with pytest.raises(ValueError, match="not a regular file"):
            parse_contacts_file(path)
    big = tmp_path / "big.csv"
    big.write_text("Name,Email\n" + "Anna,anna@kund.example\n" * 10, encoding="utf-8")
    monkeypatch.setattr(contacts_import, "MAX_FILE_BYTES", 100)
    with pytest.raises(ValueError, match="larger than 100 bytes"):
        parse_contacts_file(big)
