"""Whole-message parsing: body choice, attachments, placeholders, new text, limits."""

from __future__ import annotations

import base64

import pytest

from loggbok.daemon.mime.body import make_snippet, parse_message
from loggbok.daemon.mime.placeholders import is_scan_placeholder
from loggbok.daemon.mime.quotes import new_text, strip_signature

HEAD = b"From: Anna <anna@x.se>\nTo: bo@y.se\nSubject: t\nMessage-ID: <t@x>\nMIME-Version: 1.0\n"


def _multipart(kind: str, *parts: bytes) -> bytes:
    body = b"".join(b"--BND\n" + part + b"\n" for part in parts) + b"--BND--\n"
    return HEAD + f'Content-Type: multipart/{kind}; boundary="BND"\n\n'.encode() + body


def test_plain_text_body() -> None:
    msg = parse_message(HEAD + b"Content-Type: text/plain; charset=utf-8\n\nHej d\xc3\xa5!\n")
    assert msg.body_text == "Hej då!\n"
    assert msg.new_text == "Hej då!"
    assert msg.snippet == "Hej då!"
    assert msg.attachments == ()
    assert msg.body_size == len("Hej då!\n".encode())
    assert msg.errors == ()


def test_alternative_prefers_plain_over_html() -> None:
    raw = _multipart(
        "alternative",
        b"Content-Type: text/plain\n\nplain version",
        b"Content-Type: text/html\n\n<p>html version</p>",
    )
    msg = parse_message(raw)
    assert msg.body_text == "plain version"
    assert msg.attachments == ()


def test_html_only_is_rendered_as_text() -> None:
    raw = HEAD + (
        b"Content-Type: text/html; charset=iso-8859-1\n"
        b"Content-Transfer-Encoding: quoted-printable\n\n"
        b"<html><head><style>p{color:red}</style></head><body><p>Vi k=F6per</p>"
        b"<table><tr><td>Produkt</td><td>Antal</td></tr><tr><td>Licens</td><td>2</td></tr>"
        b"</table></body></html>"
    )
    msg = parse_message(raw)
    assert "Vi köper" in msg.body_text
    assert "color" not in msg.body_text
    assert "<" not in msg.body_text
    assert "Produkt  Antal" in msg.body_text


def test_attachments_by_name_disposition_and_type() -> None:
    pdf = base64.b64encode(b"%PDF-1.4 fake").decode()
    raw = _multipart(
        "mixed",
        b"Content-Type: text/plain\n\nSee attached.",
        b"Content-Type: application/pdf\nContent-Transfer-Encoding: base64\n"
        b'Content-Disposition: attachment; filename="offert.pdf"\n\n' + pdf.encode(),
        b'Content-Type: text/plain; name="notes.txt"\n\nnot the body',
        b"Content-Type: text/plain\nContent-Disposition: attachment\n\nalso not the body",
        b"Content-Type: image/png\nContent-Transfer-Encoding: base64\n\niVBORw0KGgo=",
    )
    msg = parse_message(raw)
    assert msg.body_text == "See attached."
    names = [a.filename for a in msg.attachments]
    assert names[:2] == ["offert.pdf", "notes.txt"]
    assert names[2].startswith("part-") and names[3].endswith(".png")
    pdf_part = msg.attachments[0]
    assert pdf_part.content_type == "application/pdf"
    assert pdf_part.payload == b"%PDF-1.4 fake"
    assert pdf_part.size == len(b"%PDF-1.4 fake")
    assert not any(a.scan_placeholder for a in msg.attachments)


