"""Header-first parsing: split_header_block, parse_headers, addresses, ids, dates."""

from __future__ import annotations

import base64

import pytest

from loggbok.daemon.mime.addresses import parse_address, parse_addresses
from loggbok.daemon.mime.facts import Address
from loggbok.daemon.mime.headers import parse_headers, split_header_block

SIMPLE = (
    b"Return-Path: <anna@example.se>\n"
    b"Delivered-To: Bo@Corp.Example\n"
    b"X-Original-To: bo+crm@corp.example\n"
    b"Message-ID: <AbC.123@Mail.Example.SE>\n"
    b"From: =?utf-8?Q?Anna_Bj=C3=B6rk?= <Anna@Example.SE>\n"
    b'To: Bo Ek <bo@corp.example>, "Lind, Carl" <carl@corp.example>\n'
    b"Cc: sales@corp.example\n"
    b"Reply-To: replies@example.se\n"
    b"Subject: =?utf-8?Q?SV:_[sales]_Offert_f=C3=B6r?=\n"
    b" =?utf-8?Q?_Q3?=\n"
    b"Date: Mon, 4 Mar 2024 10:12:00 +0100\n"
    b"In-Reply-To: <Parent@corp.example>\n"
    b"References: <root@corp.example>\n"
    b"\t<Parent@corp.example>\n"
    b"Thread-Index: AQHaXyz1234==\n"
    b"Content-Class: urn:content-classes:message\n"
    b'Content-Type: multipart/alternative; boundary="xyz"; charset=UTF-8\n'
    b"\n"
    b"--xyz\n"
)


# ---------------------------------------------------------------- split_header_block


def test_split_lf() -> None:
    assert split_header_block(b"Subject: x\nFrom: y\n\nbody\n") == (
        b"Subject: x\nFrom: y\n\n",
        b"body\n",
    )


def test_split_crlf() -> None:
    assert split_header_block(b"Subject: x\r\nFrom: y\r\n\r\nbody\r\n\r\nmore") == (
        b"Subject: x\r\nFrom: y\r\n\r\n",
        b"body\r\n\r\nmore",
    )


def test_split_folded_header_stays_in_block() -> None:
    block, body = split_header_block(b"Subject: a\n  folded\nTo: b\n\nbody")
    assert block == b"Subject: a\n  folded\nTo: b\n\n"
    assert body == b"body"


def test_split_no_body() -> None:
    assert split_header_block(b"Subject: x\nFrom: y\n\n") == (b"Subject: x\nFrom: y\n\n", b"")


def test_split_no_blank_line() -> None:
    assert split_header_block(b"Subject: x\nFrom: y") == (b"Subject: x\nFrom: y", b"")
    assert split_header_block(b"Subject: x\nFrom: y\n") == (b"Subject: x\nFrom: y\n", b"")


def test_split_non_header_line_starts_the_body() -> None:
    assert split_header_block(b"Subject: x\nHello there\n\nmore") == (
        b"Subject: x\n",
        b"Hello there\n\nmore",
    )


def test_split_no_headers() -> None:
    assert split_header_block(b"\nonly body") == (b"\n", b"only body")
    assert split_header_block(b"") == (b"", b"")


def test_split_mbox_from_line() -> None:
    block, body = split_header_block(b"From anna@x Mon Mar  4 10:00:00 2024\nSubject: x\n\nb")
    assert block.endswith(b"Subject: x\n\n")
    assert body == b"b"


# ---------------------------------------------------------------- parse_headers


