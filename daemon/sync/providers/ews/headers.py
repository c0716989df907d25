"""Header blocks from EWS item properties, so the rules decide without the MIME.

`FIELDS` is what GetItem asks for (no body, no MimeContent): the message's
own InternetMessageHeaders where Exchange has them, else (Sent Items, drafts:
mail that never crossed a transport) an RFC 5322 block made from the
properties (From, Sender, To, Cc, Bcc, Reply-To, Subject, DateTimeSent,
InternetMessageId, In-Reply-To, References).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.header import Header
from email.utils import format_datetime, formataddr
from typing import Any

FIELDS = (
    "subject",
    "author",
    "sender",
    "to_recipients",
    "cc_recipients",
    "bcc_recipients",
    "reply_to",
    "datetime_sent",
    "datetime_received",
    "message_id",
    "in_reply_to",
    "references",
    "headers",
    "conversation_id",
    "is_read",
    "size",
)
"""exchangelib field names (item:Subject, message:From, ..., item:InternetMessageHeaders)."""


@dataclass(frozen=True, slots=True)
class Summary:
    raw_header: bytes
    received: float | None
    conversation_id: str | None
    read: bool
    size: int


def _text(value: str) -> str:
    value = " ".join(value.split())
    return value if value.isascii() else Header(value, "utf-8").encode()


def _address(mailbox: Any) -> str | None:
    address = str(getattr(mailbox, "email_address", None) or "").strip()
    if not address:
        return None
    name = " ".join(str(getattr(mailbox, "name", None) or "").split())
    if not name or name.lower() == address.lower():
        return address
    return formataddr((name, address), charset="utf-8")


def _addresses(value: Any) -> str:
    items = value if isinstance(value, list | tuple) else [value]
    return ", ".join(a for a in (_address(m) for m in items if m is not None) if a)


def synthesise(item: Any) -> bytes:
    lines: list[tuple[str, str]] = []
    sender = _addresses(item.author)
    if sender:
        lines.append(("From", sender))
    acting = _addresses(item.sender)
    if acting and acting != sender:
        lines.append(("Sender", acting))
    for name, value in (
        ("To", item.to_recipients),
        ("Cc", item.cc_recipients),
        ("Bcc", item.bcc_recipients),
        ("Reply-To", item.reply_to),
    ):
        if value and (text := _addresses(value)):
            lines.append((name, text))
    if item.subject is not None:
        lines.append(("Subject", _text(str(item.subject))))
    sent = item.datetime_sent or item.datetime_received
    if isinstance(sent, datetime):
        lines.append(("Date", format_datetime(sent)))
    if item.message_id:
        lines.append(("Message-ID", str(item.message_id).strip()))
    if item.in_reply_to:
        lines.append(("In-Reply-To", " ".join(str(item.in_reply_to).split())))
    if item.references:
        lines.append(("References", " ".join(str(item.references).split())))
    lines.append(("MIME-Version", "1.0"))
    return "".join(f"{k}: {v}\r\n" for k, v in lines).encode("ascii", "replace") + b"\r\n"


def header_block(item: Any) -> bytes:
    """The message's own internet headers when Exchange has them, else synthesised."""
    headers = item.headers
    if not headers:
        return synthesise(item)
    lines = []
    for header in headers:
        name = getattr(header, "name", None)
        if not name:
            continue
        value = str(getattr(header, "value", "") or "").replace("\r", " ").replace("\n", " ")
        lines.append(f"{name}: {value}\r\n")
    return "".join(lines).encode("utf-8", "surrogateescape") + b"\r\n"


def summary(item: Any) -> Summary:
    received = item.datetime_received
    conversation = getattr(item.conversation_id, "id", None) if item.conversation_id else None
    return Summary(
        raw_header=header_block(item),
        received=received.timestamp() if isinstance(received, datetime) else None,
        conversation_id=str(conversation) if conversation else None,
        read=bool(item.is_read),
        size=int(item.size or 0),
    )
