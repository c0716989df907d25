"""The store's side of `messages.redecide` (second thoughts on stored mail).

Reads: the stored messages of a scope in date order, each with its current
timeline contacts; the context a replay needs for one batch (contacts by
address and, when the scope is partial, the threads and thread keys of the
messages outside it, as stored). Writes: one batch of new decisions in one
transaction: decision rows (the old ones stay as history), timeline entries
added, removed and re-labelled, the search index, contacts' last activity,
and (when the whole thread structure is replayed) threads, thread keys and
the threads messages belong to. The replay itself is `sync/redecide.py`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from loggbok.daemon.rules.namesakes import Namesake
from loggbok.daemon.store.bodies import StoredBody, write_bodies
from loggbok.daemon.store.db import Database, Row, Transaction
from loggbok.daemon.store.foreign_copies import load_namesakes
from loggbok.daemon.store.plans import move_subjects

_CHUNK = 500


@dataclass(frozen=True, slots=True)
class Scope:
    """Which stored messages are decided again: dated from `since_ts` on, and/or only
    `ids`, and/or only `owner`'s; everything when all are None."""

    since_ts: float | None = None
    ids: tuple[int, ...] | None = None
    owner: int | None = None

    @property
    def full(self) -> bool:
        return self.since_ts is None and self.ids is None and self.owner is None

    def clause(self, alias: str) -> tuple[str, list[Any]]:
        """SQL that holds for the messages (`alias`) inside the scope, and its params."""
        parts: list[str] = []
        params: list[Any] = []
        if self.since_ts is not None:
            parts.append(f"{alias}.date_ts >= ?")
            params.append(self.since_ts)
        if self.ids is not None:
            parts.append(f"{alias}.id IN ({','.join('?' * len(self.ids)) or 'NULL'})")
            params += list(self.ids)
        if self.owner is not None:
            parts.append(f"{alias}.owner_id = ?")
            params.append(self.owner)
        return (" AND ".join(parts) or "1 = 1"), params


@dataclass(slots=True)
class StoredMessage:
    id: int
    message_id: str
    subject: str
    date: str
    date_ts: float
    thread_id: int | None
    conversation_key: str | None
    mailbox_id: int | None
    logged: bool
    reason: str
    raw_headers: bytes
    contact_ids: tuple[int, ...]
    """The contacts whose timeline shows it now."""
    calendar_in_body: bool
    """Turned down because its body holds a calendar invitation (R17), which its
    headers do not show."""
    message_key: str = ""
    """Its key in the store: the Message-ID's, or one of its own (`foreign_copies.py`);
    "" when the headers' is meant."""
    owner_id: int | None = None


@dataclass(frozen=True, slots=True)
class StoredThread:
    id: int
    subject_norm: str
    tracked: bool
    tracked_reason: str | None
    tracked_mailbox_id: int | None
    root_message: int | None
    conversation_key: str | None
    contact_ids: frozenset[int]
    subjects: tuple[tuple[str, int | None, str], ...] = ()
    """The subjects it is tracked under, in order: (subject, message id, Message-ID)."""


@dataclass(slots=True)
class BatchContext:
    contacts: dict[str, int] = field(default_factory=dict)
    keys: dict[str, tuple[int, int | None]] = field(default_factory=dict)
    threads: dict[int, StoredThread] = field(default_factory=dict)
    conversations: dict[str, int] = field(default_factory=dict)
    messages: dict[int, tuple[str, str]] = field(default_factory=dict)
    """Message id -> (normalised subject, Message-ID), for the messages `keys` names."""
    namesakes: dict[str, list[Namesake]] = field(default_factory=dict)
    """Plain key -> the messages sharing that Message-ID, for the keys named."""


@dataclass(frozen=True, slots=True)
class NewDecision:
    message: StoredMessage
    logged: bool
    reason: str
    rule: str
    contact_ids: tuple[int, ...]
    evidence: dict[str, Any]


