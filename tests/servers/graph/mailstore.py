"""The Graph test server's state: one mailbox per user, its folders, its
messages (kept as MIME, their Graph properties derived from it), and a change
log per mailbox from which delta pages are cut.

Delta tokens are opaque to clients and readable here: a position in the change
log and the mailbox's epoch. `expire_delta_tokens` bumps the epoch, after which
every older token is answered as Graph answers an expired one (410 Gone or
`syncStateNotFound`). Message ids are immutable ids: they survive moves, as
with `Prefer: IdType="ImmutableId"`.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.parser import BytesHeaderParser, BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any, Literal

_ids = itertools.count(1)

WELL_KNOWN = {
    "inbox": "Inbox",
    "sentitems": "Sent Items",
    "drafts": "Drafts",
    "deleteditems": "Deleted Items",
    "junkemail": "Junk Email",
    "archive": "Archive",
}


def _graph_id(prefix: str, n: int) -> str:
    """Long opaque ids with the base64 alphabet Graph's own ids use."""
    raw = hashlib.sha256(f"{prefix}-{n}".encode()).digest() + n.to_bytes(8, "big")
    return "AAMk" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


@dataclass
class MailFolder:
    id: str
    display_name: str
    parent_id: str
    well_known: str | None = None


@dataclass
class StoredMessage:
    id: str
    folder_id: str
    mime: bytes
    received: datetime
    transported: bool
    """False for mail that never crossed a transport (Sent Items): no internet headers."""
    change_key: int = 1
    is_read: bool = False
    conversation: str = ""
    """Exchange's ConversationId: one per thread, found by following the parents."""

    def parsed(self) -> EmailMessage:
        parsed = BytesParser(policy=policy.default).parsebytes(self.mime)
        assert isinstance(parsed, EmailMessage)
        return parsed


EventKind = Literal["upsert", "removed", "read"]


@dataclass(frozen=True)
class Event:
    seq: int
    folder_id: str
    message_id: str
    kind: EventKind


