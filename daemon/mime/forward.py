"""The forwarded original inside a forward (R8): its sender, date, subject, body, files.

Owns `parse_forward`, a pure function of the forward's raw bytes. Looked for,
in this order:

1. an attached original: a `message/rfc822` part anywhere in the tree (inside
   multipart/signed too; base64- or quoted-printable-encoded as some clients
   send it), or an attachment named `.eml`, or a `.eml`/`.txt` attachment
   whose content is a message. The first one found is the message the user
   forwarded (its own attachments are its own); its headers are read with
   loggbok's header parser and its body with the body parser.
2. an inline forward block in the text/plain body, then in the text/html
   body: quotequail's unwrap first (the measured pick; on bodies up to a bound,
   as it slows down on long ones), then loggbok's own multilingual header-block
   reader (`forward_block.py`) for the labels, separators and layouts
   quotequail does not know. HTML `mailto:` links are
   written out first, so a sender shown as a linked name keeps its address.

The sender's address must be read from the block itself: a name only, a
subject only, or no block at all gives `Unparsed` with the reason, never an
address found somewhere else in the text. Nothing here raises.
"""

from __future__ import annotations

import base64
import binascii
import quopri
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.generator import BytesGenerator
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from email.utils import parsedate_tz
from io import BytesIO

import quotequail

from .body import parse_message
from .facts import Address, ParsedAttachment
from .forward_block import body_after, find_header_block, read_address, read_addresses
from .forward_dates import read_shown_date
from .headers import parse_headers, split_header_block
from .html import html_to_text
from .parts import Collected, decode_texts, walk

MAX_TEXT_CHARS = 512 * 1024
"""Text searched for an inline block (a forward's block sits near its top)."""
MAX_DEPTH = 32
QUOTEQUAIL_MAX_LINES = 1000
QUOTEQUAIL_MAX_HTML = 64 * 1024
"""quotequail reads larger bodies only slowly (measured: 1.3 s for 2,000 text lines without
a block; 65 s for 5,000 HTML lines that each begin "From:"); beyond these, loggbok's
own reader (linear) reads the block alone."""
METHODS = ("quotequail", "blocks")
"""The inline readers, in the order they are tried (`parse_forward(inline=...)`)."""

_FORWARD_PREFIX = re.compile(
    r"^(?:\s*(?:fwd?|fw|wg|tr|rv|vb|vs|enc|doorst|vl|vid|i|пересл|转发|轉寄|転送)\s*:\s*)+",
    re.IGNORECASE,
)
_MAILTO_LINK = re.compile(
    r"<a\b[^>]{0,2000}?\bhref\s*=\s*[\"']mailto:([^\"'?>\s]{3,320})[^\"'>]*[\"'][^>]{0,2000}>"
    r"(.{0,2000}?)</a\s*>",
    re.IGNORECASE | re.DOTALL,
)
_TAGS = re.compile(r"<[^>]{0,2000}>")
_MESSAGE_HEADERS = re.compile(rb"^(from|date|subject|message-id|to)[ \t]*:", re.I | re.M)


@dataclass(frozen=True, slots=True)
class ForwardedOriginal:
    """The message the user forwarded, as read out of the forward."""

    sender: Address
    date_iso: str
    date_ts: float
    subject: str
    body_text: str
    body_html: str | None
    attachments: tuple[ParsedAttachment, ...]
    message_id: str | None
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    found_in: str
    """Where it was read: "attached message", "inline text (quotequail)",
    "inline html (header block)" ..."""
    date_shown: bool = True
    """False when the block showed no readable date and the forward's own stands in."""


@dataclass(frozen=True, slots=True)
class Unparsed:
    """A forward whose original sender's address cannot be read."""

    reason: str
    sender_name: str = ""


@dataclass(frozen=True, slots=True)
class _Forward:
    """What the forward itself says: the defaults for what a block does not show."""

    subject: str
    date_iso: str
    date_ts: float
    offset_minutes: int
    forwarded_message_id: str | None


def _own_facts(raw: bytes) -> _Forward:
    facts = parse_headers(split_header_block(raw)[0])
    offset = 0
    message = BytesParser(policy=compat32).parsebytes(split_header_block(raw)[0] + b"\n\n")
    parsed = parsedate_tz(str(message.get("date", "")))
    if parsed is not None and parsed[9] is not None:
        offset = parsed[9] // 60
    forwarded = str(message.get("x-forwarded-message-id", "")).strip() or None
    return _Forward(
        _FORWARD_PREFIX.sub("", facts.subject).strip(),
        facts.date_iso,
        facts.date_ts,
        offset,
        forwarded,
    )