@dataclass(slots=True)
class BatchWrite:
    """One batch's new decisions and, when threads are replayed, its thread changes."""

    decisions: list[NewDecision] = field(default_factory=list)
    moves: dict[int, int] = field(default_factory=dict)
    """message id -> thread id, for every message decided again."""
    threads: list[StoredThread] = field(default_factory=list)
    keys: dict[str, tuple[int, int | None]] = field(default_factory=dict)
    merged: dict[int, int] = field(default_factory=dict)
    orphans: set[int] = field(default_factory=set)
    """Threads the batch's messages were in that the replay no longer uses: deleted
    once no message is left in them."""


@dataclass(slots=True)
class Outcome:
    changed: list[NewDecision] = field(default_factory=list)
    skipped: int = 0
    """Changed by someone else between planning and writing (left as they are)."""
    added: int = 0
    removed: int = 0
    contacts: set[int] = field(default_factory=set)
    waiting_bodies: list[tuple[int, int | None]] = field(default_factory=list)
    """(message id, mailbox id) of newly logged messages whose body is still to fetch."""


async def _rows_in(db: Database | Transaction, sql: str, values: Iterable[Any]) -> list[Row]:
    unique = list(dict.fromkeys(values))
    rows: list[Row] = []
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start : start + _CHUNK]
        rows += await db.fetchall(sql.format(placeholders=",".join("?" * len(chunk))), chunk)
    return rows


