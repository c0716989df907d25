"""A batch past `max_batch` items is refused while it is parsed, not after.

Before: `dispatch.parse` ran `json.loads` on the whole line and counted the items
of the list it built: a 64 MiB line of `[0,0,...]` became 32 million items
(256 MiB of pointers) before it was refused. Now parsing stops at the item past
the bound (`rpc/bounded_json.py`); what it builds is measured with tracemalloc.
"""

from __future__ import annotations

import json
import tracemalloc

import pytest

from loggbok.daemon.rpc.bounded_json import TooMany, load
from loggbok.daemon.rpc.dispatch import parse
from loggbok.protocol.errors import ErrorCode


def test_a_huge_batch_is_refused_without_building_its_items() -> None:
    items = 500_000
    line = "[" + "0," * (items - 1) + "0]"
    tracemalloc.start()
    try:
        parsed = parse(line, 10_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [a["error"]["code"] for a in parsed.answers if a] == [ErrorCode.INVALID_REQUEST]
    assert "at most 10000" in parsed.answers[0]["error"]["data"]  # type: ignore[index]
    assert peak < 8 * items / 4  # the whole list alone was 8 bytes an item


@pytest.mark.parametrize(
    "text",
    [
        "[1,2,3]",
        " [ 1 , 2 ,\n3 ] ",
        '["a,b,c,d,e"]',
        '[{"a": [1,2,3,4,5]}, 2]',
        "[]",
        "[ ]",
        '{"a": [1,2,3,4,5]}',
        "[1,2,3,]",
        "[1,2,3",
        "[1,2,3]x",
        "[1 2,3,4]",
        "[,1,2,3]",
        "[NaN,1,2]",
    ],
)
def test_values_and_errors_are_those_of_json_loads(text: str) -> None:
    try:
        expected: object = json.loads(text)
    except ValueError as exc:
        with pytest.raises(ValueError) as caught:
            load(text, 3)
        assert str(caught.value) == str(exc)
    else:
        assert load(text, 3) == expected


def test_the_bound_itself_is_allowed_and_one_more_is_not() -> None:
    assert load("[1,2,3]", 3) == [1, 2, 3]
    assert isinstance(load("[1,2,3,4]", 3), TooMany)
    assert isinstance(load("[1,2,3,4,", 3), TooMany)  # refused before the rest is read
