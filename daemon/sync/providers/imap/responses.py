"""IMAP response reading and parsing: lines with literals in, Python values out.

Pure code, no sockets: `read_response` pulls one complete response (a line,
plus any `{n}` literals and the lines that continue it) through two callables,
and `parse_values` turns its parts into nested values:

    atom / number / flag / BODY[...]<n>  -> str
    "quoted" string / {n} literal        -> bytes
    NIL                                  -> None
    ( ... )                              -> list

`parse_fetch` turns `* n FETCH (...)` into a dict keyed by upper-cased item
names, whatever order the server sends them in. Also: UID set compression and
expansion, and the response-code helpers used after SELECT/EXAMINE/STATUS.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

Value = str | bytes | None | list["Value"]

_LITERAL_AT_END = re.compile(rb"\{(\d+)\+?\}\r?\n?$")
MAX_LITERAL = 1 << 30
"""The largest literal this client reads (1 GiB, far above any server's message
limit): a larger announcement is a broken or hostile server, not mail."""
_TOKEN = re.compile(
    rb"""[ ]*(?:
        (?P<open>\()
      | (?P<close>\))
      | "(?P<quoted>(?:[^"\\]|\\.)*)"
      | \{(?P<literal>\d+)\+?\}$
      | (?P<atom>[^ ()"{\[\]]*\[[^\]]*\](?:<[0-9.]+>)?|[^ ()"{\[\]]+)
    )""",
    re.VERBOSE,
)
_UID_RANGE = re.compile(r"(\d{1,10})(?::(\d{1,10}))?", re.ASCII)
_UNQUOTE = re.compile(rb"\\(.)")
_CODE = re.compile(rb"\[([A-Z0-9.-]+)(?: ([^\]]*))?\]", re.IGNORECASE)


class ProtocolError(Exception):
    """The server sent something this parser cannot make sense of."""


class ConnectionClosed(Exception):
    """The server closed the connection in the middle of a response."""


@dataclass(slots=True)
class Response:
    """One server response: text parts with literals between them (odd indexes)."""

    parts: list[bytes]

    @property
    def first(self) -> bytes:
        return self.parts[0]

    def tag(self) -> bytes:
        return self.parts[0].split(b" ", 1)[0]

    def text(self) -> str:
        """The whole response as text, literals included (for messages and logs)."""
        return b"".join(self.parts).decode("utf-8", "replace")


def read_response(readline: Callable[[], bytes], read: Callable[[int], bytes]) -> Response:
    """Read one complete response: the line, every literal it announces, and the rest."""
    parts: list[bytes] = []
    while True:
        line = readline()
        if not line:
            raise ConnectionClosed("the server closed the connection")
        if not line.endswith(b"\n"):
            raise ConnectionClosed("the connection ended in the middle of a line")
        match = _LITERAL_AT_END.search(line) if line.endswith(b"}\r\n") else None
        if match is None:
            parts.append(line.rstrip(b"\r\n"))
            return Response(parts)
        parts.append(line[: match.end(1)] + b"}")
        size = literal_size(match.group(1))
        literal = read(size) if size else b""
        if len(literal) != size:
            raise ConnectionClosed("the connection ended in the middle of a literal")
        parts.append(literal)


def literal_size(digits: bytes) -> int:
    """The size a `{n}` announces, refused beyond `MAX_LITERAL`."""
    if len(digits) > len(str(MAX_LITERAL)) or int(digits) > MAX_LITERAL:
        shown = digits[:20].decode("ascii") + ("…" if len(digits) > 20 else "")
        raise ProtocolError(
            f"the server announced a literal of {shown} bytes; this client reads at most"
            f" {MAX_LITERAL} bytes in one"
        )
    return int(digits)


def parse_values(parts: list[bytes], start: int = 0) -> list[Value]:
    """Tokenise a response's parts (from byte `start` of the first) into nested values."""
    root: list[Value] = []
    stack: list[list[Value]] = [root]
    index = 0
    pos = start
    while index < len(parts):
        text = parts[index]
        end = len(text)
        while True:
            while pos < end and text[pos] == 0x20:
                pos += 1
            if pos >= end:
                break
            match = _TOKEN.match(text, pos)
            if match is None or match.end() == pos:
                raise ProtocolError(f"cannot parse response near {text[pos : pos + 40]!r}")
            pos = match.end()
            kind = match.lastgroup
            if kind == "open":
                new: list[Value] = []
                stack[-1].append(new)
                stack.append(new)
            elif kind == "close":
                if len(stack) == 1:
                    raise ProtocolError("unbalanced ')' in response")
                stack.pop()
            elif kind == "quoted":
                stack[-1].append(_UNQUOTE.sub(rb"\1", match.group("quoted")))
            elif kind == "literal":
                if index + 1 >= len(parts):
                    raise ProtocolError("literal announced but missing")
                stack[-1].append(parts[index + 1])
                index += 1  # the literal; the loop below moves to the text after it
                break
            else:
                atom = match.group("atom").decode("ascii", "replace")
                stack[-1].append(None if atom.upper() == "NIL" else atom)
        index += 1
        pos = 0
    if len(stack) != 1:
        raise ProtocolError("unbalanced '(' in response")
    return root


