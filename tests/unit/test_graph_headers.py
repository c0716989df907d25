"""Header blocks from Graph properties (what the rules read when Graph has no
internet headers, as for Sent Items), and Retry-After as Graph sends it."""

from __future__ import annotations

from loggbok.daemon.mime.headers import parse_headers
from loggbok.daemon.sync.providers.graph.client import retry_after
from loggbok.daemon.sync.providers.graph.headers import header_block, summary


def _recipient(address: str, name: str = "") -> dict[str, object]:
    return {"emailAddress": {"address": address, "name": name}}


SENT = {
    "id": "AAMk1",
    "internetMessageId": "<r1@firma.example>",
    "subject": "Re: Offert för våren",
    "from": _recipient("maja@firma.example", "Maja Åberg"),
    "sender": _recipient("maja@firma.example", "Maja Åberg"),
    "toRecipients": [_recipient("anna@kund.example", "Anna")],
    "ccRecipients": [],
    "bccRecipients": [_recipient("log-1@bcc.loggbok.example")],
    "replyTo": [],
    "sentDateTime": "2026-03-02T09:30:00Z",
    "receivedDateTime": "2026-03-02T09:30:01Z",
    "conversationId": "AAQkconv",
    "singleValueExtendedProperties": [
        {"id": "String 0x1042", "value": "<offer@firma.example>"},
        {"id": "String 0x1039", "value": "<offer@firma.example>"},
    ],
}


def test_a_sent_item_gets_a_header_block_from_its_properties() -> None:
    facts = parse_headers(header_block(SENT))
    assert facts.message_id == "<r1@firma.example>"
    assert facts.subject == "Re: Offert för våren"
    assert (facts.from_.email, facts.from_.name) == ("maja@firma.example", "Maja Åberg")
    assert [a.email for a in facts.bcc] == ["log-1@bcc.loggbok.example"]
    assert len(facts.in_reply_to) == 1 and facts.in_reply_to == facts.references
    assert facts.date_ts == 1772443800.0
    assert header_block(SENT).isascii()
    assert summary(SENT).conversation_id == "AAQkconv"


def test_internet_headers_are_taken_as_the_message_carried_them() -> None:
    received = SENT | {
        "internetMessageHeaders": [
            {"name": "Message-ID", "value": "<r1@firma.example>"},
            {"name": "Auto-Submitted", "value": "auto-replied"},
        ]
    }
    block = header_block(received)
    assert block == b"Message-ID: <r1@firma.example>\r\nAuto-Submitted: auto-replied\r\n\r\n"


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert retry_after("3") == 3.0
    assert retry_after(None) == 5.0 and retry_after("soon") == 5.0
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert retry_after("86400") == 300.0
