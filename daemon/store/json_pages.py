"""Pages the database builds as JSON: each entry of a timeline page or a messages
list page comes out of the database as its JSON, which the daemon puts into its
answer as it is (`msgspec.Raw`): the wire format of `TimelineEntry` and
`MessageSummary` exactly.

Built in Python, each row of a page became Python values, then protocol structs,
then JSON, all under the interpreter lock: with 4 connections on 2 cores the
daemon's one lock was the bottleneck and a timeline page's throughput did not grow.
SQLite builds the JSON while it steps, with the lock released (PostgreSQL in its
own process). One statement per page: the page's rows (`LIMIT :limit`, one more
than the page, to know whether another follows), each row one entry's JSON (as
bytes on SQLite) with the cursor's columns; the daemon joins the page's entries
into an array (a few microseconds). Not one aggregated row: numbering the rows to
leave the extra one out (a window) doubled SQLite's time for a page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from loggbok.daemon.store.db import Database, Dialect


@dataclass(frozen=True)
class JsonPage:
    items: msgspec.Raw
    """The page's entries, a JSON array."""
    count: int
    """How many entries it holds."""
    next: str | None
    """The cursor of the page after it (None: the last page)."""


def timeline_entry(d: Dialect) -> str:
    """A `TimelineEntry` as JSON from the columns of `q` (`timeline.py`'s page rows)."""
    attachment = d.json_object(
        "'index', a.idx, 'filename', a.filename, 'content_type', a.content_type,"
        " 'size', a.size, 'status', a.status, 'sha256', a.sha256"
    )
    attachments = d.json_list(attachment, "FROM attachments a WHERE a.message = q.id", "a.idx")
    return d.json_object(
        f"""'id', q.id, 'entry_id', q.entry_id, 'contact_id', q.contact_id,
        'message_id', q.message_id, 'subject', q.subject,
        'from', {d.json_object("'email', q.from_email, 'name', q.from_name")},
        'to', {d.json_pairs("q.recipients", "to")}, 'cc', {d.json_pairs("q.recipients", "cc")},
        'date', q.date, 'snippet', q.snippet, 'direction', q.direction,
        'attachments', {attachments},
        'reason', q.entry_reason, 'thread_id', q.thread_id,
        'new_text', coalesce(q.new_text, '')"""
    )


def message_summary(d: Dialect) -> str:
    """A `MessageSummary` as JSON from the columns of `q` (a list's page rows): its
    `mailbox_id` only when that mailbox is `:viewer`'s (`records.own_mailboxes`), its
    contacts in the order their entries were made (`MessageQueries.contact_ids`)."""
    contacts = d.json_list("t.contact_id", "FROM timeline_entries t WHERE t.message = q.id", "t.id")
    own = "EXISTS (SELECT 1 FROM mailboxes ob WHERE ob.id = q.mailbox_id AND ob.user_id = :viewer)"
    return d.json_object(
        f"""'id', q.id, 'message_id', q.message_id, 'subject', q.subject,
        'from', {d.json_object("'email', q.from_email, 'name', q.from_name")},
        'to', {d.json_pairs("q.recipients", "to")},
        'date', q.date, 'direction', q.direction, 'snippet', q.snippet,
        'logged', {d.json_bool("q.logged")}, 'reason', q.reason,
        'mailbox_id', CASE WHEN {own} THEN q.mailbox_id END,
        'contact_ids', {contacts}"""
    )


async def json_page(
    db: Database,
    rows: str,
    params: dict[str, object],
    page: int,
    entry: str,
    ts: str,
    id: str,
) -> JsonPage:
    """The page of `entry` (JSON from the columns of `q`) over `rows`, a statement
    giving at most `page + 1` rows newest first by its columns `ts`, `id` (the cursor's)."""
    found = await db.fetchall(
        f"SELECT {db.dialect.json_text(entry)}, q.{ts}, q.{id} FROM ({rows}) q"
        f" ORDER BY q.{ts} DESC, q.{id} DESC",
        params,
    )
    items: list[Any] = [r[0] for r in found[:page]]
    if items and not isinstance(items[0], bytes):
        items = [text.encode() for text in items]
    last = found[page - 1] if len(found) > page else None
    return JsonPage(
        items=msgspec.Raw(b"[" + b",".join(items) + b"]"),
        count=len(items),
        next=f"{last[1]!r}:{last[2]}" if last else None,
    )
