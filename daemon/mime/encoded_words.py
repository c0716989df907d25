"""RFC 2047 encoded words ("=?utf-8?Q?...?=") in header values, decoded leniently.

Owns header-value decoding: encoded words with wrong or unknown charsets, broken
base64, missing terminators and stray whitespace all come out as text (with
replacement characters where nothing better exists) and an error note.
"""

from __future__ import annotations

import binascii
import re

from .charsets import decode_bytes

_WORD = re.compile(r"=\?([^?\s]{1,80})\?([QqBb])\?([^?]*?)\?=")
_UNTERMINATED = re.compile(r"=\?([^?\s]{1,80})\?([QqBb])\?(\S*)$")
_BETWEEN_WORDS = re.compile(r"[ \t\r\n]*")
_Q_HEX = re.compile(rb"=([0-9A-Fa-f]{2})")
_B64_JUNK = re.compile(rb"[^A-Za-z0-9+/]")


def _decode_q(text: str) -> bytes:
    raw = text.replace("_", " ").encode("ascii", "replace")
    return _Q_HEX.sub(lambda m: bytes([int(m.group(1), 16)]), raw)


def _decode_b(text: str, errors: list[str]) -> bytes:
    given = text.strip().rstrip("=").encode("ascii", "replace")
    raw = _B64_JUNK.sub(b"", given)
    if raw != given:
        errors.append("encoded_word_bad_base64")
    if len(raw) % 4 == 1:  # one dangling character can never decode
        raw = raw[:-1]
        errors.append("encoded_word_bad_base64")
    raw += b"=" * (-len(raw) % 4)
    try:
        return binascii.a2b_base64(raw)
    except binascii.Error:
        errors.append("encoded_word_bad_base64")
        return b""


def _decode_word(charset: str, encoding: str, text: str, errors: list[str]) -> str:
    data = _decode_q(text) if encoding in "Qq" else _decode_b(text, errors)
    return decode_bytes(data, charset, errors)


def decode_encoded_words(value: str, errors: list[str]) -> str:
    """`value` with every RFC 2047 encoded word decoded; never raises.

    Whitespace between two adjacent encoded words is dropped, as the RFC says.
    A trailing encoded word without its "?=" is decoded anyway, with a note.
    """
    if "=?" not in value:
        return value
    out: list[str] = []
    pos = 0
    last_was_word = False
    for match in _WORD.finditer(value):
        gap = value[pos : match.start()]
        if not (last_was_word and _BETWEEN_WORDS.fullmatch(gap)):
            out.append(gap)
        out.append(_decode_word(match.group(1), match.group(2), match.group(3), errors))
        pos = match.end()
        last_was_word = True
    rest = value[pos:]
    tail = _UNTERMINATED.search(rest)
    if tail is not None:
        errors.append("encoded_word_unterminated")
        head = rest[: tail.start()]
        if not (last_was_word and _BETWEEN_WORDS.fullmatch(head)):
            out.append(head)
        out.append(_decode_word(tail.group(1), tail.group(2), tail.group(3), errors))
    else:
        out.append(rest)
    return "".join(out)
