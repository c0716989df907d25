"""Conversations of a team mailbox (R15): its threads, read back for `conversations.*`.

A conversation is a thread (`threads`, grouped by the thread machinery:
conversation key, In-Reply-To, References) that holds a message of a team
mailbox; its id is the thread's. A mailbox's conversations are listed by the
newest of its own messages in each (an inbound email or the team's reply),
keyset-paged by "<date_ts>:<thread id>"; the other figures (messages, subject,
newest sender, contacts) count the whole thread as the caller may see it. Every
query applies the visibility rule (`records.VISIBLE`); a page is a fixed number
of statements, however many conversations it holds.
"""

from __future__ import annotations

from loggbok.daemon.store.db import Database, Row
from loggbok.daemon.store.errors import Invalid, NotFound
from loggbok.daemon.store.records import (
    MESSAGE_COLUMNS,
    VISIBLE,
    own_mailboxes,
    sender,
    summaries,
)
from loggbok.protocol.types import Conversation, ConversationDetail, ConversationList

_OF_MAILBOX = """(m.mailbox_id = :mailbox OR EXISTS (SELECT 1 FROM message_locations l
    JOIN folders f ON f.id = l.folder_id WHERE l.message = m.id AND f.mailbox_id = :mailbox))"""
"""A message of the team mailbox `:mailbox`: stored from it, or found in it later (a
message that reached a member's own mailbox first, R15: `team_copies.py`)."""


def _in(name: str, values: list[int]) -> tuple[str, dict[str, object]]:
    """An `IN (...)` of named parameters `name0, name1, ...` and their values."""
    keys = [f"{name}{i}" for i in range(len(values))]
    return ", ".join(f":{k}" for k in keys), dict(zip(keys, values, strict=True))


