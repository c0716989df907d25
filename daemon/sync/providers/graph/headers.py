"""Header blocks from Graph message properties, so the rules decide without the
MIME: `internetMessageHeaders` as the message carried them where Graph has them,
else (Sent Items, drafts: mail that never crossed a transport) an RFC 5322
block made from the properties (from, sender, to, cc, bcc, reply-to, subject,
internetMessageId, sentDateTime).

`Summary` is what the backend keeps of each listed message between `changes`
and `fetch_headers`: the block, not the properties' JSON (a tenth of the memory).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.header import Header
from email.utils import format_datetime, formataddr
from typing import Any

SELECT = (
    "id",
    "internetMessageId",
    "internetMessageHeaders",
    "subject",
    "from",
    "sender",
    "toRecipients",
    "ccRecipients",
    "bccRecipients",
    "replyTo",
    "sentDateTime",
    "receivedDateTime",
    "conversationId",
    "bodyPreview",
    "isRead",
    "parentFolderId",
)
"""The properties delta is asked for (`$select`): what the rules need, no body."""

EXTENDED = {"String 0x1042": "In-Reply-To", "String 0x1039": "References"}
"""MAPI properties (PidTagInReplyToId, PidTagInternetReferences) asked for beside
them: mail without internet headers (Sent Items) still names its parents, so a
reply is threaded and ordered after its parent even when clocks disagree."""

SIZE = "Integer 0x0E08"
"""PidTagMessageSize: the message's size in bytes, so a large one is read in pieces
(`Backend.open_message`) and a small one fetched in a `$batch`, as on IMAP."""

EXPAND = (
    "singleValueExtendedProperties($filter="
    + " or ".join(f"id eq '{prop}'" for prop in (*EXTENDED, SIZE))
    + ")"
)
QUERY = f"$select={','.join(SELECT)}&$expand={EXPAND.replace(' ', '%20')}"
"""The query options of a first delta request and of a single message's lookup."""

_MARKER = "internetMessageId"
"""A property every full item has and a partial update (isRead changed) lacks."""


@dataclass(frozen=True, slots=True)
class Summary:
    raw_header: bytes
    received: float | None
    conversation_id: str | None
    preview: str | None
    read: bool
    size: int = 0
    """0 when Graph did not say."""


def is_full(item: dict[str, Any]) -> bool:
    return _MARKER in item or "internetMessageHeaders" in item or "subject" in item


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _text(value: str) -> str:
    """A header value, RFC 2047-encoded when it is not ASCII; no line breaks."""
    value = " ".join(value.split())
    return value if value.isascii() else Header(value, "utf-8").encode()


def _address(recipient: Any) -> str | None:
    if not isinstance(recipient, dict):
        return None
    email = recipient.get("emailAddress") or {}
    address = str(email.get("address") or "").strip()
    if not address:
        return None
    name = " ".join(str(email.get("name") or "").split())
    if not name or name.lower() == address.lower():
        return address
    return formataddr((name, address), charset="utf-8")


def _addresses(value: Any) -> str:
    items = value if isinstance(value, list) else [value]
    return ", ".join(a for a in (_address(r) for r in items) if a)


def synthesise(item: dict[str, Any]) -> bytes:
    """An RFC 5322 header block from the properties (no internet headers)."""
    lines: list[tuple[str, str]] = []
    sender = _addresses(item.get("from"))
    if sender:
        lines.append(("From", sender))
    acting = _addresses(item.get("sender"))
    if acting and acting != sender:
        lines.append(("Sender", acting))
    for name, prop in (
        ("To", "toRecipients"),
        ("Cc", "ccRecipients"),
        ("Bcc", "bccRecipients"),
        ("Reply-To", "replyTo"),
    ):
        if value := _addresses(item.get(prop) or []):
            lines.append((name, value))
    if (subject := item.get("subject")) is not None:
        lines.append(("Subject", _text(str(subject))))
    sent = _when(item.get("sentDateTime")) or _when(item.get("receivedDateTime"))
    if sent is not None:
        lines.append(("Date", format_datetime(sent)))
    if message_id := str(item.get("internetMessageId") or "").strip():
        lines.append(("Message-ID", message_id))
    for prop in item.get("singleValueExtendedProperties") or []:
        if not isinstance(prop, dict):
            continue
        header = EXTENDED.get(str(prop.get("id", "")))
        if header and (value := " ".join(str(prop.get("value") or "").split())):
            lines.append((header, value))
    lines.append(("MIME-Version", "1.0"))
    return "".join(f"{k}: {v}\r\n" for k, v in lines).encode("ascii", "replace") + b"\r\n"


def header_block(item: dict[str, Any]) -> bytes:
    """The message's own internet headers when Graph has them, else synthesised."""
    headers = item.get("internetMessageHeaders")
    if not isinstance(headers, list) or not headers:
        return synthesise(item)
    lines = []
    for header in headers:
        if not isinstance(header, dict) or not header.get("name"):
            continue
        value = str(header.get("value") or "").replace("\r", " ").replace("\n", " ")
        lines.append(f"{header['name']}: {value}\r\n")
    return "".join(lines).encode("utf-8", "surrogateescape") + b"\r\n"


def _size(item: dict[str, Any]) -> int:
    for prop in item.get("singleValueExtendedProperties") or []:
        if isinstance(prop, dict) and prop.get("id") == SIZE:
            value = str(prop.get("value") or "")
            return int(value) if value.isdigit() else 0
    return 0


def summary(item: dict[str, Any]) -> Summary:
    received = _when(item.get("receivedDateTime"))
    conversation = item.get("conversationId")
    preview = item.get("bodyPreview")
    return Summary(
        raw_header=header_block(item),
        received=received.timestamp() if received else None,
        conversation_id=str(conversation) if conversation else None,
        preview=str(preview) if preview else None,
        read=bool(item.get("isRead")),
        size=_size(item),
    )
