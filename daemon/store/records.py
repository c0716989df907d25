"""Row -> protocol record conversions shared by the message and timeline queries.

These run for every row of every page, on the event loop and under the GIL: a
timeline page's 50 entries took 0.27 ms of Python here, more than SQLite took
to find them. The stored recipients (`{"to": [[email, name], ...], "cc": ...}`)
are decoded by msgspec into pairs in one C step (`_RECIPIENTS`), once per row,
and a page's columns are taken by position (`picker`), not looked up by name.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from loggbok.daemon.store.db import Database, Dialect, Row
from loggbok.protocol.types import Attachment, MessageSummary, Participant, TimelineEntry

MESSAGE_COLUMNS = """m.id, m.message_id, m.mailbox_id, m.folder, m.thread_id, m.subject,
    m.from_email, m.from_name, m.recipients, m.date, m.date_ts, m.direction, m.snippet,
    m.logged, m.reason, m.visibility, m.new_text"""

VISIBLE = """(m.owner_id = :viewer
    OR (m.logged = 1 AND (m.visibility = 'everyone' OR (m.visibility = 'team'
        AND m.owner_id IN (SELECT o.id FROM users o JOIN users v ON v.team_id = o.team_id
                           WHERE v.id = :viewer))))
    OR EXISTS (SELECT 1 FROM message_locations vl JOIN folders vf ON vf.id = vl.folder_id
               JOIN mailboxes vb ON vb.id = vf.mailbox_id
               WHERE vl.message = m.id AND vb.user_id = :viewer))"""
"""Which messages (`m`) the user `:viewer` may see, the one rule every query that reads
messages applies (timeline, lists, search, get/headers/explain, attachments, export,
notifications): their own; logged email whose visibility lets them (`everyone`, or
`team` when they share the owner's team); and any message that is in a mailbox of
theirs (they hold it anyway). Unlogged mail is seen only by its owner and the
members whose mailboxes hold it."""


def older_than(date: str, id: str) -> str:
    """Keyset paging, newest first: rows older than the cursor (`:ts`, then `:bid` for
    ties). A row value, so both databases read it as one range of an index on
    `(..., date, id)` (spelled out with OR, PostgreSQL reads the range's whole prefix
    and filters: a timeline's page 200 read 10,000 entries for 50)."""
    return f"({date}, {id}) < (:ts, :bid)"


class Recipients(msgspec.Struct):
    """The stored `recipients` column (other keys, `bcc`, are ignored)."""

    to: list[tuple[Any, Any]] = []
    cc: list[tuple[Any, Any]] = []


_RECIPIENTS = msgspec.json.Decoder(Recipients)


def recipients(recipients_json: str | None) -> Recipients:
    return _RECIPIENTS.decode(recipients_json or "{}")


def to_and_cc(recipients_json: str | None) -> tuple[list[Participant], list[Participant]]:
    """The To and Cc recipients of a stored `recipients` column (decoded once)."""
    stored = recipients(recipients_json)
    return of_kind(stored, "to"), of_kind(stored, "cc")


def of_kind(stored: Recipients, kind: str) -> list[Participant]:
    """The `to` or `cc` recipients of a decoded `recipients` column."""
    return [Participant(email=e, name=n) for e, n in (stored.to if kind == "to" else stored.cc)]


def sender(row: Row) -> Participant:
    return Participant(email=row["from_email"], name=row["from_name"])


def attachment(row: Row) -> Attachment:
    return Attachment(
        index=row["idx"],
        filename=row["filename"],
        content_type=row["content_type"],
        size=row["size"],
        status=row["status"],
        sha256=row["sha256"],
    )


async def own_mailboxes(db: Database, rows: list[Row], viewer: int) -> set[int]:
    """The mailboxes of `rows` (`mailbox_id`, where each message was stored from) that
    are `viewer`'s own: a summary names only those (`summary`), as `messages.get` does;
    a colleague's mailbox is theirs to name."""
    ids = sorted({int(r["mailbox_id"]) for r in rows if r["mailbox_id"] is not None})
    if not ids:
        return set()
    marks = ", ".join("?" * len(ids))
    found = await db.fetchall(
        f"SELECT id FROM mailboxes WHERE id IN ({marks}) AND user_id = ?", [*ids, viewer]
    )
    return {int(r[0]) for r in found}


def summary_extras(dialect: Dialect) -> str:
    """Columns that let a statement over messages (`m`) give whole summaries with no
    statement after it: `contact_ids_joined` (its contacts in the order their entries
    were made, `Dialect.joined`) and `own_mailbox` (1 when the mailbox it was stored
    from is `:viewer`'s, `own_mailboxes`). Read back by `summaries_of_rows`."""
    return f""", (SELECT {dialect.joined("CAST(x.contact_id AS TEXT)")} FROM
        (SELECT contact_id FROM timeline_entries t WHERE t.message = m.id ORDER BY t.id) x)
        AS contact_ids_joined,
    CASE WHEN EXISTS (SELECT 1 FROM mailboxes ob WHERE ob.id = m.mailbox_id
        AND ob.user_id = :viewer) THEN 1 ELSE 0 END AS own_mailbox"""


def summaries_of_rows(rows: Sequence[Row]) -> list[MessageSummary]:
    """`summaries` of rows that carry `summary_extras`."""
    if not rows:
        return []
    extras = picker(rows, ("id", "contact_ids_joined", "own_mailbox", "mailbox_id"))
    contacts: dict[Any, list[int]] = {}
    own: set[int] = set()
    for row in rows:
        id_, joined, is_own, mailbox_id = extras(row)
        contacts[id_] = [int(c) for c in joined.split("\x1f")] if joined else []
        if is_own and mailbox_id is not None:
            own.add(int(mailbox_id))
    return summaries(rows, contacts.__getitem__, own)


SUMMARY_COLUMNS = ("id", "message_id", "subject", "from_email", "from_name", "recipients",
                   "date", "direction", "snippet", "logged", "reason", "mailbox_id")  # fmt: skip
"""What a `MessageSummary` is built from (`summaries`)."""


def summaries(
    rows: Sequence[Row], contact_ids: Callable[[Any], list[int]], own: set[int]
) -> list[MessageSummary]:
    """Messages as lists show them (`contact_ids(id)` each); `mailbox_id` only when it
    is in `own` (`own_mailboxes`). Columns by position (`picker`)."""
    if not rows:
        return []
    values = picker(rows, SUMMARY_COLUMNS)
    built: list[MessageSummary] = []
    for row in rows:
        (id_, message_id, subject, from_email, from_name, stored_json, date, direction,
         snippet, logged, reason, mailbox_id) = values(row)  # fmt: skip
        built.append(
            MessageSummary(
                id=id_,
                message_id=message_id,
                subject=subject,
                from_=Participant(email=from_email, name=from_name),
                to=of_kind(recipients(stored_json), "to"),
                date=date,
                direction=direction,
                snippet=snippet,
                logged=bool(logged),
                reason=reason,
                mailbox_id=mailbox_id if mailbox_id in own else None,
                contact_ids=contact_ids(id_),
            )
        )
    return built


def picker(rows: Sequence[Row], names: tuple[str, ...]) -> Callable[[Row], tuple[Any, ...]]:
    """A function giving the values of `names` of each row of one result (`rows`, at
    least one), by position: the positions are found once per result, where a name
    looked up in a sqlite3.Row is compared with every column before it on every row
    (two thirds of the time a timeline page took to build). The first column of a
    name wins, as it does by name."""
    first: dict[str, int] = {}
    for i, name in enumerate(rows[0].keys()):
        first.setdefault(name, i)
    return operator.itemgetter(*(first[name] for name in names))


TIMELINE_ENTRY_COLUMNS = ("id", "entry_id", "contact_id", "message_id", "subject",
                          "from_email", "from_name", "recipients", "date", "snippet",
                          "direction", "entry_reason", "thread_id", "new_text",
                          "attachments")  # fmt: skip
"""What `timeline_entry` takes, in its order (see `picker`)."""


_ATTACHMENT_ROWS = msgspec.json.Decoder(list[tuple[Any, Any, Any, Any, Any, Any]])


def attachments_json(text: str | None) -> list[Attachment]:
    """Attachments from a JSON column of `[idx, filename, content_type, size, status,
    sha256]` rows (`Dialect.json_rows`)."""
    if not text or text == "[]":  # most entries: no attachment, nothing to decode
        return []
    return [
        Attachment(
            index=idx, filename=name, content_type=kind, size=size, status=status, sha256=sha256
        )
        for idx, name, kind, size, status, sha256 in _ATTACHMENT_ROWS.decode(text)
    ]


def timeline_entry(values: tuple[Any, ...]) -> TimelineEntry:
    """An entry from the `TIMELINE_ENTRY_COLUMNS` of its row."""
    (id_, entry_id, contact_id, message_id, subject, from_email, from_name, stored_json, date,
     snippet, direction, reason, thread_id, new_text, attachments) = values  # fmt: skip
    stored = recipients(stored_json)
    return TimelineEntry(
        id=id_,
        entry_id=entry_id,
        contact_id=contact_id,
        message_id=message_id,
        subject=subject,
        from_=Participant(email=from_email, name=from_name),
        to=of_kind(stored, "to"),
        cc=of_kind(stored, "cc"),
        date=date,
        snippet=snippet,
        direction=direction,
        attachments=attachments_json(attachments),
        reason=reason,
        thread_id=thread_id,
        new_text=new_text or "",
    )
