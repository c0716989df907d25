"""A bytes-level MIME walk for ordinary mail, giving what `parts.walk` gives on the stdlib tree.

Owns `fast_collect`. The stdlib FeedParser (compat32) reads a message line by
line in Python; most mail is a plain tree of text, HTML and base64 attachments
that needs none of its recovery logic. This walker splits header blocks with a
regular expression, reads only Content-Type, Content-Transfer-Encoding and
Content-Disposition (with the stdlib's own parameter rules: `_parseparam`,
`unquote`, `get_filename`, `get_boundary`), finds boundaries with `bytes.find`
and decodes with `base64`/`quopri`, exactly as `Message.get_payload(decode=True)`
does.

It is conservative on purpose: whenever the stdlib would record a defect or
take a path this module does not reproduce, it declines (returns None) and the
caller parses with the stdlib. Declined are, among others: lone CR line ends,
a missing header/body separator, duplicate content headers, 8-bit bytes or
backslashes in them, RFC 2231 parameters, message/* and multipart/digest
parts, a missing start or close boundary, two boundary lines in a row, a
multipart with a transfer encoding, base64 that is not clean, unknown transfer
encodings and deep or very wide trees.
"""

from __future__ import annotations

import base64
import binascii
import quopri
import re
from dataclasses import dataclass

from .parts import Collected, declared_filename, merge_alternatives, numbered_filename

MAX_DEPTH = 6
MAX_PARTS = 64

_HEADER_BLOCK = re.compile(rb"(?:[!-9;-~]+:[^\n]*\n(?:[ \t][^\n]*\n)*)*")
_CONTENT_FIELD = re.compile(
    rb"^content-(type|transfer-encoding|disposition):([^\n]*(?:\n[ \t][^\n]*)*)",
    re.IGNORECASE | re.MULTILINE,
)
_BOUNDARY_TAIL = re.compile(rb"(--)?[ \t]*\r?")
_LONE_CR = re.compile(rb"\r(?!\n)")
"""A CR not ending a line (the stdlib splits lines there; this walker does not).
One scan, about 3x cheaper than comparing two counts over a whole message."""
_PLAIN_ENCODINGS = frozenset({"", "7bit", "8bit", "binary"})
_MULTIPART_ENCODINGS = frozenset({"7bit", "8bit", "binary"})

Params = list[tuple[str, str]]


class _Declined(Exception):
    """The message needs the stdlib parser."""


@dataclass(slots=True)
class _Part:
    ctype: str
    type_params: Params | None
    """Content-Type parameters as `Message.get_param` sees them; None without the header."""
    disposition: str | None
    disposition_params: Params | None
    encoding: str
    children: list[_Part] | None
    body: bytes


def _parseparam(value: str) -> list[str]:
    """`email.message._parseparam`, line for line."""
    s = ";" + value
    plist: list[str] = []
    while s[:1] == ";":
        s = s[1:]
        end = s.find(";")
        while end > 0 and (s.count('"', 0, end) - s.count('\\"', 0, end)) % 2:
            end = s.find(";", end + 1)
        if end < 0:
            end = len(s)
        f = s[:end]
        if "=" in f:
            i = f.index("=")
            f = f[:i].strip().lower() + "=" + f[i + 1 :].strip()
        plist.append(f.strip())
        s = s[end:]
    return plist


def _unquote(value: str) -> str:
    """`email.utils.unquote`."""
    if len(value) > 1:
        if value.startswith('"') and value.endswith('"'):
            return value[1:-1].replace("\\\\", "\\").replace('\\"', '"')
        if value.startswith("<") and value.endswith(">"):
            return value[1:-1]
    return value


def _params(value: str) -> Params:
    """What `Message._get_params_preserve` + `_unquotevalue` yield, for the cases kept.

    Values are unquoted once (as `utils.decode_params` does); the stdlib then
    quotes and unquotes them again, which is the identity unless the value holds
    a backslash or a quote, so those decline, as do RFC 2231 names.
    """
    params: Params = []
    for index, item in enumerate(_parseparam(value)):
        name, sep, val = item.partition("=")
        if index == 0:
            if sep:
                raise _Declined  # the stdlib keeps a first "x=y" unquoted
            params.append((item.strip(), ""))
            continue
        if sep:
            name, val = name.strip(), _unquote(val.strip())
        else:
            name, val = item.strip(), ""
        if "*" in name or "\\" in val or '"' in val:
            raise _Declined
        params.append((name, val))
    return params


def _get_param(params: Params | None, name: str) -> str | None:
    if params is None:
        return None
    wanted = name.lower()
    for key, value in params:
        if key.lower() == wanted:
            return value
    return None


def _content_type(value: str | None) -> str:
    """`Message.get_content_type` (default text/plain; multipart/digest is declined)."""
    if value is None:
        return "text/plain"
    ctype = value.partition(";")[0].strip().lower()
    return ctype if ctype.count("/") == 1 else "text/plain"


def _next_boundary(raw: bytes, sep: bytes, pos: int, end: int) -> tuple[int, int, bool] | None:
    """(line start, next line start, is close) of the first boundary line in raw[pos:end].

    `pos` is the start of a line; a boundary counts only at the start of one.
    """
    first = pos
    while True:
        i = raw.find(sep, pos, end)
        if i < 0:
            return None
        j = i + len(sep)
        newline = raw.find(b"\n", j, end)
        line_end = newline if newline >= 0 else end
        if i == first or raw[i - 1] == 0x0A:
            match = _BOUNDARY_TAIL.fullmatch(raw, j, line_end)
            if match is not None:
                return i, (line_end + 1 if newline >= 0 else end), match.group(1) is not None
        pos = i + 1


