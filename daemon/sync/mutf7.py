"""Modified UTF-7 (RFC 3501 5.1.3): how IMAP names folders on the wire, and how
Dovecot names Maildir folders on disk. Pure code, for every provider."""

from __future__ import annotations

import base64


def decode_mutf7(name: bytes | str) -> str:
    """RFC 3501 modified UTF-7 to text; undecodable input is returned as given."""
    raw = name.decode("ascii", "replace") if isinstance(name, bytes) else name
    if "&" not in raw:
        return raw
    out: list[str] = []
    i = 0
    while i < len(raw):
        char = raw[i]
        if char != "&":
            out.append(char)
            i += 1
            continue
        end = raw.find("-", i + 1)
        if end < 0:
            return raw
        chunk = raw[i + 1 : end]
        if not chunk:
            out.append("&")
        else:
            padded = chunk.replace(",", "/") + "=" * (-len(chunk) % 4)
            try:
                out.append(base64.b64decode(padded).decode("utf-16-be"))
            except (ValueError, UnicodeDecodeError):
                return raw
        i = end + 1
    return "".join(out)


def encode_mutf7(name: str) -> str:
    """Text to RFC 3501 modified UTF-7, for commands."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            raw = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(raw).decode().rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)
