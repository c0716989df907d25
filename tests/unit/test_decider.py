"""Batches planned ahead against a carried snapshot, against a real SQLite store:
the same result as planning each batch inside its transaction, and a plan that
went stale (someone else committed) is made again, never written."""

from __future__ import annotations

from pathlib import Path

from loggbok.daemon.mime.headers import parse_headers
from loggbok.daemon.rules.context import RuleSettings
from loggbok.daemon.rules.planner import Incoming
from loggbok.daemon.store.store import Store
from loggbok.daemon.sync.decider import Decider

RULES = RuleSettings(bcc_address="log@bcc.example", own_addresses=frozenset({"me@f.example"}))


def _incoming(folder: int, uid: str, *lines: str) -> Incoming:
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode()
    return Incoming(folder, uid, parse_headers(raw), raw)


def _batches(sent: int, inbox: int) -> tuple[list[Incoming], list[Incoming]]:
    offer = _incoming(
        sent, "1", "From: me@f.example", "To: anna@k.example", "Bcc: log@bcc.example",
        "Subject: Offer", "Message-ID: <offer@f.example>",
        "Date: Mon, 02 Jan 2023 09:00:00 +0000",
    )  # fmt: skip
    reply = _incoming(
        inbox, "1", "From: anna@k.example", "To: me@f.example", "Subject: Re: Offer",
        "Message-ID: <reply@k.example>", "In-Reply-To: <offer@f.example>",
        "Date: Mon, 02 Jan 2023 10:00:00 +0000",
    )  # fmt: skip
    news = _incoming(
        inbox, "2", "From: news@shop.example", "To: me@f.example", "Subject: Sale",
        "Message-ID: <sale@shop.example>", "Date: Mon, 02 Jan 2023 11:00:00 +0000",
    )  # fmt: skip
    return [offer], [reply, news]


async def _setup(tmp_path: Path) -> tuple[Store, Decider, list[Incoming], list[Incoming]]:
    store = await Store.open(tmp_path)
    mailbox = await store.mailboxes.add("maildir", "me@f.example", {})
    sent = await store.mailboxes.folder(mailbox, "Sent", "sent")
    inbox = await store.mailboxes.folder(mailbox, "INBOX", "inbox")
    first, second = _batches(sent.id, inbox.id)
    decider = Decider(store, mailbox, RULES, {sent.id: "Sent", inbox.id: "INBOX"}, "everyone")
    await decider.load(first + second)
    return store, decider, first, second


async def _reasons(store: Store) -> dict[str, tuple[int, str, int]]:
    rows = await store.db.fetchall("SELECT message_id, logged, reason, thread_id FROM messages")
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


async def test_carried_plans_are_written_as_planned(tmp_path: Path) -> None:
    store, decider, first, second = await _setup(tmp_path)
    written_first = (await decider.write(first, decider.plan_ahead(first), [])).plan
    ahead = decider.plan_ahead(second)
    written_second = (await decider.write(second, ahead, [])).plan
    assert written_second is ahead
    assert decider.replanned == 0
    reasons = await _reasons(store)
    assert reasons["<offer@f.example>"][:2] == (1, "bcc_address")
    assert reasons["<reply@k.example>"][:2] == (1, "reply_in_tracked_thread")
    assert reasons["<reply@k.example>"][2] == reasons["<offer@f.example>"][2]
    assert reasons["<sale@shop.example>"][0] == 0
    assert [m.id for m in written_first.messages + written_second.messages] == [1, 2, 3]
    await store.close()


async def test_a_plan_gone_stale_is_made_again_inside_the_transaction(tmp_path: Path) -> None:
    store, decider, first, second = await _setup(tmp_path)
    await decider.write(first, decider.plan_ahead(first), [])
    ahead = decider.plan_ahead(second)
    assert ahead is not None
    taken_thread = max(m.thread_id for m in ahead.messages)
    # Another writer (say, another mailbox's round) takes the ids the carried plan chose.
    async with store.db.transaction() as tx:
        await tx.execute(
            "INSERT INTO threads (id, subject_norm) VALUES (?, 'other')", (taken_thread,)
        )
        await tx.execute(
            "INSERT INTO messages (id, message_key, message_id, mailbox_id, folder, thread_id,"
            " subject, subject_norm, from_email, from_name, recipients, date, date_ts, direction,"
            " raw_headers, size, body_state, logged, reason, visibility) VALUES (?, 'other@x',"
            " '<other@x>', 1, 'INBOX', ?, '', '', '', '', '{}', '', 0, 'inbound', '', 0,"
            " 'headers', 0, 'other', 'everyone')",
            (ahead.messages[0].id, taken_thread),
        )
    written = (await decider.write(second, ahead, [])).plan
    assert written is not ahead
    assert decider.replanned == 1
    assert decider.plan_ahead(second) is None  # every later batch is planned in its transaction
    reasons = await _reasons(store)
    assert reasons["<reply@k.example>"][:2] == (1, "reply_in_tracked_thread")
    assert reasons["<reply@k.example>"][2] == reasons["<offer@f.example>"][2]
    assert reasons["<sale@shop.example>"][2] != taken_thread
    assert len(reasons) == 4
    await store.close()


