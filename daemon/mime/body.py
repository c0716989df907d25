"""Whole-message parsing: raw bytes to `facts.ParsedMessage` for storage and display.

Owns the body: `fastmime` walks ordinary mail straight from the bytes; when it
declines, the stdlib parser (compat32, which records defects instead of
raising) builds the tree and `parts` picks the body and the attachments, with
the same result either way. `html` renders an HTML-only body, `quotes` finds
the new text. A body over the limit is cut (R10, "body_over_limit"). Nothing
here raises: problems go to `errors`.
"""

from __future__ import annotations

import re
from email.parser import BytesParser
from email.policy import compat32

from .facts import ParsedAttachment, ParsedMessage
from .fastmime import fast_collect
from .headers import split_header_block
from .html import html_to_text
from .parts import Collected, decode_texts, walk
from .quotes import new_text
from .stream import restore

BODY_LIMIT_BYTES = 2_097_152
SNIPPET_CHARS = 200

_SPACES = re.compile(r"\s+")


def make_snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """The first `limit` characters of `text`, whitespace collapsed, cut at a word."""
    # Collapsing a prefix gives a prefix of the collapsed whole; when it is long
    # enough that only the whole's last character could be a stripped space, the
    # rest of a long body need not be touched.
    flat = _SPACES.sub(" ", text[: limit * 4]).lstrip()
    if len(flat) < limit + 2:
        flat = _SPACES.sub(" ", text).strip()
    if len(flat) <= limit:
        return flat
    cut = flat[:limit]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:") + "…"


def _cap(chunks: list[bytes], limit: int) -> list[bytes]:
    kept: list[bytes] = []
    room = limit
    for chunk in chunks:
        if room <= 0:
            break
        kept.append(chunk[:room])
        room -= len(chunk)
    return kept


def _collect(raw: bytes, errors: list[str], fast: bool) -> Collected:
    found = fast_collect(raw, errors) if fast else None
    if found is None:
        message = BytesParser(policy=compat32).parsebytes(raw)
        found = Collected()
        walk(message, 0, found, errors)
    return found


def _restore_skipped(found: Collected, skipped: dict[str, int], errors: list[str]) -> None:
    """Turn the stand-ins of parts `stream.reduce_message` skipped back into attachments
    of their real size, with nothing to store."""
    for index, part in enumerate(found.attachments):
        size = restore(part.payload, skipped)
        if size is not None:
            found.attachments[index] = ParsedAttachment(
                part.filename, part.content_type, size, b"", skipped=True
            )
    for chunks in (found.plain, found.html):
        if any(restore(chunk, skipped) is not None for chunk in chunks):
            errors.append("text_part_skipped")
            chunks[:] = [c if restore(c, skipped) is None else b"" for c in chunks]


def _parse(
    raw: bytes, limit: int, errors: list[str], fast: bool, skipped: dict[str, int] | None = None
) -> ParsedMessage:
    found = _collect(raw, errors, fast)
    if skipped:
        _restore_skipped(found, skipped, errors)
    body_chunks = found.plain or found.html
    body_size = sum(len(chunk) for chunk in body_chunks)
    if body_size > limit:
        errors.append("body_over_limit")
    html = decode_texts(_cap(found.html, limit), found.html_charsets, errors)
    if found.plain:
        body_text = decode_texts(_cap(found.plain, limit), found.plain_charsets, errors)
    else:
        body_text = html_to_text(html, errors)
    fresh = new_text(body_text, None if found.plain else html or None, errors, fast=fast)
    return ParsedMessage(
        body_text=body_text,
        new_text=fresh,
        snippet=make_snippet(fresh or body_text),
        attachments=tuple(found.attachments),
        body_size=body_size,
        errors=tuple(dict.fromkeys(errors)),
    )


def _fallback(raw: bytes, limit: int, errors: list[str]) -> ParsedMessage:
    """When the tree cannot be built at all: the raw body as text, nothing more."""
    body = split_header_block(raw)[1]
    if len(body) > limit:
        errors.append("body_over_limit")
    text = body[:limit].decode("utf-8", "replace").replace("\r\n", "\n").replace("\x00", "")
    return ParsedMessage(
        body_text=text,
        new_text=text,
        snippet=make_snippet(text),
        attachments=(),
        body_size=len(body),
        errors=tuple(dict.fromkeys(errors)),
    )


def parse_message(
    raw: bytes,
    *,
    body_limit_bytes: int = BODY_LIMIT_BYTES,
    fast: bool = True,
    skipped: dict[str, int] | None = None,
) -> ParsedMessage:
    """Body text, new text, snippet and attachments of a raw message; never raises.

    The snippet is taken from the new text, or from the body when the message
    has no new text of its own (a bare forward). `fast=False` skips the fast
    paths (`fastmime`, `toppost`) and gives the same result slower: the tests
    compare the two. `skipped` comes with a message `stream.reduce_message` reduced:
    its stand-ins become attachments of their real size (`ParsedAttachment.skipped`).
    """
    errors: list[str] = []
    try:
        return _parse(raw, body_limit_bytes, errors, fast, skipped)
    except Exception as exc:  # a parser bug must cost a message its body, never the sync
        errors.append(f"message_parser_failed:{type(exc).__name__}")
        try:
            return _fallback(raw, body_limit_bytes, errors)
        except Exception:
            return ParsedMessage("", "", "", (), 0, tuple(dict.fromkeys(errors)))