def _serialise(message: Message) -> bytes:
    buffer = BytesIO()
    BytesGenerator(buffer, mangle_from_=False).flatten(message)
    return buffer.getvalue()


def _decoded(part: Message) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _looks_like_message(data: bytes) -> bool:
    head = split_header_block(data[:65536])[0]
    names = {m.group(1).lower() for m in _MESSAGE_HEADERS.finditer(head)}
    return b"from" in names and len(names) >= 2


def _inner_bytes(part: Message) -> bytes | None:
    """The raw original carried by a message/rfc822 part."""
    encoding = str(part.get("content-transfer-encoding", "")).strip().lower()
    children = part.get_payload()
    if not isinstance(children, list) or not children:
        return None
    inner = children[0]
    if not isinstance(inner, Message):
        return None
    data = _serialise(inner)
    if encoding == "base64":
        try:
            return base64.b64decode(re.sub(rb"[^A-Za-z0-9+/=]", b"", data))
        except (binascii.Error, ValueError):
            return None
    if encoding == "quoted-printable":
        return quopri.decodestring(data.lstrip(b"\r\n"))
    return data


def _attached(part: Message, depth: int = 0) -> Iterator[bytes]:
    """Attached originals in document order, not looking inside one that was found."""
    if depth > MAX_DEPTH:
        return
    ctype = part.get_content_type()
    if ctype in ("message/rfc822", "message/global"):
        inner = _inner_bytes(part)
        if inner:
            yield inner
        return
    if part.is_multipart():
        for child in part.get_payload():
            if isinstance(child, Message):
                yield from _attached(child, depth + 1)
        return
    try:
        name = (part.get_filename() or "").strip().lower()
    except Exception:  # stdlib parameter decoding on hostile input
        name = ""
    disposition = part.get_content_disposition() or ""
    if name.endswith(".eml") or (
        disposition == "attachment" and (name.endswith(".txt") or ctype == "text/plain")
    ):
        data = _decoded(part)
        if _looks_like_message(data):
            yield data


def _texts(collected: Collected, errors: list[str]) -> tuple[str, str]:
    plain = decode_texts(collected.plain, collected.plain_charsets, errors)
    html = decode_texts(collected.html, collected.html_charsets, errors)
    return plain[:MAX_TEXT_CHARS], html[: MAX_TEXT_CHARS * 4]


def _from_attached(raw: bytes, errors: list[str]) -> ForwardedOriginal | Unparsed:
    head = split_header_block(raw)[0]
    facts = parse_headers(head)
    if not facts.from_.email:
        shown = BytesParser(policy=compat32).parsebytes(head + b"\n\n").get("from", "")
        name = facts.from_.name or read_address(str(shown)).name
        return Unparsed(
            f"the attached message names its sender without an address ({name})"
            if name
            else "the attached message has no readable sender",
            name,
        )
    parsed = parse_message(raw)
    collected = Collected()
    walk(BytesParser(policy=compat32).parsebytes(raw), 0, collected, errors)
    html = decode_texts(collected.html, collected.html_charsets, errors)
    return ForwardedOriginal(
        sender=facts.from_,
        date_iso=facts.date_iso,
        date_ts=facts.date_ts,
        subject=facts.subject,
        body_text=parsed.body_text,
        body_html=html or None,
        attachments=parsed.attachments,
        message_id=facts.message_id if facts.has_message_id else None,
        to=facts.to,
        cc=facts.cc,
        found_in="attached message",
        date_shown=bool(facts.date_iso),
    )


def with_mailto_written_out(html: str) -> str:
    """`<a href="mailto:a@b">Name</a>` as `Name &lt;a@b&gt;`, so the address survives
    rendering to text (a link whose text shows the address is left as it is)."""

    def replace(match: re.Match[str]) -> str:
        address, inner = match.group(1), match.group(2)
        shown = _TAGS.sub("", inner)
        if address.lower() in shown.lower():
            return match.group(0)
        return f"{inner} &lt;{address}&gt;"

    return _MAILTO_LINK.sub(replace, html)


@dataclass(frozen=True, slots=True)
class _Block:
    fields: dict[str, str]
    body: str
    found_in: str