def test_attachment_filename_is_made_safe() -> None:
    raw = _multipart(
        "mixed",
        b"Content-Type: text/plain\n\nx",
        b"Content-Type: application/octet-stream\nContent-Disposition: attachment; "
        b'filename="../../etc/passwd"\n\nroot',
    )
    assert parse_message(raw).attachments[0].filename == "passwd"


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize(
    "declared",
    [
        b'filename="=?utf-8?q?report=E2=80=AEfdp.exe?="',  # U+202E RIGHT-TO-LEFT OVERRIDE
        b"filename*=utf-8''report%E2%80%AEfdp%E2%81%A6%E2%80%8F%C2%85%1b.exe",
        b'filename="=?utf-8?b?'
        + base64.b64encode("report\u2067\u061cfdp\u202b.exe".encode())
        + b'?="',
    ],
)
def test_bidi_and_control_characters_leave_attachment_names(declared: bytes, fast: bool) -> None:
    raw = _multipart(
        "mixed",
        b"Content-Type: text/plain\n\nx",
        b"Content-Type: application/octet-stream\nContent-Disposition: attachment; "
        + declared
        + b"\n\nMZ",
    )
    (attachment,) = parse_message(raw, fast=fast).attachments
    assert attachment.filename == "reportfdp.exe"
    assert attachment.filename.isprintable()


def test_rfc2231_filename() -> None:
    raw = _multipart(
        "mixed",
        b"Content-Type: text/plain\n\nx",
        b"Content-Type: application/pdf\nContent-Disposition: attachment; "
        b"filename*=utf-8''%C3%A5rsrapport.pdf\n\n%PDF",
    )
    assert parse_message(raw).attachments[0].filename == "årsrapport.pdf"


def test_nested_message_is_an_attachment_named_after_its_subject() -> None:
    raw = _multipart(
        "mixed",
        b"Content-Type: text/plain\n\nForwarding this.",
        b"Content-Type: message/rfc822\n\nFrom: c@z.se\nSubject: Original\n\nInner body\n",
    )
    msg = parse_message(raw)
    assert msg.body_text == "Forwarding this."
    (inner,) = msg.attachments
    assert inner.filename == "Original.eml"
    assert inner.content_type == "message/rfc822"
    assert b"Inner body" in inner.payload


def test_atp_placeholder_by_name() -> None:
    raw = _multipart(
        "mixed",
        b"Content-Type: text/plain\n\nContract attached.",
        b"Content-Type: application/octet-stream\nContent-Disposition: attachment; "
        b'filename="ATP Scan In Progress"\n\n...',
    )
    (placeholder,) = parse_message(raw).attachments
    assert placeholder.scan_placeholder


def test_placeholder_heuristic_is_narrow() -> None:
    assert is_scan_placeholder("ATP Scan in Progress.eml", "message/rfc822", b"x" * 400)
    assert is_scan_placeholder("Safe Attachments Scan In Progress.htm", "text/html", b"")
    body = b"Your attachment is being scanned by Dynamic Delivery and will arrive shortly."
    assert is_scan_placeholder("notice.htm", "text/html", body)
    assert not is_scan_placeholder("contract.pdf", "application/pdf", b"ATP Scan In Progress")
    assert not is_scan_placeholder("notes.txt", "text/plain", b"ATP Scan In Progress" * 2000)
    assert not is_scan_placeholder("notes.txt", "text/plain", b"We discussed Dynamic Delivery.")


def test_body_over_limit_is_truncated_and_noted() -> None:
    raw = HEAD + b"Content-Type: text/plain\n\n" + b"a" * 5000
    msg = parse_message(raw, body_limit_bytes=1000)
    assert len(msg.body_text) == 1000
    assert msg.body_size == 5000
    assert "body_over_limit" in msg.errors


def test_unknown_charset_in_body_is_noted() -> None:
    raw = HEAD + b"Content-Type: text/plain; charset=x-nonsense\n\nprice 100 \xe2\x82\xac"
    msg = parse_message(raw)
    assert msg.body_text == "price 100 €"
    assert "unknown_charset:x-nonsense" in msg.errors


def test_latin1_labelled_body_decodes_as_cp1252() -> None:
    raw = HEAD + b"Content-Type: text/plain; charset=iso-8859-1\n\n\x93quoted\x94 f\xf6r"
    assert parse_message(raw).body_text == "“quoted” för"


