"""A colleague's message met again in a member's mailbox: the same message, or not kept.

One message in two members' mailboxes is one stored message with two locations,
and a member sees any message in a mailbox of theirs (`records.VISIBLE`). A
Message-ID alone must not be enough for that: a member who knows the Message-ID
of a colleague's hidden email (every reply's In-Reply-To and References name
them) could put a message of their own with that Message-ID in their mailbox
and read the colleague's stored body. So before a round's plan is written, each
location it gives a stored message of another member is kept only when the
incoming copy is that message: the same sender, Date (to the second) and
subject as stored. A copy that differs gets no location (and no decision: the
store keeps one message per Message-ID); the round logs it.
"""

from __future__ import annotations

import logging

from loggbok.daemon.rules.planner import Incoming, Plan
from loggbok.daemon.store.db import Transaction

log = logging.getLogger(__name__)


async def drop_foreign_copies(
    tx: Transaction, plan: Plan, batch: list[Incoming], owner: int
) -> list[tuple[int, str, int]]:
    """Take out of `plan.locations` those that would give `owner` a location on another
    member's stored message that the incoming copy does not match; returns them."""
    new = {m.id for m in plan.messages}
    stored = sorted({m for _, _, m in plan.locations if m not in new})
    if not stored:
        return []
    rows = {
        int(r["id"]): r
        for r in await tx.fetchall_in(
            "SELECT id, owner_id, from_email, subject, date_ts FROM messages"
            " WHERE id IN ({placeholders})",
            stored,
        )
    }
    incoming = {(i.folder_id, i.remote_id): i for i in batch}
    dropped: list[tuple[int, str, int]] = []
    for location in plan.locations:
        folder_id, remote_id, message = location
        row = rows.get(message)
        item = incoming.get((folder_id, remote_id))
        if row is None or item is None or row["owner_id"] == owner:
            continue
        facts = item.facts
        if (
            facts.from_.email == row["from_email"]
            and facts.subject == row["subject"]
            and abs(facts.date_ts - float(row["date_ts"])) < 1
        ):
            continue
        dropped.append(location)
        log.warning(
            "message %s (%s) in folder %s differs from the stored one of another member: not kept",
            remote_id,
            facts.message_id,
            folder_id,
        )
    if dropped:
        plan.locations = [x for x in plan.locations if x not in dropped]
    return dropped
