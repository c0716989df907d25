"""A streaming pass over a large message: parts over the attachment cap are skipped as they stream.

Owns `reduce_message`. A message larger than the cap may hold a part that will
never be stored (R10); parsing it whole would hold it several times over (two
600 MB messages once took 6 GB). This pass reads the message from a file line
by line, follows its MIME structure (header blocks, boundaries, message/rfc822
kept as one part) and writes out a reduced copy in which:

  - a part whose decoded size passes the attachment cap is counted while it
    streams and replaced by a short stand-in (`STAND_IN` and a random token);
    `Reduced.skipped` maps the token to the part's decoded size. Its header
    block stays, so the parser names it as before (a message/rfc822 part also
    keeps its inner header block, for the subject it is named after);
  - an inline text part (what the parser would make the body) is kept up to
    just past the body limit, which is all the body keeps;
  - a preamble or epilogue is kept up to twice the body limit.

What it holds at once is bounded by the cap (one part's lines before it passes
it) plus what the reduced copy keeps. The reduced bytes go through the
ordinary parser (`body.parse_message(raw, skipped=...)`), which turns each
stand-in back into an attachment of its real size with nothing to store.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import BinaryIO

BLOCK = 1024 * 1024
"""Bytes read from the file at once."""
LINE_PIECE = 1024 * 1024
"""The longest line taken whole: a longer one (base64 with no line breaks) comes in
pieces."""
MAX_HEADER_BLOCK = 1024 * 1024
"""A part's header block beyond this is taken as its content."""
STAND_IN = b"loggbok-skipped-part-"
STAND_IN_TOKEN = re.compile(re.escape(STAND_IN) + rb"([0-9a-f]{32})")
_ALPHABET = bytes(range(65, 91)) + bytes(range(97, 123)) + b"0123456789+/"
_FIELD_START = re.compile(rb"[!-9;-~]+[ \t]*:|[ \t]")


@dataclass(frozen=True, slots=True)
class Reduced:
    raw: bytes
    skipped: dict[str, int] = field(default_factory=dict)
    """Stand-in token -> the skipped part's decoded size."""


@dataclass(slots=True)
class _Leaf:
    """One part's content as it streams."""

    encoding: str
    inline_text: bool
    rfc822: bool
    limit: int
    kept: list[bytes] = field(default_factory=list)
    decoded: int = 0
    letters: int = 0
    over: bool = False
    cut: bool = False
    inner_head: bytes = b""
    line_end: int = 0
    """Length of the line end the last piece ended with: it belongs to the boundary."""

    def add(self, piece: bytes, body_limit: int) -> None:
        self.line_end = 2 if piece.endswith(b"\r\n") else 1 if piece.endswith(b"\n") else 0
        if self.encoding == "base64":
            self.letters += len(piece) - len(piece.translate(None, _ALPHABET))
            self.decoded = self.letters * 3 // 4
        elif self.encoding == "quoted-printable":
            self.decoded += len(binascii.a2b_qp(piece))
        else:
            self.decoded += len(piece)
        if self.over or self.cut:
            return
        self.kept.append(piece)
        if self.inline_text:
            self.cut = self.decoded > body_limit
        elif self.decoded > self.limit:
            self.over = True
            if self.rfc822:
                self.inner_head = _inner_head(self.kept)
            self.kept = []


def _inner_head(kept: list[bytes]) -> bytes:
    """The header block at the start of a message/rfc822 part's content ("" when it
    has none within `MAX_HEADER_BLOCK`)."""
    data = b"".join(kept)[: MAX_HEADER_BLOCK + 3]
    if data.startswith((b"\n", b"\r\n")):
        return data[: data.index(b"\n") + 1]
    ends = [end for end in (data.find(b"\n\n"), data.find(b"\n\r\n")) if end >= 0]
    if not ends:
        return b""
    end = min(ends)
    return data[: end + (2 if data.startswith(b"\n\n", end) else 3)]


def _boundary_of(line: bytes, boundaries: list[bytes]) -> tuple[int, bool] | None:
    """(index in `boundaries`, is close) when `line` is one of their boundary lines."""
    if not line.startswith(b"--"):
        return None
    for index in range(len(boundaries) - 1, -1, -1):
        separator = boundaries[index]
        if line.startswith(separator):
            rest = line[len(separator) :]
            close = rest.startswith(b"--")
            if close:
                rest = rest[2:]
            if not rest.strip(b" \t\r\n"):
                return index, close
    return None


def _headers(block: bytes) -> Message:
    return BytesHeaderParser(policy=compat32).parsebytes(block)