class RedecisionQueries:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def scope_ids(self, scope: Scope) -> list[int]:
        """The ids of the messages in `scope`, oldest first."""
        where, params = scope.clause("m")
        rows = await self._db.fetchall(
            f"SELECT m.id FROM messages m WHERE {where} ORDER BY m.date_ts, m.id", params
        )
        return [int(r[0]) for r in rows]

    async def mailbox_addresses(self) -> dict[int, str]:
        rows = await self._db.fetchall("SELECT id, address FROM mailboxes")
        return {int(r[0]): str(r[1]) for r in rows}

    async def next_ids(self) -> tuple[int, int]:
        """The next free thread and contact ids."""
        row = await self._db.fetchone(
            "SELECT (SELECT coalesce(max(id), 0) + 1 FROM threads),"
            " (SELECT coalesce(max(id), 0) + 1 FROM contacts)"
        )
        assert row is not None
        return int(row[0]), int(row[1])

    async def messages(self, ids: Sequence[int]) -> list[StoredMessage]:
        rows = await _rows_in(
            self._db,
            """SELECT m.id, m.message_id, m.message_key, m.owner_id, m.subject, m.date, m.date_ts,
                   m.thread_id,
                   t.conversation_key, m.mailbox_id, m.logged, m.reason, m.raw_headers
               FROM messages m LEFT JOIN threads t ON t.id = m.thread_id
               WHERE m.id IN ({placeholders})""",
            ids,
        )
        entries: dict[int, list[int]] = {}
        for r in await _rows_in(
            self._db,
            "SELECT message, contact_id FROM timeline_entries WHERE message IN ({placeholders})"
            " ORDER BY id",
            ids,
        ):
            entries.setdefault(r[0], []).append(r[1])
        calendar = {
            r[0]
            for r in await _rows_in(
                self._db,
                """SELECT d.message, d.evidence FROM decisions d
                   WHERE d.id IN (SELECT max(id) FROM decisions
                                  WHERE message IN ({placeholders}) GROUP BY message)
                     AND d.reason = 'calendar'""",
                [r["id"] for r in rows if r["reason"] == "calendar"],
            )
            if "calendar_method" in json.loads(r[1]).get("details", {})
        }
        return [
            StoredMessage(
                id=r["id"],
                message_id=r["message_id"],
                message_key=r["message_key"],
                owner_id=r["owner_id"],
                subject=r["subject"],
                date=r["date"],
                date_ts=r["date_ts"],
                thread_id=r["thread_id"],
                conversation_key=r["conversation_key"],
                mailbox_id=r["mailbox_id"],
                logged=bool(r["logged"]),
                reason=r["reason"],
                raw_headers=bytes(r["raw_headers"]),
                contact_ids=tuple(entries.get(r["id"], ())),
                calendar_in_body=r["id"] in calendar,
            )
            for r in rows
        ]

    async def context(
        self,
        emails: Iterable[str],
        keys: Iterable[str],
        conversation_keys: Iterable[str],
        scope: Scope,
    ) -> BatchContext:
        """Contacts by address; with a partial scope also the thread keys (and their
        threads, as stored) of the messages outside the scope, and the ghosts of
        threads that hold such messages."""
        ctx = BatchContext()
        keys = list(keys)
        ctx.namesakes = await load_namesakes(self._db, keys)
        keys += [n.key for found in ctx.namesakes.values() for n in found]
        for r in await _rows_in(
            self._db,
            "SELECT email, contact_id FROM contact_emails WHERE email IN ({placeholders})",
            emails,
        ):
            ctx.contacts[r[0]] = r[1]
        if scope.full:
            return ctx
        inside_m, params_m = scope.clause("m")
        inside_o, params_o = scope.clause("o")
        outside = f"""(k.message IS NOT NULL AND NOT ({inside_m})) OR (k.message IS NULL
            AND EXISTS (SELECT 1 FROM messages o WHERE o.thread_id = k.thread_id
                        AND NOT ({inside_o})))"""
        for chunk in _chunks(list(dict.fromkeys(keys))):
            rows = await self._db.fetchall(
                f"""SELECT k.key, k.thread_id, k.message FROM thread_keys k
                    LEFT JOIN messages m ON m.id = k.message
                    WHERE k.key IN ({",".join("?" * len(chunk))}) AND ({outside})""",
                [*chunk, *params_m, *params_o],
            )
            ctx.keys.update({r[0]: (r[1], r[2]) for r in rows})
        for chunk in _chunks(list(dict.fromkeys(conversation_keys))):
            rows = await self._db.fetchall(
                f"""SELECT t.conversation_key, t.id FROM threads t
                    WHERE t.conversation_key IN ({",".join("?" * len(chunk))})
                      AND EXISTS (SELECT 1 FROM messages o WHERE o.thread_id = t.id
                                  AND NOT ({inside_o}))""",
                [*chunk, *params_o],
            )
            ctx.conversations.update({r[0]: r[1] for r in rows})
        thread_ids = {t for t, _ in ctx.keys.values()} | set(ctx.conversations.values())
        contacts: dict[int, set[int]] = {}
        for r in await _rows_in(
            self._db,
            "SELECT thread_id, contact_id FROM thread_contacts WHERE thread_id IN ({placeholders})",
            thread_ids,
        ):
            contacts.setdefault(r[0], set()).add(r[1])
        subjects: dict[int, list[tuple[str, int | None, str]]] = {}
        for r in await _rows_in(
            self._db,
            """SELECT s.thread_id, s.subject_norm, s.message, coalesce(m.message_id, '')
               FROM thread_subjects s LEFT JOIN messages m ON m.id = s.message
               WHERE s.thread_id IN ({placeholders}) ORDER BY """
            + self._db.dialect.insertion_order("s"),
            thread_ids,
        ):
            subjects.setdefault(r[0], []).append((r[1], r[2], r[3]))
        for r in await _rows_in(
            self._db,
            "SELECT id, subject_norm, message_id FROM messages WHERE id IN ({placeholders})",
            [message for _, message in ctx.keys.values() if message is not None],
        ):
            ctx.messages[r[0]] = (r[1], r[2])
        for r in await _rows_in(
            self._db, "SELECT * FROM threads WHERE id IN ({placeholders})", thread_ids
        ):
            ctx.threads[r["id"]] = StoredThread(
                id=r["id"],
                subject_norm=r["subject_norm"],
                tracked=bool(r["tracked"]),
                tracked_reason=r["tracked_reason"],
                tracked_mailbox_id=r["tracked_mailbox_id"],
                root_message=r["root_message"],
                conversation_key=r["conversation_key"],
                contact_ids=frozenset(contacts.get(r["id"], ())),
                subjects=tuple(subjects.get(r["id"], ())),
            )
        return ctx

    async def write(self, batch: BatchWrite, *, rethread: bool) -> Outcome:
        """Write one batch in one transaction. A message whose decision changed since
        it was read (logged or unlogged by hand meanwhile) is left alone."""
        outcome = Outcome()
        async with self._db.transaction() as tx:
            if rethread:
                await _write_threads(tx, batch)
            ids = [d.message.id for d in batch.decisions]
            current = {
                r["id"]: r
                for r in await _rows_in(
                    tx,
                    "SELECT id, reason, logged, body_state, body_text, new_text, snippet,"
                    " parse_error, mailbox_id FROM messages WHERE id IN ({placeholders})",
                    ids,
                )
            }
            entries: dict[int, set[int]] = {}
            for r in await _rows_in(
                tx,
                "SELECT message, contact_id FROM timeline_entries"
                " WHERE message IN ({placeholders})",
                ids,
            ):
                entries.setdefault(r[0], set()).add(r[1])
            indexed: dict[int, StoredBody] = {}
            for d in batch.decisions:
                row = current.get(d.message.id)
                if row is None or row["reason"] != d.message.reason:
                    outcome.skipped += 1
                    continue
                await _write_decision(tx, d, entries.get(d.message.id, set()), outcome)
                if d.logged and not row["logged"]:
                    if row["body_state"] == "headers":
                        outcome.waiting_bodies.append((d.message.id, row["mailbox_id"]))
                    else:
                        indexed[d.message.id] = StoredBody(
                            row["body_text"] or "",
                            row["new_text"] or "",
                            row["snippet"],
                            (),
                            row["parse_error"],
                        )
            await write_bodies(tx, indexed)
            await refresh_activity(tx, outcome.contacts)
            if rethread:
                await _drop_orphans(tx, batch.orphans)
        return outcome

    async def still_waiting(self, ids: Sequence[int]) -> int:
        rows = await _rows_in(
            self._db,
            "SELECT id FROM messages WHERE id IN ({placeholders}) AND logged = 1"
            " AND body_state = 'headers'",
            ids,
        )
        return len(rows)


