"""A round's plan-local ids renamed to the store's (`store/rounds.py`, `_resolve`): every
local id becomes its real one, and what names no local id is left as it is (not
copied: a sync round renames the ids of every message it plans)."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

from loggbok.daemon.mime.facts import Address
from loggbok.daemon.mime.headers import parse_headers
from loggbok.daemon.rules.context import Decision, RuleSettings
from loggbok.daemon.rules.planner import Incoming, LocalIds, Plan, Snapshot, plan_batch
from loggbok.daemon.store.rounds import Round

RULES = RuleSettings(
    mode="replies_only", bcc_address="log@bcc.example", own_addresses=frozenset({"me@f.example"})
)


def _incoming(folder: int, uid: str, *lines: str) -> Incoming:
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode()
    return Incoming(folder, uid, parse_headers(raw), raw)


OFFER = _incoming(
    2, "1", "From: me@f.example", "To: anna@k.example", "Bcc: log@bcc.example",
    "Subject: Offer", "Message-ID: <offer@f.example>", "Date: Mon, 02 Jan 2023 09:00:00 +0000",
)  # fmt: skip
REPLY = _incoming(
    1, "1", "From: anna@k.example", "To: me@f.example", "Subject: Re: Offer",
    "Message-ID: <reply@k.example>", "In-Reply-To: <offer@f.example>",
    "Date: Mon, 02 Jan 2023 10:00:00 +0000",
)  # fmt: skip


def _round() -> Round:
    return Round(None, 1, RULES, {1: "INBOX", 2: "Sent"}, "everyone")  # type: ignore[arg-type]


def _ids(plan: Plan) -> list[int]:
    """Every id the plan names."""
    found: list[int | None] = []
    for m in plan.messages:
        e: dict[str, Any] = m.evidence
        found += [m.id, m.thread_id, *m.contact_ids, *m.decision.contact_ids, e["thread_id"]]
        found += [*e["contact_ids"], e["matched_id"]]
    found += [i for _, _, i in plan.locations] + [*plan.new_threads, *plan.touched_threads]
    found += [i for t, m in plan.keys.values() for i in (t, m) if i is not None]
    found += [c for c, _ in plan.new_contacts] + [*plan.contact_sources, *plan.newly_tracked]
    for thread_id, state in plan.threads.items():
        found += [thread_id, *state.contact_ids, state.root_message]
        found += [i for i, _ in state.subjects.values()]
    return [i for i in found if i is not None]


def test_every_local_id_becomes_the_stored_one() -> None:
    """The offer creates anna (a local contact); her reply lands on that local id, in its
    decision too; the second batch names both by the first batch's local ids."""
    snapshot = Snapshot({}, {}, {}, {}, {}, LocalIds())
    first = plan_batch([OFFER], snapshot, RULES, 1)
    second = plan_batch([REPLY], snapshot, RULES, 1)
    assert min(second.messages[0].decision.contact_ids) < 0
    round_ = _round()
    round_._give_ids(first, 10, 20, 30)
    round_._give_ids(second, 11, 20, 30)
    assert min(_ids(first) + _ids(second)) > 0
    offer, reply = first.messages[0], second.messages[0]
    assert (offer.id, offer.thread_id, offer.contact_ids) == (11, 21, (31,))
    assert (reply.id, reply.thread_id, reply.contact_ids) == (12, 21, (31,))
    assert reply.decision.contact_ids == (31,)
    assert reply.decision.reason == "reply_in_tracked_thread"
    assert reply.evidence["contact_ids"] == [31] and reply.evidence["matched_id"] == 11
    assert first.threads[21].subjects == {"offer": (11, "<offer@f.example>")}
    assert first.threads[21].contact_ids == {31} and first.threads[21].root_message == 11
    assert second.locations == [(1, "1", 12)]


def test_what_names_no_local_id_is_left_as_it_is() -> None:
    """A reply landing on a stored contact keeps its contact ids, decision and evidence
    list as they are (the old rename copied each, for every message of a round)."""
    snapshot = Snapshot({}, {}, {}, {}, {"anna@k.example": 7}, LocalIds())
    plan = plan_batch([OFFER, REPLY], snapshot, RULES, 1)
    before = [(m.contact_ids, m.decision, m.evidence["contact_ids"]) for m in plan.messages]
    assert [b[0] for b in before] == [(7,), (7,)]
    _round()._give_ids(plan, 0, 0, 0)
    for m, (contact_ids, decision, listed) in zip(plan.messages, before, strict=True):
        assert m.contact_ids is contact_ids
        assert m.decision is decision
        assert m.evidence["contact_ids"] is listed
    assert min(_ids(plan)) > 0


def test_with_contacts_is_replace_of_the_contact_ids() -> None:
    """`Decision.with_contacts` names every field: one added to Decision fails here until
    it is named there too."""
    decision = Decision(
        True, "bcc_address", "R2", (-1, 4), (Address("a@k.example", "A"),), track_thread=True,
        new_thread=True, never_logged=("n@k.example",), details={"x": "y"},
    )  # fmt: skip
    assert decision.with_contacts((5, 4)) == replace(decision, contact_ids=(5, 4))
    assert [f.name for f in fields(Decision)] == [
        "logged", "reason", "rule", "contact_ids", "new_contacts", "track_thread",
        "new_thread", "never_logged", "details",
    ]  # fmt: skip
