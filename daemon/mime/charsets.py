"""Charsets: turn bytes labelled with any charset name, however wrong, into text.

Owns the one place where mail's charset labels meet Python's codecs: aliases
that mail uses but Python lacks, supersets worth preferring, and the fallback
when a label is unknown or the bytes do not fit it. Nothing here raises.
"""

from __future__ import annotations

import codecs
import functools

_ALIASES: dict[str, str] = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "euc-kr": "cp949",
    "iso-8859-8-i": "iso-8859-8",
    "iso-8859-6-i": "iso-8859-6",
    "windows-874": "cp874",
    "x-sjis": "shift_jis",
    "shift-jis": "shift_jis",
    "sjis": "shift_jis",
    "x-mac-roman": "mac_roman",
    "macintosh": "mac_roman",
    "unicode-1-1-utf-7": "utf-7",
    "x-user-defined": "cp1252",
    "unknown-8bit": "utf-8",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
    "ansi_x3.4-1968": "utf-8",
}
"""Labels mail uses that Python does not know, or where a superset is what senders
meant (ISO-8859-1 mail is nearly always Windows-1252; "US-ASCII" mail with 8-bit
bytes is nearly always UTF-8)."""

_SILENT_FALLBACK = frozenset({"unknown-8bit", "us-ascii", "ascii"})


@functools.lru_cache(maxsize=256)
def resolve_charset(label: str) -> str | None:
    """The Python codec name for a mail charset label, or None when unusable.

    Only text codecs are accepted: labels such as "base64" or "rot13" name
    bytes-to-bytes codecs and count as unknown.
    """
    name = label.strip().strip('"').lower()
    if "*" in name:  # RFC 2231 language suffix: utf-8*en
        name = name.split("*", 1)[0]
    name = _ALIASES.get(name, name)
    if not name or len(name) > 40:
        return None
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return None
    if not getattr(info, "_is_text_encoding", True):
        return None
    return info.name


def decode_bytes(data: bytes, label: str | None, errors: list[str]) -> str:
    """Decode `data` as `label`, falling back sensibly and noting what went wrong.

    Unknown labels decode as UTF-8 with replacement characters. Bytes that do not
    fit a known label are retried as UTF-8, then decoded with replacement
    characters.
    """
    codec = resolve_charset(label) if label else "utf-8"
    if codec is None:
        errors.append(f"unknown_charset:{(label or '')[:40]}")
        return data.decode("utf-8", "replace")
    try:
        return data.decode(codec)
    except (UnicodeError, LookupError, ValueError, TypeError):
        pass
    if codec != "utf-8":
        try:
            text = data.decode("utf-8")
        except UnicodeError:
            pass
        else:
            if (label or "").strip().lower() not in _SILENT_FALLBACK:
                errors.append(f"charset_mismatch:{(label or '')[:40]}")
            return text
    errors.append(f"undecodable_bytes:{(label or 'utf-8')[:40]}")
    try:
        return data.decode(codec, "replace")
    except (UnicodeError, LookupError, ValueError, TypeError):
        return data.decode("cp1252", "replace")


def decode_header_bytes(data: bytes, errors: list[str]) -> str:
    """Raw header bytes as text: ASCII, else UTF-8 (RFC 6532), else Windows-1252."""
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        errors.append("header_invalid_utf8")
        return data.decode("cp1252", "replace")
