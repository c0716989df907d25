"""Content-Type (and Content-Disposition) values: the type and its parameters.

Owns parameter parsing: quoted values, missing quotes, stray semicolons, RFC 2231
extended ("name*=utf-8''...") and continued ("name*0=") parameters. Types come
out lower-cased; an unreadable type is text/plain, as RFC 2045 says.
"""

from __future__ import annotations

import re
import urllib.parse

from .charsets import decode_bytes
from .encoded_words import decode_encoded_words

_TYPE = re.compile(r"[a-z0-9!#$&^_.+\-]+/[a-z0-9!#$&^_.+\-]+")
_CONTINUED = re.compile(r"^(.+?)\*(\d{1,3})(\*?)$")
_MAX_PARAMS = 64


def _split_params(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    in_quote = False
    escaped = False
    for ch in text:
        if escaped:
            escaped = False
        elif ch == "\\" and in_quote:
            escaped = True
        elif ch == '"':
            in_quote = not in_quote
        elif ch == ";" and not in_quote:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return parts


def _unquote(value: str) -> str:
    value = value.strip()
    if value.startswith('"'):
        value = value[1:-1] if len(value) > 1 and value.endswith('"') else value[1:]
        value = re.sub(r"\\(.)", r"\1", value)
    return value


def _decode_extended(value: str, errors: list[str]) -> str:
    """An RFC 2231 extended value: charset'language'percent-encoded."""
    charset, _, rest = value.partition("'")
    _, _, encoded = rest.partition("'")
    if not rest:
        charset, encoded = "us-ascii", value
    data = urllib.parse.unquote_to_bytes(encoded)
    return decode_bytes(data, charset or "us-ascii", errors)


def parse_params(text: str, errors: list[str]) -> dict[str, str]:
    """Parameters of a structured header, keys lower-cased, values decoded."""
    plain: dict[str, str] = {}
    pieces: dict[str, dict[int, tuple[str, bool]]] = {}
    for part in _split_params(text)[:_MAX_PARAMS]:
        key, sep, value = part.partition("=")
        key = key.strip().lower()
        if not sep or not key:
            continue
        value = _unquote(value)
        continued = _CONTINUED.match(key)
        if continued is not None:
            name = continued.group(1)
            pieces.setdefault(name, {})[int(continued.group(2))] = (value, bool(continued.group(3)))
        elif key.endswith("*"):
            plain[key[:-1]] = _decode_extended(value, errors)
        else:
            plain.setdefault(key, decode_encoded_words(value, errors))
    for name, sections in pieces.items():
        ordered = [sections[i] for i in sorted(sections)]
        if ordered and ordered[0][1]:
            # Later sections are percent-encoded only when marked "*" themselves.
            joined = ordered[0][0] + "".join(
                v if extended else urllib.parse.quote(v, safe="") for v, extended in ordered[1:]
            )
            plain[name] = _decode_extended(joined, errors)
        else:
            plain[name] = "".join(v for v, _ in ordered)
    return plain


def parse_content_type(value: str, errors: list[str]) -> tuple[str, dict[str, str]]:
    """("type/subtype", params) of a Content-Type value; text/plain when missing or bad."""
    head, _, rest = value.partition(";")
    ctype = "".join(head.split()).lower()
    params = parse_params(rest, errors) if rest else {}
    if not ctype:
        return "text/plain", params
    if not _TYPE.fullmatch(ctype):
        errors.append("content_type_invalid")
        return "text/plain", params
    return ctype, params
