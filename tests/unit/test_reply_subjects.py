"""R3/R4: a reply is compared with the message it answers, and a thread is tracked
under every subject its tracking messages carried.

Pure rules, the pure planner (one round, and round after round on a carried
snapshot), and the store's side (each round planned against a snapshot read
from a real SQLite file, so parents come from the store).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from loggbok.daemon.mime.headers import parse_headers
from loggbok.daemon.rules.context import RuleContext, RuleSettings, SubjectRef, ThreadSnapshot
from loggbok.daemon.rules.engine import decide
from loggbok.daemon.rules.planner import Counters, Incoming, Snapshot, decision_order, plan_batch
from loggbok.daemon.store.migrations import MIGRATIONS
from loggbok.daemon.store.store import Store
from loggbok.daemon.sync.decider import Decider
from tests.support.threads import ME_EMAIL, SHAPES, Shaped

ANNA = 1


def _rules(bcc: str) -> RuleSettings:
    return RuleSettings(
        bcc_address=bcc,
        own_addresses=frozenset({ME_EMAIL}),
        colleague_domains=frozenset({"firma.example"}),
    )


def _facts(subject: str, parent: str = "<a@firma.example>") -> Incoming:
    raw = (
        f"From: anna@kund.example\r\nTo: {ME_EMAIL}\r\nSubject: {subject}\r\n"
        f"Message-ID: <r@kund.example>\r\nIn-Reply-To: {parent}\r\n\r\n"
    ).encode()
    return Incoming(1, "1", parse_headers(raw), raw)


def _thread(parent: SubjectRef | None, *subjects: SubjectRef) -> ThreadSnapshot:
    return ThreadSnapshot(
        7, True, subjects[0].subject_norm, (ANNA,), 3, "a@firma.example", "in-reply-to",
        parent=parent, subjects=subjects,
    )  # fmt: skip


OFFER = SubjectRef("offer q3", "<a@firma.example>", 3)
V2 = SubjectRef("updated quote v2", "<d@firma.example>", 5)


@pytest.mark.parametrize(
    ("subject", "parent", "logged", "compared", "basis"),
    [
        # Keeps the subject of the message it answers (a follow-up under a new subject).
        ("SV: Updated quote v2", V2, True, V2, "the message it answers"),
        # Goes back to a subject the thread is tracked under.
        ("Re: Offer Q3", V2, True, OFFER, "a subject the thread is tracked under"),
        # Changes the subject for real: compared with what it answers.
        ("New project", V2, False, V2, "the message it answers"),
        # The message answered is not stored: any subject the thread is tracked under.
        ("AW: Updated quote v2", None, True, V2, "a subject the thread is tracked under"),
        ("New project", None, False, OFFER, "a subject the thread is tracked under"),
    ],
)
def test_a_reply_is_compared_with_its_parent_then_the_threads_subjects(
    subject: str, parent: SubjectRef | None, logged: bool, compared: SubjectRef, basis: str
) -> None:
    d = decide(
        _facts(subject).facts,
        RuleContext(
            _rules("log@bcc.example"), {"anna@kund.example": ANNA}, _thread(parent, OFFER, V2)
        ),
    )
    assert (d.logged, d.reason) == (
        (True, "reply_in_tracked_thread") if logged else (False, "subject_changed")
    )
    assert d.details["compared_subject"] == compared.subject_norm
    assert d.details["compared_message_id"] == compared.message_id
    assert d.details["compared_with"] == basis
    assert json.loads(d.details["thread_subjects"]) == ["offer q3", "updated quote v2"]


def test_a_parent_with_another_subject_than_the_thread_is_what_counts() -> None:
    """The thread was tracked under "Offer Q3" only; the reply answers a message of the
    thread written under another subject and keeps that one: its sender changed nothing."""
    other = SubjectRef("pricing details", "<p@kund.example>", 4)
    d = decide(
        _facts("Re: Pricing details").facts,
        RuleContext(_rules("log@bcc.example"), {"anna@kund.example": ANNA}, _thread(other, OFFER)),
    )
    assert (d.reason, d.details["compared_message_id"]) == (
        "reply_in_tracked_thread",
        "<p@kund.example>",
    )


def _incoming(shapes: list[Shaped]) -> list[Incoming]:
    return [
        Incoming(2 if s.folder == "sent" else 1, str(n), parse_headers(s.raw), s.raw)
        for n, s in enumerate(shapes)
    ]


def _check(shapes: list[Shaped], decided: dict[str, tuple[str, dict[str, str]]]) -> None:
    for shaped in shapes:
        reason, details = decided[shaped.message_id]
        assert reason == shaped.reason, shaped.message_id
        if shaped.compared_message_id is not None:
            assert details["compared_message_id"] == shaped.compared_message_id, shaped.message_id


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_shapes_in_one_round(name: str) -> None:
    build, bcc = SHAPES[name]
    shapes = build()
    snapshot = Snapshot({}, {}, {}, {}, {"anna@kund.example": ANNA}, Counters(1, 1, 2))
    plan = plan_batch(decision_order(_incoming(shapes)), snapshot, _rules(bcc), 1)
    _check(
        shapes,
        {
            m.incoming.facts.message_id: (m.decision.reason, dict(m.decision.details))
            for m in plan.messages
        },
    )


@pytest.mark.parametrize("name", sorted(SHAPES))
async def test_shapes_round_after_round_against_the_store(name: str, tmp_path: Path) -> None:
    """Each round planned inside its transaction against a snapshot read from SQLite:
    the parents of the second round's replies come from the store."""
    build, bcc = SHAPES[name]
    shapes = build()
    store = await Store.open(tmp_path)
    try:
        assert await store.contacts.create("anna@kund.example", "Anna") == ANNA
        mailbox = await store.mailboxes.add("maildir", ME_EMAIL, {})
        inbox = await store.mailboxes.folder(mailbox, "INBOX", "inbox")
        sent = await store.mailboxes.folder(mailbox, "Sent", "sent")
        decider = Decider(
            store, mailbox, _rules(bcc), {inbox.id: "INBOX", sent.id: "Sent"}, "everyone"
        )
        for number in sorted({s.round for s in shapes}):
            batch = [
                Incoming(sent.id if s.folder == "sent" else inbox.id, s.message_id,
                         parse_headers(s.raw), s.raw)
                for s in shapes if s.round == number
            ]  # fmt: skip
            await decider.write(decision_order(batch), None, [])
        rows = await store.db.fetchall(
            """SELECT m.message_id, d.reason, d.evidence FROM messages m
               JOIN decisions d ON d.message = m.id"""
        )
        _check(shapes, {r[0]: (r[1], json.loads(r[2])["details"]) for r in rows})
        subjects = await store.db.fetchall(
            "SELECT subject_norm FROM thread_subjects s ORDER BY "
            + store.db.dialect.insertion_order("s")
        )
        assert subjects
    finally:
        await store.close()


