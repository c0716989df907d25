"""Messages: lookup by id or Message-ID, raw headers, explanations, lists,
full-text search and the manual-logging write (R9)."""

from __future__ import annotations

import base64
import json
from typing import Any

from loggbok.daemon.mime.placeholders import atp_properties, scanned_by_safe_attachments
from loggbok.daemon.mime.sender_only import without_sender_only
from loggbok.daemon.rules import reasons
from loggbok.daemon.rules.context import RuleSettings
from loggbok.daemon.store import search
from loggbok.daemon.store.blob_gc import digests_of, release_blobs
from loggbok.daemon.store.bodies import StoredBody, turn_down_calendar, write_bodies
from loggbok.daemon.store.db import Database, Row, Transaction
from loggbok.daemon.store.errors import Forbidden, Invalid, NotFound
from loggbok.daemon.store.explain_redact import HIDDEN_NOTE, HIDDEN_REF, redactor
from loggbok.daemon.store.foreign_copies import resolve_by_message_id
from loggbok.daemon.store.forwards import settle_forwards
from loggbok.daemon.store.json_pages import JsonPage, json_page, message_summary
from loggbok.daemon.store.outages import OutageQueries
from loggbok.daemon.store.plans import add_to_timelines
from loggbok.daemon.store.records import (
    MESSAGE_COLUMNS,
    VISIBLE,
    attachment,
    older_than,
    sender,
    summaries_of_rows,
    summary_extras,
    to_and_cc,
)
from loggbok.daemon.store.rescans import evidence as scan_evidence
from loggbok.protocol.types import (
    Evidence,
    Explanation,
    Forwarded,
    Message,
    MessageHeaders,
    Participant,
    SearchResult,
)


