"""The MIME tree walk: which parts are the body and which are attachments.

Owns part selection. In multipart/alternative the text/plain branch wins over
HTML; in every other multipart the inline text parts are read in order. A
part is an attachment when it has a file name, is marked
"Content-Disposition: attachment", or is anything but inline text/plain or
text/html (images, PDFs, text/calendar, message/rfc822, delivery reports).
Broken structure is tolerated: each stdlib defect becomes a note.
"""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass, field
from email.generator import BytesGenerator
from email.message import Message
from io import BytesIO

from .charsets import decode_bytes
from .encoded_words import decode_encoded_words
from .facts import ParsedAttachment
from .placeholders import is_scan_placeholder

MAX_DEPTH = 256
"""Nesting deeper than this is not walked (noted as "mime_too_deep")."""
MAX_PARTS = 2000

_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")
"""Control characters (C0, DEL, C1), line and paragraph separators and the
bidirectional controls (LRM/RLM/ALM, embeddings, overrides, isolates): removed from
file names, where an override could show "exe.pdf" for "fdp.exe"."""


@dataclass(slots=True)
class Collected:
    """What the walk found, in document order."""

    plain: list[bytes] = field(default_factory=list)
    html: list[bytes] = field(default_factory=list)
    plain_charsets: list[str | None] = field(default_factory=list)
    html_charsets: list[str | None] = field(default_factory=list)
    attachments: list[ParsedAttachment] = field(default_factory=list)
    parts_seen: int = 0

    def add_text(self, ctype: str, payload: bytes, charset: str | None) -> None:
        """An inline text/plain or text/html part, in document order."""
        if ctype == "text/plain":
            self.plain.append(payload)
            self.plain_charsets.append(charset)
        else:
            self.html.append(payload)
            self.html_charsets.append(charset)

    def add_attachment(self, filename: str, ctype: str, payload: bytes) -> None:
        self.attachments.append(
            ParsedAttachment(
                filename=filename,
                content_type=ctype,
                size=len(payload),
                payload=payload,
                scan_placeholder=is_scan_placeholder(filename, ctype, payload),
            )
        )

    def add_undecodable(self, filename: str, ctype: str, encoded_size: int) -> None:
        """An attachment whose transfer encoding cannot be undone: recorded by its
        encoded size, with nothing to store."""
        self.attachments.append(
            ParsedAttachment(filename, ctype, encoded_size, b"", undecodable=True)
        )


_ALPHABET = bytes(range(65, 91)) + bytes(range(97, 123)) + b"0123456789+/"
_SPACE = b" \t\r\n\x0b\x0c"
MAX_JUNK_SHARE = 0.1
"""Base64 with more than this share of its non-blank bytes outside the alphabet is
undecodable (decoders skip such bytes: a 20 MB part of junk decoded to nothing)."""


def base64_undecodable(encoded: bytes) -> bool:
    """True when `encoded` cannot be read as base64: more than `MAX_JUNK_SHARE` of its
    non-blank bytes are outside the alphabet (and not "="), or its characters leave
    one over a multiple of four, which no padding mends (the stdlib then returns the
    encoded text itself)."""
    data = encoded.translate(None, _SPACE)
    if not data:
        return False
    letters = len(data) - len(data.translate(None, _ALPHABET))
    junk = len(data) - letters - data.count(b"=")
    return junk > len(data) * MAX_JUNK_SHARE or letters % 4 == 1


def _encoded_base64(part: Message) -> bytes | None:
    """The encoded content of a base64 leaf, or None for any other part."""
    if part.is_multipart() or str(part.get("content-transfer-encoding", "")).lower() != "base64":
        return None
    payload = part.get_payload()
    if isinstance(payload, str):
        return payload.encode("ascii", "surrogateescape")
    return payload if isinstance(payload, bytes) else None


def _safe_filename(name: str) -> str:
    """A display name without paths, control or bidirectional control characters,
    at most 255 characters."""
    name = _INVISIBLE.sub("", name).replace("\\", "/").rsplit("/", 1)[-1]
    return name.strip(" .")[:255]


def declared_filename(raw: str, errors: list[str]) -> str:
    """A file name as the part declares it, decoded and made safe ("" if nothing is left)."""
    return _safe_filename(decode_encoded_words(raw, errors))


def numbered_filename(ctype: str, index: int) -> str:
    """The name of a part that declares none: part-<n> with an extension for its type."""
    extension = mimetypes.guess_extension(ctype, strict=False) or ".bin"
    return f"part-{index}{extension}"


