"""Address lists from raw header values: To, Cc, From..., read as well as they can be.

Owns address parsing. Handles quoted and encoded display names, comments,
groups ("team: a@x, b@y;"), missing angle brackets, unterminated quotes and
plain garbage. Emails come out lower-cased; nothing here raises.
"""

from __future__ import annotations

import re

from .charsets import decode_header_bytes
from .encoded_words import decode_encoded_words
from .facts import Address

_ADDR_SPEC = re.compile(r"""[^\s<>()",;:@\[\]]+@[^\s<>()",;:@\[\]]+""")
_BARE_WORD = re.compile(r"[A-Za-z0-9._%+\-]{1,64}")
_COMMENT = re.compile(r"\(([^()]*)\)")
_SPACES = re.compile(r"\s+")
_MAX_ADDRESSES = 2000
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\((?:[^()\\]|\\.)*\)|<[^<>]*>|[^",;:(<]+|.', re.DOTALL)
_SEPARATORS = frozenset({",", ";"})
_EMAIL = r"[^<>\s()\",;:@\[\]]+@[^<>\s()\",;:@\[\]]+"
_SIMPLE = re.compile(
    rf'\s*(?:"([^"\\]*)"|([^"<>()\[\],;:@\\]*?))\s*<({_EMAIL})>\s*|\s*({_EMAIL})\s*'
)
"""The common shapes, read without the general machinery: Name <a@b>, "N" <a@b>, a@b."""


def _split(value: str) -> list[str]:
    """Split on top-level commas and group punctuation, respecting quotes, <> and ().

    An unterminated quote or bracket matches as a single literal character, so
    the rest of the list is still read.
    """
    tokens: list[str] = []
    current: list[str] = []
    has_at = False
    for match in _TOKEN.finditer(value):
        piece = match.group(0)
        if piece in _SEPARATORS:
            tokens.append("".join(current))
            current = []
            has_at = False
        elif piece == ":" and not has_at:
            current = []  # "Group name:" starts a group; the name is not an address.
        else:
            current.append(piece)
            if "@" in piece and piece[0] not in '"(':
                has_at = True
    tokens.append("".join(current))
    return tokens


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        text = text[1:-1]
    elif text.startswith('"'):
        text = text[1:]
    return text.replace('\\"', '"').replace("\\\\", "\\")


def _clean_email(text: str) -> str:
    text = _SPACES.sub("", text).strip("'\".,;")
    if text.lower().startswith("mailto:"):
        text = text[7:]
    return text.lower()


def _clean_name(text: str, errors: list[str]) -> str:
    name = _unquote(_SPACES.sub(" ", text).strip())
    name = decode_encoded_words(name, errors)
    return _SPACES.sub(" ", name).strip().strip("'\"").strip()


def _parse_token(token: str, errors: list[str], depth: int, sole: bool) -> list[Address]:
    simple = _SIMPLE.fullmatch(token)
    if simple is not None:
        bare_email = simple.group(4)
        if bare_email is not None:
            return [Address(email=bare_email.lower())]
        name = simple.group(1) if simple.group(1) is not None else simple.group(2)
        if "=?" in name:
            name = decode_encoded_words(name, errors)
        return [Address(email=simple.group(3).lower(), name=" ".join(name.split()))]
    token = token.strip()
    if not token:
        return []
    start = token.find("<")
    if start >= 0:
        end = token.find(">", start)
        inner = token[start + 1 : end] if end >= 0 else token[start + 1 :]
        if end < 0:
            errors.append("address_unterminated_angle")
        email = _clean_email(_COMMENT.sub("", inner).split(",")[0])
        if email.startswith("@") and ":" in email:  # obsolete source route
            email = email.split(":", 1)[1]
        name = token[:start] + (token[end + 1 :] if end >= 0 else "")
        return [Address(email=email, name=_clean_name(_COMMENT.sub("", name), errors))]
    comments = _COMMENT.findall(token)
    bare = _COMMENT.sub(" ", token)
    match = _ADDR_SPEC.search(_unquote(bare) if bare.strip().startswith('"') else bare)
    if match is None:
        match = _ADDR_SPEC.search(bare)
    if match is not None:
        email = _clean_email(match.group(0))
        rest = bare.replace(match.group(0), " ", 1)
        name = rest if rest.strip(" \t\"'") else " ".join(comments)
        return [Address(email=email, name=_clean_name(name, errors))]
    if "=?" in token and depth == 0:
        # A whole "Name <addr>" hidden inside one encoded word: decode and reread.
        decoded = decode_encoded_words(token, errors)
        if decoded != token:
            return _parse_all(decoded, errors, depth + 1)
    word = bare.strip().strip('"')
    if sole and _BARE_WORD.fullmatch(word):
        # "From: MAILER-DAEMON": a local name alone is kept; in a list it is debris.
        return [Address(email=word.lower(), name=_clean_name(" ".join(comments), errors))]
    errors.append("address_unreadable")
    return []


def _parse_all(value: str, errors: list[str], depth: int) -> list[Address]:
    found: list[Address] = []
    tokens = [token for token in _split(value) if token.strip()]
    for token in tokens:
        found.extend(_parse_token(token, errors, depth, len(tokens) == 1))
        if len(found) >= _MAX_ADDRESSES:
            errors.append("address_list_truncated")
            break
    return found[:_MAX_ADDRESSES]


def parse_addresses(value: str | bytes, errors: list[str] | None = None) -> tuple[Address, ...]:
    """Every address in a raw header value, in order, duplicates removed.

    `errors`, when given, receives a note for each part that could not be read.
    """
    notes: list[str] = [] if errors is None else errors
    try:
        text = decode_header_bytes(value, notes) if isinstance(value, bytes) else value
        if "\n" in text or "\r" in text:
            text = text.replace("\r", " ").replace("\n", " ")
        seen: set[str] = set()
        result: list[Address] = []
        for address in _parse_all(text, notes, 0):
            key = address.email or address.name
            if key and key not in seen:
                seen.add(key)
                result.append(address)
        return tuple(result)
    except Exception as exc:  # defensive: a parser bug must never lose the message
        notes.append(f"address_parser_failed:{type(exc).__name__}")
        return ()


def parse_address(value: str | bytes, errors: list[str] | None = None) -> Address:
    """The first address in a header value (From, Sender), or Address("") when none."""
    found = parse_addresses(value, errors)
    return found[0] if found else Address(email="")
