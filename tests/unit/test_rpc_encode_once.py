"""A call's result is encoded to JSON once, straight from its struct, and the
parts of a call that are the same every time are worked out once: the handler's
signature, and the positions of a page's columns (`records.picker`).

Before, `rpc/dispatch.py` turned every result into plain dicts and lists
(`msgspec.to_builtins`) and the answer was then encoded from those: a timeline
page of 50 entries was walked twice. jsonrpcserver checks each call's params
against the handler's signature, and `inspect.signature` was computed anew for
every call. The answers' bytes are the same as ever."""

from __future__ import annotations

import inspect
import sqlite3
from typing import Any

import msgspec

from loggbok.daemon.rpc.dispatch import _bind, run
from loggbok.daemon.store.postgres_db import PgRow
from loggbok.daemon.store.records import picker, recipients, summaries, to_and_cc
from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.framing import encode

ENTRY = t.TimelineEntry(
    id=7, entry_id=9, contact_id=3, message_id="<a@b>", subject="Hej \u00e5",
    from_=t.Participant(email="a@b.example", name="A"),
    to=[t.Participant(email="c@d.example", name="C")], cc=[], date="2026-12-07T01:00:00+00:00",
    snippet="s", direction="inbound",
    attachments=[t.Attachment(index=0, filename="f.pdf", content_type="application/pdf",
                              size=3, status="stored")],
    reason="r1", thread_id=None,
)  # fmt: skip
PAGE = t.Timeline(entries=[ENTRY], next="1.5:9")


async def _page(ctx: Any, params: t.TimelineGetParams) -> t.Timeline:
    return PAGE


async def _unencodable(ctx: Any, params: t.TimelineGetParams) -> Any:
    return object()


def _request(params: dict[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "method": "timeline.get", "params": params, "id": 4}


async def test_a_result_is_encoded_once_and_answers_the_same_bytes() -> None:
    bound = _bind(m.TIMELINE_GET, _page)
    result = await bound(None, contact_id=3)
    assert isinstance(result._value.result, msgspec.Raw)  # encoded here, copied in later
    answer = await run(_request({"contact_id": 3}), {"timeline.get": bound}, None)
    old = {"jsonrpc": "2.0", "result": msgspec.to_builtins(PAGE), "id": 4}
    assert encode(answer) == encode(old)


async def test_a_result_that_cannot_be_encoded_is_still_an_internal_error_of_its_call() -> None:
    methods = {"timeline.get": _bind(m.TIMELINE_GET, _unencodable)}
    answer = await run(_request({"contact_id": 3}), methods, None)
    assert msgspec.json.decode(encode(answer))["error"]["code"] == -32603


async def test_the_signature_jsonrpcserver_checks_is_computed_once() -> None:
    bound = _bind(m.TIMELINE_GET, _page)
    assert inspect.signature(bound) is inspect.signature(bound)
    methods = {"timeline.get": bound}
    answer = await run(_request({"contact_id": 3, "nope": 1}), methods, None)
    assert msgspec.json.decode(encode(answer))["error"]["code"] == -32602
    answer = await run(_request([1, 2]), methods, None)  # positional: not our signature
    assert msgspec.json.decode(encode(answer))["error"]["code"] == -32602


def test_stored_recipients_decode_as_before() -> None:
    stored = '{"to": [["a@b.example", "A"], ["c@d.example", ""]], "cc": [["e@f.example", "E"]],'
    stored += ' "bcc": [["x@y.example", "X"]]}'
    assert to_and_cc(stored)[0] == [
        t.Participant(email="a@b.example", name="A"),
        t.Participant(email="c@d.example", name=""),
    ]
    assert to_and_cc(stored)[1] == [t.Participant(email="e@f.example", name="E")]
    assert to_and_cc("{}")[1] == [] == to_and_cc("")[0]
    assert recipients(None).to == []


def test_a_pages_columns_are_taken_by_position_the_first_of_a_name_winning() -> None:
    con = sqlite3.connect(":memory:")
    con.row_factory = sqlite3.Row
    rows = con.execute("SELECT 1 AS id, 2 AS b, 3 AS id, 'x' AS c UNION ALL SELECT 4, 5, 6, 'y'")
    rows = rows.fetchall()
    pick = picker(rows, ("c", "id", "b"))
    assert [pick(r) for r in rows] == [("x", 1, 2), ("y", 4, 5)]
    assert [(r["c"], r["id"], r["b"]) for r in rows] == [pick(r) for r in rows]  # as by name
    pg = [PgRow((1, 2, 3), {"id": 0, "b": 1, "c": 2})]
    assert picker(pg, ("c", "id"))(pg[0]) == (3, 1)


def test_summaries_take_their_columns_by_position() -> None:
    con = sqlite3.connect(":memory:")
    con.row_factory = sqlite3.Row
    rows = con.execute(
        "SELECT 'x' AS snippet, 7 AS id, '<m@x>' AS message_id, 'S' AS subject,"
        " 'a@b.example' AS from_email, 'A' AS from_name,"
        """ '{"to": [["c@d.example", "C"]], "cc": [["e@f.example", ""]]}' AS recipients,"""
        " 'D' AS date, 'inbound' AS direction, 1 AS logged, 'r1' AS reason, 3 AS mailbox_id"
    ).fetchall()
    expected = t.MessageSummary(
        id=7, message_id="<m@x>", subject="S", from_=t.Participant(email="a@b.example", name="A"),
        to=[t.Participant(email="c@d.example", name="C")], date="D", direction="inbound",
        snippet="x", logged=True, reason="r1", mailbox_id=3, contact_ids=[1, 2],
    )  # fmt: skip
    assert summaries(rows, {7: [1, 2]}.__getitem__, {3}) == [expected]
    assert summaries(rows, lambda _: [1, 2], set())[0].mailbox_id is None  # not the viewer's own
