"""The redecide replay, pure: stored messages planned again under their own ids and
threads, what it leaves alone (by hand, body-found calendar, contacts to create)."""

from __future__ import annotations

from loggbok.daemon.mime.headers import parse_headers
from loggbok.daemon.rules.context import RuleSettings
from loggbok.daemon.rules.planner import Incoming
from loggbok.daemon.store.redecisions import BatchContext, StoredMessage
from loggbok.daemon.sync.redecide import Replay, new_decision

RULES = RuleSettings(
    mode="all_with_contacts",
    bcc_address="log@bcc.example",
    own_addresses=frozenset({"me@f.example"}),
)
SENT = ("From: me@f.example", "To: bo@k.example", "Bcc: log@bcc.example", "Subject: Offer")
REPLY = ("From: bo@k.example", "To: me@f.example", "Subject: Re: Offer", "In-Reply-To: <a@f>")


def _stored(
    id: int, thread: int | None, *lines: str, reason: str = "no_contact_participant", **kw: object
) -> tuple[StoredMessage, Incoming]:
    raw = ("\r\n".join(lines) + f"\r\nMessage-ID: <{'a' if id == 1 else id}@f>\r\n\r\n").encode()
    row = StoredMessage(
        id=id,
        message_id=f"<{id}@f>",
        subject="",
        date="",
        date_ts=float(id),
        thread_id=thread,
        conversation_key=None,
        mailbox_id=1,
        logged=bool(kw.get("logged", False)),
        reason=reason,
        raw_headers=raw,
        contact_ids=tuple(kw.get("contacts", ())),  # type: ignore[arg-type]
        calendar_in_body=bool(kw.get("calendar", False)),
    )
    return row, Incoming(0, str(id), parse_headers(raw), b"")


def _replay(contacts: dict[str, int]) -> Replay:
    replay = Replay(next_thread=100, next_contact=50)
    replay.add_context(BatchContext(contacts=contacts))
    replay.start_batch()
    return replay


def test_messages_keep_their_ids_and_threads_and_the_reply_follows() -> None:
    replay = _replay({"bo@k.example": 7})
    sent, sent_item = _stored(1, 10, *SENT, reason="not_in_tracked_thread")
    reply, reply_item = _stored(2, 10, *REPLY, reason="contact_email", logged=True, contacts=[7])
    planned = [replay.plan(sent, sent_item, RULES), replay.plan(reply, reply_item, RULES)]
    assert [p.id for p in planned] == [1, 2]
    write = replay.finish_batch([sent, reply], planned)
    assert write.moves == {1: 10, 2: 10} and write.orphans == set()
    [thread] = write.threads
    assert (thread.id, thread.tracked, thread.contact_ids) == (10, True, frozenset({7}))
    decisions = [new_decision(r, p) for r, p in zip([sent, reply], planned, strict=True)]
    assert [d.reason if d else None for d in decisions] == [
        "bcc_address",
        "reply_in_tracked_thread",
    ]


def test_a_replay_creates_no_contact() -> None:
    replay = _replay({})
    sent, item = _stored(1, 10, *SENT, reason="internal_only")
    planned = replay.plan(sent, item, RULES)
    assert planned.decision.reason == "bcc_address" and planned.contact_ids == ()
    assert new_decision(sent, planned) is None  # it would only land on a contact to create
    assert "bo@k.example" not in replay.s.contacts


def test_decisions_by_hand_and_body_found_calendars_stay() -> None:
    replay = _replay({"bo@k.example": 7})
    unlogged, item = _stored(3, 11, "From: bo@k.example", "To: me@f.example", "Subject: Hi",
                             reason="manual_unlog")  # fmt: skip
    assert new_decision(unlogged, replay.plan(unlogged, item, RULES)) is None
    invite, item = _stored(4, 12, "From: bo@k.example", "To: me@f.example", "Subject: Meet",
                           reason="calendar", calendar=True)  # fmt: skip
    assert new_decision(invite, replay.plan(invite, item, RULES)) is None


def test_a_thread_taken_by_an_earlier_message_is_not_shared() -> None:
    replay = _replay({"bo@k.example": 7})
    first, one = _stored(3, 11, "From: bo@k.example", "To: me@f.example", "Subject: One")
    second, two = _stored(4, 11, "From: bo@k.example", "To: me@f.example", "Subject: Two")
    planned = [replay.plan(first, one, RULES), replay.plan(second, two, RULES)]
    write = replay.finish_batch([first, second], planned)
    assert write.moves == {3: 11, 4: 100}