@dataclass(slots=True)
class FetchItem:
    seq: int
    attrs: dict[str, Value]

    def uid(self) -> int | None:
        value = self.attrs.get("UID")
        return int(value) if isinstance(value, str) and value.isdigit() else None

    def section(self, prefix: str) -> bytes | None:
        """The first BODY[...] item whose name starts with `prefix` (e.g. `BODY[HEADER`)."""
        for key, value in self.attrs.items():
            if key.startswith(prefix) and isinstance(value, bytes):
                return value
        return None


_FAST_HEAD = re.compile(
    rb"\* (\d+) FETCH \((.*?)(?:^| )([A-Za-z0-9.]+\[[^\]]*\](?:<\d+>)?) \{\d+\}$"
)
_FAST_VALUE = rb'"(?:[^"\\]|\\.)*"|\([^()"]*\)|[^ ()"]+'
_FAST_PAIR = re.compile(rb"([A-Za-z0-9.-]+) (" + _FAST_VALUE + rb")")
_FAST_PAIRS = re.compile(rb"(?:[A-Za-z0-9.-]+ (?:" + _FAST_VALUE + rb")(?: (?=.)|$))*")


_KEYS: dict[bytes, str] = {}


def _key(raw: bytes) -> str:
    key = _KEYS.get(raw)
    if key is None:
        key = _normalise_key(raw.decode("ascii", "replace"))
        if len(_KEYS) < 1000:
            _KEYS[raw] = key
    return key


def _parse_fetch_fast(response: Response) -> FetchItem | None:
    """The common shape, one literal last (`... BODY[...] {n}` literal `)`), by regex.

    Values before the literal may be atoms, flat lists or quoted strings (Dovecot's
    PREVIEW); anything else (nesting, a quote inside a list) takes the slow path.
    """
    parts = response.parts
    if len(parts) != 3 or parts[2] != b")":
        return None
    head = _FAST_HEAD.match(parts[0])
    if head is None:
        return None
    items = head.group(2)
    if _FAST_PAIRS.fullmatch(items) is None:
        return None  # something the pair pattern does not cover: take the slow path
    pairs = _FAST_PAIR.findall(items)
    attrs: dict[str, Value] = {}
    for raw_key, raw in pairs:
        if raw[:1] == b"(":
            attrs[_key(raw_key)] = [w.decode("ascii", "replace") for w in raw[1:-1].split()]
        elif raw[:1] == b'"':
            attrs[_key(raw_key)] = _UNQUOTE.sub(rb"\1", raw[1:-1])
        elif raw.upper() == b"NIL":
            attrs[_key(raw_key)] = None
        else:
            attrs[_key(raw_key)] = raw.decode("ascii", "replace")
    attrs[_key(head.group(3))] = parts[1]
    return FetchItem(int(head.group(1)), attrs)


