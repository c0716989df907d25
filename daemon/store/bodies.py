"""Bodies onto stored messages: what a parsed body is, and how the store keeps it.

`write_bodies` fills in the body, attachments and search row of messages stored
by their headers (the attachments' blobs made part of the same transaction,
`Transaction.keep_blobs`); `turn_down_calendar` un-logs what a body showed to be a
calendar invitation or response (R17); `quarantine` marks locations whose
message could not be read. They run inside a transaction the caller holds
(`rounds.py` for a sync round, `messages.py` for a retry).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from loggbok.daemon.store.blob_gc import digests_of, release_blobs
from loggbok.daemon.store.db import Row, Transaction
from loggbok.daemon.store.records import to_and_cc
from loggbok.daemon.store.rescans import track_placeholders


@dataclass(frozen=True, slots=True)
class StoredAttachment:
    index: int
    filename: str
    content_type: str
    size: int
    status: str
    sha256: str | None


@dataclass(frozen=True, slots=True)
class StoredForward:
    """What a forward to the forwarding address turned out to carry (R8): the original's
    fields, or why its sender could not be read (`unparsed`)."""

    unparsed: str | None = None
    sender_email: str = ""
    sender_name: str = ""
    subject: str = ""
    date_iso: str = ""
    date_ts: float = 0.0
    date_shown: bool = False
    to: tuple[tuple[str, str], ...] = ()
    cc: tuple[tuple[str, str], ...] = ()
    message_id: str | None = None
    found_in: str = ""


@dataclass(frozen=True, slots=True)
class StoredBody:
    body_text: str
    new_text: str
    snippet: str
    attachments: tuple[StoredAttachment, ...]
    parse_error: str | None = None
    calendar_method: str | None = None
    """The iTIP method (REQUEST, REPLY, CANCEL ...) of a calendar part: the message is an
    invitation or a response, whatever its headers said (R17)."""
    forward: StoredForward | None = None
    """For a forward to the forwarding address: the original read out of it (R8); the
    body and attachments above are then the original's."""


async def quarantine(tx: Transaction, items: list[tuple[int, str, str]]) -> None:
    """Mark (folder id, remote id, error) locations whose message could not be read."""
    await tx.executemany(
        "UPDATE message_locations SET state = 'quarantined', error = ?"
        " WHERE folder_id = ? AND remote_id = ?",
        [(error, folder_id, remote_id) for folder_id, remote_id, error in items],
    )


CALENDAR_OVERRIDES = ("contact_email", "reply_in_tracked_thread")
"""Decisions R17 (calendar) takes precedence over in the rules; a BCC'd message (R2)
and one logged by hand keep theirs."""


async def turn_down_calendar(tx: Transaction, found: dict[int, str]) -> set[int]:
    """Messages logged from their headers whose body holds a calendar invitation or
    response (message id -> iTIP method): not logged after all (R17, "calendar"), with
    a decision of their own, their timeline entries and search rows gone and their
    contacts' last activity taken from what is left. Returns those changed."""
    if not found:
        return set()
    rows = [
        row
        for row in await tx.fetchall_in(
            "SELECT id, thread_id, subject_norm, reason FROM messages"
            " WHERE id IN ({placeholders}) AND logged = 1",
            list(found),
        )
        if row["reason"] in CALENDAR_OVERRIDES
    ]
    changed = {row["id"] for row in rows}
    await tx.executemany(
        "UPDATE messages SET logged = 0, reason = 'calendar' WHERE id = ?",
        [(i,) for i in sorted(changed)],
    )
    await tx.executemany(
        "INSERT INTO decisions (message, logged, reason, rule, evidence)"
        " VALUES (?, 0, 'calendar', 'R17', ?)",
        [
            (
                row["id"],
                json.dumps(
                    {
                        "rule": "R17",
                        "thread_id": row["thread_id"],
                        "subject": row["subject_norm"],
                        "details": {
                            "calendar_method": found[row["id"]],
                            "found_in": "the body (a calendar part; the headers did not show it)",
                        },
                    }
                ),
            )
            for row in rows
        ],
    )
    contacts = await tx.fetchall_in(
        "SELECT DISTINCT contact_id FROM timeline_entries WHERE message IN ({placeholders})",
        sorted(changed),
    )
    await tx.executemany(
        "DELETE FROM timeline_entries WHERE message = ?", [(i,) for i in sorted(changed)]
    )
    await tx.executemany("DELETE FROM message_fts WHERE rowid = ?", [(i,) for i in sorted(changed)])
    await tx.executemany(
        """UPDATE contacts SET last_activity = (SELECT max(m.date) FROM timeline_entries e
               JOIN messages m ON m.id = e.message WHERE e.contact_id = contacts.id)
           WHERE id = ?""",
        [(row[0],) for row in contacts],
    )
    return changed