@dataclass
class Mailbox:
    address: str
    folders: dict[str, MailFolder] = field(default_factory=dict)
    messages: dict[str, StoredMessage] = field(default_factory=dict)
    log: list[Event] = field(default_factory=list)
    epoch: int = 1
    conversations: dict[str, str] = field(default_factory=dict)
    """Message-ID -> conversation id of every message delivered."""

    def __post_init__(self) -> None:
        root = _graph_id("root", next(_ids))
        for name, title in WELL_KNOWN.items():
            folder = MailFolder(_graph_id("folder", next(_ids)), title, root, name)
            self.folders[folder.id] = folder

    @property
    def seq(self) -> int:
        return self.log[-1].seq if self.log else 0

    def folder(self, ref: str) -> MailFolder | None:
        """A folder by id or by well-known name (`inbox`, `sentitems`, ...)."""
        found = self.folders.get(ref)
        if found is not None:
            return found
        return next((f for f in self.folders.values() if f.well_known == ref.lower()), None)

    def add_folder(self, display_name: str, parent: str | None = None) -> MailFolder:
        root = next(iter(self.folders.values())).parent_id
        folder = MailFolder(_graph_id("folder", next(_ids)), display_name, parent or root)
        self.folders[folder.id] = folder
        return folder

    def _log(
        self, folder_id: str, message_id: str, kind: Literal["upsert", "removed", "read"]
    ) -> None:
        self.log.append(Event(self.seq + 1, folder_id, message_id, kind))

    def deliver(self, folder_ref: str, mime: bytes, received: datetime | None = None) -> str:
        folder = self.folder(folder_ref)
        assert folder is not None, folder_ref
        message = StoredMessage(
            id=_graph_id("message", next(_ids)),
            folder_id=folder.id,
            mime=mime,
            received=received or datetime.now(UTC),
            transported=folder.well_known not in ("sentitems", "drafts"),
        )
        head = BytesHeaderParser(policy=policy.compat32).parsebytes(mime)
        own = str(head.get("Message-ID", "")).strip()
        replied = str(head.get("In-Reply-To", "")).split()
        refs = str(head.get("References", "")).split()
        known = next(
            (self.conversations[p] for p in replied + refs if p in self.conversations), None
        )
        message.conversation = known or conversation_id((refs or replied or [own])[0])
        if own:
            self.conversations.setdefault(own, message.conversation)
        self.messages[message.id] = message
        self._log(folder.id, message.id, "upsert")
        return message.id

    def move(self, message_id: str, folder_ref: str) -> None:
        message = self.messages[message_id]
        target = self.folder(folder_ref)
        assert target is not None, folder_ref
        self._log(message.folder_id, message.id, "removed")
        message.folder_id = target.id
        message.change_key += 1
        self._log(target.id, message.id, "upsert")

    def delete(self, message_id: str) -> None:
        message = self.messages.pop(message_id)
        self._log(message.folder_id, message.id, "removed")

    def replace_mime(self, message_id: str, mime: bytes) -> None:
        """The same item, new content (Dynamic Delivery swapping the real attachment in)."""
        message = self.messages[message_id]
        message.mime = mime
        message.change_key += 1
        self._log(message.folder_id, message.id, "upsert")

    def renumber(self, folder_ref: str) -> None:
        """Every message of the folder under a new id, and every delta token expired:
        what a client sees when the ids it kept can no longer be trusted (a mailbox
        moved to another database, ids that were not immutable)."""
        folder = self.folder(folder_ref)
        assert folder is not None, folder_ref
        for old in self.in_folder(folder.id):
            del self.messages[old.id]
            self._log(folder.id, old.id, "removed")
            old.id = _graph_id("message", next(_ids))
            self.messages[old.id] = old
            self._log(folder.id, old.id, "upsert")
        self.epoch += 1

    def find(self, internet_message_id: str, folder_ref: str | None = None) -> str:
        """The id of the message with this Message-ID (in that folder)."""
        folder = self.folder(folder_ref) if folder_ref else None
        for message in self.messages.values():
            if folder is not None and message.folder_id != folder.id:
                continue
            if str(message.parsed().get("Message-ID", "")).strip() == internet_message_id:
                return message.id
        raise LookupError(internet_message_id)

    def mark_read(self, message_id: str) -> None:
        message = self.messages[message_id]
        message.is_read = True
        message.change_key += 1
        self._log(message.folder_id, message.id, "read")

    def in_folder(self, folder_id: str) -> list[StoredMessage]:
        found = [m for m in self.messages.values() if m.folder_id == folder_id]
        return sorted(found, key=lambda m: (m.received, m.id))

    def changes_since(self, folder_id: str, since: int, until: int) -> list[tuple[str, str]]:
        """(message id, kind) for every message of the folder whose last event in
        (since, until] is what the delta reports, in the order of those events."""
        last: dict[str, str] = {}
        for event in self.log:
            if since < event.seq <= until and event.folder_id == folder_id:
                previous = last.pop(event.message_id, None)
                kind = event.kind
                if kind == "read" and previous == "upsert":
                    kind = "upsert"
                last[event.message_id] = kind
        return list(last.items())


# ------------------------------------------------------------------ Graph properties


def _recipient(name: str, address: str) -> dict[str, Any]:
    return {"emailAddress": {"name": name, "address": address}}


def _decoded(value: Any) -> str:
    """A raw header value with its encoded words decoded (as Graph shows names)."""
    try:
        return str(make_header(decode_header(str(value))))
    except (ValueError, LookupError, UnicodeError):
        return str(value)


def _recipients(message: Message, header: str) -> list[dict[str, Any]]:
    values = [str(v) for v in message.get_all(header, [])]
    return [_recipient(_decoded(n), a) for n, a in getaddresses(values) if a]


def conversation_id(root: str) -> str:
    """Exchange gives every message of a conversation one id: a new one for a message
    whose parents it has not seen (here a hash of the oldest reference), else the
    parent's (`Mailbox.deliver`)."""
    return "AAQk" + base64.urlsafe_b64encode(hashlib.sha256(root.encode()).digest()).decode()[:40]


_properties: dict[tuple[str, int, str, bool], dict[str, Any]] = {}


