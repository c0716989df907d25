"""Decision order: by date, but a reply never before the message it answers."""

from __future__ import annotations

from loggbok.daemon.mime.headers import parse_headers
from loggbok.daemon.rules.planner import Incoming, decision_order


def _item(msgid: str, date: str, parent: str | None = None) -> Incoming:
    lines = [f"Message-ID: <{msgid}>", f"Date: {date}", "From: a@b.example", "Subject: x"]
    if parent:
        lines.append(f"In-Reply-To: <{parent}>")
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode()
    return Incoming(1, msgid, parse_headers(raw), raw)


def test_reply_with_skewed_clock_follows_its_parent() -> None:
    items = [
        _item("reply@x", "Mon, 2 Mar 2026 09:58:00 +0000", parent="root@x"),  # clock 5 min slow
        _item("other@x", "Mon, 2 Mar 2026 09:59:00 +0000"),
        _item("root@x", "Mon, 2 Mar 2026 10:00:00 +0000"),
        _item("late@x", "Mon, 2 Mar 2026 11:00:00 +0000", parent="reply@x"),
    ]
    order = [i.remote_id for i in decision_order(sorted(items, key=lambda i: i.facts.date_ts))]
    assert order == ["other@x", "root@x", "reply@x", "late@x"]


def test_reference_cycle_keeps_every_message() -> None:
    items = [
        _item("a@x", "Mon, 2 Mar 2026 09:00:00 +0000", parent="b@x"),
        _item("b@x", "Mon, 2 Mar 2026 10:00:00 +0000", parent="a@x"),
    ]
    assert sorted(i.remote_id for i in decision_order(items)) == ["a@x", "b@x"]