async def test_body_writes_do_not_make_a_plan_stale(tmp_path: Path) -> None:
    store, decider, first, second = await _setup(tmp_path)
    await decider.write(first, decider.plan_ahead(first), [])
    ahead = decider.plan_ahead(second)
    async with store.db.transaction(plan_neutral=True) as tx:
        await tx.execute("UPDATE messages SET body_state = 'parsed' WHERE id = 1")
    assert (await decider.write(second, ahead, [])).plan is ahead
    assert decider.replanned == 0
    await store.close()


async def _round(store: Store, mailbox: int, folders: dict[int, str], batch: list[Incoming]):
    decider = Decider(store, mailbox, RULES, folders, "everyone")
    await decider.load(batch)
    return await decider.write(batch, decider.plan_ahead(batch), [])


async def test_a_reply_stored_before_the_message_it_answers_is_logged_when_it_arrives(
    tmp_path: Path,
) -> None:
    """Round 1 has only the customer's reply (nothing tracks its thread: turned down);
    round 2 brings the user's BCC'd original, which joins the reply's thread and tracks
    it, and the reply is decided again and logged, with the first decision kept."""
    store = await Store.open(tmp_path)
    mailbox = await store.mailboxes.add("maildir", "me@f.example", {})
    sent = await store.mailboxes.folder(mailbox, "Sent", "sent")
    inbox = await store.mailboxes.folder(mailbox, "INBOX", "inbox")
    folders = {sent.id: "Sent", inbox.id: "INBOX"}
    (offer,), (reply, _) = _batches(sent.id, inbox.id)

    first = await _round(store, mailbox, folders, [reply])
    assert first.plan.messages[0].decision.reason == "no_contact_participant"
    assert first.relogged == []

    second = await _round(store, mailbox, folders, [offer])
    reply_id = first.plan.messages[0].id
    assert [(r.message_id, r.folder_id, r.remote_id) for r in second.relogged] == [
        (reply_id, inbox.id, "1")
    ]
    reasons = await _reasons(store)
    assert reasons["<reply@k.example>"][:2] == (1, "reply_in_tracked_thread")
    assert reasons["<reply@k.example>"][2] == reasons["<offer@f.example>"][2]
    decisions = await store.db.fetchall(
        "SELECT reason FROM decisions WHERE message = ? ORDER BY id", (reply_id,)
    )
    assert [d[0] for d in decisions] == ["no_contact_participant", "reply_in_tracked_thread"]
    entries = await store.db.fetchall(
        "SELECT c.email FROM timeline_entries t JOIN contact_emails c USING (contact_id)"
        " WHERE t.message = ?",
        (reply_id,),
    )
    assert [e[0] for e in entries] == ["anna@k.example"]
    await store.close()


async def test_a_reply_older_than_the_late_message_stays_as_decided(tmp_path: Path) -> None:
    store = await Store.open(tmp_path)
    mailbox = await store.mailboxes.add("maildir", "me@f.example", {})
    sent = await store.mailboxes.folder(mailbox, "Sent", "sent")
    inbox = await store.mailboxes.folder(mailbox, "INBOX", "inbox")
    folders = {sent.id: "Sent", inbox.id: "INBOX"}
    (offer,), _ = _batches(sent.id, inbox.id)
    early = _incoming(
        inbox.id, "1", "From: anna@k.example", "To: me@f.example", "Subject: Re: Offer",
        "Message-ID: <reply@k.example>", "In-Reply-To: <offer@f.example>",
        "Date: Sun, 01 Jan 2023 10:00:00 +0000",
    )  # fmt: skip
    await _round(store, mailbox, folders, [early])
    second = await _round(store, mailbox, folders, [offer])
    assert second.relogged == []
    assert (await _reasons(store))["<reply@k.example>"][:2] == (0, "no_contact_participant")
    await store.close()


