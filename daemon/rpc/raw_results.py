"""Answers whose list the database built as JSON (`store/json_pages.py`): the same
fields, names and order as the protocol's `Timeline` and `MessageList`, with the
list put in as it is (`msgspec.Raw`) instead of built as structs and encoded."""

from __future__ import annotations

import msgspec

from loggbok.protocol.types import BlindThread


class RawTimeline(msgspec.Struct, kw_only=True):
    """`Timeline` on the wire."""

    entries: msgspec.Raw
    next: str | None = None
    blind: list[BlindThread] = msgspec.field(default_factory=list)


class RawMessageList(msgspec.Struct, kw_only=True):
    """`MessageList` on the wire."""

    messages: msgspec.Raw
    next: str | None = None