def test_broken_boundary_keeps_the_text_and_notes_defects() -> None:
    raw = HEAD + b'Content-Type: multipart/mixed; boundary="nope"\n\n--other\n\nHello\n'
    msg = parse_message(raw)
    assert "Hello" in msg.body_text
    assert any(e.startswith("mime_defect:") for e in msg.errors)


def test_bad_base64_body_is_decoded_leniently() -> None:
    raw = HEAD + b"Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\nSGVq!!!IEJv\n"
    msg = parse_message(raw)
    assert msg.body_text.startswith("Hej")


def test_parse_message_never_raises_on_junk() -> None:
    for raw in (b"", b"\x00\xff" * 50, b"Content-Type: multipart/mixed\n\n", b"\n\n\n"):
        msg = parse_message(raw)
        assert isinstance(msg.body_text, str)


# ---------------------------------------------------------------- new text


def test_new_text_drops_quotes_and_signature_keeps_interleaved_text() -> None:
    body = (
        "Hi Bo,\n\n"
        "On Mon, 4 Mar 2024 at 10:00, Bo <bo@y.se> wrote:\n"
        "> Can you confirm the quantity?\n\n"
        "Yes, 40 units.\n\n"
        "> And the delivery date?\n\n"
        "March 20 works for us.\n\n"
        "Kind regards,\nCarl Lind\nPurchasing, Customer AB\n"
    )
    assert new_text(body, None, []) == "Hi Bo,\n\nYes, 40 units.\n\nMarch 20 works for us."


def test_new_text_keeps_text_written_below_a_quote() -> None:
    body = "> Will you sign?\n\nYes, I will sign on Friday.\n"
    assert new_text(body, None, []) == "Yes, I will sign on Friday."


def test_new_text_cuts_outlook_swedish_header_block() -> None:
    body = (
        "Det låter bra.\n\n"
        "Från: Anna Berg <anna@x.se>\nSkickat: den 3 mars 2024 10:12\n"
        "Till: Bo <bo@y.se>\nÄmne: Offert\n\nHej Bo, här är offerten.\n"
    )
    assert new_text(body, None, []) == "Det låter bra."


def test_mobile_taglines_go() -> None:
    assert strip_signature("Fine by me.\n\nSent from my iPhone") == "Fine by me."
    assert strip_signature("Okej!\n\nSkickat från min iPhone\n") == "Okej!"


def test_signature_delimiter_cuts_a_short_block() -> None:
    assert strip_signature("See you.\n\n-- \nAnna Berg\n+46 70 123 45 67") == "See you."


def test_signature_delimiter_keeps_a_long_tail() -> None:
    tail = "\n".join(f"Point {i} of the agreement is important to us." for i in range(15))
    text = "Notes:\n--\n" + tail
    assert strip_signature(text) == text


def test_swedish_closing_and_name_block_go() -> None:
    text = "Hej!\n\nVi tar det.\n\nMed vänliga hälsningar\nAnna Berg\nSäljchef, X AB\n070-123 45 67"
    assert strip_signature(text) == "Hej!\n\nVi tar det."


def test_closing_followed_by_prose_is_kept() -> None:
    text = (
        "Sounds good.\n\nBest,\nAnna\n\n"
        "P.S. Could you send the contract tomorrow? We need it before Friday.\n"
    )
    assert strip_signature(text) == text.strip()


def test_closing_alone_without_text_above_is_kept() -> None:
    assert strip_signature("Best regards,\nAnna") == "Best regards,\nAnna"


def test_snippet_collapses_whitespace_and_cuts_at_a_word() -> None:
    assert make_snippet("a\n\n  b\tc") == "a b c"
    long = "word " * 100
    snippet = make_snippet(long)
    assert len(snippet) <= 201
    assert snippet.endswith("word…")


def test_snippet_comes_from_new_text() -> None:
    raw = HEAD + b"Content-Type: text/plain\n\nNew words here.\n\n> old quoted words\n"
    msg = parse_message(raw)
    assert msg.snippet == "New words here."
    assert "old quoted" in msg.body_text
