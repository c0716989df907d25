"""R11 in the store: logged messages whose attachments wait for a security scan.

A row of `attachment_rescans` per message that was stored with a scanner's
placeholder (`pending_scan`) for an attachment: when it was first stored so,
the placeholders' names, the attempts made to fetch it again, when the next is
due and how it ended (`replaced` by the real files, or `gave_up`, its
placeholders then `missing`). The schedule itself (`sync/rescan.py`) is not
the store's: a row's `next_at` is NULL until the first attempt, meaning "the
schedule's first step after `first_at`".

`track_placeholders` runs inside every body write (`bodies.write_bodies`),
so a body stored with placeholders starts a row and one stored without them
ends a pending row as replaced, whoever stored it (a sync, `messages.retry`,
the re-fetch itself: `MessageQueries.replace_scanned`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from loggbok.daemon.store.db import Database, Row, Transaction

if TYPE_CHECKING:
    from loggbok.daemon.store.bodies import StoredBody

PENDING_SCAN = "pending_scan"


@dataclass(frozen=True, slots=True)
class Rescan:
    """One message waiting for its real attachments, as the scheduler sees it."""

    message: int
    first_at: float
    attempts: int
    next_at: float | None
    placeholders: tuple[str, ...]
    forward: bool = False
    """Logged from a forward (R8): the body stored is the forwarded original's."""


@dataclass(frozen=True, slots=True)
class Location:
    """Where a message can be fetched from in one mailbox, newest first."""

    folder: str
    role: str
    remote_id: str


async def track_placeholders(
    tx: Transaction, bodies: Sequence[tuple[int, StoredBody]], now: float | None = None
) -> None:
    """Start a rescan for each body stored with placeholders; end the pending rescan of
    each stored without them (the real files are in)."""
    now = time.time() if now is None else now
    waiting = [
        (message, [a.filename for a in body.attachments if a.status == PENDING_SCAN])
        for message, body in bodies
    ]
    await tx.executemany(
        "INSERT INTO attachment_rescans (message, placeholders, first_at)"
        " VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        [
            (message, json.dumps(names, ensure_ascii=False), now)
            for message, names in waiting
            if names
        ],
    )
    await tx.executemany(
        "UPDATE attachment_rescans SET state = 'replaced', done_at = ?, next_at = NULL"
        " WHERE message = ? AND state = 'pending'",
        [(now, message) for message, names in waiting if not names],
    )


_PENDING_INDEX = "attachment_rescans_pending"
_IN_MAILBOX = """EXISTS (SELECT 1 FROM message_locations l JOIN folders f ON f.id = l.folder_id
                  WHERE l.message = r.message AND f.mailbox_id = :mailbox)"""


def _rescan(row: Row) -> Rescan:
    return Rescan(
        row["message"],
        row["first_at"],
        row["attempts"],
        row["next_at"],
        tuple(json.loads(row["placeholders"])),
        bool(row["forward"]),
    )


