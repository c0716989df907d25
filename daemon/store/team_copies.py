"""R15 for mail stored before a team mailbox saw it: logged into its conversation then.

A customer who writes to a member and to the team's shared inbox sends one
message (one Message-ID) that reaches two mailboxes. When the member's own
mailbox is synced first, the message is stored and decided there (as that
member's mail: a reply in a tracked thread, not logged, ...); the team
mailbox's round then finds it stored and adds only a location. Here, inside
that round's write transaction, after its plan is written: each stored message
the plan gave a location in a team mailbox, not decided `team_inbox` yet (nor
by hand: `manual`, `manual_unlog` stand), is decided by the rules as the team
mailbox's own mail (R12, R7's log flag off and R8 still come first). When that
is `team_inbox`, it is written as R15 writes a new one: the contacts it lands
on (its sender made a contact when unknown), a decision of its own (the first
stays in the history, named in the details), its thread tracked by the team
mailbox, and the team mailbox's visibility (it is the team's mail now). Its
reason is then `team_inbox`, so a later location never decides it again:
exactly once, whatever the order of the rounds or the daemons.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from loggbok.daemon.mime.headers import parse_headers
from loggbok.daemon.rules.context import RuleContext, RuleSettings, ThreadSnapshot
from loggbok.daemon.rules.engine import decide
from loggbok.daemon.rules.planner import Plan
from loggbok.daemon.store.contacts import insert_contact, owners_in
from loggbok.daemon.store.db import Row, Transaction
from loggbok.daemon.store.late_replies import Relogged
from loggbok.daemon.store.plans import add_to_timelines

STANDING = ("team_inbox", "manual", "manual_unlog")
"""Decisions a team mailbox's location leaves as they are."""


@dataclass(frozen=True, slots=True)
class TeamCopies:
    decided: list[int]
    """Stored messages logged into their conversation (R15) by this batch."""
    bodies: list[Relogged]
    """Those of them whose whole body is to be fetched (they were not logged before)."""


async def log_team_copies(
    tx: Transaction, plan: Plan, rules: RuleSettings, visibility: str, mailbox_id: int
) -> TeamCopies:
    """Decide again (R15) the stored messages a team mailbox's written plan found."""
    if not rules.team_inbox:
        return TeamCopies([], [])
    new = {m.id for m in plan.messages}
    found: dict[int, tuple[int, str]] = {}
    for folder_id, remote_id, message in plan.locations:
        if message not in new:
            found.setdefault(message, (folder_id, remote_id))
    if not found:
        return TeamCopies([], [])
    rows = await tx.fetchall_in(
        "SELECT id, raw_headers, date_ts, thread_id, reason, logged FROM messages"
        " WHERE id IN ({placeholders}) ORDER BY date_ts, id",
        list(found),
    )
    decided: list[int] = []
    bodies: list[Relogged] = []
    for row in rows:
        if row["reason"] in STANDING:
            continue
        if await _decide(tx, row, rules, visibility, mailbox_id):
            decided.append(int(row["id"]))
            if not row["logged"]:
                bodies.append(Relogged(int(row["id"]), *found[int(row["id"])]))
    return TeamCopies(decided, bodies)


async def _decide(
    tx: Transaction, row: Row, rules: RuleSettings, visibility: str, mailbox_id: int
) -> bool:
    message, thread_id = int(row["id"]), row["thread_id"]
    facts = parse_headers(bytes(row["raw_headers"]))
    emails = [a.email for a in (facts.from_, *facts.to, *facts.cc, *facts.bcc) if a.email]
    contacts = await owners_in(tx, dict.fromkeys(emails))
    thread = await _thread(tx, thread_id, facts.message_key)
    decision = decide(facts, RuleContext(rules, contacts, thread))
    if decision.reason != "team_inbox":
        return False
    contact_ids = list(decision.contact_ids)
    created: list[str] = []
    for address in decision.new_contacts:
        known = (await owners_in(tx, [address.email])).get(address.email)
        if known is None:
            name = address.name or address.email.partition("@")[0]
            known = await insert_contact(tx, name, [address.email], "team_inbox")
            created.append(address.email)
        contact_ids.append(known)
    contact_ids = list(dict.fromkeys(contact_ids))
    details = {
        **decision.details,
        "previous_reason": row["reason"],
        "decided_again": "stored first from a member's own mailbox; found in the team"
        f" mailbox {mailbox_id} later: logged into its conversation",
    }
    if created:
        details["created_contacts"] = ", ".join(created)
    await tx.execute(
        "UPDATE messages SET logged = 1, reason = 'team_inbox', visibility = ? WHERE id = ?",
        (visibility, message),
    )
    evidence = {
        "rule": "R15",
        "thread_id": thread_id,
        "matched_id": None,
        "matched_message_id": None,
        "matched_via": None,
        "thread_subject": None,
        "subject": facts.subject_norm,
        "contact_ids": contact_ids,
        "never_logged": list(decision.never_logged),
        "details": details,
    }
    await tx.execute(
        "INSERT INTO decisions (message, logged, reason, rule, evidence)"
        " VALUES (?, 1, 'team_inbox', 'R15', ?)",
        (message, json.dumps(evidence, ensure_ascii=False)),
    )
    await add_to_timelines(tx, message, contact_ids, row["date_ts"], "team_inbox")
    if thread_id is not None:
        await tx.execute(
            "UPDATE threads SET tracked = 1, tracked_reason = coalesce(tracked_reason,"
            " 'team_inbox'), tracked_mailbox_id = ? WHERE id = ?",
            (mailbox_id, thread_id),
        )
        await tx.executemany(
            "INSERT INTO thread_contacts (thread_id, contact_id) VALUES (?, ?)"
            " ON CONFLICT DO NOTHING",
            [(thread_id, c) for c in contact_ids],
        )
        await tx.execute(
            "INSERT INTO thread_subjects (thread_id, subject_norm, message) VALUES (?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (thread_id, facts.subject_norm, message),
        )
    return True


async def _thread(tx: Transaction, thread_id: int | None, key: str) -> ThreadSnapshot | None:
    """The message's thread as the rules read it (R15 needs its contacts)."""
    if thread_id is None:
        return None
    row = await tx.fetchone("SELECT tracked, subject_norm FROM threads WHERE id = ?", (thread_id,))
    if row is None:
        return None
    contacts = await tx.fetchall(
        "SELECT contact_id FROM thread_contacts WHERE thread_id = ? ORDER BY contact_id",
        (thread_id,),
    )
    return ThreadSnapshot(
        thread_id,
        bool(row["tracked"]),
        row["subject_norm"],
        tuple(int(c[0]) for c in contacts),
        None,
        key,
        "team mailbox",
    )