def _filename(part: Message, ctype: str, index: int, errors: list[str]) -> str:
    raw: str | None
    try:
        raw = part.get_filename()
    except Exception:  # stdlib parameter decoding on hostile input
        errors.append("attachment_filename_unreadable")
        raw = None
    if raw:
        name = declared_filename(str(raw), errors)
        if name:
            return name
    if ctype == "message/rfc822":
        inner = part.get_payload(0) if part.is_multipart() else None
        subject = inner.get("subject", "") if isinstance(inner, Message) else ""
        subject = declared_filename(str(subject), errors)
        return f"{subject or 'message'}.eml"
    return numbered_filename(ctype, index)


def _payload_bytes(part: Message, errors: list[str]) -> bytes:
    """The decoded content of a leaf, or the serialised children of a message/* part."""
    try:
        if part.is_multipart():
            chunks: list[bytes] = []
            for child in part.get_payload():
                if isinstance(child, Message):
                    buffer = BytesIO()
                    BytesGenerator(buffer, mangle_from_=False).flatten(child)
                    chunks.append(buffer.getvalue())
            return b"\n".join(chunks)
        payload = part.get_payload(decode=True)
    except Exception as exc:  # serialising a broken inner message can fail many ways
        errors.append(f"payload_unreadable:{type(exc).__name__}")
        return b""
    return payload if isinstance(payload, bytes) else b""


def _note_defects(part: Message, errors: list[str]) -> None:
    for defect in getattr(part, "defects", ()):
        errors.append(f"mime_defect:{type(defect).__name__}")


def _disposition(part: Message) -> str:
    try:
        return part.get_content_disposition() or ""
    except Exception:
        return ""


def _add_attachment(part: Message, ctype: str, found: Collected, errors: list[str]) -> None:
    name = _filename(part, ctype, len(found.attachments) + 1, errors)
    encoded = _encoded_base64(part)
    if encoded is not None and base64_undecodable(encoded):
        errors.append("attachment_undecodable")
        found.add_undecodable(name, ctype, len(encoded))
        return
    found.add_attachment(name, ctype, _payload_bytes(part, errors))


def _walk_alternative(part: Message, depth: int, found: Collected, errors: list[str]) -> None:
    branches: list[Collected] = []
    for child in part.get_payload():
        if isinstance(child, Message):
            branch = Collected(parts_seen=found.parts_seen)
            walk(child, depth + 1, branch, errors)
            found.parts_seen = branch.parts_seen
            branches.append(branch)
    merge_alternatives(found, branches)


def merge_alternatives(found: Collected, branches: list[Collected]) -> None:
    """The branches of one multipart/alternative into `found`: the first plain text and
    the first HTML (kept even when plain wins: the reply extractor uses it), and every
    branch's attachments."""
    plain = next((b for b in branches if b.plain), None)
    html = next((b for b in branches if b.html), None)
    if plain is not None:
        found.plain.extend(plain.plain)
        found.plain_charsets.extend(plain.plain_charsets)
    if html is not None:
        found.html.extend(html.html)
        found.html_charsets.extend(html.html_charsets)
    for branch in branches:
        found.attachments.extend(branch.attachments)


def walk(part: Message, depth: int, found: Collected, errors: list[str]) -> None:
    """Walk `part` and its children into `found`; never raises for malformed input."""
    found.parts_seen += 1
    if depth > MAX_DEPTH or found.parts_seen > MAX_PARTS:
        errors.append("mime_too_deep" if depth > MAX_DEPTH else "mime_too_many_parts")
        return
    _note_defects(part, errors)
    ctype = part.get_content_type()
    if ctype.startswith("multipart/") and part.is_multipart():
        if ctype == "multipart/alternative":
            _walk_alternative(part, depth, found, errors)
            return
        for child in part.get_payload():
            if isinstance(child, Message):
                walk(child, depth + 1, found, errors)
        return
    if ctype.startswith("multipart/"):
        # A multipart whose boundary was never found: its text is the body.
        errors.append("multipart_without_parts")
        ctype = "text/plain"
    has_name = bool(
        part.get_param("name") or part.get_param("filename", header="content-disposition")
    )
    inline_text = ctype in ("text/plain", "text/html") and not part.is_multipart()
    if inline_text and not has_name and _disposition(part) != "attachment":
        charset = part.get_param("charset")
        encoded = _encoded_base64(part)
        if encoded is not None and base64_undecodable(encoded):
            errors.append("text_undecodable")  # kept as well as it decodes: text is text
        found.add_text(
            ctype, _payload_bytes(part, errors), charset if isinstance(charset, str) else None
        )
        return
    _add_attachment(part, ctype, found, errors)


def decode_texts(chunks: list[bytes], charsets: list[str | None], errors: list[str]) -> str:
    """The text chunks of one kind decoded and joined with a blank line."""
    texts: list[str] = []
    for chunk, charset in zip(chunks, charsets, strict=False):
        text = decode_bytes(chunk, charset, errors)
        texts.append(text.replace("\r\n", "\n").replace("\x00", ""))
    return "\n\n".join(t for t in texts if t.strip())
