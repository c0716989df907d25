"""Timeline pages and message lists built as JSON by the database (`store/json_pages.py`)
are what the Python path built from rows (`records.timeline_entry`, `records.summaries`):
every field of every entry, with its JSON type, and the `next` cursors, page by page,
over varied data (attachments, To and Cc, missing names and texts, unicode and control
characters, fractional dates, several contacts per message, other viewers), on both
stores (PostgreSQL's timeline pages are built from rows in Python: `Dialect.json_timeline`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from loggbok.daemon.mime.headers import parse_headers
from loggbok.daemon.rpc.raw_results import RawMessageList, RawTimeline
from loggbok.daemon.rules.context import RuleSettings
from loggbok.daemon.rules.planner import Incoming
from loggbok.daemon.store.bodies import StoredBody
from loggbok.daemon.store.records import (
    MESSAGE_COLUMNS,
    VISIBLE,
    older_than,
    own_mailboxes,
    summaries,
)
from loggbok.daemon.store.store import Store
from loggbok.daemon.store.timeline import _entries, _select
from loggbok.protocol import types as t

RULES = RuleSettings(mode="all_with_contacts", own_addresses=frozenset({"me@f.example"}))
SUBJECTS = ["Budget", 'Quote "x" \\ y', "Åre – 日本 🎉", "tab\there\nline \x01", ""]


def _incoming(folder: int, uid: int) -> Incoming:
    sender = ["anna@k.example", "Bert <bert@k.example>", "stranger@x.example"][uid % 3]
    lines = [
        f"From: {sender}",
        "To: me@f.example" if uid % 2 else '"Ünï Cödé, Jr." <me@f.example>, anna@k.example',
        *(["Cc: =?utf-8?q?Z=C3=B6e?= <zoe@z.example>, bert@k.example"] if uid % 4 == 1 else []),
        f"Subject: {SUBJECTS[uid % len(SUBJECTS)]} {uid}",
        f"Message-ID: <m{uid}@k.example>",
        f"Date: {1 + uid % 9:02d} Jan 2023 09:{uid % 60:02d}:00 +0000",
    ]
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode()
    return Incoming(folder, str(uid), parse_headers(raw), raw)


async def _varied(tmp_path: Path) -> Store:
    store = await Store.open(tmp_path)
    await store.contacts.create("anna@k.example", "Anna")
    await store.contacts.create("bert@k.example", "Bert")
    mailbox = await store.mailboxes.add("maildir", "me@f.example", {})
    inbox = await store.mailboxes.folder(mailbox, "INBOX", "inbox")
    round_ = store.rounds.begin(mailbox, RULES, {inbox.id: "INBOX"}, "everyone")
    written = await round_.write([_incoming(inbox.id, uid) for uid in range(1, 25)], None)
    texts = ["ny text – ö", "", 'a\u2028b "q" \\']
    parsed = {
        m.id: StoredBody("body", texts[m.id % 3], f"snip {m.id} ✓", ())
        for m in written.plan.messages
        if m.id % 5  # every fifth has no body yet: new_text NULL
    }
    await round_.write_bodies(parsed, {}, [], forwards=False)
    async with store.db.transaction() as tx:
        for message in (2, 3, 7):
            for idx in range(message % 4 + 1):
                await tx.execute(
                    "INSERT INTO attachments (message, idx, filename, content_type, size,"
                    " status, sha256) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (message, idx, f"bilaga {idx} – ä.pdf", "application/pdf", 10**idx * 7,
                     "stored" if idx % 2 else "over_limit", None if idx % 2 == 0 else "ab" * 32),
                )  # fmt: skip
        # fractional dates whose repr needs every digit, ties on the date
        for id_ in range(3, 25, 3):
            await tx.execute(
                "UPDATE messages SET date_ts = ? WHERE id = ?", (1672563600.1 + id_ * 0.2, id_)
            )
        for table, step in (("timeline_entries", 4), ("messages", 7)):
            for id_ in range(step, 40, step):
                await tx.execute(
                    f"UPDATE {table} SET date_ts = 1672563600.3000002 WHERE id = ?", (id_,)
                )
        await tx.execute(
            "UPDATE messages SET from_name = '', thread_id = NULL, mailbox_id = NULL,"
            " recipients = ? WHERE id IN (4, 5)",
            ('{"to": [["x@y.example", null], ["\u00fc@\u00f6.example", "\u00c4 \\"q\\""]],'
             ' "cc": [["c@d.example", ""]], "bcc": [["b@b.example", "B"]]}',),
        )  # fmt: skip
        await tx.execute("UPDATE messages SET visibility = 'private', owner_id = 2 WHERE id = 6")
    return store


def _canonical(value: Any) -> bytes:
    """JSON with sorted keys: equal only when every value and its JSON type are equal
    (`1` and `true`, `1` and `1.0` differ; Python's `==` would take them as equal)."""
    return msgspec.json.encode(msgspec.json.decode(msgspec.json.encode(value)), order="sorted")


async def _old_timeline(
    store: Store, contact: int, limit: int, before: str | None, viewer: int
) -> tuple[list[t.TimelineEntry], str | None]:
    """`timeline.get`'s page as it was built before, from rows in Python."""
    params: dict[str, object] = {"contact": contact, "viewer": viewer, "limit": limit + 1}
    keyset = ""
    if before:
        ts, _, bid = before.partition(":")
        params["ts"], params["bid"] = float(ts), int(bid)
        keyset = " AND " + older_than("e.date_ts", "e.id")
    rows = await store.db.fetchall(
        f"{_select(store.db.dialect)} WHERE e.contact_id = :contact AND {VISIBLE}{keyset}"
        " ORDER BY e.date_ts DESC, e.id DESC LIMIT :limit",
        params,
    )
    last = rows[limit - 1] if len(rows) > limit else None
    return _entries(rows[:limit]), f"{last['entry_ts']!r}:{last['entry_id']}" if last else None


async def _old_list(
    store: Store, logged: bool | None, limit: int, before: str | None, viewer: int
) -> tuple[list[t.MessageSummary], str | None]:
    """`messages.list`'s page as it was built before, from rows in Python."""
    clauses = [VISIBLE]
    params: dict[str, object] = {"viewer": viewer, "limit": limit + 1}
    if logged is not None:
        clauses.append("m.logged = :logged")
        params["logged"] = int(logged)
    if before:
        ts, _, bid = before.partition(":")
        params["ts"], params["bid"] = float(ts), int(bid)
        clauses.append(older_than("m.date_ts", "m.id"))
    rows = await store.db.fetchall(
        f"SELECT {MESSAGE_COLUMNS} FROM messages m WHERE {' AND '.join(clauses)}"
        " ORDER BY m.date_ts DESC, m.id DESC LIMIT :limit",
        params,
    )
    last = rows[limit - 1] if len(rows) > limit else None
    page = rows[:limit]
    contacts: dict[int, list[int]] = {r["id"]: [] for r in page}
    if contacts:
        for message, contact in await store.db.fetchall_in(
            "SELECT message, contact_id FROM timeline_entries WHERE message IN ({placeholders})"
            " ORDER BY id",
            list(contacts),
        ):
            contacts[message].append(contact)
    own = await own_mailboxes(store.db, page, viewer)
    built = summaries(page, contacts.__getitem__, own)
    return built, f"{last['date_ts']!r}:{last['id']}" if last else None


async def test_timeline_pages_as_json_are_the_python_pages(
    tmp_path: Path, store_backend: str
) -> None:
    store = await _varied(tmp_path)
    try:
        contacts = [r[0] for r in await store.db.fetchall("SELECT id FROM contacts ORDER BY id")]
        seen = 0
        for contact in contacts:
            for viewer, limit in ((1, 3), (1, 500), (2, 2), (999, 4)):
                before: str | None = None
                while True:
                    page = await store.timeline.page_json(contact, limit, before, viewer)
                    entries, cursor = await _old_timeline(store, contact, limit, before, viewer)
                    assert _canonical(page.items) == _canonical(entries)
                    assert page.next == cursor
                    assert page.count == len(entries)
                    seen += len(entries)
                    if cursor is None:
                        break
                    before = cursor
        assert seen > 40
        # the data is as varied as claimed
        every = [e for c in contacts for e in (await _old_timeline(store, c, 500, None, 1))[0]]
        assert any(e.cc for e in every) and any(len(e.to) > 1 for e in every)
        assert any(len(e.attachments) > 1 for e in every)
        assert any(a.sha256 is None for e in every for a in e.attachments)
        assert any(p.name is None for e in every for p in e.to) and any(
            not e.new_text for e in every
        )
        assert any(e.thread_id is None for e in every) and any("🎉" in e.subject for e in every)
    finally:
        await store.close()


async def test_message_lists_as_json_are_the_python_lists(
    tmp_path: Path, store_backend: str
) -> None:
    store = await _varied(tmp_path)
    try:
        seen: list[t.MessageSummary] = []
        for logged in (None, False, True):
            for viewer, limit in ((1, 3), (1, 500), (2, 5), (999, 2)):
                before: str | None = None
                while True:
                    page = await store.messages.recent_json(
                        logged, None, None, limit, before, viewer
                    )
                    summaries, cursor = await _old_list(store, logged, limit, before, viewer)
                    assert _canonical(page.items) == _canonical(summaries)
                    assert page.next == cursor
                    assert page.count == len(summaries)
                    seen += summaries
                    if cursor is None:
                        break
                    before = cursor
        assert any(not s.logged for s in seen) and any(s.logged for s in seen)
        assert any(len(s.contact_ids) > 1 for s in seen) and any(not s.contact_ids for s in seen)
        assert any(s.mailbox_id is None for s in seen) and any(s.mailbox_id for s in seen)
        assert any(p.name is None for s in seen for p in s.to)
    finally:
        await store.close()


def test_raw_answers_have_the_protocol_fields_in_order() -> None:
    for raw, typed in ((RawTimeline, t.Timeline), (RawMessageList, t.MessageList)):
        names = [f.encode_name for f in msgspec.structs.fields(raw)]
        assert names == [f.encode_name for f in msgspec.structs.fields(typed)]
    entry = msgspec.Raw(b'[{"a": 1}]')
    assert msgspec.json.decode(msgspec.json.encode(RawTimeline(entries=entry, next="1.5:2"))) == {
        "entries": [{"a": 1}],
        "next": "1.5:2",
        "blind": [],
    }