async def write_bodies(
    tx: Transaction,
    bodies: dict[int, StoredBody],
    *,
    index: bool = True,
    now: float | None = None,
) -> None:
    """Parsed bodies onto stored messages (bulk statements). With `index` (the message is
    logged) also its attachments, its full-text row and the re-fetch of attachments a
    scanner's placeholder stands in for (R11, `rescans.py`; `now` is when, by default
    the clock's)."""
    items = sorted(bodies.items())
    await tx.executemany(
        """UPDATE messages SET body_text = ?, new_text = ?, snippet = ?, body_state = ?,
               parse_error = ? WHERE id = ?""",
        [(b.body_text, b.new_text, b.snippet, "error" if b.parse_error else "parsed",
          b.parse_error, message_id) for message_id, b in items],
    )  # fmt: skip
    if not index or not items:
        return
    # What the rows named before (a body written again): let go of below, after the rows.
    before = await digests_of(tx, [message_id for message_id, _ in items])
    # The blobs go with the rows that name them (PostgreSQL: into the database, here).
    left = await tx.keep_blobs(
        {a.sha256 for _, b in items for a in b.attachments if a.status == "stored" and a.sha256}
    )
    await tx.executemany(
        """INSERT INTO attachments (message, idx, filename, content_type, size,
               status, sha256) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (message, idx) DO UPDATE SET filename = excluded.filename,
               content_type = excluded.content_type, size = excluded.size,
               status = excluded.status, sha256 = excluded.sha256""",
        [_attachment_row(message_id, a, left) for message_id, b in items for a in b.attachments],
    )
    # A body written again with fewer attachments: the rows past its last are not its own.
    await tx.executemany(
        "DELETE FROM attachments WHERE message = ? AND idx >= ?",
        [(message_id, max((a.index + 1 for a in b.attachments), default=0))
         for message_id, b in items],
    )  # fmt: skip
    await release_blobs(tx, before)
    await track_placeholders(tx, items, now)
    rows = await tx.fetchall_in(
        "SELECT id, subject, from_name, from_email, recipients FROM messages"
        " WHERE id IN ({placeholders})",
        [message_id for message_id, _ in items],
    )
    await tx.executemany("DELETE FROM message_fts WHERE rowid = ?", [(i,) for i, _ in items])
    await tx.executemany(
        "INSERT INTO message_fts (rowid, subject, participants, body) VALUES (?, ?, ?, ?)",
        [(r["id"], r["subject"], _searchable_participants(r), bodies[r["id"]].body_text)
         for r in rows],
    )  # fmt: skip


def _attachment_row(message: int, a: StoredAttachment, left: dict[str, str]) -> tuple[object, ...]:
    """An attachments row; one whose blob could not be kept takes the status `left` gives."""
    status, digest = a.status, a.sha256
    if digest is not None and digest in left:
        status, digest = left[digest], None
    return (message, a.index, a.filename, a.content_type, a.size, status, digest)


def _searchable_participants(row: Row) -> str:
    """Sender, To and Cc for the full-text index (never Bcc: it holds the logging address)."""
    people = to_and_cc(row["recipients"])
    return " ".join(
        [row["from_name"], row["from_email"], *(f"{p.name} {p.email}" for ps in people for p in ps)]
    )
