"""Logged mail in and out of the store, whole: export pages and imported batches.

Export pages are keyset-paged on (date_ts, id), oldest first, with each
message's timeline entries, attachments and the contacts they name; the raw
bytes are the handler's business (they live in the mailbox, not here).

An imported batch is written in one transaction. Contacts are matched by any of
their addresses, else created (source `import`). A message already stored (the
same email, told as a sync round tells it: its Message-ID, and its fingerprint
when the stored one is another member's, `foreign_copies.py`) only gains the
entries it lacks; a new one is stored as exported (subject, participants, date,
direction, reason, visibility, text), the importer's, under a key of its own
when its Message-ID is another member's different message, threaded with what
it references (`thread_keys`, as a sync threads; `rules/namesakes.py` for a
Message-ID several messages share), with a decision whose rule is `import`.
Imported threads are not tracked: the rules track threads from what they see in
a mailbox.

A stored message the importer may not see is answered as if it were not stored:
created, with its entries, the first time; existing the next (`hidden_imports`
notes the first). It stays as it was, its owner's (an admin's import logs it),
and the importer is given no sight of it: an archive's headers prove nothing of
the body (docs/team.md).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from loggbok.daemon.contacts_import import normalise_email as addr_spec
from loggbok.daemon.mime.facts import HeaderFacts
from loggbok.daemon.mime.sender_only import without_sender_only
from loggbok.daemon.rules.namesakes import own_key, ranked
from loggbok.daemon.store.bodies import StoredBody, write_bodies
from loggbok.daemon.store.contacts import insert_contact, owners_in
from loggbok.daemon.store.db import Database, Row, Transaction
from loggbok.daemon.store.errors import Invalid
from loggbok.daemon.store.foreign_copies import (
    fingerprint,
    load_namesakes,
    record_namesakes,
    stored_fingerprint,
)
from loggbok.daemon.store.plans import add_to_timelines
from loggbok.daemon.store.records import MESSAGE_COLUMNS, VISIBLE, attachment, sender, to_and_cc
from loggbok.protocol import types as t


@dataclass(frozen=True)
class ImportItem:
    """One message to import: as exported, with its headers' facts and its body."""

    message: t.ArchiveMessage
    key: str
    raw_headers: bytes
    facts: HeaderFacts | None
    body: StoredBody


def _cursor(after: str | None) -> tuple[float, int] | None:
    if not after:
        return None
    try:
        ts, _, last = after.partition(":")
        return float(ts), int(last)
    except ValueError:
        raise Invalid("Invalid params", "after: not a cursor from archive.export") from None