def _chunks(values: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


async def _write_decision(tx: Transaction, d: NewDecision, old: set[int], outcome: Outcome) -> None:
    new = set(d.contact_ids) if d.logged else set()
    lost, gained = old - new, new - old
    message = d.message.id
    await tx.execute(
        "UPDATE messages SET logged = ?, reason = ? WHERE id = ?",
        (int(d.logged), d.reason, message),
    )
    await tx.execute(
        "INSERT INTO decisions (message, logged, reason, rule, evidence) VALUES (?, ?, ?, ?, ?)",
        (message, int(d.logged), d.reason, d.rule, json.dumps(d.evidence, ensure_ascii=False)),
    )
    await tx.executemany(
        "DELETE FROM timeline_entries WHERE message = ? AND contact_id = ?",
        [(message, c) for c in sorted(lost)],
    )
    await tx.executemany(
        "INSERT INTO timeline_entries (contact_id, message, date_ts, reason) VALUES (?, ?, ?, ?)",
        [(c, message, d.message.date_ts, d.reason) for c in d.contact_ids if c in gained],
    )
    await tx.execute(
        "UPDATE timeline_entries SET reason = ? WHERE message = ?", (d.reason, message)
    )
    if not new and old:
        await tx.execute("DELETE FROM message_fts WHERE rowid = ?", (message,))
    outcome.changed.append(d)
    outcome.added += len(gained)
    outcome.removed += len(lost)
    outcome.contacts |= lost | gained


async def refresh_activity(tx: Transaction, contact_ids: Iterable[int]) -> None:
    """Contacts' last activity from the timeline entries they have now."""
    await tx.executemany(
        """UPDATE contacts SET last_activity = (SELECT max(m.date) FROM timeline_entries e
               JOIN messages m ON m.id = e.message WHERE e.contact_id = contacts.id)
           WHERE id = ?""",
        [(c,) for c in sorted(set(contact_ids))],
    )


async def _write_threads(tx: Transaction, batch: BatchWrite) -> None:
    """Threads first (messages and keys refer to them), then moves, keys and folds."""
    await tx.executemany(
        """INSERT INTO threads (id, subject_norm, tracked, tracked_reason, tracked_mailbox_id,
               root_message, conversation_key) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET subject_norm = excluded.subject_norm,
               tracked = excluded.tracked, tracked_reason = excluded.tracked_reason,
               tracked_mailbox_id = excluded.tracked_mailbox_id,
               root_message = excluded.root_message,
               conversation_key = excluded.conversation_key""",
        [
            (
                t.id,
                t.subject_norm,
                int(t.tracked),
                t.tracked_reason,
                t.tracked_mailbox_id,
                t.root_message,
                t.conversation_key,
            )
            for t in batch.threads
        ],
    )
    await tx.executemany(
        "DELETE FROM thread_contacts WHERE thread_id = ?", [(t.id,) for t in batch.threads]
    )
    await tx.executemany(
        "INSERT INTO thread_contacts (thread_id, contact_id)"
        " SELECT ?, id FROM contacts WHERE id = ? ON CONFLICT DO NOTHING",
        [(t.id, c) for t in batch.threads for c in sorted(t.contact_ids)],
    )
    await tx.executemany(
        "DELETE FROM thread_subjects WHERE thread_id = ?", [(t.id,) for t in batch.threads]
    )
    await tx.executemany(
        "INSERT INTO thread_subjects (thread_id, subject_norm, message)"
        " VALUES (?, ?, (SELECT id FROM messages WHERE id = ?)) ON CONFLICT DO NOTHING",
        [(t.id, subject, message) for t in batch.threads for subject, message, _ in t.subjects],
    )
    await tx.executemany(
        "UPDATE messages SET thread_id = ? WHERE id = ? AND thread_id IS DISTINCT FROM ?",
        [(thread, message, thread) for message, thread in batch.moves.items()],
    )
    await tx.executemany(
        "INSERT INTO thread_keys (key, thread_id, message) VALUES (?, ?, ?) ON CONFLICT (key)"
        " DO UPDATE SET thread_id = excluded.thread_id, message = excluded.message",
        [(k, t, m) for k, (t, m) in batch.keys.items()],
    )
    for other, into in batch.merged.items():
        await tx.execute("UPDATE messages SET thread_id = ? WHERE thread_id = ?", (into, other))
        await tx.execute("UPDATE thread_keys SET thread_id = ? WHERE thread_id = ?", (into, other))
        await tx.execute(
            "INSERT INTO thread_contacts (thread_id, contact_id)"
            " SELECT ?, contact_id FROM thread_contacts WHERE thread_id = ?"
            " ON CONFLICT DO NOTHING",
            (into, other),
        )
        await move_subjects(tx, into, other)
        batch.orphans.add(other)


async def _drop_orphans(tx: Transaction, candidates: Iterable[int]) -> None:
    for thread in sorted(set(candidates)):
        if await tx.fetchval("SELECT 1 FROM messages WHERE thread_id = ? LIMIT 1", (thread,)):
            continue
        await tx.execute("DELETE FROM thread_keys WHERE thread_id = ?", (thread,))
        await tx.execute("DELETE FROM thread_contacts WHERE thread_id = ?", (thread,))
        await tx.execute("DELETE FROM thread_subjects WHERE thread_id = ?", (thread,))
        await tx.execute("DELETE FROM threads WHERE id = ?", (thread,))