def parse_fetch(response: Response) -> FetchItem | None:
    """`* n FETCH (...)` as a FetchItem, or None when this is another response."""
    fast = _parse_fetch_fast(response)
    if fast is not None:
        return fast
    first = response.parts[0]
    if not first.startswith(b"* "):
        return None
    space = first.find(b" ", 2)
    if space < 0 or first[space + 1 : space + 7].upper() != b"FETCH ":
        return None
    try:
        seq = int(first[2:space])
    except ValueError:
        return None
    values = parse_values(response.parts, space + 7)
    if len(values) != 1 or not isinstance(values[0], list):
        raise ProtocolError(f"malformed FETCH response: {first[:80]!r}")
    items = values[0]
    attrs: dict[str, Value] = {}
    for i in range(0, len(items) - 1, 2):
        key = items[i]
        if not isinstance(key, str):
            raise ProtocolError(f"FETCH item name is not an atom: {key!r}")
        attrs[_normalise_key(key)] = items[i + 1]
    return FetchItem(seq, attrs)


def _normalise_key(key: str) -> str:
    bracket = key.find("[")
    return key.upper() if bracket < 0 else key[:bracket].upper() + key[bracket:]


def untagged_kind(response: Response) -> tuple[str, int | None]:
    """(`EXISTS`, 12) for `* 12 EXISTS`; (`OK`, None) for `* OK ...`."""
    words = response.parts[0].split(b" ", 3)
    if len(words) < 2 or words[0] != b"*":
        return "", None
    if words[1].isdigit() and len(words) > 2:
        return words[2].decode("ascii", "replace").upper(), int(words[1])
    return words[1].decode("ascii", "replace").upper(), None


def response_codes(text: bytes) -> dict[str, str]:
    """Bracketed response codes in a status line: `[UIDNEXT 5]` -> {"UIDNEXT": "5"}."""
    return {m.group(1).decode().upper(): (m.group(2) or b"").decode() for m in _CODE.finditer(text)}


def compress_uids(uids: Iterable[int]) -> str:
    """`1:3,7,9:10` for [1, 2, 3, 7, 9, 10] (sorted, duplicates dropped)."""
    ordered = sorted(set(uids))
    if not ordered:
        raise ValueError("empty UID set")
    ranges: list[str] = []
    start = prev = ordered[0]
    for uid in ordered[1:]:
        if uid == prev + 1:
            prev = uid
            continue
        ranges.append(f"{start}:{prev}" if prev != start else str(start))
        start = prev = uid
    ranges.append(f"{start}:{prev}" if prev != start else str(start))
    return ",".join(ranges)


def expand_uids(text: str, upto: int) -> list[int]:
    """The UIDs of a sequence set such as `1:3,7` (no `*`), leaving out those above
    `upto`: a range from the server is not trusted to be small."""
    out: list[int] = []
    for piece in text.split(","):
        if not piece:
            continue
        match = _UID_RANGE.fullmatch(piece)
        if match is None:
            raise ProtocolError(f"malformed UID set near {piece[:40]!r}")
        low, high = sorted((int(match[1]), int(match[2] or match[1])))
        out.extend(range(low, min(high, upto) + 1))
    return out


_INTERNALDATE = re.compile(
    rb" ?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)"
)
_MONTHS = {m: i for i, m in enumerate(
    (b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov",
     b"dec"), start=1)}  # fmt: skip


def internal_date(value: Value) -> float | None:
    """An INTERNALDATE ("17-Jul-1996 02:44:25 -0700") as seconds since the epoch;
    None when it is missing or unreadable."""
    if not isinstance(value, bytes):
        return None
    match = _INTERNALDATE.fullmatch(value)
    month = _MONTHS.get(match[2].lower()) if match else None
    if match is None or month is None:
        return None
    day, year, hour, minute, second = (int(match[i]) for i in (1, 3, 4, 5, 6))
    offset = (int(match[8]) * 60 + int(match[9])) * 60 * (-1 if match[7] == b"-" else 1)
    try:
        stamp = calendar.timegm((year, month, day, hour, minute, second))
    except (ValueError, OverflowError):
        return None
    return float(stamp - offset)


def quote(text: str) -> str:
    """An IMAP quoted string (the caller has already made the text ASCII)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
