"""Replies stored before the message that tracks their thread: decided again.

A customer's reply can reach the store in an earlier round than the user's
own message it answers: the Sent copy is uploaded late by the user's mail
program, or lands in Sent only after the reply has come in. Decided then,
the reply found no tracked thread and was turned down ("not_in_tracked_thread",
or "no_contact_participant" when no contact was on it). When that message
arrives, it joins the reply's thread (`planner.py`: its own Message-ID is
the reply's ghost), and when its decision tracks the thread, the replies
waiting there that are not older than it are decided again against the
now-tracked thread. Those the rules log get a decision of their own (the
first stays in the history), timeline entries, their contacts on the thread
and a body fetch; the others are left exactly as they were.

Runs inside the batch's write transaction, so the batch and what it changes
in earlier messages commit together.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from loggbok.daemon.mime.facts import HeaderFacts
from loggbok.daemon.mime.headers import parse_headers
from loggbok.daemon.rules.context import RuleContext, RuleSettings, SubjectRef, ThreadSnapshot
from loggbok.daemon.rules.engine import decide
from loggbok.daemon.store.db import Transaction
from loggbok.daemon.store.sync_batch import add_to_timelines
from loggbok.daemon.sync.planner import Plan, PlannedMessage, evidence_for, find_parent

WAITING_REASONS = ("not_in_tracked_thread", "no_contact_participant")
"""Decisions that only a tracked thread could have changed."""


@dataclass(frozen=True, slots=True)
class Relogged:
    """A stored message logged now; its body is to be fetched from (folder, remote id)."""

    message_id: int
    folder_id: int
    remote_id: str


def _trackers(plan: Plan) -> dict[int, PlannedMessage]:
    """The message of the plan that starts tracking each thread (only a thread that was
    not tracked before can hold replies turned down for want of one)."""
    by_id = {m.id: m for m in plan.messages}
    return {thread: by_id[message] for thread, message in plan.newly_tracked.items()}


async def relog_waiting_replies(
    tx: Transaction, plan: Plan, rules: RuleSettings, folder_ids: list[int]
) -> list[Relogged]:
    """Decide again the earlier-stored replies in the threads this plan tracks."""
    trackers = _trackers(plan)
    if not trackers or not folder_ids:
        return []
    first_new = min(m.id for m in plan.messages)
    threads = list(trackers)
    # CROSS JOIN and the unary + keep SQLite on the thread index, messages first (left
    # alone it walks every location of the folders, or every turned-down message).
    rows = await tx.fetchall(
        f"""SELECT m.id, m.thread_id, m.raw_headers, m.date_ts, min(l.folder_id), l.remote_id
            FROM messages m CROSS JOIN message_locations l ON l.message = m.id
            WHERE m.thread_id IN ({",".join("?" * len(threads))}) AND m.id < ?
              AND +m.logged = 0 AND +m.reason IN ({",".join("?" * len(WAITING_REASONS))})
              AND l.state = 'ok' AND l.folder_id IN ({",".join("?" * len(folder_ids))})
            GROUP BY m.id ORDER BY m.date_ts, m.id""",
        [*threads, first_new, *WAITING_REASONS, *folder_ids],
    )
    relogged: list[Relogged] = []
    for message_id, thread_id, raw_headers, date_ts, folder_id, remote_id in rows:
        tracker = trackers[thread_id]
        if date_ts < tracker.incoming.facts.date_ts:
            continue  # older than what tracks the thread: it would not be logged in order
        if await _relog(tx, message_id, bytes(raw_headers), date_ts, plan, tracker, rules):
            relogged.append(Relogged(message_id, folder_id, remote_id))
    return relogged


async def _relog(
    tx: Transaction,
    message_id: int,
    raw_headers: bytes,
    date_ts: float,
    plan: Plan,
    tracker: PlannedMessage,
    rules: RuleSettings,
) -> bool:
    facts = parse_headers(raw_headers)
    state = plan.threads[tracker.thread_id]
    emails = [a.email for a in (facts.from_, *facts.to, *facts.cc, *facts.bcc) if a.email]
    contacts = {
        row[0]: row[1]
        for row in await tx.fetchall(
            "SELECT email, contact_id FROM contact_emails"
            f" WHERE email IN ({','.join('?' * len(emails))})",
            emails,
        )
    } if emails else {}  # fmt: skip
    thread = ThreadSnapshot(
        tracker.thread_id,
        True,
        state.subject_norm,
        tuple(sorted(state.contact_ids)),
        tracker.id,
        tracker.incoming.facts.message_key,
        "late parent",
        parent=await _parent(tx, facts, tracker.thread_id),
        subjects=tuple(
            SubjectRef(subject, shown, stored)
            for subject, (stored, shown) in state.subjects.items()
        ),
    )
    decision = decide(facts, RuleContext(rules, contacts, thread))
    if not decision.logged or decision.new_contacts:
        return False
    evidence = evidence_for(decision, thread, tracker.thread_id, list(decision.contact_ids), facts)
    evidence["details"]["decided_again"] = (
        "the message it answers arrived after it and tracks the thread"
    )
    await tx.execute(
        "UPDATE messages SET logged = 1, reason = ? WHERE id = ?", (decision.reason, message_id)
    )
    await tx.execute(
        "INSERT INTO decisions (message, logged, reason, rule, evidence) VALUES (?, 1, ?, ?, ?)",
        (message_id, decision.reason, decision.rule, json.dumps(evidence, ensure_ascii=False)),
    )
    await add_to_timelines(tx, message_id, decision.contact_ids, date_ts, decision.reason)
    await tx.executemany(
        "INSERT OR IGNORE INTO thread_contacts (thread_id, contact_id) VALUES (?, ?)",
        [(tracker.thread_id, c) for c in decision.contact_ids],
    )
    await tx.execute(
        "INSERT OR IGNORE INTO thread_subjects (thread_id, subject_norm, message) VALUES (?, ?, ?)",
        (tracker.thread_id, facts.subject_norm, message_id),
    )
    return True


async def _parent(tx: Transaction, facts: HeaderFacts, thread_id: int) -> SubjectRef | None:
    """The stored message the reply answers (the plan is written: the store knows all)."""
    named = list(dict.fromkeys((*facts.in_reply_to, *facts.references)))
    if not named:
        return None
    rows = await tx.fetchall(
        "SELECT k.key, k.thread_id, k.message, m.subject_norm, m.message_id"
        " FROM thread_keys k JOIN messages m ON m.id = k.message"
        f" WHERE k.key IN ({','.join('?' * len(named))})",
        named,
    )
    keys = {row[0]: (row[1], row[2]) for row in rows}
    messages = {row[2]: (row[3], row[4]) for row in rows}
    return find_parent(facts, thread_id, keys, messages)
