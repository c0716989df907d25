"""Decoding one request line with the batch's item bound checked while it is parsed.

`json.loads` of a 64 MiB line of `[0,0,...]` builds a list of 32 million items
(256 MiB of pointers, more for items that are objects) before anything can
count them. Here a line that is an array and could hold more than `max_batch`
items (it has at least that many commas: one C-speed count) is decoded item
after item (`JSONDecoder.raw_decode`), and decoding stops at the item past the
bound: at most `max_batch` items are ever built. Anything else is `json.loads`
as before, and the values, and the errors for malformed JSON, are the same.
"""

from __future__ import annotations

import json
import re
from typing import Any

_decoder = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")


class TooMany:
    """A batch with more than `max_batch` items (how many more is not counted)."""

    def __init__(self, max_batch: int) -> None:
        self.max_batch = max_batch


def load(text: str, max_batch: int) -> Any:
    """The JSON value of `text`, or `TooMany` for an array of more than `max_batch` items;
    raises `ValueError` (`json.JSONDecodeError`) or `RecursionError` as `json.loads` does."""
    start = _skip(text, 0)
    if not text.startswith("[", start) or text.count(",", start) < max_batch:
        return json.loads(text)
    items: list[Any] = []
    at = _skip(text, start + 1)
    if text.startswith("]", at):
        return _end(text, at + 1, items)
    while True:
        if len(items) == max_batch and not text.startswith("]", at):  # "[..,]": an error
            return TooMany(max_batch)
        item, at = _decoder.raw_decode(text, at)
        items.append(item)
        at = _skip(text, at)
        if text.startswith(",", at):
            at = _skip(text, at + 1)
        elif text.startswith("]", at):
            return _end(text, at + 1, items)
        else:
            raise json.JSONDecodeError("Expecting ',' delimiter", text, at)


def _skip(text: str, at: int) -> int:
    match = _SPACE.match(text, at)
    assert match is not None  # `*` always matches
    return match.end()


def _end(text: str, at: int, items: list[Any]) -> list[Any]:
    at = _skip(text, at)
    if at != len(text):
        raise json.JSONDecodeError("Extra data", text, at)
    return items
