"""The batch planner, pure: thread evidence, duplicates across folders, ghosts."""

from __future__ import annotations

from loggbok.daemon.mime.headers import parse_headers
from loggbok.daemon.rules.context import RuleSettings
from loggbok.daemon.rules.planner import Counters, Incoming, Snapshot, plan_batch

SETTINGS = RuleSettings(bcc_address="log@bcc.example", own_addresses=frozenset({"me@f.example"}))


def _incoming(folder: int, uid: str, *lines: str, conversation: str | None = None) -> Incoming:
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode()
    return Incoming(folder, uid, parse_headers(raw), raw, conversation_key=conversation)


def _empty() -> Snapshot:
    return Snapshot({}, {}, {}, {}, {"anna@k.example": 1}, Counters(1, 1, 2))


SENT = (
    "From: me@f.example",
    "To: anna@k.example",
    "Bcc: log@bcc.example",
    "Subject: Offer",
    "Message-ID: <a@f.example>",
)


def test_same_message_in_two_folders_is_one_message_with_two_locations() -> None:
    plan = plan_batch([_incoming(1, "7", *SENT), _incoming(2, "9", *SENT)], _empty(), SETTINGS, 1)
    assert len(plan.messages) == 1
    assert plan.locations == [(1, "7", 1), (2, "9", 1)]


def test_conversation_key_joins_a_thread_without_references() -> None:
    reply = (
        "From: anna@k.example",
        "To: me@f.example",
        "Subject: Re: Offer",
        "Message-ID: <b@k.example>",
    )
    plan = plan_batch(
        [
            _incoming(1, "1", *SENT, conversation="gm-1"),
            _incoming(1, "2", *reply, conversation="gm-1"),
        ],
        _empty(),
        SETTINGS,
        1,
    )
    sent, answer = plan.messages
    assert answer.thread_id == sent.thread_id
    assert (answer.decision.reason, answer.evidence["matched_via"]) == (
        "reply_in_tracked_thread",
        "conversation_key",
    )


def test_ghost_parent_joins_siblings() -> None:
    first = (
        "From: anna@k.example",
        "To: me@f.example",
        "Subject: Re: X",
        "Message-ID: <c1@k.example>",
        "In-Reply-To: <never-seen@x>",
    )
    second = (
        "From: anna@k.example",
        "To: me@f.example",
        "Subject: Re: X",
        "Message-ID: <c2@k.example>",
        "References: <never-seen@x>",
    )
    plan = plan_batch(
        [_incoming(1, "1", *first), _incoming(1, "2", *second)], _empty(), SETTINGS, 1
    )
    one, two = plan.messages
    assert one.thread_id == two.thread_id
    assert plan.keys["never-seen@x"] == (one.thread_id, None)


def test_changed_subject_starts_its_own_thread() -> None:
    changed = (
        "From: anna@k.example",
        "To: me@f.example",
        "Subject: Something new",
        "Message-ID: <d@k.example>",
        "In-Reply-To: <a@f.example>",
    )
    plan = plan_batch(
        [_incoming(1, "1", *SENT), _incoming(1, "2", *changed)], _empty(), SETTINGS, 1
    )
    sent, other = plan.messages
    assert other.decision.reason == "subject_changed"
    assert other.thread_id != sent.thread_id
