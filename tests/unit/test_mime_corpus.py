"""Every malformed message in tests/data/malformed goes through both parsers unharmed."""

from __future__ import annotations

from pathlib import Path

import pytest

from loggbok.daemon.mime.body import parse_message
from loggbok.daemon.mime.headers import parse_headers

CORPUS = Path(__file__).resolve().parent.parent / "data" / "malformed"
FILES = sorted(p for p in CORPUS.iterdir() if p.suffix in (".eml", ".txt"))


def _read(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def test_corpus_is_complete() -> None:
    assert len([p for p in FILES if p.name.startswith("msg_")]) >= 40
    assert len([p for p in FILES if p.suffix == ".eml"]) >= 15


@pytest.mark.timeout(60)
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_file_parses_without_raising(path: Path) -> None:
    raw = path.read_bytes()
    facts = parse_headers(raw)
    assert facts.message_key
    assert facts.has_message_id == (not facts.message_key.startswith("synthetic:"))
    assert all(a.email == a.email.lower() for a in facts.to + facts.cc + (facts.from_,))
    message = parse_message(raw)
    assert isinstance(message.body_text, str)
    assert len(message.snippet) <= 201
    assert all(a.undecodable or a.size == len(a.payload) for a in message.attachments)


def test_bad_charsets() -> None:
    facts = parse_headers(_read("01_bad_charsets.eml"))
    assert facts.subject.startswith("Offer för you and ")
    assert "unknown_charset:x-unknown" in facts.errors
    assert "encoded_word_unterminated" in facts.errors
    message = parse_message(_read("01_bad_charsets.eml"))
    assert "Price is 100 € per unit." in message.body_text
    assert "unknown_charset:x-made-up-charset" in message.errors
    assert [a.filename for a in message.attachments] == ["åäö.txt"]


def test_missing_end_boundary_keeps_body_and_attachment() -> None:
    message = parse_message(_read("03_missing_end_boundary.eml"))
    assert message.body_text == "Här är offerten."
    assert [a.filename for a in message.attachments] == ["offert.pdf"]
    assert message.attachments[0].payload.startswith(b"%PDF-1.4")


@pytest.mark.timeout(60)
def test_huge_header() -> None:
    raw = _read("04_huge_header.eml")
    facts = parse_headers(raw)
    assert facts.message_key == "huge-header@example.se"
    assert facts.from_.email == "anna@example.se"
    assert "header_truncated:subject" in facts.errors
    assert parse_message(raw).body_text.strip() == "Short body after a 1 MB subject."


def test_nul_bytes() -> None:
    facts = parse_headers(_read("05_nul_bytes.eml"))
    assert facts.subject == "Nul in subject"
    assert "\x00" not in parse_message(_read("05_nul_bytes.eml")).body_text


def test_invalid_utf8_headers() -> None:
    facts = parse_headers(_read("06_invalid_utf8_headers.eml"))
    assert facts.from_.email == "broken@example.se"
    assert "header_invalid_utf8" in facts.errors


def test_no_headers_and_only_headers() -> None:
    none = parse_headers(_read("07_no_headers.eml"))
    assert "no_headers" in none.errors
    assert parse_message(_read("07_no_headers.eml")).body_text.startswith("This message has")
    only = parse_headers(_read("08_only_headers.eml"))
    assert only.message_key == "only-headers@example.se"
    assert only.subject == "Only headers, no blank line, no body"
    assert parse_message(_read("08_only_headers.eml")).body_text == ""


def test_8bit_headers() -> None:
    facts = parse_headers(_read("09_8bit_headers.eml"))
    assert facts.from_.name == "Åsa Öberg"
    assert facts.subject_norm == "offert för q3 – pris"
    assert parse_message(_read("09_8bit_headers.eml")).new_text == "Hej Bo,\n\nPriset ser bra ut."


def test_missing_and_duplicate_message_ids() -> None:
    missing = parse_headers(_read("10_missing_message_id.eml"))
    assert missing.message_key.startswith("synthetic:")
    assert missing.message_key != parse_headers(_read("12_garbage_dates.eml")).message_key
    duplicate = parse_headers(_read("11_duplicate_message_id.eml"))
    assert duplicate.message_key == "first-id@example.se"
    assert "duplicate_message_id" in duplicate.errors


def test_garbage_dates() -> None:
    facts = parse_headers(_read("12_garbage_dates.eml"))
    assert (facts.date_iso, facts.date_ts) == ("", 0.0)
    assert "date_unparseable" in facts.errors


def test_nested_rfc822_with_broken_inner_part() -> None:
    message = parse_message(_read("13_nested_rfc822_broken_inner.eml"))
    assert message.body_text == "See the attached original."
    (inner,) = message.attachments
    assert inner.content_type == "message/rfc822"
    assert inner.filename == "The original.eml"


@pytest.mark.timeout(60)
def test_deep_nesting_reaches_the_bottom() -> None:
    message = parse_message(_read("14_deep_nesting.eml"))
    assert message.body_text.strip() == "The bottom of the well."


def test_base64_garbage() -> None:
    message = parse_message(_read("15_base64_garbage.eml"))
    assert message.body_text.startswith("Hej Bo, h")  # text: as well as it decodes
    assert message.attachments[0].filename == "data.bin"
    assert message.attachments[0].undecodable  # 16 bytes of junk to 4 of base64
    assert {"text_undecodable", "attachment_undecodable"} <= set(message.errors)


def test_bounce() -> None:
    facts = parse_headers(_read("16_bounce_dsn.eml"))
    assert facts.content_type == "multipart/report"
    assert facts.content_type_params["report-type"] == "delivery-status"
    assert facts.return_path == "<>"
    assert facts.from_.email == "mailer-daemon@mx.corp.example"
    message = parse_message(_read("16_bounce_dsn.eml"))
    assert "could not" in message.body_text
    assert [a.content_type for a in message.attachments] == [
        "message/delivery-status",
        "text/rfc822-headers",
    ]


def test_out_of_office() -> None:
    facts = parse_headers(_read("17_out_of_office.eml"))
    assert facts.auto_submitted == "auto-replied"
    assert facts.precedence == "auto_reply"
    assert "X-Autoreply" in facts.autoreply_headers
    assert facts.subject == "Autosvar: Offert"
    assert facts.in_reply_to == ("offer-1@corp.example",)


def test_calendar_invite() -> None:
    facts = parse_headers(_read("18_calendar_invite.eml"))
    assert facts.content_type == "text/calendar"
    assert facts.content_type_params["method"] == "REQUEST"
    assert "calendarmessage" in facts.content_class
    message = parse_message(_read("18_calendar_invite.eml"))
    assert [a.content_type for a in message.attachments] == ["text/calendar"]
    assert message.attachments[0].filename.endswith(".ics")


def test_atp_placeholder() -> None:
    message = parse_message(_read("19_atp_placeholder.eml"))
    assert message.body_text == "Here is the signed contract."
    (placeholder,) = message.attachments
    assert placeholder.scan_placeholder
    assert placeholder.size < 1024


def test_html_only() -> None:
    message = parse_message(_read("20_html_only.eml"))
    assert "Vi köper två licenser." in message.body_text
    assert "alert" not in message.body_text
    assert message.snippet.startswith("Hej Bo, Vi köper två licenser.")


def test_bad_quoted_printable() -> None:
    message = parse_message(_read("21_bad_quoted_printable.eml"))
    assert "=ZZ" in message.body_text
    assert "åäö ok" in message.body_text


def test_address_garbage() -> None:
    facts = parse_headers(_read("22_address_garbage.eml"))
    assert facts.from_.email == "quote@example.se"
    assert [a.email for a in facts.to] == [
        "a@example.se",
        "j@example.se",
        "asa@example.se",
        "no-close@example.se",
    ]
    assert [a.email for a in facts.cc] == ["bob@example.se", "carl@example.se", "mixed@example.se"]
    assert facts.bcc == ()
    assert facts.delivered_to == ("bo@corp.example", "bo+crm@corp.example")


def test_interleaved_reply() -> None:
    message = parse_message(_read("23_interleaved_reply.eml"))
    assert message.new_text == "Hi Bo,\n\nYes, 40 units.\n\nMarch 20 works for us."


def test_folded_references() -> None:
    facts = parse_headers(_read("24_folded_references.eml"))
    assert facts.message_key == "folded-msgid@customer.example"
    assert facts.in_reply_to == ("parent@corp.example",)
    assert facts.references == (
        "root@corp.example",
        "middle@customer.example",
        "parent@corp.example",
        "split-inside@corp.example",
    )
    assert facts.subject_norm == "folded"


def test_crlf() -> None:
    facts = parse_headers(_read("25_crlf.eml"))
    assert facts.subject == "CRLF line endings"
    assert parse_message(_read("25_crlf.eml")).body_text == "Line one.\nLine two.\n"