class ArchiveQueries:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def page(
        self,
        contact_id: int | None,
        since_ts: float | None,
        after: str | None,
        limit: int,
        viewer: int,
    ) -> tuple[list[t.ArchiveMessage], list[t.ArchiveContact], str | None, dict[int, bytes]]:
        """Messages, the contacts they name, the next cursor, and each message's header
        block as `viewer` may read it (for a rebuild: a `Bcc:` line only for the message's
        owner, `mime/sender_only.py`)."""
        params: dict[str, object] = {"viewer": viewer, "limit": limit + 1}
        where = [VISIBLE]
        on_contact = ""
        if contact_id is not None:
            on_contact = " AND e.contact_id = :contact"
            params["contact"] = contact_id
        where.append(
            f"EXISTS (SELECT 1 FROM timeline_entries e WHERE e.message = m.id{on_contact})"
        )
        if since_ts is not None:
            where.append("m.date_ts >= :since")
            params["since"] = since_ts
        cursor = _cursor(after)
        if cursor is not None:
            params["ts"], params["last"] = cursor
            where.append("(m.date_ts > :ts OR (m.date_ts = :ts AND m.id > :last))")
        rows = await self._db.fetchall(
            f"""SELECT {MESSAGE_COLUMNS}, m.date_ts, m.body_text, m.raw_headers, m.owner_id
                FROM messages m WHERE {" AND ".join(where)}
                ORDER BY m.date_ts, m.id LIMIT :limit""",
            params,
        )
        more = len(rows) > limit
        rows = rows[:limit]
        ids = [r["id"] for r in rows]
        entries: dict[int, list[t.ArchiveEntry]] = {}
        files: dict[int, list[t.Attachment]] = {}
        if ids:
            marks = ",".join("?" * len(ids))
            for e in await self._db.fetchall(
                "SELECT message, contact_id, reason FROM timeline_entries"
                f" WHERE message IN ({marks}) ORDER BY message, contact_id",
                ids,
            ):
                entries.setdefault(e["message"], []).append(
                    t.ArchiveEntry(contact_id=e["contact_id"], reason=e["reason"])
                )
            for a in await self._db.fetchall(
                f"SELECT * FROM attachments WHERE message IN ({marks}) ORDER BY message, idx", ids
            ):
                files.setdefault(a["message"], []).append(attachment(a))
        messages = [
            t.ArchiveMessage(
                id=r["id"],
                message_id=r["message_id"],
                subject=r["subject"],
                from_=sender(r),
                to=to,
                cc=cc,
                date=r["date"],
                date_ts=r["date_ts"],
                direction=r["direction"],
                reason=r["reason"],
                visibility=r["visibility"],
                snippet=r["snippet"],
                body_text=r["body_text"] or "",
                new_text=r["new_text"] or "",
                attachments=files.get(r["id"], []),
                entries=entries.get(r["id"], []),
                thread_id=r["thread_id"],
            )
            for r, (to, cc) in zip(rows, (to_and_cc(r["recipients"]) for r in rows), strict=True)
        ]
        wanted = sorted({e.contact_id for m in messages for e in m.entries})
        last = rows[-1] if more and rows else None
        next_cursor = f"{last['date_ts']!r}:{last['id']}" if last is not None else None
        headers = {
            r["id"]: bytes(r["raw_headers"])
            if r["owner_id"] == viewer
            else without_sender_only(bytes(r["raw_headers"]))
            for r in rows
        }
        return messages, await self._contacts(wanted), next_cursor, headers

    async def _contacts(self, ids: Sequence[int]) -> list[t.ArchiveContact]:
        if not ids:
            return []
        rows = await self._db.fetchall(
            f"""SELECT c.id, c.name, co.name AS company,
                   (SELECT {self._db.dialect.joined("email")} FROM (SELECT email
                    FROM contact_emails x WHERE x.contact_id = c.id ORDER BY position, email) y)
                   AS emails
                FROM contacts c LEFT JOIN companies co ON co.id = c.company_id
                WHERE c.id IN ({",".join("?" * len(ids))}) ORDER BY c.id""",
            list(ids),
        )
        return [
            t.ArchiveContact(
                id=r["id"],
                name=r["name"],
                emails=r["emails"].split("\x1f") if r["emails"] else [],
                company=r["company"],
            )
            for r in rows
        ]

    async def import_batch(
        self,
        contacts: Sequence[t.ArchiveContact],
        items: Sequence[ImportItem],
        owner: int = 1,
        *,
        admin: bool = True,
    ) -> t.ArchiveImportResult:
        """Messages not stored yet are written as `owner`'s (the member importing). A
        stored message of another member is left as it is (not logged, no entries)
        unless the importer is an `admin`: only its owner or an admin changes it."""
        created = matched = new_messages = existing = new_entries = 0
        async with self._db.transaction() as tx:
            mapping: dict[int, int] = {}
            for contact in contacts:
                emails = list(dict.fromkeys(a for a in map(addr_spec, contact.emails) if a))
                if not emails:
                    continue
                owners = await owners_in(tx, emails)
                if owners:
                    mapping[contact.id] = next(iter(owners.values()))
                    matched += 1
                else:
                    mapping[contact.id] = await insert_contact(tx, contact.name, emails, "import")
                    created += 1
            for item in items:
                unknown = [
                    e.contact_id for e in item.message.entries if e.contact_id not in mapping
                ]
                if unknown:
                    raise Invalid(
                        "Invalid params",
                        f"message {item.message.message_id}: entries name contacts {unknown}"
                        " that are not in contacts",
                    )
                contact_ids = {mapping[e.contact_id] for e in item.message.entries}
                key, found = await _same_email(tx, item, owner)
                hidden = False
                if found is None:
                    stored = await _insert(tx, item, key, owner)
                    new_messages += 1
                else:
                    stored = int(found["id"])
                    # Hidden from the importer: answered as an absent message's import
                    # would be, the first time (created, its entries), then as again.
                    hidden = await _first_hidden_import(tx, stored, owner)
                    if hidden:
                        new_messages += 1
                        new_entries += len(contact_ids)
                    else:
                        existing += 1
                    if found["owner_id"] != owner and not admin:
                        continue  # another member's: theirs to log
                    await tx.execute(
                        "UPDATE messages SET logged = 1, reason = ? WHERE id = ? AND logged = 0",
                        (item.message.reason, stored),
                    )
                for entry in item.message.entries:
                    added = await add_to_timelines(
                        tx, stored, [mapping[entry.contact_id]], item.message.date_ts, entry.reason
                    )
                    new_entries += 0 if hidden else len(added)
        return t.ArchiveImportResult(
            contacts_created=created,
            contacts_matched=matched,
            messages_created=new_messages,
            messages_existing=existing,
            entries_created=new_entries,
        )