def _quotequail(plain: str, html: str, errors: list[str]) -> Iterator[_Block]:
    try:
        if plain.strip() and plain.count("\n") < QUOTEQUAIL_MAX_LINES:
            found = quotequail.unwrap(plain)
            if found and found.get("from"):
                yield _Block(found, found.get("text", ""), "inline text (quotequail)")
        if html.strip() and len(html) <= QUOTEQUAIL_MAX_HTML:
            found = quotequail.unwrap_html(html)
            if found and found.get("from"):
                body = _dedent(html_to_text(found.get("html", ""), errors))
                yield _Block(found, body, "inline html (quotequail)")
    except Exception as exc:  # third-party code on hostile input: never lose the message
        errors.append(f"quotequail_failed:{type(exc).__name__}")


def _dedent(text: str) -> str:
    """Rendered HTML without the indentation nested block elements give each line."""
    return "\n".join(line.strip() for line in text.split("\n"))


def _blocks(plain: str, html: str, errors: list[str]) -> Iterator[_Block]:
    rendered = _dedent(html_to_text(html, errors)) if html.strip() else ""
    for text, where in ((plain, "inline text"), (rendered, "inline html")):
        found = find_header_block(text) if text.strip() else None
        if found is not None:
            block, lines = found
            yield _Block(block.fields, body_after(block, lines), f"{where} (header block)")


def _inline(
    collected: Collected, own: _Forward, inline: tuple[str, ...], errors: list[str]
) -> ForwardedOriginal | Unparsed:
    """The first block (readers in `inline` order) whose sender has an address; the
    fields it lacks (a date label quotequail does not know) come from the other
    readers' blocks that name the same sender."""
    plain, html = _texts(collected, errors)
    html = with_mailto_written_out(html) if html else ""
    readers = {"quotequail": _quotequail, "blocks": _blocks}
    found = [block for method in inline for block in readers[method](plain, html, errors)]
    senders = [read_address(block.fields.get("from", "")) for block in found]
    for block, sender in zip(found, senders, strict=True):
        if sender.email:
            fields = dict(block.fields)
            for other, other_sender in zip(found, senders, strict=True):
                if other_sender.email == sender.email:
                    for key, value in other.fields.items():
                        fields.setdefault(key, value)
            merged = _Block(fields, block.body, block.found_in)
            return _original(merged, sender, own, collected)
    named = next((s.name for s in senders if s.name), "")
    if named:
        return Unparsed(f"the forwarded block names its sender without an address ({named})", named)
    return Unparsed("no forwarded message found: no attached original and no header block")


def _original(
    block: _Block, sender: Address, own: _Forward, collected: Collected
) -> ForwardedOriginal:
    shown = block.fields.get("date", "")
    forwarded_at = datetime.fromtimestamp(own.date_ts, UTC) if own.date_ts else None
    date = read_shown_date(shown, own.offset_minutes, forwarded_at) if shown else None
    subject = " ".join(block.fields.get("subject", "").replace("\ufeff", " ").split())
    return ForwardedOriginal(
        sender=sender,
        date_iso=date[0] if date else own.date_iso,
        date_ts=date[1] if date else own.date_ts,
        subject=subject or own.subject,
        body_text=block.body.replace("\ufeff", "").strip(),
        body_html=None,
        attachments=tuple(collected.attachments),
        message_id=own.forwarded_message_id,
        to=read_addresses(block.fields.get("to", "")),
        cc=read_addresses(block.fields.get("cc", "")),
        found_in=block.found_in,
        date_shown=date is not None,
    )


def parse_forward(
    raw: bytes, errors: list[str] | None = None, *, inline: tuple[str, ...] = METHODS
) -> ForwardedOriginal | Unparsed:
    """The forwarded original in `raw`, or why it cannot be read; never raises."""
    notes: list[str] = [] if errors is None else errors
    try:
        own = _own_facts(raw)
        message = BytesParser(policy=compat32).parsebytes(raw)
        attached = next(_attached(message), None)
        if attached is not None:
            return _from_attached(attached, notes)
        collected = Collected()
        walk(message, 0, collected, notes)
        return _inline(collected, own, inline, notes)
    except Exception as exc:  # a parser bug must cost a forward its parse, never the sync
        notes.append(f"forward_parser_failed:{type(exc).__name__}")
        return Unparsed(f"the forward could not be read ({type(exc).__name__})")
