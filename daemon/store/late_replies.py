"""The store's side of deciding late replies again (`rules/late_replies.py` decides).

Inside a batch's write transaction, after its plan is written: find the replies
stored earlier that wait in the threads the plan starts tracking (not logged for
want of a tracked thread, not older than the message that tracks it, still in one
of the round's folders), read what the rules need for each (its contacts, the
stored message it answers), and write what they decide: the message logged, a
decision of its own (the first stays in the history), timeline entries, its
contacts and subject on the thread.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from loggbok.daemon.mime.facts import HeaderFacts
from loggbok.daemon.mime.headers import parse_headers
from loggbok.daemon.rules.context import RuleSettings, SubjectRef
from loggbok.daemon.rules.late_replies import WAITING_REASONS, relog, trackers
from loggbok.daemon.rules.namesakes import ranked
from loggbok.daemon.rules.planner import Plan, PlannedMessage, find_parent
from loggbok.daemon.store.db import Transaction
from loggbok.daemon.store.foreign_copies import load_namesakes
from loggbok.daemon.store.plans import add_to_timelines


@dataclass(frozen=True, slots=True)
class Relogged:
    """A stored message logged now; its body is to be fetched from (folder, remote id)."""

    message_id: int
    folder_id: int
    remote_id: str


async def relog_waiting_replies(
    tx: Transaction, plan: Plan, rules: RuleSettings, folder_ids: list[int]
) -> list[Relogged]:
    """Decide again the earlier-stored replies in the threads this (written) plan tracks."""
    tracking = trackers(plan)
    if not tracking or not folder_ids:
        return []
    first_new = min(m.id for m in plan.messages)
    threads = list(tracking)
    # CROSS JOIN and the expressions (+0, || '') keep SQLite on the thread index, messages
    # first (left alone it walks every location of the folders, or every turned-down
    # message). Each message's first location (lowest folder) is kept below.
    rows = await tx.fetchall(
        f"""SELECT m.id, m.thread_id, m.raw_headers, m.date_ts, l.folder_id, l.remote_id
            FROM messages m CROSS JOIN message_locations l
            WHERE l.message = m.id
              AND m.thread_id IN ({",".join("?" * len(threads))}) AND m.id < ?
              AND m.logged + 0 = 0
              AND m.reason || '' IN ({",".join("?" * len(WAITING_REASONS))})
              AND l.state = 'ok' AND l.folder_id IN ({",".join("?" * len(folder_ids))})
            ORDER BY m.date_ts, m.id, l.folder_id""",
        [*threads, first_new, *WAITING_REASONS, *folder_ids],
    )
    relogged: list[Relogged] = []
    first: dict[int, tuple[Any, ...]] = {}
    for row in rows:
        first.setdefault(row[0], tuple(row))
    for message_id, thread_id, raw_headers, date_ts, folder_id, remote_id in first.values():
        tracker = tracking[thread_id]
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
    emails = [a.email for a in (facts.from_, *facts.to, *facts.cc, *facts.bcc) if a.email]
    contacts = {
        row[0]: row[1]
        for row in await tx.fetchall(
            "SELECT email, contact_id FROM contact_emails"
            f" WHERE email IN ({','.join('?' * len(emails))})",
            emails,
        )
    } if emails else {}  # fmt: skip
    parent = await _parent(tx, facts, tracker.thread_id)
    decided = relog(facts, contacts, parent, plan, tracker, rules)
    if decided is None:
        return False
    decision = decided.decision
    await tx.execute(
        "UPDATE messages SET logged = 1, reason = ? WHERE id = ?", (decision.reason, message_id)
    )
    await tx.execute(
        "INSERT INTO decisions (message, logged, reason, rule, evidence) VALUES (?, 1, ?, ?, ?)",
        (
            message_id,
            decision.reason,
            decision.rule,
            json.dumps(decided.evidence, ensure_ascii=False),
        ),
    )
    await add_to_timelines(tx, message_id, decision.contact_ids, date_ts, decision.reason)
    await tx.executemany(
        "INSERT INTO thread_contacts (thread_id, contact_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
        [(tracker.thread_id, c) for c in decision.contact_ids],
    )
    await tx.execute(
        "INSERT INTO thread_subjects (thread_id, subject_norm, message) VALUES (?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        (tracker.thread_id, facts.subject_norm, message_id),
    )
    return True


async def _parent(tx: Transaction, facts: HeaderFacts, thread_id: int) -> SubjectRef | None:
    """The stored message the reply answers (the plan is written: the store knows all)."""
    named = list(dict.fromkeys((*facts.in_reply_to, *facts.references)))
    if not named:
        return None
    namesakes = await load_namesakes(tx, named)
    rows = await tx.fetchall_in(
        "SELECT k.key, k.thread_id, k.message, m.subject_norm, m.message_id"
        " FROM thread_keys k JOIN messages m ON m.id = k.message"
        " WHERE k.key IN ({placeholders})",
        [*named, *(n.key for found in namesakes.values() for n in found)],
    )
    keys = {row[0]: (row[1], row[2]) for row in rows}
    messages = {row[2]: (row[3], row[4]) for row in rows}
    return find_parent(
        facts, thread_id, keys, messages, lambda key: ranked(key, facts, namesakes, None, None)
    )