class _Reducer:
    def __init__(self, attachment_limit: int, body_limit: int) -> None:
        self.attachment_limit = attachment_limit
        self.body_limit = body_limit
        self.out = bytearray()
        self.skipped: dict[str, int] = {}
        self.boundaries: list[bytes] = []
        self.state = "headers"
        self.head: list[bytes] = []
        self.head_size = 0
        self.leaf: _Leaf | None = None
        self.between = 0
        """Preamble or epilogue bytes kept since the last boundary."""
        self.newline = b"\n"

    def line(self, piece: bytes, at_start: bool) -> None:
        found = _boundary_of(piece, self.boundaries) if at_start else None
        if found is not None:
            self._end_leaf()
            if self.state == "headers" and self.head:
                self._end_headers(leaf_allowed=False)
            index, close = found
            del self.boundaries[index + (0 if close else 1) :]
            self.out += piece
            self.state = "between" if close else "headers"
            self.head, self.head_size, self.between = [], 0, 0
            return
        if self.state == "headers":
            if not self.out and not self.head and piece.startswith(b"From "):
                self.head.append(piece)  # an mbox "From " line
                return
            if at_start and (piece in (b"\n", b"\r\n") or not _FIELD_START.match(piece)):
                if piece in (b"\n", b"\r\n"):
                    self.head.append(piece)
                    self._end_headers(leaf_allowed=True)
                    return
                self._end_headers(leaf_allowed=True)  # the stdlib: the body starts here
            else:
                self.head.append(piece)
                self.head_size += len(piece)
                if self.head_size > MAX_HEADER_BLOCK:
                    self._end_headers(leaf_allowed=True)
                return
        self.content(piece)

    def content(self, piece: bytes) -> None:
        """Lines (or a piece of one) that are no boundary, outside a header block."""
        if self.state == "leaf" and self.leaf is not None:
            self.leaf.add(piece, self.body_limit)
        elif self.between <= 2 * self.body_limit:
            self.between += len(piece)
            self.out += piece

    def _end_headers(self, *, leaf_allowed: bool) -> None:
        block = b"".join(self.head)
        self.head, self.head_size = [], 0
        if not self.out and block.endswith(b"\r\n"):
            self.newline = b"\r\n"
        self.out += block
        part = _headers(block)
        ctype = part.get_content_type()
        boundary = part.get_boundary() if ctype.startswith("multipart/") else None
        if boundary:
            self.boundaries.append(b"--" + boundary.rstrip().encode("ascii", "replace"))
            self.state, self.between = "between", 0
            return
        if ctype.startswith("multipart/"):
            ctype = "text/plain"  # a multipart without its boundary: its text is the body
        encoding = str(part.get("content-transfer-encoding", "")).strip().lower()
        has_name = bool(
            part.get_param("name") or part.get_param("filename", header="content-disposition")
        )
        disposition = str(part.get("content-disposition", "")).partition(";")[0].strip().lower()
        inline_text = (
            ctype in ("text/plain", "text/html") and not has_name and disposition != "attachment"
        )
        rfc822 = ctype == "message/rfc822" and encoding in ("", "7bit", "8bit", "binary")
        self.leaf = _Leaf(encoding, inline_text, rfc822, self.attachment_limit)
        self.state = "leaf" if leaf_allowed else "between"

    def _end_leaf(self) -> None:
        leaf, self.leaf = self.leaf, None
        if leaf is None:
            return
        if not leaf.over:
            self.out += b"".join(leaf.kept)
            if leaf.cut and not self.out.endswith(b"\n"):
                self.out += self.newline
            return
        token = secrets.token_hex(16)
        encoded = leaf.encoding in ("base64", "quoted-printable")
        self.skipped[token] = leaf.decoded - (0 if encoded else leaf.line_end)
        stand_in = STAND_IN + token.encode()
        if leaf.encoding == "base64":
            stand_in = base64.b64encode(stand_in)
        self.out += leaf.inner_head + stand_in + self.newline

    def finish(self) -> Reduced:
        if self.state == "headers" and self.head:
            self._end_headers(leaf_allowed=True)
        self._end_leaf()
        return Reduced(bytes(self.out), self.skipped)


class _Reader:
    """Lines from a binary file, and runs of whole lines none of which can be a
    boundary line (none starts with "--"), which a part's content is mostly made of."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.buf = b""
        self.pos = 0
        self.eof = False

    def _more(self) -> bool:
        if self.eof:
            return False
        data = self.handle.read(BLOCK)
        if not data:
            self.eof = True
            return False
        self.buf = self.buf[self.pos :] + data
        self.pos = 0
        return True

    def line(self) -> bytes:
        """The next line with its end, or its next `LINE_PIECE` bytes; b"" at the end."""
        while True:
            end = self.buf.find(b"\n", self.pos, self.pos + LINE_PIECE)
            if end >= 0:
                piece = self.buf[self.pos : end + 1]
                self.pos = end + 1
                return piece
            if len(self.buf) - self.pos >= LINE_PIECE or not self._more():
                piece = self.buf[self.pos : self.pos + LINE_PIECE]
                self.pos += len(piece)
                return piece

    def run(self) -> bytes:
        """Whole lines from here (a line start) up to the next line starting with "--";
        b"" when that is the next line or no whole line is at hand."""
        if len(self.buf) - self.pos < BLOCK // 2:
            self._more()
        if self.buf.startswith(b"--", self.pos):
            return b""
        last = self.buf.rfind(b"\n", self.pos)
        if last < 0:
            return b""
        dash = self.buf.find(b"\n--", self.pos, last)
        end = (dash if dash >= 0 else last) + 1
        piece = self.buf[self.pos : end]
        self.pos = end
        return piece


def reduce_message(handle: BinaryIO, attachment_limit: int, body_limit: int) -> Reduced:
    """The message in `handle` with every part over `attachment_limit` (decoded) replaced
    by a stand-in and inline text cut past `body_limit` (see the module docstring)."""
    reducer = _Reducer(attachment_limit, body_limit)
    reader = _Reader(handle)
    at_start = True
    while True:
        if at_start and reducer.state != "headers" and (run := reader.run()):
            reducer.content(run)
            continue
        piece = reader.line()
        if not piece:
            break
        reducer.line(piece, at_start)
        at_start = piece.endswith(b"\n")
    return reducer.finish()


def restore(raw_payload: bytes, skipped: dict[str, int]) -> int | None:
    """The real size of the skipped part whose stand-in `raw_payload` is or holds."""
    if not skipped or len(raw_payload) > 2 * MAX_HEADER_BLOCK:
        return None
    found = STAND_IN_TOKEN.search(raw_payload)
    if found is None:
        return None
    return skipped.get(found.group(1).decode("ascii"))
