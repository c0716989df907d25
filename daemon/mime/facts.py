"""The parsed shapes other layers depend on: addresses, header facts, parsed bodies.

These are plain frozen dataclasses with no behaviour, so the rules engine and
the store can use them without importing the parser.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Address:
    email: str
    """Lower-cased addr-spec; "" when the header could not be read."""
    name: str = ""


@dataclass(frozen=True, slots=True)
class HeaderFacts:
    """Everything the rules need, read from the header block alone."""

    message_key: str
    """Normalised Message-ID (lower-cased, no <>), or "synthetic:<sha256>" when absent."""
    message_id: str
    """The Message-ID as it should be shown and matched by clients: "<...>"."""
    has_message_id: bool
    subject: str
    subject_norm: str
    from_: Address
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    bcc: tuple[Address, ...]
    reply_to: tuple[Address, ...]
    delivered_to: tuple[str, ...]
    """Delivered-To and X-Original-To addresses (lower-cased)."""
    date_iso: str
    """UTC ISO-8601, "" when missing or unreadable."""
    date_ts: float
    in_reply_to: tuple[str, ...]
    """Normalised keys, nearest parent first."""
    references: tuple[str, ...]
    """Normalised keys, oldest first as in the header."""
    content_type: str
    """Lower-cased top-level type, e.g. "multipart/report"."""
    content_type_params: dict[str, str]
    auto_submitted: str
    precedence: str
    list_id: str
    list_unsubscribe: bool
    autoreply_headers: tuple[str, ...]
    """Present auto-reply markers: X-Autoreply, X-Autorespond, X-Auto-Response-Suppress."""
    content_class: str
    thread_index: str
    return_path: str
    errors: tuple[str, ...] = field(default=())
    """Problems met while reading the headers; the message is still kept."""
    log_flag: bool | None = None
    """The user's own log flag (R7), `X-Loggbok-Log: yes` or `no`; None when absent or
    unreadable."""


@dataclass(frozen=True, slots=True)
class ParsedAttachment:
    filename: str
    content_type: str
    size: int
    payload: bytes
    scan_placeholder: bool = False
    """True when this looks like a security scanner's stand-in (R11)."""
    skipped: bool = False
    """Over the attachment cap while it streamed (`stream.reduce_message`): never held,
    `payload` is empty and `size` is the decoded size counted on the way."""
    undecodable: bool = False
    """Its transfer encoding could not be undone (base64 that is mostly not base64):
    `payload` is empty and `size` is the encoded size."""


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    """A whole message, parsed for storage and display."""

    body_text: str
    """The readable body: text/plain, or HTML rendered as text."""
    new_text: str
    """The body without quoted history and signature."""
    snippet: str
    attachments: tuple[ParsedAttachment, ...]
    body_size: int
    errors: tuple[str, ...] = ()