def test_parse_headers_fills_every_field() -> None:
    facts = parse_headers(SIMPLE)
    assert facts.message_key == "abc.123@mail.example.se"
    assert facts.message_id == "<AbC.123@Mail.Example.SE>"
    assert facts.has_message_id
    assert facts.subject == "SV: [sales] Offert för Q3"
    assert facts.subject_norm == "offert för q3"
    assert facts.from_ == Address(email="anna@example.se", name="Anna Björk")
    assert facts.to == (
        Address(email="bo@corp.example", name="Bo Ek"),
        Address(email="carl@corp.example", name="Lind, Carl"),
    )
    assert facts.cc == (Address(email="sales@corp.example"),)
    assert facts.bcc == ()
    assert facts.reply_to == (Address(email="replies@example.se"),)
    assert facts.delivered_to == ("bo@corp.example", "bo+crm@corp.example")
    assert facts.date_iso == "2024-03-04T09:12:00+00:00"
    assert facts.date_ts == 1709543520.0
    assert facts.in_reply_to == ("parent@corp.example",)
    assert facts.references == ("root@corp.example", "parent@corp.example")
    assert facts.content_type == "multipart/alternative"
    assert facts.content_type_params == {"boundary": "xyz", "charset": "UTF-8"}
    assert facts.thread_index == "AQHaXyz1234=="
    assert facts.content_class == "urn:content-classes:message"
    assert facts.return_path == "<anna@example.se>"
    assert facts.auto_submitted == ""
    assert facts.precedence == ""
    assert facts.list_id == ""
    assert facts.list_unsubscribe is False
    assert facts.autoreply_headers == ()
    assert facts.errors == ()


def test_parse_headers_accepts_a_whole_message_and_crlf() -> None:
    crlf = SIMPLE.replace(b"\n", b"\r\n") + b"body\r\n"
    assert parse_headers(crlf).message_key == parse_headers(SIMPLE).message_key
    assert parse_headers(crlf).subject == "SV: [sales] Offert för Q3"


def test_missing_message_id_gets_a_synthetic_key_per_message() -> None:
    a = parse_headers(b"From: a@x.se\nSubject: one\n\n")
    b = parse_headers(b"From: a@x.se\nSubject: two\n\n")
    assert a.message_key.startswith("synthetic:")
    assert len(a.message_key) == len("synthetic:") + 64
    assert a.message_key != b.message_key
    assert not a.has_message_id
    assert a.message_id == ""
    assert "message_id_missing" in a.errors


def test_synthetic_key_is_stable_across_line_endings() -> None:
    lf = parse_headers(b"From: a@x.se\nSubject: one\n\nbody")
    crlf = parse_headers(b"From: a@x.se\r\nSubject: one\r\n\r\nother body")
    assert lf.message_key == crlf.message_key


def test_empty_message_id_counts_as_missing() -> None:
    facts = parse_headers(b"Message-ID: <>\nFrom: a@x.se\n\n")
    assert facts.message_key.startswith("synthetic:")
    assert not facts.has_message_id


def test_message_id_without_brackets_and_folded() -> None:
    assert parse_headers(b"Message-ID: Abc@X\n\n").message_key == "abc@x"
    assert parse_headers(b"Message-ID: Abc@X\n\n").message_id == "<Abc@X>"
    folded = parse_headers(b"Message-ID:\n <folded@x.se>\n\n")
    assert folded.message_key == "folded@x.se"


def test_duplicate_message_id_keeps_the_first_and_notes_it() -> None:
    facts = parse_headers(b"Message-ID: <one@x>\nMessage-ID: <two@x>\n\n")
    assert facts.message_key == "one@x"
    assert "duplicate_message_id" in facts.errors


def test_references_with_garbage_and_folding() -> None:
    facts = parse_headers(
        b"References: <a@x> garbage <B@x>,<c@x>\n <spl\n it@x> <a@x>\n"
        b"In-Reply-To: <c@x> (Bo's message of Monday)\n\n"
    )
    assert facts.references == ("a@x", "b@x", "c@x", "split@x")
    assert facts.in_reply_to == ("c@x",)


def test_in_reply_to_with_several_ids_keeps_header_order() -> None:
    facts = parse_headers(b"In-Reply-To: <near@x> <far@x>\n\n")
    assert facts.in_reply_to == ("near@x", "far@x")