async def test_a_late_message_folds_the_thread_of_a_reply_that_only_named_it(
    tmp_path: Path,
) -> None:
    """The reply named only the late message (In-Reply-To, no References), so it sat in
    a thread of its own; the late message belongs to the customer's first mail's thread
    by its own In-Reply-To. The reply's thread is folded into that one, and the reply is
    decided again there."""
    store = await Store.open(tmp_path)
    mailbox = await store.mailboxes.add("maildir", "me@f.example", {})
    sent = await store.mailboxes.folder(mailbox, "Sent", "sent")
    inbox = await store.mailboxes.folder(mailbox, "INBOX", "inbox")
    folders = {sent.id: "Sent", inbox.id: "INBOX"}
    first = _incoming(
        inbox.id, "1", "From: anna@k.example", "To: me@f.example", "Subject: Offer?",
        "Message-ID: <ask@k.example>", "Date: Mon, 02 Jan 2023 08:00:00 +0000",
    )  # fmt: skip
    reply = _incoming(
        inbox.id, "2", "From: anna@k.example", "To: me@f.example", "Subject: Re: Offer?",
        "Message-ID: <reply@k.example>", "In-Reply-To: <offer@f.example>",
        "Date: Mon, 02 Jan 2023 10:00:00 +0000",
    )  # fmt: skip
    late = _incoming(
        sent.id, "1", "From: me@f.example", "To: anna@k.example", "Bcc: log@bcc.example",
        "Subject: Re: Offer?", "Message-ID: <offer@f.example>", "In-Reply-To: <ask@k.example>",
        "References: <ask@k.example>", "Date: Mon, 02 Jan 2023 09:00:00 +0000",
    )  # fmt: skip
    before = await _round(store, mailbox, folders, [first, reply])
    ask_thread, reply_thread = (m.thread_id for m in before.plan.messages)
    assert ask_thread != reply_thread

    after = await _round(store, mailbox, folders, [late])
    assert after.plan.merged == {reply_thread: ask_thread}
    assert [r.remote_id for r in after.relogged] == ["2"]
    reasons = await _reasons(store)
    assert reasons["<reply@k.example>"] == (1, "reply_in_tracked_thread", ask_thread)
    assert reasons["<offer@f.example>"] == (1, "bcc_address", ask_thread)
    assert reasons["<ask@k.example>"][2] == ask_thread
    assert await store.db.fetchall("SELECT 1 FROM threads WHERE id = ?", (reply_thread,)) == []
    keys = await store.db.fetchall("SELECT DISTINCT thread_id FROM thread_keys")
    assert [k[0] for k in keys] == [ask_thread]
    await store.close()


async def test_a_commit_by_another_process_makes_a_carried_plan_stale(tmp_path: Path) -> None:
    """Another daemon on the same database (its own connections, its own counters) takes
    the next ids between this round's plan and its write: the carried plan is made again
    inside the transaction, and what it creates gets ids after the other's."""
    store, decider, first, second = await _setup(tmp_path)
    await decider.write(first, decider.plan_ahead(first), [])
    ahead = decider.plan_ahead(second)
    assert ahead is not None
    other = await Store.open(tmp_path)
    async with other.db.transaction() as tx:
        taken_thread = await tx.fetchval("SELECT max(id) + 1 FROM threads")
        taken_message = await tx.fetchval("SELECT max(id) + 1 FROM messages")
        await tx.execute(
            "INSERT INTO threads (id, subject_norm) VALUES (?, 'other')", (taken_thread,)
        )
        await tx.execute(
            "INSERT INTO messages (id, message_key, message_id, mailbox_id, folder, thread_id,"
            " subject, subject_norm, from_email, from_name, recipients, date, date_ts, direction,"
            " raw_headers, size, body_state, logged, reason, visibility) VALUES (?, 'other@x',"
            " '<other@x>', 1, 'INBOX', ?, '', '', '', '', '{}', '', 0, 'inbound', '', 0,"
            " 'headers', 0, 'other', 'everyone')",
            (taken_message, taken_thread),
        )
    await other.close()
    written = (await decider.write(second, ahead, [])).plan
    assert written is not ahead
    assert decider.replanned == 1
    reasons = await _reasons(store)
    assert reasons["<reply@k.example>"][:2] == (1, "reply_in_tracked_thread")
    assert reasons["<reply@k.example>"][2] == reasons["<offer@f.example>"][2]
    assert reasons["<sale@shop.example>"][2] > taken_thread
    assert min(m.id for m in written.messages) > taken_message
    assert len(reasons) == 4
    await store.close()


async def test_own_commits_do_not_count_as_another_process(tmp_path: Path) -> None:
    store, decider, first, second = await _setup(tmp_path)
    await decider.write(first, decider.plan_ahead(first), [])
    ahead = decider.plan_ahead(second)
    assert (await decider.write(second, ahead, [])).plan is ahead
    assert decider.replanned == 0
    await store.close()