class ConversationQueries:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def _team_mailbox(self, mailbox_id: int, viewer: int) -> None:
        """A mailbox `viewer` may list the conversations of: a team mailbox holding a
        message they may see, or one of their own (Invalid when not a team mailbox).
        Another member's mailbox is "No such mailbox", as one that does not exist:
        nothing tells them apart."""
        row = await self._db.fetchone(
            f"""SELECT b.kind FROM mailboxes b WHERE b.id = :mailbox AND b.removed = 0
                AND (b.user_id = :viewer OR (b.kind = 'team' AND (EXISTS (
                    SELECT 1 FROM messages m WHERE m.mailbox_id = b.id AND {VISIBLE})
                OR EXISTS (SELECT 1 FROM folders f JOIN message_locations l
                    ON l.folder_id = f.id JOIN messages m ON m.id = l.message
                    WHERE f.mailbox_id = b.id AND {VISIBLE}))))""",
            {"mailbox": mailbox_id, "viewer": viewer},
        )
        if row is None:
            raise NotFound("No such mailbox", {"id": mailbox_id})
        if row["kind"] != "team":
            raise Invalid(
                "Invalid params",
                f"mailbox {mailbox_id} is not a team mailbox (mailboxes.update kind: team)",
            )

    async def page(
        self, mailbox_id: int, limit: int, before: str | None, viewer: int
    ) -> ConversationList:
        await self._team_mailbox(mailbox_id, viewer)
        params: dict[str, object] = {"mailbox": mailbox_id, "viewer": viewer, "limit": limit + 1}
        having = ""
        if before:
            ts_text, _, id_text = before.partition(":")
            try:
                params["ts"], params["tid"] = float(ts_text), int(id_text)
            except ValueError:
                raise Invalid(
                    "Invalid params", "before: not a cursor from conversations.list"
                ) from None
            having = " HAVING max(m.date_ts) < :ts OR (max(m.date_ts) = :ts AND m.thread_id < :tid)"
        rows = await self._db.fetchall(
            f"""SELECT m.thread_id, max(m.date_ts) AS last_ts FROM messages m
                WHERE {_OF_MAILBOX} AND m.thread_id IS NOT NULL AND {VISIBLE}
                GROUP BY m.thread_id{having}
                ORDER BY last_ts DESC, m.thread_id DESC LIMIT :limit""",
            params,
        )
        page = rows[:limit]
        last = rows[limit - 1] if len(rows) > limit else None
        threads = [int(r["thread_id"]) for r in page]
        newest = await self._newest(threads, viewer)
        contacts = await self._contacts(threads, viewer)
        conversations = [
            Conversation(
                id=thread,
                mailbox_id=mailbox_id,
                subject=newest[thread]["first_subject"],
                messages=int(newest[thread]["n"]),
                last_date=newest[thread]["date"],
                last_from=sender(newest[thread]),
                snippet=newest[thread]["snippet"],
                contact_ids=contacts.get(thread, []),
            )
            for thread in threads
            if thread in newest
        ]
        return ConversationList(
            conversations=conversations,
            next=f"{last['last_ts']!r}:{last['thread_id']}" if last else None,
        )

    async def _newest(self, threads: list[int], viewer: int) -> dict[int, Row]:
        """Each thread's newest visible message, with the thread's message count and
        the subject of its first message."""
        if not threads:
            return {}
        marks, params = _in("t", threads)
        rows = await self._db.fetchall(
            f"""SELECT * FROM (
                    SELECT {MESSAGE_COLUMNS},
                        ROW_NUMBER() OVER (PARTITION BY m.thread_id
                            ORDER BY m.date_ts DESC, m.id DESC) AS pos,
                        COUNT(*) OVER (PARTITION BY m.thread_id) AS n,
                        FIRST_VALUE(m.subject) OVER (PARTITION BY m.thread_id
                            ORDER BY m.date_ts, m.id) AS first_subject
                    FROM messages m WHERE m.thread_id IN ({marks}) AND {VISIBLE}
                ) x WHERE x.pos = 1""",
            {**params, "viewer": viewer},
        )
        return {int(r["thread_id"]): r for r in rows}

    async def _contacts(self, threads: list[int], viewer: int) -> dict[int, list[int]]:
        """Each thread's contacts: those the entries of its messages `viewer` may see
        are on (a hidden message's contacts are not told)."""
        if not threads:
            return {}
        marks, params = _in("t", threads)
        rows = await self._db.fetchall(
            f"""SELECT m.thread_id, e.contact_id, min(e.id) AS first_entry FROM timeline_entries e
                JOIN messages m ON m.id = e.message WHERE m.thread_id IN ({marks}) AND {VISIBLE}
                GROUP BY m.thread_id, e.contact_id ORDER BY m.thread_id, first_entry""",
            {**params, "viewer": viewer},
        )
        found: dict[int, list[int]] = {}
        for r in rows:
            found.setdefault(int(r["thread_id"]), []).append(int(r["contact_id"]))
        return found

    async def get(self, thread_id: int, viewer: int) -> ConversationDetail:
        """One conversation, its messages oldest first; NotFound for a thread that holds
        no message of a team mailbox the caller may see."""
        team = await self._db.fetchone(
            f"""SELECT b.id AS mailbox_id FROM messages m JOIN mailboxes b
                ON b.kind = 'team' AND (b.id = m.mailbox_id OR EXISTS (
                    SELECT 1 FROM message_locations l JOIN folders f ON f.id = l.folder_id
                    WHERE l.message = m.id AND f.mailbox_id = b.id))
                WHERE m.thread_id = :thread AND {VISIBLE}
                ORDER BY m.date_ts DESC, m.id DESC, b.id LIMIT 1""",
            {"thread": thread_id, "viewer": viewer},
        )
        if team is None:
            raise NotFound("No such conversation", {"id": thread_id})
        rows = await self._db.fetchall(
            f"""SELECT {MESSAGE_COLUMNS} FROM messages m
                WHERE m.thread_id = :thread AND {VISIBLE} ORDER BY m.date_ts, m.id""",
            {"thread": thread_id, "viewer": viewer},
        )
        entries = await self._db.fetchall(
            f"""SELECT e.message, e.contact_id FROM timeline_entries e
                JOIN messages m ON m.id = e.message WHERE m.thread_id = :thread AND {VISIBLE}
                ORDER BY e.id""",
            {"thread": thread_id, "viewer": viewer},
        )
        own = await own_mailboxes(self._db, rows, viewer)
        by_message: dict[int, list[int]] = {}
        for e in entries:
            by_message.setdefault(int(e["message"]), []).append(int(e["contact_id"]))
        return ConversationDetail(
            id=thread_id,
            mailbox_id=int(team["mailbox_id"]),
            subject=rows[0]["subject"] if rows else "",
            messages=summaries(rows, lambda id_: by_message.get(int(id_), []), own),
            contact_ids=list(dict.fromkeys(c for e in entries for c in [int(e["contact_id"])])),
        )
