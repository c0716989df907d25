"""The SQL of a sync round's plans: read the snapshot a batch is planned against
(`load_snapshot`), write a plan with a handful of bulk statements (`write_plan`),
timeline entries, Gmail labels and folder cursors. Run inside a transaction `rounds.py` holds;
the plan's ids are real by then (`rounds.py` maps the plan-local ones).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from loggbok.daemon.rules.planner import Ids, Incoming, Plan, PlannedMessage, Snapshot, ThreadState
from loggbok.daemon.store.companies import companies_for
from loggbok.daemon.store.db import Transaction
from loggbok.daemon.store.foreign_copies import load_namesakes, record_namesakes


async def load_snapshot(
    tx: Transaction, batch: Sequence[Incoming], ids: Ids, member: int | None = None
) -> Snapshot:
    """What the store knows about `batch`'s messages, threads and addresses; what the
    plans create takes its ids from `ids`. The batch is from a mailbox of `member`'s
    (a reply naming a Message-ID several messages share prefers theirs)."""
    message_keys = [i.facts.message_key for i in batch]
    thread_keys = [
        k for i in batch for k in (i.facts.message_key, *i.facts.in_reply_to, *i.facts.references)
    ]
    emails = [
        a.email
        for i in batch
        for a in (i.facts.from_, *i.facts.to, *i.facts.cc, *i.facts.bcc)
        if a.email
    ]
    conversation_keys = [i.conversation_key for i in batch if i.conversation_key]

    existing = {
        r[0]: r[1]
        for r in await tx.fetchall_in(
            "SELECT message_key, id FROM messages WHERE message_key IN ({placeholders})",
            message_keys,
        )
    }
    keys: dict[str, tuple[int, int | None]] = {}
    shared: list[str] = []
    for r in await tx.fetchall_in(
        "SELECT k.key, k.thread_id, k.message,"
        " EXISTS (SELECT 1 FROM namesakes n WHERE n.key = k.key)"
        " FROM thread_keys k WHERE k.key IN ({placeholders})",
        thread_keys,
    ):
        keys[r[0]] = (r[1], r[2])
        if r[3]:
            shared.append(r[0])
    # Message-IDs several messages share (rare): all of them, and their own keys' threads.
    namesakes = await load_namesakes(tx, shared) if shared else {}
    for r in await tx.fetchall_in(
        "SELECT key, thread_id, message FROM thread_keys WHERE key IN ({placeholders})",
        [n.key for found in namesakes.values() for n in found if n.key not in keys],
    ):
        keys[r[0]] = (r[1], r[2])
    conversations = {
        r[0]: r[1]
        for r in await tx.fetchall_in(
            "SELECT conversation_key, id FROM threads WHERE conversation_key IN ({placeholders})",
            conversation_keys,
        )
    }
    thread_ids = {t for t, _ in keys.values()} | set(conversations.values())
    threads: dict[int, ThreadState] = {}
    for row in await tx.fetchall_in(
        "SELECT * FROM threads WHERE id IN ({placeholders})", thread_ids
    ):
        threads[row["id"]] = ThreadState(
            subject_norm=row["subject_norm"],
            tracked=bool(row["tracked"]),
            tracked_reason=row["tracked_reason"],
            tracked_mailbox_id=row["tracked_mailbox_id"],
            root_message=row["root_message"],
            conversation_key=row["conversation_key"],
        )
    for row in await tx.fetchall_in(
        "SELECT thread_id, contact_id FROM thread_contacts WHERE thread_id IN ({placeholders})",
        thread_ids,
    ):
        threads[row[0]].contact_ids.add(row[1])
    for row in await tx.fetchall_in(
        """SELECT s.thread_id, s.subject_norm, s.message, coalesce(m.message_id, '')
           FROM thread_subjects s LEFT JOIN messages m ON m.id = s.message
           WHERE s.thread_id IN ({placeholders}) ORDER BY """
        + tx.dialect.insertion_order("s"),
        thread_ids,
    ):
        threads[row[0]].subjects.setdefault(row[1], (row[2], row[3]))
    messages = {
        r[0]: (r[1], r[2])
        for r in await tx.fetchall_in(
            "SELECT id, subject_norm, message_id FROM messages WHERE id IN ({placeholders})",
            [message for _, message in keys.values() if message is not None],
        )
    }
    contacts = {
        r[0]: r[1]
        for r in await tx.fetchall_in(
            "SELECT email, contact_id FROM contact_emails WHERE email IN ({placeholders})",
            emails,
        )
    }

    return Snapshot(
        existing, keys, threads, conversations, contacts, ids, messages, namesakes, member
    )


def _participants(message: PlannedMessage) -> str:
    f = message.incoming.facts
    return json.dumps(
        {
            "to": [[a.email, a.name] for a in f.to],
            "cc": [[a.email, a.name] for a in f.cc],
            "bcc": [[a.email, a.name] for a in f.bcc],
        },
        ensure_ascii=False,
    )


async def write_plan(
    tx: Transaction,
    plan: Plan,
    mailbox_id: int,
    folder_names: dict[int, str],
    visibility: str,
    owner: int,
) -> None:
    """Write a planned batch with a handful of bulk statements (no per-row round trips);
    its new messages are `owner`'s, seen as `visibility` says."""
    companies = await companies_for(tx, [address.email for _, address in plan.new_contacts])
    await tx.executemany(
        "INSERT INTO contacts (id, name, company_id, source) VALUES (?, ?, ?, ?)",
        [
            (
                contact_id,
                address.name or address.email.partition("@")[0],
                companies.get(address.email),
                plan.contact_sources.get(contact_id, "bcc_address"),
            )
            for contact_id, address in plan.new_contacts
        ],
    )
    await tx.executemany(
        "INSERT INTO contact_emails (email, contact_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
        [(address.email, contact_id) for contact_id, address in plan.new_contacts],
    )
    threads = sorted(plan.threads.items())
    await tx.executemany(
        """INSERT INTO threads (id, subject_norm, tracked, tracked_reason, tracked_mailbox_id,
               root_message, conversation_key) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET subject_norm = excluded.subject_norm,
               tracked = excluded.tracked, tracked_reason = excluded.tracked_reason,
               tracked_mailbox_id = excluded.tracked_mailbox_id""",
        [
            (
                i,
                t.subject_norm,
                int(t.tracked),
                t.tracked_reason,
                t.tracked_mailbox_id,
                t.root_message,
                t.conversation_key,
            )
            for i, t in threads
        ],
    )
    await tx.executemany(
        "INSERT INTO thread_contacts (thread_id, contact_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
        [(i, c) for i, t in threads for c in t.contact_ids],
    )
    await tx.executemany(
        """INSERT INTO messages (id, message_key, message_id, mailbox_id, folder, thread_id,
               subject, subject_norm, from_email, from_name, recipients, date, date_ts,
               direction, raw_headers, size, snippet, body_text, new_text, body_state,
               parse_error, logged, reason, visibility, owner_id)
           VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
        [_message_row(m, mailbox_id, folder_names, visibility, owner) for m in plan.messages],
    )
    await record_namesakes(tx, [(m.incoming.facts.message_key, m.id) for m in plan.messages])
    await tx.executemany(
        "INSERT INTO thread_subjects (thread_id, subject_norm, message) VALUES (?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        [(i, subject, message) for i, t in threads for subject, (message, _) in t.subjects.items()],
    )
    await tx.executemany(
        "INSERT INTO thread_keys (key, thread_id, message) VALUES (?, ?, ?) ON CONFLICT (key)"
        " DO UPDATE SET thread_id = excluded.thread_id, message = excluded.message",
        [(k, t, m) for k, (t, m) in plan.keys.items()],
    )
    for other, into in plan.merged.items():
        await _merge_thread(tx, other, into)
    await tx.executemany(
        "INSERT INTO decisions (message, logged, reason, rule, evidence) VALUES (?, ?, ?, ?, ?)",
        [
            (
                m.id,
                int(m.decision.logged),
                m.decision.reason,
                m.decision.rule,
                json.dumps(m.evidence, ensure_ascii=False),
            )
            for m in plan.messages
        ],
    )
    await tx.executemany(
        "INSERT INTO message_locations (folder_id, remote_id, message) VALUES (?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        plan.locations,
    )
    logged = plan.logged
    await tx.executemany(
        "INSERT INTO timeline_entries (contact_id, message, date_ts, reason)"
        " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [
            (c, m.id, m.incoming.facts.date_ts, m.decision.reason)
            for m in logged
            for c in m.contact_ids
        ],
    )
    activity: dict[int, str] = {}
    for m in logged:
        for c in m.contact_ids:
            activity[c] = max(activity.get(c, ""), m.incoming.facts.date_iso)
    await tx.executemany(
        "UPDATE contacts SET last_activity = "
        + tx.dialect.greatest("coalesce(last_activity, '')", "?")
        + " WHERE id = ?",
        [(date, c) for c, date in activity.items()],
    )


async def _merge_thread(tx: Transaction, other: int, into: int) -> None:
    """Move every message, key and contact of thread `other` to `into`, then drop it."""
    await tx.execute("UPDATE messages SET thread_id = ? WHERE thread_id = ?", (into, other))
    await tx.execute("UPDATE thread_keys SET thread_id = ? WHERE thread_id = ?", (into, other))
    await tx.execute(
        "INSERT INTO thread_contacts (thread_id, contact_id)"
        " SELECT ?, contact_id FROM thread_contacts WHERE thread_id = ? ON CONFLICT DO NOTHING",
        (into, other),
    )
    await tx.execute("DELETE FROM thread_contacts WHERE thread_id = ?", (other,))
    await move_subjects(tx, into, other)
    await tx.execute("DELETE FROM thread_subjects WHERE thread_id = ?", (other,))
    await tx.execute("DELETE FROM threads WHERE id = ?", (other,))


async def move_subjects(tx: Transaction, into: int, other: int) -> None:
    """Thread `other`'s tracked subjects onto `into`, where `into` has not that subject
    already (the rest go with `other`)."""
    await tx.execute(
        """UPDATE thread_subjects SET thread_id = ? WHERE thread_id = ?
           AND NOT EXISTS (SELECT 1 FROM thread_subjects o WHERE o.thread_id = ?
                           AND o.subject_norm = thread_subjects.subject_norm)""",
        (into, other, into),
    )


def _message_row(
    m: PlannedMessage,
    mailbox_id: int,
    folder_names: dict[int, str],
    visibility: str,
    owner: int,
) -> tuple[Any, ...]:
    """A message as decided from its headers; a logged one's body follows (write_bodies)."""
    f = m.incoming.facts
    return (
        m.id, f.message_key, f.message_id, mailbox_id, folder_names[m.incoming.folder_id],
        m.thread_id, f.subject, f.subject_norm, f.from_.email, f.from_.name, _participants(m),
        f.date_iso, f.date_ts, m.direction, m.incoming.raw_header, m.incoming.size,
        (m.incoming.preview or "")[:200], None, None, "headers", "; ".join(f.errors) or None,
        int(m.decision.logged), m.decision.reason, visibility, owner,
    )  # fmt: skip


async def add_to_timelines(
    tx: Transaction, message_id: int, contact_ids: Iterable[int], date_ts: float, reason: str
) -> list[int]:
    """Timeline entries for a logged message; returns the contacts newly given one."""
    added = []
    for contact_id in contact_ids:
        exists = await tx.fetchval(
            "SELECT 1 FROM timeline_entries WHERE contact_id = ? AND message = ?",
            (contact_id, message_id),
        )
        if exists:
            continue
        await tx.execute(
            "INSERT INTO timeline_entries (contact_id, message, date_ts, reason)"
            " VALUES (?, ?, ?, ?)",
            (contact_id, message_id, date_ts, reason),
        )
        await tx.execute(
            "UPDATE contacts SET last_activity = "
            + tx.dialect.greatest(
                "coalesce(last_activity, '')", "(SELECT date FROM messages WHERE id = ?)"
            )
            + " WHERE id = ?",
            (message_id, contact_id),
        )
        added.append(contact_id)
    return added


async def write_labels(tx: Transaction, items: list[tuple[int, str, tuple[str, ...]]]) -> None:
    """The labels (Gmail) of (folder id, remote id) locations just written."""
    await tx.executemany(
        "UPDATE message_locations SET labels = ? WHERE folder_id = ? AND remote_id = ?",
        [
            (json.dumps(list(labels), ensure_ascii=False), folder_id, remote_id)
            for folder_id, remote_id, labels in items
        ],
    )


async def save_cursor(tx: Transaction, folder_id: int, cursor: dict[str, Any]) -> None:
    await tx.execute("UPDATE folders SET cursor = ? WHERE id = ?", (json.dumps(cursor), folder_id))
