"""R13: the intervals a mailbox could not be read (`mailbox_outages`), and what
depends on them: the tracked threads that are blind meanwhile, and the mail that
arrived in the gap and was read when it came back.

An outage begins when the mailbox's status turns unavailable (auth_failed,
disconnected, error: any provider, through the status path every worker
takes), when it is removed, or when it is replaced (another mailbox connected for
the same address: the old one's tracked threads move to it and its outage
goes on as the new one's until that one's first round). It ends with the first
round that succeeds (status idle). `since` is the last successful sync before it
(mail after it is what could not be read), else when it began.

What an outage tells (which mailbox, its address, when and why it could not be
read) is its mailbox's owner's and the admins' to read: another member who sees
a message of a blind thread, or one read late, is told only that it was "a
colleague's mailbox" (`OutageQueries.explain`, `blind_threads_of_contact`).

Functions taking `tx` run inside the caller's transaction (the status is
written in the same one). Timestamps are computed here (ISO text and epoch
seconds), not by SQL functions, so the statements stay portable.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

import msgspec

from loggbok.daemon.store.db import Database, Dialect, Row, Transaction
from loggbok.daemon.store.records import VISIBLE
from loggbok.protocol.types import BlindThread, Contact

UNAVAILABLE = ("auth_failed", "disconnected", "error")
COLLEAGUES = "a colleague's mailbox"
"""What stands for another member's mailbox in what an outage tells them."""
_ARRIVED = "mailbox_id = ? AND date_ts >= ? AND created_at >= ?"
"""A message arrived in an outage: dated from its start (the last good sync) and
stored only once it began (read when the mailbox came back). Its own date alone
is not enough: senders' clocks are wrong."""


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ts(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Outage:
    id: int
    mailbox_id: int
    since_ts: float
    began_ts: float
    ended_ts: float | None
    cause: str
    detail: str


def _outage(row: Row) -> Outage:
    return Outage(
        row["id"],
        row["mailbox_id"],
        row["since_ts"],
        row["began_ts"],
        row["ended_ts"],
        row["cause"],
        row["detail"],
    )


async def open_outage(tx: Transaction, mailbox_id: int) -> Outage | None:
    row = await tx.fetchone(
        "SELECT * FROM mailbox_outages WHERE mailbox_id = ? AND ended_ts IS NULL"
        " ORDER BY id DESC LIMIT 1",
        (mailbox_id,),
    )
    return _outage(row) if row is not None else None


async def begin(
    tx: Transaction, mailbox_id: int, cause: str, detail: str, since_ts: float | None = None
) -> None:
    """Open an outage (or update the cause of the one open)."""
    current = await open_outage(tx, mailbox_id)
    if current is not None:
        await tx.execute(
            "UPDATE mailbox_outages SET cause = ?, detail = ? WHERE id = ?",
            (cause, detail, current.id),
        )
        return
    now = time.time()
    if since_ts is None:
        last = await tx.fetchval("SELECT last_sync FROM mailboxes WHERE id = ?", (mailbox_id,))
        since_ts = _ts(last) or now
    await tx.execute(
        "INSERT INTO mailbox_outages (mailbox_id, since_ts, began_ts, cause, detail)"
        " VALUES (?, ?, ?, ?, ?)",
        (mailbox_id, since_ts, now, cause, detail),
    )


async def end(tx: Transaction, mailbox_id: int) -> Outage | None:
    """Close the open outage (the mailbox read again); the outage as it ended."""
    current = await open_outage(tx, mailbox_id)
    if current is None:
        return None
    now = time.time()
    arrived = await tx.fetchval(
        f"SELECT count(*) FROM messages WHERE {_ARRIVED}",
        (mailbox_id, current.since_ts, iso(current.began_ts)),
    )
    await tx.execute(
        "UPDATE mailbox_outages SET ended_ts = ?, arrived = ? WHERE id = ?",
        (now, arrived, current.id),
    )
    return Outage(
        current.id,
        mailbox_id,
        current.since_ts,
        current.began_ts,
        now,
        current.cause,
        current.detail,
    )


async def replaced(tx: Transaction, new_id: int, address: str, user_id: int) -> list[int]:
    """A mailbox was connected for `address` by `user_id`: their removed mailboxes of
    that address hand it their tracked threads, and their open outages go on as the new
    one's (ended by its first round). Another member's removed mailbox hands nothing
    over. The ids of the mailboxes it replaces."""
    old = [
        r["id"]
        for r in await tx.fetchall(
            "SELECT id FROM mailboxes WHERE address = ? AND id <> ? AND removed = 1"
            " AND user_id = ?",
            (address.lower(), new_id, user_id),
        )
    ]
    since: list[float] = []
    for old_id in old:
        current = await open_outage(tx, old_id)
        if current is not None:
            since.append(current.since_ts)
            await tx.execute(
                "UPDATE mailbox_outages SET ended_ts = ?, detail = ? WHERE id = ?",
                (time.time(), f"replaced by mailbox {new_id}", current.id),
            )
        await tx.execute(
            "UPDATE threads SET tracked_mailbox_id = ? WHERE tracked_mailbox_id = ?",
            (new_id, old_id),
        )
    if since:
        await begin(
            tx, new_id, "replaced", f"replaces mailbox {', '.join(map(str, old))}", min(since)
        )
    return old


class OutageQueries:
    """The reading side: blind threads per contact, thread and message."""

    def __init__(self, db: Database) -> None:
        self._db = db

    _BLIND_COLUMNS = """t.id AS thread_id, t.subject_norm, b.id AS mailbox_id, b.address,
            b.user_id, o.since_ts, o.cause, o.detail"""
    """What `_blind` reads of a blind thread (`t`), its mailbox (`b`) and outage (`o`)."""

    _BLIND = f"""SELECT {_BLIND_COLUMNS}
        FROM threads t JOIN mailboxes b ON b.id = t.tracked_mailbox_id
        JOIN mailbox_outages o ON o.mailbox_id = b.id AND o.ended_ts IS NULL
        WHERE t.tracked = 1"""

    _SEEN = f"EXISTS (SELECT 1 FROM messages m WHERE m.thread_id = t.id AND {VISIBLE})"
    """A thread `:viewer` may know of: it holds a message they may see. A blind thread
    (and its subject) is told only to them, counted only for them."""

    async def blind_threads_of_contact(self, contact_id: int, viewer: int) -> list[BlindThread]:
        """The contact's blind threads that `viewer` may know of (`_SEEN`); of a
        colleague's mailbox, without which mailbox nor when (`_told`)."""
        join = self._db.dialect.join_in_order()  # from the contact's threads, as `blind_count_sql`
        rows = await self._db.fetchall(
            f"""SELECT {self._BLIND_COLUMNS}
                FROM thread_contacts tc {join} threads t ON t.id = tc.thread_id
                {join} mailbox_outages o ON o.mailbox_id = t.tracked_mailbox_id
                    AND o.ended_ts IS NULL
                {join} mailboxes b ON b.id = o.mailbox_id
                WHERE {self._OPEN} AND tc.contact_id = :contact AND t.tracked = 1
                    AND {self._SEEN}
                ORDER BY o.since_ts, t.id""",
            {"contact": contact_id, "viewer": viewer},
        )
        if not rows:
            return []  # the usual case: no second statement (every timeline's first page)
        admin = await self._admin(viewer)
        return [_told(_blind(r), r["user_id"] == viewer or admin) for r in rows]

    async def blind_thread(self, thread_id: int) -> tuple[BlindThread, int] | None:
        """A thread's blindness and the member whose mailbox it is tracked in."""
        row = await self._db.fetchone(f"{self._BLIND} AND t.id = ?", (thread_id,))
        return (_blind(row), int(row["user_id"])) if row is not None else None

    async def _admin(self, viewer: int) -> bool:
        row = await self._db.fetchone("SELECT admin, active FROM users WHERE id = ?", (viewer,))
        return bool(row and row["admin"] and row["active"])

    async def _owner(self, mailbox_id: int) -> int | None:
        owner = await self._db.fetchval("SELECT user_id FROM mailboxes WHERE id = ?", (mailbox_id,))
        return None if owner is None else int(owner)

    _OPEN = """EXISTS (SELECT 1 FROM mailbox_outages o WHERE o.ended_ts IS NULL
        AND EXISTS (SELECT 1 FROM threads t WHERE t.tracked_mailbox_id = o.mailbox_id
            AND t.tracked = 1))"""
    """Whether any thread is blind at all (an open outage of a mailbox that tracks a
    thread; from the outages, each mailbox looked up in `threads_tracked_mailbox`):
    a term of no table, so the database answers it once, before any row, and with
    none (the usual case) a blind count or list reads nothing else."""

    @classmethod
    def blind_count_sql(cls, dialect: Dialect, contact: str) -> str:
        """The number of the blind threads of the contact whose id is `contact` (an
        expression of the enclosing statement, or a parameter) that `:viewer` may
        know of (`_SEEN`): a scalar subquery, so it starts from that contact's
        threads (`thread_contacts_contact`, migration 16) on both databases and its
        cost follows them, never every tracked thread of a mailbox in an outage
        (46,000 in one mailbox of the 1,000,000-message bench: a contacts page took
        18 ms, 150 once those threads had their contacts, while the outage lasted)."""
        join = dialect.join_in_order()
        return f"""(SELECT count(*) FROM thread_contacts tc
            {join} threads t ON t.id = tc.thread_id
            {join} mailbox_outages o ON o.mailbox_id = t.tracked_mailbox_id
                AND o.ended_ts IS NULL
            WHERE {cls._OPEN} AND tc.contact_id = {contact} AND t.tracked = 1
                AND {cls._SEEN})"""

    async def blind_counts(self, contact_ids: list[int], viewer: int) -> dict[int, int]:
        """contact id -> how many of its tracked threads that `viewer` may know of
        (`_SEEN`) are blind now (contacts with none left out)."""
        if not contact_ids:
            return {}
        named: dict[str, object] = {f"c{i}": c for i, c in enumerate(contact_ids)}
        rows = await self._db.fetchall(
            f"""SELECT c.id, {self.blind_count_sql(self._db.dialect, "c.id")} FROM contacts c
                WHERE c.id IN ({", ".join(":" + k for k in named)})""",
            {**named, "viewer": viewer},
        )
        return {r[0]: r[1] for r in rows if r[1]}

    async def with_blind(self, contacts: list[Contact], viewer: int) -> list[Contact]:
        """The contacts with their counts of blind threads (R13) `viewer` may know of."""
        counts = await self.blind_counts([c.id for c in contacts], viewer)
        return [
            msgspec.structs.replace(c, blind_threads=counts[c.id]) if c.id in counts else c
            for c in contacts
        ]

    async def read_late(self, mailbox_id: int | None, row: Row) -> Outage | None:
        """The ended outage of `mailbox_id` in which the message (a `messages` row)
        arrived: dated from its start, stored while it ended. None for others."""
        if mailbox_id is None:
            return None
        rows = await self._db.fetchall(
            "SELECT * FROM mailbox_outages WHERE mailbox_id = ? AND ended_ts IS NOT NULL"
            " AND since_ts <= ? ORDER BY id DESC",
            (mailbox_id, row["date_ts"]),
        )
        for found in map(_outage, rows):
            assert found.ended_ts is not None
            if iso(found.began_ts) <= row["created_at"] <= iso(found.ended_ts):
                return found
        return None

    async def explain(self, message: Row, viewer: int) -> tuple[dict[str, str], list[str]]:
        """R13 in `messages.explain` of a `messages` row: evidence details and summary
        sentences, when its thread is blind now (`mailbox_unavailable`) or it arrived
        while its mailbox could not be read (`read_late`). Which mailbox, when and why
        is told to its owner and admins; `viewer`, another member, reads "a
        colleague's mailbox" and no dates."""
        details: dict[str, str] = {}
        notes: list[str] = []
        thread_id = message["thread_id"]
        found = await self.blind_thread(thread_id) if thread_id is not None else None
        late = await self.read_late(message["mailbox_id"], message)
        if found is None and late is None:
            return details, notes
        admin = await self._admin(viewer)
        if found is not None:
            blind, owner = found
            if owner == viewer or admin:
                details["mailbox_unavailable"] = (
                    f"mailbox {blind.mailbox_id} ({blind.address}) unavailable since "
                    f"{blind.since} ({blind.cause}{': ' + blind.detail if blind.detail else ''})"
                )
                notes.append(
                    f"This thread is blind (R13, mailbox_unavailable): replies since "
                    f"{blind.since} cannot be read until {blind.address} is connected again."
                )
            else:
                details["mailbox_unavailable"] = f"{COLLEAGUES} unavailable"
                notes.append(
                    "This thread is blind (R13, mailbox_unavailable): it is tracked in"
                    f" {COLLEAGUES}, and replies are read when that mailbox is connected again."
                )
        if late is not None and late.ended_ts is not None:
            if await self._owner(late.mailbox_id) == viewer or admin:
                details["read_late"] = (
                    f"arrived while mailbox {late.mailbox_id} was unavailable ({late.cause}, "
                    f"{iso(late.since_ts)} to {iso(late.ended_ts)}); read when it came back"
                )
                notes.append(
                    f"It arrived while its mailbox was unavailable ({late.cause}) and was read "
                    f"when the mailbox came back at {iso(late.ended_ts)}."
                )
            else:
                details["read_late"] = (
                    f"arrived while {COLLEAGUES} was unavailable; read when it came back"
                )
                notes.append(
                    f"It arrived while {COLLEAGUES} was unavailable and was read when that"
                    " mailbox came back."
                )
        return details, notes

    async def arrived(self, outage: Outage) -> list[Row]:
        """What arrived in an outage (read when it ended), oldest first."""
        return await self._db.fetchall(
            "SELECT id, message_id, date, subject, logged, reason FROM messages"
            f" WHERE {_ARRIVED} ORDER BY date_ts, id",
            (outage.mailbox_id, outage.since_ts, iso(outage.began_ts)),
        )


def _told(blind: BlindThread, insider: bool) -> BlindThread:
    """A blind thread as a member is told of it: whole to the mailbox's owner or an
    admin (`insider`); to others without the mailbox (id 0, "a colleague's mailbox"),
    when (`since` empty) or why (`cause` "unavailable", no detail)."""
    if insider:
        return blind
    return msgspec.structs.replace(
        blind, mailbox_id=0, address=COLLEAGUES, since="", cause="unavailable", detail=""
    )


def _blind(row: Row) -> BlindThread:
    return BlindThread(
        thread_id=row["thread_id"],
        subject=row["subject_norm"],
        mailbox_id=row["mailbox_id"],
        address=row["address"],
        since=iso(row["since_ts"]),
        cause=row["cause"],
        detail=row["detail"],
    )