@pytest.mark.parametrize(
    ("value", "iso"),
    [
        (b"Mon, 4 Mar 2024 10:12:00 +0100", "2024-03-04T09:12:00+00:00"),
        (b"4 Mar 2024 10:12:00 -0500 (EST)", "2024-03-04T15:12:00+00:00"),
        (b"Mon,  4 Mar 24 10:12 GMT", "2024-03-04T10:12:00+00:00"),
        (b"2024-03-04T10:12:00Z", "2024-03-04T10:12:00+00:00"),
    ],
)
def test_dates_become_utc(value: bytes, iso: str) -> None:
    facts = parse_headers(b"Date: " + value + b"\n\n")
    assert facts.date_iso == iso
    assert facts.date_ts > 0
    assert not any(e.startswith("date_") for e in facts.errors)


@pytest.mark.parametrize(
    ("header", "note"),
    [
        (b"Date: the day after tomorrow\n", "date_unparseable"),
        (b"Date: Mon, 31 Feb 2024 10:00:00 +0000\n", "date_unparseable"),
        (b"Date:\n", "date_missing"),
        (b"", "date_missing"),
    ],
)
def test_unreadable_dates(header: bytes, note: str) -> None:
    facts = parse_headers(header + b"From: a@x\n\n")
    assert facts.date_iso == ""
    assert facts.date_ts == 0.0
    assert note in facts.errors


def test_encoded_word_with_unknown_charset_is_noted_not_raised() -> None:
    facts = parse_headers(b"Subject: =?x-unknown?Q?caf=C3=A9_=FF?=\n\n")
    assert facts.subject == "café \ufffd"
    assert "unknown_charset:x-unknown" in facts.errors


def test_unterminated_base64_encoded_word_gives_replacement_characters() -> None:
    facts = parse_headers(b"Subject: Hello =?utf-8?B?broken\n\n")
    assert facts.subject.startswith("Hello ")
    assert "\ufffd" in facts.subject
    assert "encoded_word_unterminated" in facts.errors


def test_adjacent_encoded_words_join_without_space() -> None:
    facts = parse_headers(b"Subject: =?utf-8?B?SGVq?= =?utf-8?B?IGTDpQ==?=\n\n")
    assert facts.subject == "Hej då"


def test_raw_8bit_headers_are_read_as_utf8_then_cp1252() -> None:
    utf8 = parse_headers("Subject: Offert för Q3\n\n".encode())
    assert utf8.subject == "Offert för Q3"
    assert utf8.errors == ("message_id_missing", "from_missing", "date_missing")
    latin = parse_headers("Subject: Offert för Q3\n\n".encode("latin-1"))
    assert latin.subject == "Offert för Q3"
    assert "header_invalid_utf8" in latin.errors


def test_content_type_and_params() -> None:
    facts = parse_headers(
        b'Content-Type: Multipart/Report; Report-Type=delivery-status;\n\tboundary="a;b"\n\n'
    )
    assert facts.content_type == "multipart/report"
    assert facts.content_type_params == {"report-type": "delivery-status", "boundary": "a;b"}
    calendar = parse_headers(b"Content-Type: text/calendar; method=REQUEST; charset=utf-8\n\n")
    assert calendar.content_type == "text/calendar"
    assert calendar.content_type_params["method"] == "REQUEST"
    assert calendar.content_type_params["charset"] == "utf-8"


def test_missing_or_garbage_content_type_is_text_plain() -> None:
    assert parse_headers(b"From: a@x\n\n").content_type == "text/plain"
    garbage = parse_headers(b"Content-Type: garbage\n\n")
    assert garbage.content_type == "text/plain"
    assert "content_type_invalid" in garbage.errors


def test_auto_reply_bulk_and_list_markers() -> None:
    facts = parse_headers(
        b"Auto-Submitted: auto-replied\nPrecedence: bulk\nX-Autoreply: yes\n"
        b"x-auto-response-suppress: All\nList-Id: <sales.corp.example>\n"
        b"List-Unsubscribe: <mailto:unsub@corp.example>\n\n"
    )
    assert facts.auto_submitted == "auto-replied"
    assert facts.precedence == "bulk"
    assert facts.autoreply_headers == ("X-Autoreply", "x-auto-response-suppress")
    assert facts.list_id == "<sales.corp.example>"
    assert facts.list_unsubscribe is True


