"""Timeline pages: a contact's logged messages, newest first, keyset-paged.

The `before` cursor is "<date_ts>:<entry id>" of the last entry of the
previous page, so a page costs one index range scan however deep it is. A page
is one statement whose rows are its entries as JSON (`json_pages`): each entry's
attachments come with it (one lookup in the attachments' primary key per entry),
not from a second query. Notifications' entries (`entries_of`) are built in
Python from rows (`records.timeline_entry`), and so are PostgreSQL's pages
(`Dialect.json_timeline`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import msgspec

from loggbok.daemon.store.db import Database, Dialect, Row
from loggbok.daemon.store.errors import Invalid, NotFound
from loggbok.daemon.store.json_pages import JsonPage, json_page
from loggbok.daemon.store.json_pages import timeline_entry as timeline_entry_json
from loggbok.daemon.store.records import (
    MESSAGE_COLUMNS,
    TIMELINE_ENTRY_COLUMNS,
    VISIBLE,
    older_than,
    picker,
    timeline_entry,
)
from loggbok.protocol.types import Timeline, TimelineEntry

_ENTRIES = msgspec.json.Decoder(list[TimelineEntry])
_ENCODER = msgspec.json.Encoder()
_ATTACHMENT_COLUMNS = "a.idx, a.filename, a.content_type, a.size, a.status, a.sha256"


def _select(dialect: Dialect) -> str:
    attachments = f"""(SELECT {dialect.json_rows(_ATTACHMENT_COLUMNS, "a.idx")} FROM
        (SELECT * FROM attachments a WHERE a.message = m.id ORDER BY a.idx) a) AS attachments"""
    return f"""SELECT {MESSAGE_COLUMNS}, e.id AS entry_id, e.contact_id,
    e.reason AS entry_reason, e.date_ts AS entry_ts, {attachments}
    FROM timeline_entries e JOIN messages m ON m.id = e.message"""


def _entries(rows: Sequence[Row]) -> list[TimelineEntry]:
    if not rows:
        return []
    values = picker(rows, TIMELINE_ENTRY_COLUMNS)
    return [timeline_entry(values(r)) for r in rows]


class TimelineQueries:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def page_json(
        self, contact_id: int, limit: int, before: str | None, viewer: int
    ) -> JsonPage:
        """A page of the contact's timeline as `viewer` may see it, newest first, its
        entries as JSON: built by the database (`json_pages`) where the dialect says
        so (`Dialect.json_timeline`), else from rows in Python and encoded."""
        limit = max(1, min(limit, 500))
        params: dict[str, object] = {"contact": contact_id, "viewer": viewer, "limit": limit + 1}
        keyset = ""
        if before:
            try:
                ts_text, _, id_text = before.partition(":")
                params["ts"], params["bid"] = float(ts_text), int(id_text)
            except ValueError:
                raise Invalid(
                    "Invalid params",
                    "before: not a cursor from timeline.get",
                ) from None
            keyset = " AND " + older_than("e.date_ts", "e.id")
        dialect = self._db.dialect
        if not dialect.json_timeline:
            found = await self._db.fetchall(
                f"{_select(dialect)} WHERE e.contact_id = :contact AND {VISIBLE}{keyset}"
                " ORDER BY e.date_ts DESC, e.id DESC LIMIT :limit",
                params,
            )
            entries = _entries(found[:limit])
            last = found[limit - 1] if len(found) > limit else None
            return JsonPage(
                items=msgspec.Raw(_ENCODER.encode(entries)),
                count=len(entries),
                next=f"{last['entry_ts']!r}:{last['entry_id']}" if last else None,
            )
        rows = (
            f"SELECT {MESSAGE_COLUMNS}, e.id AS entry_id, e.contact_id,"
            " e.reason AS entry_reason, e.date_ts AS entry_ts"
            " FROM timeline_entries e JOIN messages m ON m.id = e.message"
            f" WHERE e.contact_id = :contact AND {VISIBLE}{keyset}"
            " ORDER BY e.date_ts DESC, e.id DESC LIMIT :limit"
        )
        return await json_page(
            self._db, rows, params, limit, timeline_entry_json(dialect), "entry_ts", "entry_id"
        )

    async def page(self, contact_id: int, limit: int, before: str | None, viewer: int) -> Timeline:
        """`page_json` as a `Timeline` (the answer `timeline.get` sends is the JSON)."""
        page = await self.page_json(contact_id, limit, before, viewer)
        return Timeline(entries=_ENTRIES.decode(page.items), next=page.next)

    async def entries_of(self, message_ids: list[int], viewer: int) -> list[TimelineEntry]:
        """Every timeline entry of the given messages that `viewer` may see (for
        notifications: a daemon never tells its member of entries hidden from them)."""
        entries: list[TimelineEntry] = []
        for start in range(0, len(message_ids), 500):
            chunk = message_ids[start : start + 500]
            named = {f"m{i}": message for i, message in enumerate(chunk)}
            rows = await self._db.fetchall(
                f"{_select(self._db.dialect)} WHERE e.message IN"
                f" ({','.join(':' + k for k in named)}) AND {VISIBLE} ORDER BY e.date_ts, e.id",
                {**named, "viewer": viewer},
            )
            entries += _entries(rows)
        return entries

    async def contacts_of(self, message_ids: list[int], viewer: int) -> dict[int, int]:
        """contact id -> how many timeline entries the given messages that `viewer` may
        see have there."""
        counts: dict[int, int] = {}
        for start in range(0, len(message_ids), 500):
            chunk = message_ids[start : start + 500]
            named = {f"m{i}": message for i, message in enumerate(chunk)}
            for row in await self._db.fetchall(
                "SELECT e.contact_id, count(*) FROM timeline_entries e"
                " JOIN messages m ON m.id = e.message"
                f" WHERE e.message IN ({','.join(':' + k for k in named)}) AND {VISIBLE}"
                " GROUP BY e.contact_id",
                {**named, "viewer": viewer},
            ):
                counts[row[0]] = counts.get(row[0], 0) + row[1]
        return counts

    async def publish(self, message_ids: list[int]) -> None:
        """Tell other daemons on this database these messages got entries (`db.publish`)."""
        await self._db.publish(message_ids)

    def published(self) -> AsyncIterator[list[int]]:
        """Messages other daemons on this database gave entries (`db.published`)."""
        return self._db.published()

    async def entries_for(
        self, message_id: int, contact_ids: list[int], viewer: int
    ) -> list[TimelineEntry]:
        """The entries of one message on the given contacts' timelines."""
        return [
            e for e in await self.entries_of([message_id], viewer) if e.contact_id in contact_ids
        ]


async def require_contact(db: Database, contact_id: int) -> None:
    if await db.fetchone("SELECT 1 FROM contacts WHERE id = ?", (contact_id,)) is None:
        raise NotFound("No such contact", {"id": contact_id})