def _parse(raw: bytes, start: int, end: int, depth: int, nested: bool, count: list[int]) -> _Part:
    count[0] += 1
    if depth > MAX_DEPTH or count[0] > MAX_PARTS:
        raise _Declined
    block = _HEADER_BLOCK.match(raw, start, end)
    head_end = block.end() if block is not None else start
    if raw.startswith(b"\n", head_end, end):
        body_start = head_end + 1
    elif raw.startswith(b"\r\n", head_end, end):
        body_start = head_end + 2
    else:
        raise _Declined  # no blank line after the headers
    fields: dict[str, str] = {}
    for match in _CONTENT_FIELD.finditer(raw, start, head_end):
        name = match.group(1).lower().decode("ascii")
        if name in fields:
            raise _Declined
        try:
            value = match.group(2).decode("ascii")
        except UnicodeDecodeError:
            raise _Declined from None
        if "\\" in value:
            raise _Declined
        fields[name] = value.lstrip(" \t").rstrip("\r\n")
    type_value = fields.get("type")
    ctype = _content_type(type_value)
    type_params = _params(type_value) if type_value is not None else None
    disposition_value = fields.get("disposition")
    disposition = None
    disposition_params = None
    if disposition_value is not None:
        disposition = disposition_value.partition(";")[0].strip().lower()
        disposition_params = _params(disposition_value)
    encoding_value = fields.get("transfer-encoding")
    encoding = encoding_value.lower() if encoding_value is not None else ""
    if ctype.startswith("message/") or ctype == "multipart/digest":
        raise _Declined
    if not ctype.startswith("multipart/"):
        body = raw[body_start:end]
        if nested:  # the line end before a boundary belongs to the boundary
            if body.endswith(b"\r\n"):
                body = body[:-2]
            elif body.endswith(b"\n"):
                body = body[:-1]
        return _Part(ctype, type_params, disposition, disposition_params, encoding, None, body)
    if encoding_value is not None and encoding not in _MULTIPART_ENCODINGS:
        raise _Declined
    boundary = _get_param(type_params, "boundary")
    if boundary is None:
        raise _Declined
    boundary = _unquote(boundary).rstrip()
    if not boundary:
        raise _Declined
    sep = b"--" + boundary.encode("ascii")
    first = _next_boundary(raw, sep, body_start, end)
    if first is None or first[2]:
        raise _Declined
    children: list[_Part] = []
    pos = first[1]
    while True:
        found = _next_boundary(raw, sep, pos, end)
        if found is None or found[0] == pos:
            raise _Declined  # no close boundary, or two boundary lines in a row
        children.append(_parse(raw, pos, found[0], depth + 1, True, count))
        if found[2]:
            break
        pos = found[1]
    return _Part(ctype, type_params, disposition, disposition_params, encoding, children, b"")


def _payload(part: _Part) -> bytes:
    """`Message.get_payload(decode=True)` for the encodings kept."""
    if part.encoding == "quoted-printable":
        return quopri.decodestring(part.body)
    if part.encoding == "base64":
        data = b"".join(part.body.splitlines())
        if len(data) % 4:
            raise _Declined
        try:
            return base64.b64decode(data, validate=True)
        except binascii.Error:
            raise _Declined from None
    if part.encoding in _PLAIN_ENCODINGS:
        return part.body
    raise _Declined


def _filename(part: _Part, index: int, errors: list[str]) -> str:
    """`parts._filename` over `Message.get_filename`."""
    raw = _get_param(part.disposition_params, "filename")
    if raw is None:
        raw = _get_param(part.type_params, "name")
    if raw is not None:
        raw = _unquote(raw).strip()
    if raw:
        name = declared_filename(raw, errors)
        if name:
            return name
    return numbered_filename(part.ctype, index)


def _walk_alternative(part: _Part, found: Collected, errors: list[str]) -> None:
    branches: list[Collected] = []
    for child in part.children or ():
        branch = Collected()
        _walk(child, branch, errors)
        branches.append(branch)
    merge_alternatives(found, branches)


def _walk(part: _Part, found: Collected, errors: list[str]) -> None:
    """`parts.walk`, for the trees `_parse` accepts."""
    if part.children is not None:
        if part.ctype == "multipart/alternative":
            _walk_alternative(part, found, errors)
            return
        for child in part.children:
            _walk(child, found, errors)
        return
    has_name = bool(
        _get_param(part.type_params, "name") or _get_param(part.disposition_params, "filename")
    )
    inline_text = part.ctype in ("text/plain", "text/html")
    if inline_text and not has_name and (part.disposition or "") != "attachment":
        found.add_text(part.ctype, _payload(part), _get_param(part.type_params, "charset"))
        return
    name = _filename(part, len(found.attachments) + 1, errors)
    found.add_attachment(name, part.ctype, _payload(part))


def fast_collect(raw: bytes, errors: list[str]) -> Collected | None:
    """What `parts.walk` finds in `raw`, or None when the stdlib parser must decide.

    On success the notes met on the way are appended to `errors`; on None
    `errors` is untouched. Never raises.
    """
    try:
        if _LONE_CR.search(raw) is not None or raw.startswith(b"From "):
            return None
        notes: list[str] = []
        found = Collected()
        _walk(_parse(raw, 0, len(raw), 0, False, [0]), found, notes)
    except _Declined:
        return None
    except Exception:  # a bug here must cost speed, never a body
        return None
    errors.extend(notes)
    return found
