"""A calendar part in a body marks an invitation or a response (iTIP), not a published file."""

from __future__ import annotations

from loggbok.daemon.mime.facts import ParsedAttachment
from loggbok.daemon.sync.bodies import calendar_method


def _part(
    payload: bytes, ctype: str = "text/calendar", name: str = "invite.ics"
) -> ParsedAttachment:
    return ParsedAttachment(name, ctype, len(payload), payload)


def test_request_reply_and_cancel_are_invitations_or_responses() -> None:
    for method in (b"REQUEST", b"reply", b"CANCEL"):
        body = b"BEGIN:VCALENDAR\r\nMETHOD:" + method + b"\r\nEND:VCALENDAR\r\n"
        assert calendar_method((_part(body),)) == method.decode().upper()


def test_a_published_file_or_other_parts_are_not() -> None:
    published = b"BEGIN:VCALENDAR\r\nMETHOD:PUBLISH\r\nEND:VCALENDAR\r\n"
    assert calendar_method((_part(published),)) is None
    assert calendar_method((_part(b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"),)) is None
    assert calendar_method((_part(b"METHOD:REQUEST\r\n", "application/pdf", "a.pdf"),)) is None
    assert calendar_method((_part(b"X-NOTE: METHOD:REQUEST\r\n"),)) is None


def test_an_ics_file_by_name_counts_whatever_its_declared_type() -> None:
    body = b"BEGIN:VCALENDAR\nMETHOD:REQUEST\nEND:VCALENDAR\n"
    assert calendar_method((_part(body, "application/octet-stream", "Invite.ICS"),)) == "REQUEST"