@pytest.mark.sqlite_only  # builds a SQLite file of an old schema
async def test_threads_tracked_before_the_upgrade_keep_their_follow_up_subjects(
    tmp_path: Path,
) -> None:
    """A database from before thread subjects: "Offer Q3" tracked, the follow-up
    "Updated quote v2" logged in it with the logging address. After the upgrade the
    thread is tracked under both, and the next reply to the follow-up is logged."""
    with sqlite3.connect(tmp_path / "loggbok.sqlite3") as conn:
        conn.executescript(
            f"BEGIN;\n{MIGRATIONS[0]}\n{MIGRATIONS[1]}\nPRAGMA user_version=2;\nCOMMIT;"
        )
        conn.executescript(
            """
            INSERT INTO contacts (id, name) VALUES (1, 'Anna');
            INSERT INTO contact_emails (email, contact_id) VALUES ('anna@kund.example', 1);
            INSERT INTO threads (id, subject_norm, tracked, tracked_reason, root_message)
                VALUES (1, 'offer q3', 1, 'bcc_address', 1), (2, 'updated quote v2', 0, NULL, 3);
            INSERT INTO thread_contacts VALUES (1, 1);
            INSERT INTO messages (id, message_key, message_id, thread_id, subject_norm,
                raw_headers, logged, reason) VALUES
                (1, 'a@firma.example', '<a@firma.example>', 1, 'offer q3', x'', 1, 'bcc_address'),
                (2, 'd@firma.example', '<d@firma.example>', 1, 'updated quote v2', x'', 1,
                 'bcc_address'),
                (3, 'e@kund.example', '<e@kund.example>', 2, 'updated quote v2', x'', 0,
                 'subject_changed');
            INSERT INTO thread_keys VALUES ('a@firma.example', 1, 1), ('d@firma.example', 1, 2),
                ('e@kund.example', 2, 3);
            """
        )
    conn.close()
    store = await Store.open(tmp_path)
    try:
        rows = await store.db.fetchall(
            "SELECT thread_id, subject_norm, message FROM thread_subjects ORDER BY rowid"
        )
        assert [tuple(r) for r in rows] == [(1, "offer q3", 1), (1, "updated quote v2", 2)]
        mailbox = await store.mailboxes.add("maildir", ME_EMAIL, {})
        inbox = await store.mailboxes.folder(mailbox, "INBOX", "inbox")
        decider = Decider(
            store, mailbox, _rules("log@bcc.example"), {inbox.id: "INBOX"}, "everyone"
        )
        raw = (
            f"From: anna@kund.example\r\nTo: {ME_EMAIL}\r\nSubject: SV: Updated quote v2\r\n"
            "Message-ID: <f@kund.example>\r\nIn-Reply-To: <d@firma.example>\r\n"
            "References: <a@firma.example> <d@firma.example>\r\n\r\n"
        ).encode()
        written = await decider.write([Incoming(inbox.id, "1", parse_headers(raw), raw)], None, [])
        [reply] = written.plan.messages
        assert (reply.decision.reason, reply.thread_id) == ("reply_in_tracked_thread", 1)
        assert reply.decision.details["compared_message_id"] == "<d@firma.example>"
    finally:
        await store.close()