async def _same_email(tx: Transaction, item: ImportItem, owner: int) -> tuple[str, Row | None]:
    """The key the message is stored under, and the stored message that is the same
    email, if any: as a sync round tells them (`foreign_copies.py`), the message under
    its Message-ID when it is the importer's or has the same fingerprint, else the one
    with the key of its own that fingerprint gives."""
    m = item.message
    print_ = fingerprint(
        m.from_.email, m.date_ts, m.subject, (p.email for p in m.to), (p.email for p in m.cc)
    )
    own = own_key(item.key, print_)
    rows = {
        str(r["message_key"]): r
        for r in await tx.fetchall(
            "SELECT id, message_key, owner_id, from_email, subject, date_ts, recipients"
            " FROM messages WHERE message_key IN (?, ?)",
            (item.key, own),
        )
    }
    plain = rows.get(item.key)
    if plain is None:
        return item.key, None
    if plain["owner_id"] == owner or stored_fingerprint(plain) == print_:
        return item.key, plain
    return own, rows.get(own)


async def _first_hidden_import(tx: Transaction, message: int, member: int) -> bool:
    """True when `member` may not see the stored `message` and imports it for the first
    time (noted in `hidden_imports`: the next import answers as a second one does)."""
    seen = await tx.fetchone(
        f"SELECT 1 FROM messages m WHERE m.id = :id AND {VISIBLE}",
        {"id": message, "viewer": member},
    )
    if seen is not None:
        return False
    noted = await tx.fetchval(
        "INSERT INTO hidden_imports (message, member) VALUES (?, ?) ON CONFLICT DO NOTHING"
        " RETURNING message",
        (message, member),
    )
    return noted is not None


async def _thread_for(tx: Transaction, item: ImportItem, key: str, owner: int) -> int:
    """The thread of a stored message this one references, else a new one; its keys
    are recorded so later messages (imported or synced) find it. A Message-ID several
    messages share stands for the one `namesakes.ranked` puts first (the importer's)."""
    facts = item.facts
    parents = (*facts.in_reply_to, *reversed(facts.references)) if facts else ()
    namesakes = await load_namesakes(tx, parents)
    candidates = [
        found
        for named in parents
        for found in (ranked(named, facts, namesakes, None, owner) if facts else [named])
    ]
    thread = None
    for candidate in (key, *candidates):
        thread = await tx.fetchval("SELECT thread_id FROM thread_keys WHERE key = ?", (candidate,))
        if thread is not None:
            break
    if thread is None:
        subject_norm = facts.subject_norm if facts else ""
        thread = await tx.fetchval(
            "INSERT INTO threads (subject_norm) VALUES (?) RETURNING id", (subject_norm,)
        )
    await tx.executemany(
        "INSERT INTO thread_keys (key, thread_id, message) VALUES (?, ?, NULL)"
        " ON CONFLICT DO NOTHING",
        [(k, thread) for k in parents],
    )
    return int(thread)


async def _insert(tx: Transaction, item: ImportItem, key: str, owner: int) -> int:
    m = item.message
    thread = await _thread_for(tx, item, key, owner)
    recipients = json.dumps(
        {"to": [[p.email, p.name] for p in m.to], "cc": [[p.email, p.name] for p in m.cc]},
        ensure_ascii=False,
    )
    message = await tx.fetchval(
        """INSERT INTO messages (message_key, message_id, thread_id, subject, subject_norm,
               from_email, from_name, recipients, date, date_ts, direction, raw_headers, size,
               snippet, body_state, logged, reason, visibility, owner_id)
           VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,'headers',1,?,?,?) RETURNING id""",
        (
            key, m.message_id, thread, m.subject,
            item.facts.subject_norm if item.facts else "", m.from_.email, m.from_.name,
            recipients, m.date, m.date_ts, m.direction, item.raw_headers,
            len(item.raw_headers), m.snippet, m.reason, m.visibility, owner,
        ),
    )  # fmt: skip
    await tx.execute(
        "INSERT INTO thread_keys (key, thread_id, message) VALUES (?, ?, ?) ON CONFLICT (key)"
        " DO UPDATE SET thread_id = excluded.thread_id, message = excluded.message",
        (key, thread, message),
    )
    await record_namesakes(tx, [(key, int(message))])
    await tx.execute(
        "INSERT INTO decisions (message, logged, reason, rule, evidence) VALUES (?, 1, ?, ?, ?)",
        (
            message,
            m.reason,
            "import",
            json.dumps({"rule": "import", "thread_id": thread, "details": {"source": "archive"}}),
        ),
    )
    await write_bodies(tx, {message: item.body}, index=True)
    return int(message)