class MessageQueries:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def resolve(self, id: int | None, message_id: str | None, viewer: int) -> int:
        """The store id of a message given by id or Message-ID that `viewer` may see
        (`records.VISIBLE`); NotFound otherwise, hidden or not (nothing tells them apart)."""
        if id is None and not message_id:
            raise Invalid("Invalid params", "give the message's id or message_id")
        if id is not None:
            row = await self._db.fetchone(
                f"SELECT m.id FROM messages m WHERE m.id = :id AND {VISIBLE}",
                {"id": id, "viewer": viewer},
            )
        else:
            row = await resolve_by_message_id(self._db, message_id or "", viewer)
        if row is None:
            raise NotFound(
                "No such message",
                {"id": id} if id is not None else {"message_id": message_id},
            )
        return int(row[0])

    async def visible(self, message: int, viewer: int) -> bool:
        row = await self._db.fetchone(
            f"SELECT 1 FROM messages m WHERE m.id = :id AND {VISIBLE}",
            {"id": message, "viewer": viewer},
        )
        return row is not None

    async def owner(self, message: int) -> int:
        """The member a stored message belongs to (`owner_id`)."""
        return int(
            await self._db.fetchval("SELECT owner_id FROM messages WHERE id = ?", (message,))
        )

    async def set_visibility(self, message: int, visibility: str, owner: int) -> None:
        """Who may see `message`; only its owner may say (Forbidden otherwise)."""
        async with self._db.transaction() as tx:
            row = await tx.fetchone("SELECT owner_id FROM messages WHERE id = ?", (message,))
            if row is None:
                raise NotFound("No such message", {"id": message})
            if row["owner_id"] != owner:
                raise Forbidden(
                    "Only the message's owner may change who sees it",
                    {"id": message, "reason": "not_owner"},
                )
            await tx.execute(
                "UPDATE messages SET visibility = ? WHERE id = ?", (visibility, message)
            )

    async def _row(self, message: int) -> Row:
        row = await self._db.fetchone("SELECT m.* FROM messages m WHERE m.id = ?", (message,))
        assert row is not None
        return row

    async def contact_ids(self, message: int) -> list[int]:
        rows = await self._db.fetchall(
            "SELECT contact_id FROM timeline_entries WHERE message = ? ORDER BY id", (message,)
        )
        return [r[0] for r in rows]

    async def get(self, message: int, viewer: int) -> Message:
        """A message (resolved for `viewer` first): `folders` names only the folders of
        the viewer's own mailboxes it is in, and `mailbox_id`/`folder` only a mailbox of
        theirs (`_stored_from`)."""
        row = await self._row(message)
        attachments = await self._db.fetchall(
            "SELECT * FROM attachments WHERE message = ? ORDER BY idx", (message,)
        )
        mailbox_id, folder = await self._stored_from(row, viewer)
        to, cc = to_and_cc(row["recipients"])
        return Message(
            id=row["id"],
            message_id=row["message_id"],
            mailbox_id=mailbox_id,
            folder=folder,
            subject=row["subject"],
            from_=sender(row),
            to=to,
            cc=cc,
            date=row["date"],
            direction=row["direction"],
            snippet=row["snippet"],
            body_text=row["body_text"] or "",
            new_text=row["new_text"] or "",
            attachments=[attachment(a) for a in attachments],
            logged=bool(row["logged"]),
            reason=row["reason"],
            contact_ids=await self.contact_ids(message),
            thread_id=row["thread_id"],
            parse_error=row["parse_error"],
            folders=await self.folders(message, viewer),
            visibility=row["visibility"],
            forwarded=_forwarded(row["forwarded"]),
        )

    async def _stored_from(self, row: Row, viewer: int) -> tuple[int | None, str | None]:
        """The mailbox and folder a message was stored from, when they are `viewer`'s;
        else where `viewer` holds it, or None: a colleague's folder names (a folder
        called after a customer, a project) are not for others to read."""
        own = await self._db.fetchval(
            "SELECT 1 FROM mailboxes WHERE id = ? AND user_id = ?", (row["mailbox_id"], viewer)
        )
        if own:
            return row["mailbox_id"], row["folder"]
        held = await self.location(row["id"], viewer)
        return (held["mailbox_id"], held["folder"]) if held is not None else (None, None)

    async def headers(self, message: int, viewer: int) -> MessageHeaders:
        """The header block as stored; a `Bcc:` line only for the message's owner (whose
        copy, a Sent one, it came from: `mime/sender_only.py`)."""
        row = await self._row(message)
        raw: bytes = bytes(row["raw_headers"])
        if row["owner_id"] != viewer:
            raw = without_sender_only(raw)
        return MessageHeaders(
            id=message,
            message_id=row["message_id"],
            raw=raw.decode("utf-8", "replace"),
            raw_base64=base64.b64encode(raw).decode("ascii"),
        )

    async def _matched_as_received(self, data: dict[str, Any]) -> None:
        """The answered message's Message-ID as its mail carried it: the decision keeps
        the thread index's key (lower case), the message row the header's text."""
        matched_id, key = data.get("matched_id"), data.get("matched_message_id")
        if matched_id is None or not key:
            return
        row = await self._db.fetchone("SELECT message_id FROM messages WHERE id = ?", (matched_id,))
        if row is not None and str(row["message_id"]).lower() == str(key).lower():
            data["matched_message_id"] = row["message_id"]

    async def explain(self, message: int, viewer: int) -> Explanation:
        """Why a message (resolved for `viewer` first) was decided as it was; what the
        evidence names of other messages `viewer` may not see is left out
        (`explain_redact`)."""
        row = await self._row(message)
        decision = await self._db.fetchone(
            "SELECT * FROM decisions WHERE message = ? ORDER BY id DESC LIMIT 1", (message,)
        )
        assert decision is not None, "every stored message has a decision"
        data = json.loads(decision["evidence"])
        hidden = await redactor(
            self._db, row, {row["thread_id"], data.get("thread_id")}, data.get("matched_id"), viewer
        )
        if hidden.message(data.get("matched_id"), data.get("matched_message_id")):
            data["matched_id"] = None
            data["matched_message_id"] = HIDDEN_REF
        else:
            await self._matched_as_received(data)
        if hidden.subject(data.get("thread_subject")):
            data["thread_subject"] = None
        evidence = Evidence(
            rule=decision["rule"],
            thread_id=data.get("thread_id"),
            matched_id=data.get("matched_id"),
            matched_message_id=data.get("matched_message_id"),
            matched_via=data.get("matched_via"),
            thread_subject=data.get("thread_subject"),
            subject=data.get("subject"),
            contact_ids=data.get("contact_ids", []),
            never_logged=data.get("never_logged", []),
            details=hidden.details({k: str(v) for k, v in data.get("details", {}).items()}),
        )
        if evidence.matched_message_id == HIDDEN_REF:
            evidence.details["hidden"] = HIDDEN_NOTE
        scan = await self._scan_details(message, row["raw_headers"])
        evidence.details.update(scan)
        blind, blind_notes = await OutageQueries(self._db).explain(row, viewer)
        evidence.details.update(blind)
        words = {
            **evidence.details,
            "never_logged": ", ".join(evidence.never_logged),
            "matched": evidence.matched_message_id or "?",
            "error": row["parse_error"] or "",
        }
        if evidence.thread_subject:
            words.setdefault("thread_subject", evidence.thread_subject)
            # Decisions stored before replies were compared with the message they answer.
            words.setdefault("compared_subject", evidence.thread_subject)
            words.setdefault("compared_with", "the thread's subject")
            words.setdefault("compared_message_id", words["matched"])
        logged = bool(decision["logged"])
        return Explanation(
            id=message,
            message_id=row["message_id"],
            logged=logged,
            reason=decision["reason"],
            summary=" ".join(
                filter(
                    None,
                    [
                        reasons.summary(decision["reason"], words),
                        reasons.scan_note(scan),
                        *blind_notes,
                    ],
                )
            ),
            evidence=evidence,
            fixes=reasons.fixes(decision["reason"], logged),
            decided_at=decision["decided_at"],
        )

    async def _scan_details(self, message: int, raw_headers: bytes) -> dict[str, str]:
        """R11's evidence: the attachments that were a scanner's placeholders and how
        their re-fetch went; and Safe Attachments' own header, a hint (never proof)
        that placeholders were to be expected."""
        row = await self._db.fetchone(
            "SELECT * FROM attachment_rescans WHERE message = ?", (message,)
        )
        details = dict(scan_evidence(row))
        properties = atp_properties(raw_headers)
        if properties is not None:
            details["atp_message_properties"] = properties
            if scanned_by_safe_attachments(properties):
                details["placeholders_expected"] = (
                    "Safe Attachments scanned it (Dynamic Delivery may deliver placeholders)"
                )
        return details

    async def recent_json(
        self,
        logged: bool | None,
        reason: str | None,
        mailbox_id: int | None,
        limit: int,
        before: str | None,
        viewer: int,
    ) -> JsonPage:
        """A page of the messages `viewer` may see, newest first, built as JSON by the
        database (`json_pages`): `messages.list`."""
        limit = max(1, min(limit, 500))
        clauses = [VISIBLE]
        params: dict[str, object] = {"viewer": viewer, "limit": limit + 1}
        if logged is not None:
            clauses.append("m.logged = :logged")
            params["logged"] = int(logged)
        if reason:
            clauses.append("m.reason = :reason")
            params["reason"] = reason
        if mailbox_id is not None:  # of the caller's own: a colleague's is none (no rows)
            clauses.append(
                "m.mailbox_id = :mailbox AND EXISTS (SELECT 1 FROM mailboxes ob"
                " WHERE ob.id = :mailbox AND ob.user_id = :viewer)"
            )
            params["mailbox"] = mailbox_id
        if before:
            ts_text, _, id_text = before.partition(":")
            try:
                params["ts"], params["bid"] = float(ts_text), int(id_text)
            except ValueError:
                raise Invalid(
                    "Invalid params",
                    "before: not a cursor from messages.list",
                ) from None
            clauses.append(older_than("m.date_ts", "m.id"))
        rows = (
            f"SELECT {MESSAGE_COLUMNS} FROM messages m WHERE {' AND '.join(clauses)}"
            " ORDER BY m.date_ts DESC, m.id DESC LIMIT :limit"
        )
        summary = message_summary(self._db.dialect)
        return await json_page(self._db, rows, params, limit, summary, "date_ts", "id")

    async def search(self, query: str, limit: int, viewer: int) -> SearchResult:
        """Logged mail `viewer` may see matching an FTS5 query (`search.matching`)."""
        columns = MESSAGE_COLUMNS + summary_extras(self._db.dialect)
        rows = await search.matching(self._db, query, limit, viewer, columns)
        return SearchResult(hits=summaries_of_rows(rows))

    async def log_manually(
        self, message: int, contact_ids: list[int], body: StoredBody | None
    ) -> list[int]:
        """R9: put a message on chosen contacts' timelines; returns contacts newly added."""
        async with self._db.transaction() as tx:
            row = await tx.fetchone("SELECT * FROM messages WHERE id = ?", (message,))
            assert row is not None
            if body is not None:
                await _store_body(tx, row, body, with_extras=True)
            added = await add_to_timelines(tx, message, contact_ids, row["date_ts"], "manual")
            await tx.execute(
                "UPDATE messages SET logged = 1, reason = 'manual' WHERE id = ?", (message,)
            )
            await tx.execute(
                "INSERT INTO decisions (message, logged, reason, rule, evidence)"
                " VALUES (?, 1, 'manual', 'R9', ?)",
                (
                    message,
                    json.dumps(
                        {
                            "rule": "R9",
                            "thread_id": row["thread_id"],
                            "contact_ids": contact_ids,
                            "subject": row["subject_norm"],
                            "details": {"previous_reason": row["reason"]},
                        }
                    ),
                ),
            )
        return added

    async def replace_body(
        self, message: int, body: StoredBody, rules: RuleSettings | None = None
    ) -> None:
        """A re-fetched body (`messages.retry`); leaves quarantine when it was read. A body
        that shows a calendar invitation turns the decision down, and a forward still
        waiting for its original is settled with `rules` (R8), as in a sync."""
        async with self._db.transaction() as tx:
            calendar = {message: body.calendar_method} if body.calendar_method else {}
            turned_down = await turn_down_calendar(tx, calendar)
            if rules is not None:
                turned_down |= (await settle_forwards(tx, {message: body}, rules)).turned_down
            row = await tx.fetchone("SELECT * FROM messages WHERE id = ?", (message,))
            assert row is not None
            logged = bool(row["logged"]) and not turned_down
            await _store_body(tx, row, body, with_extras=logged)
            await tx.execute(
                "UPDATE message_locations SET state = 'ok', error = NULL WHERE message = ?",
                (message,),
            )

    async def folders(self, message: int, viewer: int) -> list[str]:
        """Every folder of `viewer`'s mailboxes a message is in now: its locations'
        folders, and the labels (Gmail) a location carries."""
        rows = await self._db.fetchall(
            """SELECT f.name, l.labels FROM message_locations l
               JOIN folders f ON f.id = l.folder_id JOIN mailboxes b ON b.id = f.mailbox_id
               WHERE l.message = ? AND b.user_id = ? ORDER BY f.id""",
            (message, viewer),
        )
        names: list[str] = []
        for row in rows:
            names.append(row["name"])
            if row["labels"]:
                names += [str(label) for label in json.loads(row["labels"])]
        return list(dict.fromkeys(names))

    async def replace_scanned(self, message: int, body: StoredBody, now: float) -> bool:
        """R11: the message fetched again with its real attachments in place of a
        scanner's placeholders: attachments, body and search row replaced, the rescan
        ended (`rescans.track_placeholders`). False when it is no longer pending
        (stored meanwhile by another path) or no longer logged."""
        async with self._db.transaction(plan_neutral=True) as tx:
            pending = await tx.fetchval(
                """SELECT 1 FROM attachment_rescans r JOIN messages m ON m.id = r.message
                   WHERE r.message = ? AND r.state = 'pending' AND m.logged = 1""",
                (message,),
            )
            if not pending:
                return False
            placeholders = await digests_of(tx, [message])
            await tx.execute("DELETE FROM attachments WHERE message = ?", (message,))
            await tx.execute(
                "UPDATE attachment_rescans SET attempts = attempts + 1, last_at = ?,"
                " last_error = NULL WHERE message = ?",
                (now, message),
            )
            await write_bodies(tx, {message: body}, now=now)
            await release_blobs(tx, placeholders)
        return True

    async def pending_bodies(self, mailbox_id: int) -> list[Row]:
        """Logged messages of a mailbox whose body has not been stored yet (a sync stopped
        between a batch's decisions and its bodies): id, folder id, remote id, size.

        Runs at the start of every round (every push): the cost follows what waits, not
        the size of the store (`Dialect.pending_bodies`)."""
        return await self._db.fetchall(self._db.dialect.pending_bodies(), (mailbox_id,))

    async def location(self, message: int, user_id: int) -> Row | None:
        """Where `user_id` can fetch a message from (a mailbox of theirs): folder name,
        remote id, mailbox."""
        return await self._db.fetchone(
            """SELECT f.mailbox_id, f.name AS folder, f.role, l.remote_id
               FROM message_locations l JOIN folders f ON f.id = l.folder_id
               JOIN mailboxes mb ON mb.id = f.mailbox_id AND mb.removed = 0
               WHERE l.message = ? AND mb.user_id = ? LIMIT 1""",
            (message, user_id),
        )

    async def awaits_original(self, message: int) -> bool:
        """A forward logged from its headers whose original has not been read yet (R8)."""
        row = await self._row(message)
        return row["reason"] == "forwarded_to_log" and row["forwarded"] is None

    async def is_logged(self, message: int) -> bool:
        row = await self._row(message)
        return bool(row["logged"])

    async def body_state(self, message: int) -> str:
        row = await self._row(message)
        return str(row["body_state"])

    async def attachment_blob(self, message: int, index: int) -> Row:
        row = await self._db.fetchone(
            "SELECT * FROM attachments WHERE message = ? AND idx = ?", (message, index)
        )
        if row is None:
            raise NotFound("No such attachment", {"id": message, "index": index})
        return row


def _forwarded(data: str | None) -> Forwarded | None:
    """The forward a message was logged from (R8), from `messages.forwarded`."""
    if not data:
        return None
    own = json.loads(data)
    email, name = own.get("from") or ["", ""]
    return Forwarded(
        by=Participant(email=email, name=name),
        subject=own.get("subject", ""),
        date=own.get("date", ""),
        original_message_id=own.get("original_message_id"),
        found_in=own.get("found_in", ""),
    )


async def _store_body(tx: Transaction, row: Row, body: StoredBody, *, with_extras: bool) -> None:
    """Write a parsed body onto a stored message; attachments and FTS only when logged."""
    await write_bodies(tx, {row["id"]: body}, index=with_extras)