def test_bounce_return_path() -> None:
    assert parse_headers(b"Return-Path: <>\n\n").return_path == "<>"


def test_no_headers_at_all() -> None:
    facts = parse_headers(b"\njust a body")
    assert "no_headers" in facts.errors
    assert facts.message_key.startswith("synthetic:")
    assert facts.from_ == Address(email="")


def test_missing_separator_is_noted() -> None:
    facts = parse_headers(b"Subject: x\nthis is body text\n")
    assert facts.subject == "x"
    assert "missing_header_body_separator" in facts.errors


def test_huge_header_is_truncated_not_fatal() -> None:
    facts = parse_headers(b"Subject: " + b"A" * 1_100_000 + b"\nMessage-ID: <h@x>\n\n")
    assert facts.message_key == "h@x"
    assert 250_000 < len(facts.subject) <= 256 * 1024
    assert "header_truncated:subject" in facts.errors


def test_nul_bytes_are_dropped_from_values() -> None:
    facts = parse_headers(b"Subject: a\x00b\nMessage-ID: <n\x00ul@x>\n\n")
    assert facts.subject == "ab"
    assert facts.message_key == "nul@x"


@pytest.mark.parametrize(
    "raw",
    [b"", b"\x00" * 100, b":\n:\n", b"\xff\xfe\xfd", b"From: <<<<>>>>\n\n", b"To: ,,,;;;:::\n\n"],
)
def test_never_raises(raw: bytes) -> None:
    facts = parse_headers(raw)
    assert facts.message_key


# ---------------------------------------------------------------- addresses


def test_addresses_common_shapes() -> None:
    assert parse_addresses('Bo <BO@X.SE>, "Lind, Carl" <carl@x.se>, plain@x.se') == (
        Address("bo@x.se", "Bo"),
        Address("carl@x.se", "Lind, Carl"),
        Address("plain@x.se"),
    )


def test_addresses_comment_name_and_missing_brackets() -> None:
    assert parse_addresses("bo@x.se (Bo Ek)") == (Address("bo@x.se", "Bo Ek"),)
    assert parse_addresses("Bo Ek bo@x.se") == (Address("bo@x.se", "Bo Ek"),)


def test_addresses_groups() -> None:
    assert parse_addresses("undisclosed-recipients:;") == ()
    assert parse_addresses("Team: a@x.se, b@x.se;, c@x.se") == (
        Address("a@x.se"),
        Address("b@x.se"),
        Address("c@x.se"),
    )


def test_addresses_encoded_words() -> None:
    assert parse_addresses("=?utf-8?Q?J=C3=B6rg_M=2C?= <jorg@x.de>") == (
        Address("jorg@x.de", "Jörg M,"),
    )
    whole = base64.b64encode("Åsa <asa@x.se>".encode()).decode()
    assert parse_addresses(f"=?utf-8?B?{whole}?=") == (Address("asa@x.se", "Åsa"),)


def test_addresses_unterminated_quote_and_bracket() -> None:
    assert parse_addresses('"Doe, Jane <jane@x.se>, b@x.se') == (
        Address("jane@x.se", "Jane"),
        Address("b@x.se"),
    )
    errors: list[str] = []
    assert parse_addresses("<a@x.se", errors) == (Address("a@x.se"),)
    assert "address_unterminated_angle" in errors


def test_addresses_garbage_is_skipped_and_noted() -> None:
    errors: list[str] = []
    assert parse_addresses("just garbage here, a@x.se, @@@@", errors) == (Address("a@x.se"),)
    assert "address_unreadable" in errors


def test_addresses_dedupe_and_mailto() -> None:
    assert parse_addresses("a@x.se, A@X.SE, <mailto:A@x.se>") == (Address("a@x.se"),)


def test_parse_address_single_and_local_name() -> None:
    assert parse_address("MAILER-DAEMON") == Address("mailer-daemon")
    assert parse_address("") == Address("")
    assert parse_address(b"\xc3\x85sa <asa@x.se>") == Address("asa@x.se", "Åsa")