def properties(message: StoredMessage) -> dict[str, Any]:
    """Every property the test server knows of a message, as message.json shows them
    (kept while the message is unchanged: parsing MIME is the server's slow part)."""
    key = (message.id, message.change_key, message.folder_id, message.is_read)
    found = _properties.get(key)
    if found is None:
        found = _properties[key] = _properties_of(message)
    return found


PREVIEW_SCAN = 16 * 1024
"""Bytes of a message's body looked at for `bodyPreview` (a large attachment is
never parsed for a preview)."""


def _preview(mime: bytes) -> str:
    """bodyPreview: the first text part within the first bytes of the message."""
    head = mime[:PREVIEW_SCAN]
    parsed = BytesParser(policy=policy.compat32).parsebytes(head)
    for part in parsed.walk():
        if part.get_content_maintype() == "text":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                charset = part.get_content_charset() or "utf-8"
                try:
                    text = payload.decode(charset, "replace")
                except LookupError:
                    text = payload.decode("utf-8", "replace")
                return " ".join(text.split())[:255]
    return ""


def _properties_of(message: StoredMessage) -> dict[str, Any]:
    """Properties from the header block (parsed alone) and a preview from the start
    of the body: what Exchange keeps, without parsing a whole large message."""
    parsed = BytesHeaderParser(policy=policy.compat32).parsebytes(message.mime)
    sender = _recipients(parsed, "From")
    try:
        sent = parsedate_to_datetime(str(parsed.get("Date", "")))
    except (TypeError, ValueError):
        sent = message.received
    if sent.tzinfo is None:
        sent = sent.replace(tzinfo=UTC)
    preview = _preview(message.mime)
    props: dict[str, Any] = {
        "@odata.type": "#microsoft.graph.message",
        "@odata.etag": f'W/"CQAAAB{message.change_key}"',
        "id": message.id,
        "changeKey": f"CQAAAB{message.change_key}",
        "createdDateTime": _iso(message.received),
        "lastModifiedDateTime": _iso(message.received),
        "receivedDateTime": _iso(message.received),
        "sentDateTime": _iso(sent),
        "hasAttachments": b"content-disposition: attachment" in message.mime.lower(),
        "internetMessageId": str(parsed.get("Message-ID", "")).strip(),
        "subject": _decoded(parsed.get("Subject", "")),
        "bodyPreview": preview,
        "conversationId": message.conversation,
        "parentFolderId": message.folder_id,
        "isRead": message.is_read,
        "isDraft": False,
        "from": sender[0] if sender else None,
        "sender": sender[0] if sender else None,
        "toRecipients": _recipients(parsed, "To"),
        "ccRecipients": _recipients(parsed, "Cc"),
        "bccRecipients": _recipients(parsed, "Bcc"),
        "replyTo": _recipients(parsed, "Reply-To"),
    }
    extended = {
        prop: " ".join(str(parsed.get(header, "")).split())
        for prop, header in EXTENDED_HEADERS.items()
        if parsed.get(header)
    }
    extended[MESSAGE_SIZE] = str(len(message.mime))
    props["_extended"] = extended  # sent only when $expand asks for them
    if message.transported:
        props["internetMessageHeaders"] = [
            {"name": name, "value": " ".join(str(value).split())} for name, value in parsed.items()
        ]
    return props


EXTENDED_HEADERS = {"String 0x1042": "In-Reply-To", "String 0x1039": "References"}
"""MAPI properties a client can `$expand` (PidTagInReplyToId, PidTagInternetReferences)."""
MESSAGE_SIZE = "Integer 0x0E08"
"""PidTagMessageSize, the message's size in bytes (https://learn.microsoft.com/en-us/office/
client-developer/outlook/mapi/pidtagmessagesize-canonical-property); an extended
property's value is always a string (https://learn.microsoft.com/en-us/graph/api/resources/
singlevaluelegacyextendedproperty)."""


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------------ tokens


def encode_token(state: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(state, sort_keys=True).encode()).decode()


def decode_token(token: str) -> dict[str, Any] | None:
    try:
        state = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, json.JSONDecodeError):
        return None
    return state if isinstance(state, dict) else None
