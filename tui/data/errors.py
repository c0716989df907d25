"""The daemon's errors in the user's words: no JSON-RPC codes, no Python reprs.

`plain(exc)` is the one sentence the TUI shows for an `RpcError`. Invalid params
(-32602) name the field by its label and say what a valid value looks like;
their data is msgspec's text ("Expected `int` >= 1, got `0` - at `$.port`") or
the daemon's own ("bcc_address 'x' is not an email address"). The code and the
raw data stay in the exception for support (and `loggbok call` prints them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from loggbok.protocol.errors import ErrorCode, RpcError

FIELDS: dict[str, str] = {
    "bcc_address": "Logging address",
    "forwarding_address": "Forwarding address",
    "own_addresses": "Your own addresses",
    "never_log": "Never log",
    "excluded_folders": "Folders not synced",
    "attachment_limit_bytes": "Attachment limit",
    "body_limit_bytes": "Body limit",
    "logging_mode": "Logging mode",
    "default_visibility": "Visible to",
    "address": "Email address",
    "host": "Server",
    "port": "Port",
    "security": "Security",
    "username": "User name",
    "password": "Password",
    "auth": "Sign-in",
    "path": "Maildir folder",
    "provider": "Provider",
    "email": "Email",
    "emails": "Emails",
    "name": "Name",
    "query": "Search",
    "contact_ids": "Contacts",
}
"""Parameter names as the forms label them."""

EXAMPLES: dict[str, str] = {
    "bcc_address": "an address such as log-123@bcc.example.com",
    "forwarding_address": "an address such as log@firma.example",
    "own_addresses": "addresses such as maja@firma.example",
    "never_log": "addresses or domains such as ceo@kund.example or @competitor.example",
    "excluded_folders": "folder names or patterns such as Newsletters or Archive/*",
    "attachment_limit_bytes": "a size of 0 or more",
    "body_limit_bytes": "a size of 0 or more",
    "address": "an address such as maja@firma.example",
    "email": "an address such as anna@kund.example",
    "host": "a server name such as imap.example.com",
    "port": "a number from 1 to 65535 (993 for TLS, 143 otherwise)",
    "path": "a folder such as ~/Mail/work",
}
"""What a valid value looks like, said after the problem."""

CODES: dict[int, str] = {
    ErrorCode.NOT_FOUND: "it is not there (any more)",
    ErrorCode.CONFLICT: "it clashes with what is already there",
    ErrorCode.MAILBOX_UNAVAILABLE: "the mailbox cannot be reached now",
    ErrorCode.AUTH_FAILED: "the server did not accept the sign-in",
    ErrorCode.CONNECTION_FAILED: "the server could not be reached",
    ErrorCode.FORBIDDEN: "this seat may not do that",
    ErrorCode.UNSUPPORTED: "that is not supported yet",
    ErrorCode.BAD_INPUT: "the input could not be read",
    ErrorCode.STORAGE_FULL: "the disk holding loggbok's data is full; free some space",
    ErrorCode.INTERNAL_ERROR: "the daemon hit a bug (its log has the details)",
    ErrorCode.INVALID_PARAMS: "a value is not valid",
}
"""Each code's meaning when the daemon says nothing more useful."""

_AT = re.compile(r"\s*-\s*at\s*`\$\.([A-Za-z_][\w]*)(?:[.\[][^`]*)?`\s*$")
_MISSING = re.compile(r"Object missing required field `(\w+)`")
_EXPECTED = re.compile(
    r"Expected `(\w+)[^`]*`(?: (>=|<=|of length >=|of length <=) (\d+))?(?:, got `([^`]+)`)?"
)
_OWN = re.compile(r"^([a-z]+(?:_[a-z]+)+|[a-z]+) (.+)$")
_REPR = re.compile(r"'([^']*)'")

_KINDS = {"int": "a whole number", "str": "text", "bool": "yes or no", "array": "a list"}


def field_label(name: str) -> str:
    return FIELDS.get(name, name.replace("_", " ").capitalize())


def _expected(text: str) -> str:
    """msgspec's "Expected `int` >= 1, got `str`" as "must be a whole number of at least 1"."""
    found = _EXPECTED.search(text)
    if found is None:
        if text.startswith("Invalid enum value"):
            value = _REPR.search(text)
            return f"“{value.group(1)}” is not one of the choices" if value else "not a choice"
        return text[:1].lower() + text[1:]
    kind, bound, number, _got = found.groups()
    words = _KINDS.get(kind, kind)
    if bound == ">=":
        return f"must be {words} of at least {number}"
    if bound == "<=":
        return f"must be {words} of at most {number}"
    if bound == "of length >=":
        return "must not be empty" if number == "1" else f"must be at least {number} characters"
    if bound == "of length <=":
        return f"must be at most {number} characters"
    return f"must be {words}"


def invalid_fields(data: Any) -> dict[str, str]:
    """Invalid-params data as field -> what is wrong with it (empty when no field is named)."""
    if isinstance(data, Mapping):
        return {str(k): str(v) for k, v in data.items() if str(k) in FIELDS}
    if not isinstance(data, str):
        return {}
    at = _AT.search(data)
    if at is not None:
        return {at.group(1): _expected(data[: at.start()])}
    missing = _MISSING.search(data)
    if missing is not None:
        return {missing.group(1): "is needed"}
    own = _OWN.match(data)
    if own is not None and own.group(1) in FIELDS:
        return {own.group(1): _REPR.sub(r"“\1”", own.group(2))}
    return {}


def field_problem(name: str, why: str) -> str:
    """ "Port: must be a whole number of at most 65535 — use a number from 1 to 65535 …"."""
    example = EXAMPLES.get(name)
    hint = f"; use {example}" if example and "use " not in why else ""
    return f"{field_label(name)}: {why}{hint}"


def unreachable(exc: BaseException) -> str:
    """Why no daemon answers, without an errno or a Python repr."""
    if isinstance(exc, FileNotFoundError):
        return "no daemon listens there yet (the socket does not exist)"
    if isinstance(exc, ConnectionRefusedError):
        return "the socket is there, but no daemon answers on it"
    if isinstance(exc, PermissionError):
        return "this user may not open the socket"
    if isinstance(exc, TimeoutError):
        return "the daemon did not answer in time"
    if isinstance(exc, RpcError):
        return plain(exc)
    if isinstance(exc, ConnectionError):
        return "the connection closed"
    return getattr(exc, "strerror", None) or str(exc) or "the daemon did not answer"


def plain(exc: RpcError) -> str:
    """One sentence for the user; never the code, never a repr."""
    if exc.code == ErrorCode.INVALID_PARAMS:
        fields = invalid_fields(exc.data)
        if fields:
            return "; ".join(field_problem(name, why) for name, why in fields.items())
    if isinstance(exc.data, str) and exc.data:
        return exc.data
    if exc.code == ErrorCode.UNSUPPORTED and isinstance(exc.data, Mapping):
        supported = exc.data.get("supported")
        if isinstance(supported, list) and supported:
            return f"{exc.message}; choose one of: {', '.join(map(str, supported))}"
    if exc.message and exc.message not in ("Invalid params", "Not found", "Conflict"):
        return exc.message
    return CODES.get(exc.code, exc.message or "the daemon refused")
