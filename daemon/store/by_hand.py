"""Changes made by hand to what is logged: a message taken off timelines
(`messages.unlog`), a contact deleted, one contact merged into another.

A message taken off by hand gets a decision of its own (`manual_unlog`, R9);
`messages.redecide` never changes a message decided by hand, a sync never
decides a stored message again, and late replies are only ever those turned
down for want of a tracked thread, so nothing logs it there again. A message
left on no timeline leaves the search index.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from loggbok.daemon.store.db import Database, Transaction
from loggbok.daemon.store.errors import Forbidden, Invalid, NotFound
from loggbok.daemon.store.records import VISIBLE
from loggbok.daemon.store.redecisions import refresh_activity

_SEEN = f"CASE WHEN {VISIBLE} THEN 1 ELSE 0 END"
"""1 for a message (`m`) the member `:viewer` may see: what the counts a change
reports are counted over (the change itself applies to the shared record whole)."""


@dataclass(frozen=True, slots=True)
class Unlogged:
    removed: list[int]
    remaining: list[int]


@dataclass(frozen=True, slots=True)
class Deleted:
    entries_removed: int
    messages_unlogged: int
    contact_ids: list[int]


@dataclass(frozen=True, slots=True)
class Merged:
    entries_moved: int
    duplicates: int


async def _unlog_decision(
    tx: Transaction, message: int, remaining: list[int], details: dict[str, str]
) -> None:
    row = await tx.fetchone(
        "SELECT reason, thread_id, subject_norm FROM messages WHERE id = ?", (message,)
    )
    assert row is not None
    await tx.execute(
        "UPDATE messages SET logged = ?, reason = 'manual_unlog' WHERE id = ?",
        (int(bool(remaining)), message),
    )
    evidence = {
        "rule": "R9",
        "thread_id": row["thread_id"],
        "subject": row["subject_norm"],
        "contact_ids": remaining,
        "details": {"previous_reason": row["reason"], **details},
    }
    await tx.execute(
        "INSERT INTO decisions (message, logged, reason, rule, evidence)"
        " VALUES (?, ?, 'manual_unlog', 'R9', ?)",
        (message, int(bool(remaining)), json.dumps(evidence, ensure_ascii=False)),
    )
    if not remaining:
        await tx.execute("DELETE FROM message_fts WHERE rowid = ?", (message,))


class ByHand:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def unlog(self, message: int, contact_ids: list[int] | None) -> Unlogged:
        """Take `message` off the given contacts' timelines (all when None)."""
        async with self._db.transaction() as tx:
            rows = await tx.fetchall(
                "SELECT contact_id FROM timeline_entries WHERE message = ? ORDER BY id", (message,)
            )
            current = [int(r[0]) for r in rows]
            wanted = current if contact_ids is None else list(dict.fromkeys(contact_ids))
            removed = [c for c in current if c in wanted]
            remaining = [c for c in current if c not in wanted]
            await tx.executemany(
                "DELETE FROM timeline_entries WHERE message = ? AND contact_id = ?",
                [(message, c) for c in removed],
            )
            taken = ", ".join(f"#{c}" for c in wanted) or "every timeline"
            await _unlog_decision(tx, message, remaining, {"taken_off": taken})
            await refresh_activity(tx, removed)
        return Unlogged(removed, remaining)

    async def delete_contact(
        self, contact_id: int, member: int | None = None, viewer: int = 1
    ) -> Deleted:
        """Delete a contact: its entries go (a message on no other timeline is unlogged,
        `manual_unlog`), its addresses are freed, its threads forget it. With `member`
        (not an admin), only a contact whose entries are all of `member`'s own messages:
        Forbidden (`not_owner`) when another member's would be taken off. The counts
        are of the entries and messages `viewer` may see (an admin deletes a contact
        whole, and learns nothing of the hidden mail it held)."""
        async with self._db.transaction() as tx:
            row = await tx.fetchone("SELECT name FROM contacts WHERE id = ?", (contact_id,))
            if row is None:
                raise NotFound("No such contact", {"id": contact_id})
            if member is not None and await tx.fetchone(
                """SELECT 1 FROM timeline_entries e JOIN messages m ON m.id = e.message
                   WHERE e.contact_id = ? AND m.owner_id <> ? LIMIT 1""",
                (contact_id, member),
            ):
                raise Forbidden(
                    "Only an admin may delete a contact whose timeline holds other members' email",
                    {"id": contact_id, "reason": "not_owner"},
                )
            rows = await tx.fetchall(
                f"""SELECT e.message, {_SEEN} AS seen FROM timeline_entries e
                    JOIN messages m ON m.id = e.message
                    WHERE e.contact_id = :contact ORDER BY e.message""",
                {"contact": contact_id, "viewer": viewer},
            )
            messages = [int(r[0]) for r in rows]
            seen = {int(r[0]) for r in rows if r["seen"]}
            await tx.execute("DELETE FROM timeline_entries WHERE contact_id = ?", (contact_id,))
            unlogged = 0
            for message in messages:
                left = await tx.fetchall(
                    "SELECT contact_id FROM timeline_entries WHERE message = ?", (message,)
                )
                if left:
                    continue
                unlogged += int(message in seen)
                details = {
                    "contact_deleted": f"the contact {row['name']} (#{contact_id}) was deleted"
                }
                await _unlog_decision(tx, message, [], details)
            await tx.execute("DELETE FROM thread_contacts WHERE contact_id = ?", (contact_id,))
            await tx.execute("DELETE FROM contact_emails WHERE contact_id = ?", (contact_id,))
            await tx.execute("DELETE FROM contacts WHERE id = ?", (contact_id,))
        return Deleted(len(seen), unlogged, [contact_id])

    async def merge_contacts(self, contact_id: int, into: int, viewer: int = 1) -> Merged:
        """Move `contact_id`'s entries, addresses and threads to `into`, then delete it.
        An entry for a message `into` already shows collapses into that one. The counts
        are of the entries of messages `viewer` may see (every entry moves)."""
        if contact_id == into:
            raise Invalid("Invalid params", "id and into are the same")
        async with self._db.transaction() as tx:
            found = {
                int(r["id"]): r
                for r in await tx.fetchall(
                    "SELECT id, company_id, last_activity FROM contacts WHERE id IN (?, ?)",
                    (contact_id, into),
                )
            }
            missing = [c for c in (contact_id, into) if c not in found]
            if missing:
                raise NotFound("No such contact", {"ids": missing})
            counted = await tx.fetchone(
                f"""SELECT count(*) AS moved, coalesce(sum(CASE WHEN EXISTS
                        (SELECT 1 FROM timeline_entries o
                         WHERE o.contact_id = :into AND o.message = e.message)
                        THEN 1 ELSE 0 END), 0) AS duplicates
                    FROM timeline_entries e JOIN messages m ON m.id = e.message
                    WHERE e.contact_id = :contact AND {VISIBLE}""",
                {"contact": contact_id, "into": into, "viewer": viewer},
            )
            assert counted is not None
            moved, duplicates = int(counted["moved"]), int(counted["duplicates"])
            await tx.execute(
                """UPDATE timeline_entries SET contact_id = ? WHERE contact_id = ?
                   AND NOT EXISTS (SELECT 1 FROM timeline_entries o WHERE o.contact_id = ?
                                   AND o.message = timeline_entries.message)""",
                (into, contact_id, into),
            )
            await tx.execute("DELETE FROM timeline_entries WHERE contact_id = ?", (contact_id,))
            position = await tx.fetchval(
                "SELECT coalesce(max(position), -1) + 1 FROM contact_emails WHERE contact_id = ?",
                (into,),
            )
            await tx.execute(
                "UPDATE contact_emails SET contact_id = ?, position = position + ?"
                " WHERE contact_id = ?",
                (into, int(position), contact_id),
            )
            await tx.execute(
                """UPDATE thread_contacts SET contact_id = ? WHERE contact_id = ?
                   AND NOT EXISTS (SELECT 1 FROM thread_contacts o WHERE o.contact_id = ?
                                   AND o.thread_id = thread_contacts.thread_id)""",
                (into, contact_id, into),
            )
            await tx.execute("DELETE FROM thread_contacts WHERE contact_id = ?", (contact_id,))
            await tx.execute(
                "UPDATE contacts SET company_id = coalesce(company_id, ?) WHERE id = ?",
                (found[contact_id]["company_id"], into),
            )
            await tx.execute("DELETE FROM contacts WHERE id = ?", (contact_id,))
            await refresh_activity(tx, [into])
        return Merged(moved - duplicates, duplicates)