class RescanQueries:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def pending(self, mailbox_id: int) -> list[Rescan]:
        """Every pending rescan of a logged message this mailbox holds (a handful:
        placeholders are rare, and each is settled within a day)."""
        rows = await self._db.fetchall(
            f"""SELECT r.*, m.reason = 'forwarded_to_log' AS forward
                FROM attachment_rescans r {self._db.dialect.indexed_by(_PENDING_INDEX)}
                JOIN messages m ON m.id = r.message
                WHERE r.state = 'pending' AND m.logged = 1 AND {_IN_MAILBOX}
                ORDER BY r.message""",
            {"mailbox": mailbox_id},
        )
        return [_rescan(row) for row in rows]

    async def get(self, message: int) -> Row | None:
        return await self._db.fetchone(
            "SELECT * FROM attachment_rescans WHERE message = ?", (message,)
        )

    async def locations(self, message: int, mailbox_id: int) -> list[Location]:
        """Where the message sits in this mailbox, the location learnt last first (a copy
        delivered again under a new remote id is where the real files are)."""
        rows = await self._db.fetchall(
            """SELECT f.name, f.role, l.remote_id FROM message_locations l
               JOIN folders f ON f.id = l.folder_id
               WHERE l.message = ? AND f.mailbox_id = ? ORDER BY """
            + self._db.dialect.insertion_order("l")
            + " DESC",
            (message, mailbox_id),
        )
        return [Location(r[0], r[1], r[2]) for r in rows]

    async def attempted(self, message: int, now: float, next_at: float, error: str | None) -> None:
        """An attempt that found the placeholders still there (or no copy to read)."""
        async with self._db.transaction(plan_neutral=True) as tx:
            await tx.execute(
                """UPDATE attachment_rescans SET attempts = attempts + 1, last_at = ?,
                       next_at = ?, last_error = ? WHERE message = ? AND state = 'pending'""",
                (now, next_at, error, message),
            )

    async def give_up(self, message: int, now: float, error: str | None) -> None:
        """No real file came in time: the placeholders' attachments become `missing`."""
        async with self._db.transaction(plan_neutral=True) as tx:
            await tx.execute(
                "UPDATE attachments SET status = 'missing' WHERE message = ? AND status = ?",
                (message, PENDING_SCAN),
            )
            await tx.execute(
                """UPDATE attachment_rescans SET state = 'gave_up', done_at = ?, next_at = NULL,
                       attempts = attempts + 1, last_at = ?, last_error = ?
                   WHERE message = ? AND state = 'pending'""",
                (now, now, error, message),
            )

    async def nudge(self, messages: Iterable[int], now: float) -> int:
        """Due at once: a new copy of the message turned up (a new remote id), or the
        provider reported it changed in place. Returns how many were pending."""
        wanted = sorted(set(messages))
        if not wanted:
            return 0
        marks = ",".join("?" * len(wanted))
        pending = await self._db.fetchall(
            f"SELECT message FROM attachment_rescans WHERE state = 'pending'"
            f" AND message IN ({marks})",
            wanted,
        )
        if not pending:
            return 0
        async with self._db.transaction(plan_neutral=True) as tx:
            await tx.executemany(
                "UPDATE attachment_rescans SET next_at = ? WHERE message = ? AND state = 'pending'",
                [(now, row[0]) for row in pending],
            )
        return len(pending)

    async def messages_at(self, folder_id: int, remote_ids: Sequence[str]) -> list[int]:
        """The stored messages at these remote ids of a folder."""
        found: list[int] = []
        for start in range(0, len(remote_ids), 500):
            chunk = list(remote_ids[start : start + 500])
            rows = await self._db.fetchall(
                "SELECT message FROM message_locations WHERE folder_id = ?"
                f" AND remote_id IN ({','.join('?' * len(chunk))}) AND message IS NOT NULL",
                [folder_id, *chunk],
            )
            found += [int(r[0]) for r in rows]
        return found


def evidence(row: Row | None) -> Mapping[str, str]:
    """What `messages.explain` adds to a decision's details about the rescan."""
    if row is None:
        return {}
    details = {
        "attachment_pending_scan": ", ".join(json.loads(row["placeholders"])) or "?",
        "scan_pending_since": _iso(row["first_at"]),
        "scan_attempts": str(row["attempts"]),
        "scan_state": row["state"],
    }
    if row["state"] == "replaced" and row["done_at"] is not None:
        details["scan_replaced_at"] = _iso(row["done_at"])
    if row["state"] == "gave_up" and row["done_at"] is not None:
        details["scan_gave_up_at"] = _iso(row["done_at"])
    if row["state"] == "pending" and row["next_at"] is not None:
        details["scan_next_attempt"] = _iso(row["next_at"])
    if row["last_error"]:
        details["scan_last_error"] = row["last_error"]
    return details


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))
