"""Replies stored before the message that tracks their thread: decided again, pure.

A customer's reply can reach the store in an earlier round than the user's
own message it answers: the Sent copy is uploaded late by the user's mail
program, or lands in Sent only after the reply has come in. Decided then,
the reply found no tracked thread and was turned down ("not_in_tracked_thread",
or "no_contact_participant" when no contact was on it). When that message
arrives, it joins the reply's thread (`planner.py`: its own Message-ID is
the reply's ghost), and when its decision tracks the thread, the replies
waiting there that are not older than it are decided again against the
now-tracked thread (`relog`). Those the rules log get a decision of their own
(the first stays in the history), timeline entries, their contacts on the
thread and a body fetch; the others are left exactly as they were.

This module decides; the store finds the waiting replies and writes what is
decided, in the batch's write transaction (`store/rounds.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from loggbok.daemon.mime.facts import HeaderFacts
from loggbok.daemon.rules.context import (
    Decision,
    RuleContext,
    RuleSettings,
    SubjectRef,
    ThreadSnapshot,
)
from loggbok.daemon.rules.engine import decide
from loggbok.daemon.rules.planner import Plan, PlannedMessage, evidence_for

WAITING_REASONS = ("not_in_tracked_thread", "no_contact_participant")
"""Decisions that only a tracked thread could have changed."""


@dataclass(frozen=True, slots=True)
class Relog:
    """A waiting reply the rules now log: its new decision and the evidence for it."""

    decision: Decision
    evidence: dict[str, Any]


def trackers(plan: Plan) -> dict[int, PlannedMessage]:
    """The message of the plan that starts tracking each thread (only a thread that was
    not tracked before can hold replies turned down for want of one)."""
    by_id = {m.id: m for m in plan.messages}
    return {thread: by_id[message] for thread, message in plan.newly_tracked.items()}


def relog(
    facts: HeaderFacts,
    contacts: dict[str, int],
    parent: SubjectRef | None,
    plan: Plan,
    tracker: PlannedMessage,
    rules: RuleSettings,
) -> Relog | None:
    """Decide a waiting reply (`facts`) again in the thread `tracker` now tracks, with
    the contacts of its addresses and the stored message it answers (`parent`); None
    when it stays as it was (not logged, or only onto contacts still to be made)."""
    state = plan.threads[tracker.thread_id]
    thread = ThreadSnapshot(
        tracker.thread_id,
        True,
        state.subject_norm,
        tuple(sorted(state.contact_ids)),
        tracker.id,
        tracker.incoming.facts.message_key,
        "late parent",
        parent=parent,
        subjects=tuple(
            SubjectRef(subject, shown, stored)
            for subject, (stored, shown) in state.subjects.items()
        ),
    )
    decision = decide(facts, RuleContext(rules, contacts, thread))
    if not decision.logged or decision.new_contacts:
        return None
    evidence = evidence_for(decision, thread, tracker.thread_id, list(decision.contact_ids), facts)
    evidence["details"]["decided_again"] = (
        "the message it answers arrived after it and tracks the thread"
    )
    return Relog(decision, evidence)
