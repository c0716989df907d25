"""What a member may see of a colleague's hidden mail, and change of it, on a real
store (both stores): nothing.

Alice (admin, Sales), Bob (Sales) and Carl (Support) share one store. Alice's
mailbox logs with visibility `owner`: her BCC'd "Secret plans" to Anna, a later
follow-up, and a mail to Berit, all hidden from Bob and Carl. Bob's mailbox
(visibility `everyone`) gets Anna's answers to Alice's mail: one that keeps the
subject (logged, `reply_in_tracked_thread`) and one that changes it
(`subject_changed`). Then every aggregate and explanation is read as each member.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from datetime import datetime
from email.utils import formatdate
from pathlib import Path

import msgspec
import pytest

from loggbok.daemon.rules.context import RuleSettings
from loggbok.daemon.rules.planner import Incoming
from loggbok.daemon.store import search
from loggbok.daemon.store.archive import ImportItem
from loggbok.daemon.store.bodies import StoredBody
from loggbok.daemon.store.errors import Forbidden
from loggbok.daemon.store.rounds import Written
from loggbok.daemon.store.store import Store
from loggbok.daemon.sync.decider import Decider
from loggbok.protocol import types as t
from tests.unit.test_decider import _incoming

ALICE_RULES = RuleSettings(
    bcc_address="log-a@bcc.example", own_addresses=frozenset({"alice@f.example"})
)
BOB_RULES = RuleSettings(
    bcc_address="log-b@bcc.example", own_addresses=frozenset({"bob@f.example"})
)
CARL_RULES = RuleSettings(own_addresses=frozenset({"carl@f.example"}))
HELP_RULES = RuleSettings(own_addresses=frozenset({"help@f.example"}), team_inbox=True)


@dataclass
class Team:
    store: Store
    alice: int
    bob: int
    carl: int
    alice_box: int
    bob_box: int
    ids: dict[str, int]


async def _round(
    store: Store, mailbox: int, rules: RuleSettings, visibility: str, *mails: tuple[str, ...]
) -> Written:
    """One round of `mails` (header lines; the first word of each names its folder)."""
    folders: dict[int, str] = {}
    batch: list[Incoming] = []
    for number, (folder, *lines) in enumerate(mails):
        row = await store.mailboxes.folder(mailbox, folder, folder.lower())
        folders[row.id] = folder
        batch.append(_incoming(row.id, str(number + 1), *lines))
    decider = Decider(store, mailbox, rules, folders, visibility)
    await decider.load(batch)
    return await decider.write(batch, decider.plan_ahead(batch), [])


async def _team(tmp_path: Path) -> Team:
    store = await Store.open(tmp_path)
    await store.users.serve("alice@f.example")
    await store.users.update(t.UsersUpdateParams(id=1, team="Sales"))
    bob = await store.users.add(t.UsersAddParams(email="bob@f.example", seat="sales", team="Sales"))
    carl = await store.users.add(
        t.UsersAddParams(email="carl@f.example", seat="service", team="Support")
    )
    alice_box = await store.mailboxes.add("maildir", "alice@f.example", {}, user_id=1)
    bob_box = await store.mailboxes.add("maildir", "bob@f.example", {}, user_id=bob.id)
    await _round(
        store, alice_box, ALICE_RULES, "owner",
        ("Sent", "From: alice@f.example", "To: anna@k.example", "Bcc: log-a@bcc.example",
         "Subject: Secret plans", "Message-ID: <secret@f.example>",
         "Date: Mon, 02 Jan 2023 09:00:00 +0000"),
        ("Sent", "From: alice@f.example", "To: anna@k.example", "Bcc: log-a@bcc.example",
         "Subject: Hidden follow-up", "Message-ID: <later@f.example>",
         "Date: Tue, 03 Jan 2023 09:00:00 +0000"),
        ("Sent", "From: alice@f.example", "To: berit@k2.example", "Bcc: log-a@bcc.example",
         "Subject: For Berit", "Message-ID: <berit@f.example>",
         "Date: Mon, 02 Jan 2023 08:00:00 +0000"),
    )  # fmt: skip
    await _round(
        store, bob_box, BOB_RULES, "everyone",
        ("Kunder/Hemligt", "From: anna@k.example", "To: alice@f.example", "Cc: bob@f.example",
         "Subject: Re: Secret plans", "Message-ID: <kept@k.example>",
         "In-Reply-To: <secret@f.example>", "Date: Mon, 02 Jan 2023 10:00:00 +0000"),
        ("INBOX", "From: anna@k.example", "To: alice@f.example", "Cc: bob@f.example",
         "Subject: Lunch?", "Message-ID: <changed@k.example>",
         "In-Reply-To: <secret@f.example>", "Date: Mon, 02 Jan 2023 11:00:00 +0000"),
    )  # fmt: skip
    rows = await store.db.fetchall("SELECT message_key, id FROM messages")
    return Team(store, 1, bob.id, carl.id, alice_box, bob_box, {str(r[0]): int(r[1]) for r in rows})


def _text(value: object) -> str:
    return json.dumps(msgspec.to_builtins(value), ensure_ascii=False).lower()


async def test_an_explanation_names_no_message_hidden_from_its_reader(tmp_path: Path) -> None:
    team = await _team(tmp_path)
    store, ids = team.store, team.ids
    kept = await store.messages.explain(ids["kept@k.example"], team.carl)
    assert (kept.reason, kept.logged) == ("reply_in_tracked_thread", True)
    assert "secret@f.example" not in _text(kept)
    assert kept.evidence.matched_id is None
    assert "hidden" in kept.evidence.details
    assert "a colleague's message" in kept.summary
    changed = await store.messages.explain(ids["changed@k.example"], team.bob)
    assert changed.reason == "subject_changed"
    assert "secret@f.example" not in _text(changed)
    assert "secret plans" not in _text(changed)
    assert "lunch?" in changed.summary.lower()
    # Its owner, who sees the message answered, is told all of it.
    told = await store.messages.explain(ids["kept@k.example"], team.alice)
    assert told.evidence.matched_id == ids["secret@f.example"]
    assert "<secret@f.example>" in told.summary
    assert "hidden" not in told.evidence.details
    await store.close()


async def test_contacts_count_only_the_mail_their_reader_may_see(tmp_path: Path) -> None:
    team = await _team(tmp_path)
    store = team.store
    found = await store.contacts.lookup(["anna@k.example", "berit@k2.example"])
    anna, berit = found["anna@k.example"], found["berit@k2.example"]
    assert (await store.contacts.get(anna, team.alice)).last_activity == "2023-01-03T09:00:00+00:00"
    for member in (team.bob, team.carl):
        # Bob's logged reply is the newest Anna email they may see; Berit's only mail is hidden.
        assert (await store.contacts.get(anna, member)).last_activity == "2023-01-02T10:00:00+00:00"
        assert (await store.contacts.get(berit, member)).last_activity is None
        listed = {c.id: c for c in (await store.contacts.search("", 50, None, member)).contacts}
        assert (listed[anna].last_activity, listed[berit].last_activity) == (
            "2023-01-02T10:00:00+00:00",
            None,
        )
        found = await store.contacts.search("berit", 50, None, member)
        assert [c.last_activity for c in found.contacts] == [None]
    # Alice's mailbox goes down: her threads to Berit and of the follow-up to Anna are
    # blind, which only she may know (the first thread to Anna is Bob's mailbox's now).
    await store.mailboxes.set_status(team.alice_box, "error", "gone")
    assert await store.outages.blind_counts([anna, berit], team.alice) == {anna: 1, berit: 1}
    assert len(await store.outages.blind_threads_of_contact(berit, team.alice)) == 1
    for member in (team.bob, team.carl):
        assert await store.outages.blind_counts([anna, berit], member) == {}
        assert await store.outages.blind_threads_of_contact(berit, member) == []
        [contact] = await store.outages.with_blind([await store.contacts.get(berit)], member)
        assert contact.blind_threads == 0
    await store.close()


async def test_a_conversation_names_no_contact_of_hidden_mail(tmp_path: Path) -> None:
    """A team mailbox's conversation holds Alice's hidden answer, Cc her CEO contact:
    Carl sees the conversation, not that contact."""
    team = await _team(tmp_path)
    store = team.store
    help_box = await store.mailboxes.add("maildir", "help@f.example", {}, user_id=1, kind="team")
    await _round(
        store, help_box, HELP_RULES, "everyone",
        ("INBOX", "From: nils@n.example", "To: help@f.example", "Subject: Broken",
         "Message-ID: <q1@n.example>", "Date: Wed, 04 Jan 2023 09:00:00 +0000"),
    )  # fmt: skip
    await _round(
        store, team.alice_box, ALICE_RULES, "owner",
        ("Sent", "From: alice@f.example", "To: nils@n.example", "Cc: ceo@n2.example",
         "Bcc: log-a@bcc.example", "Subject: Re: Broken", "Message-ID: <a1@f.example>",
         "In-Reply-To: <q1@n.example>", "Date: Wed, 04 Jan 2023 10:00:00 +0000"),
    )  # fmt: skip
    found = await store.contacts.lookup(["nils@n.example", "ceo@n2.example"])
    nils, ceo = found["nils@n.example"], found["ceo@n2.example"]
    [conversation] = (await store.conversations.page(help_box, 50, None, team.carl)).conversations
    assert (conversation.messages, conversation.contact_ids) == (1, [nils])
    detail = await store.conversations.get(conversation.id, team.carl)
    assert detail.contact_ids == [nils]
    mine = await store.conversations.get(conversation.id, team.alice)
    assert sorted(mine.contact_ids) == sorted([nils, ceo])
    await store.close()


async def test_an_address_is_its_members_and_a_team_mailbox_an_admins(tmp_path: Path) -> None:
    team = await _team(tmp_path)
    store = team.store
    with pytest.raises(Forbidden) as taken:
        await store.mailboxes.add("imap", "ALICE@f.example", {}, user_id=team.bob)
    assert taken.value.data["reason"] == "address_taken"
    with pytest.raises(Forbidden) as team_kind:
        await store.mailboxes.add("maildir", "help@f.example", {}, user_id=team.bob, kind="team")
    assert team_kind.value.data["reason"] == "admin_required"
    with pytest.raises(Forbidden):
        await store.mailboxes.set_kind(team.bob_box, "team")
    assert await store.mailboxes.kind(team.bob_box) == "personal"
    # An admin may; and once Alice has removed her mailbox, Bob may connect the address,
    # but her tracked threads stay hers (blind), not his.
    await store.mailboxes.set_kind(team.alice_box, "team")
    await store.mailboxes.set_kind(team.alice_box, "personal")
    await store.mailboxes.remove(team.alice_box)
    bobs = await store.mailboxes.add("maildir", "alice@f.example", {}, user_id=team.bob)
    tracked = await store.db.fetchall("SELECT DISTINCT tracked_mailbox_id FROM threads")
    assert bobs not in {r[0] for r in tracked}
    await store.close()


async def test_only_an_admin_deletes_a_contact_holding_colleagues_mail(tmp_path: Path) -> None:
    team = await _team(tmp_path)
    store = team.store
    anna = (await store.contacts.lookup(["anna@k.example"]))["anna@k.example"]
    with pytest.raises(Forbidden) as refused:
        await store.by_hand.delete_contact(anna, member=team.bob)
    assert refused.value.data["reason"] == "not_owner"
    assert (await store.contacts.get(anna)).id == anna
    own = await store.contacts.create("olle@o.example")
    assert (await store.by_hand.delete_contact(own, member=team.bob)).entries_removed == 0
    assert (await store.by_hand.delete_contact(anna)).entries_removed == 3
    await store.close()


async def test_a_message_names_no_folder_of_a_colleagues_mailbox(tmp_path: Path) -> None:
    """Bob's reply, stored from his folder "Kunder/Hemligt", is everyone's to read: not
    the name of his folder."""
    team = await _team(tmp_path)
    store, kept = team.store, team.ids["kept@k.example"]
    mine = await store.messages.get(kept, team.bob)
    assert (mine.mailbox_id, mine.folder) == (team.bob_box, "Kunder/Hemligt")
    for member in (team.alice, team.carl):
        seen = await store.messages.get(kept, member)
        assert (seen.mailbox_id, seen.folder, seen.folders) == (None, None, [])
        assert "hemligt" not in _text(seen)
    await store.close()


async def test_a_message_id_alone_shows_no_colleagues_mail(tmp_path: Path) -> None:
    """Bob knows the Message-ID of Alice's hidden mail (Anna's answers name it): a
    message of his own carrying it gives him no location on hers, so nothing of it
    to read (it is a message of his own: `test_team_forged_copies.py`); a true copy
    of hers (the same sender, Date, subject, To and Cc: Bob had it as Bcc) does."""
    team = await _team(tmp_path)
    store, secret = team.store, team.ids["secret@f.example"]
    await _round(
        store, team.bob_box, BOB_RULES, "everyone",
        ("Drafts", "From: bob@f.example", "To: bob@f.example", "Subject: Secret plans",
         "Message-ID: <secret@f.example>", "Date: Sun, 01 Jan 2023 00:00:00 +0000"),
    )  # fmt: skip
    assert not await store.messages.visible(secret, team.bob)
    assert await store.messages.folders(secret, team.bob) == []
    await _round(
        store, team.bob_box, BOB_RULES, "everyone",
        ("Archive", "From: alice@f.example", "To: anna@k.example",
         "Subject: Secret plans", "Message-ID: <secret@f.example>",
         "Date: Mon, 02 Jan 2023 09:00:00 +0000"),
    )  # fmt: skip
    assert await store.messages.visible(secret, team.bob)
    assert await store.messages.folders(secret, team.bob) == ["Archive"]
    await store.close()


def _archived(message_id: str, subject: str, sender: str, date: str, to: str = "") -> ImportItem:
    """An archived message (as `archive.export` gives it) on the timeline of contact 7,
    Anna; no raw bytes, so it is keyed by its Message-ID."""
    message = t.ArchiveMessage(
        id=1, message_id=message_id, subject=subject,
        from_=t.Participant(email=sender, name=""),
        to=[t.Participant(email=to, name="")] if to else [], cc=[],
        date=date, date_ts=datetime.fromisoformat(date).timestamp(), direction="inbound",
        reason="manual", visibility="everyone", snippet="", body_text="", new_text="",
        attachments=[], entries=[t.ArchiveEntry(contact_id=7, reason="manual")],
    )  # fmt: skip
    key = message_id.strip("<>")
    return ImportItem(message, key, b"", None, StoredBody("", "", "", ()))


ANNA_CARD = t.ArchiveContact(id=7, name="Anna", emails=["anna@k.example"])


async def _imported(store: Store, item: ImportItem, member: int, admin: bool) -> tuple[int, ...]:
    done = await store.archive.import_batch([ANNA_CARD], [item], member, admin=admin)
    return (done.messages_created, done.messages_existing, done.entries_created)


async def test_an_import_of_hidden_mail_answers_as_for_absent_mail(tmp_path: Path) -> None:
    """An archive naming Bob's unlogged message (hidden from Carl and Alice), with its
    sender, Date and subject: Carl's import answers exactly as his import of a message
    the store does not hold (created, then existing the second time), and leaves Bob's
    message as it is, stored once; Alice's, an admin's, logs it, answering alike."""
    team = await _team(tmp_path)
    store, changed = team.store, team.ids["changed@k.example"]
    date = "2023-01-02T11:00:00+00:00"
    hidden = _archived("<changed@k.example>", "Lunch?", "anna@k.example", date, "alice@f.example")
    absent = _archived("<absent@k.example>", "Lunch?", "anna@k.example", date, "alice@f.example")
    for item in (hidden, absent):  # the same headers as Bob's copy: the same email
        item.message.cc.append(t.Participant(email="bob@f.example", name=""))
    for item in (hidden, absent):
        assert await _imported(store, item, team.carl, False) == (1, 0, 1)
        assert await _imported(store, item, team.carl, False) == (0, 1, 0)
    assert not await store.messages.is_logged(changed)
    assert not await store.messages.visible(changed, team.carl)
    count = "SELECT count(*) FROM messages WHERE message_id = '<changed@k.example>'"
    assert await store.db.fetchval(count) == 1
    assert await _imported(store, hidden, team.alice, True) == (1, 0, 1)
    assert await store.messages.is_logged(changed)
    assert await store.db.fetchval(count) == 1
    # A message Carl may see (Bob's logged reply, everyone's) is as it was: existing.
    kept = _archived(
        "<kept@k.example>", "Re: Secret plans", "anna@k.example", "2023-01-02T10:00:00+00:00",
        "alice@f.example",
    )  # fmt: skip
    kept.message.cc.append(t.Participant(email="bob@f.example", name=""))
    assert await _imported(store, kept, team.carl, False) == (0, 1, 0)
    await store.close()


async def test_an_import_tells_a_message_by_its_identity(tmp_path: Path) -> None:
    """A message of Bob's own under the Message-ID of Alice's email cannot take over
    her archived copy of it on import, nor the reverse: each is stored as a message of
    its own, as a sync round stores them (`foreign_copies.py`)."""
    team = await _team(tmp_path)
    store = team.store
    forged = _archived("<deal@k.example>", "Hello", "bob@f.example", "2023-01-05T09:00:00+00:00")
    real = _archived(
        "<deal@k.example>", "Re: Secret plans", "anna@k.example", "2023-01-04T09:00:00+00:00",
        "alice@f.example",
    )  # fmt: skip
    assert await _imported(store, forged, team.bob, False) == (1, 0, 1)
    # Alice (an admin) imports her real email: not Bob's message logged on her contact.
    assert await _imported(store, real, team.alice, True) == (1, 0, 1)
    rows = await store.db.fetchall(
        "SELECT owner_id, message_key, subject FROM messages"
        " WHERE message_id = '<deal@k.example>' ORDER BY id"
    )
    assert [(r[0], r[2]) for r in rows] == [(team.bob, "Hello"), (team.alice, "Re: Secret plans")]
    assert rows[1][1].startswith("deal@k.example #")
    # Each imports theirs again: found, under whichever key it has.
    assert await _imported(store, real, team.alice, True) == (0, 1, 0)
    assert await _imported(store, forged, team.bob, False) == (0, 1, 0)
    # Alice's (owner) `Secret plans` imported by Bob with other headers: his own, not hers.
    other = _archived(
        "<secret@f.example>", "Secret plans", "bob@f.example", "2023-01-02T09:00:00+00:00"
    )
    assert await _imported(store, other, team.bob, False) == (1, 0, 1)
    secret = team.ids["secret@f.example"]
    entries = "SELECT count(*) FROM timeline_entries WHERE message = ?"
    assert await store.db.fetchval(entries, (secret,)) == 1  # Anna's, from Alice's BCC
    assert await store.messages.resolve(None, "<secret@f.example>", team.bob) != secret
    await store.close()


def _zebra(sender: str, bcc: str, subject: str, key: str, day: int) -> tuple[str, ...]:
    return (
        "Sent", f"From: {sender}", "To: anna@k.example", f"Bcc: {bcc}", f"Subject: {subject}",
        f"Message-ID: <{key}@f.example>", f"Date: {day:02d} Jan 2023 09:00:00 +0000",
    )  # fmt: skip


async def _index(store: Store) -> None:
    """Store a body for each logged message still without one (what puts it in the
    search index), its subject as its text."""
    rows = await store.db.fetchall(
        "SELECT id, subject FROM messages WHERE logged = 1 AND body_state = 'headers'"
    )
    for row in rows:
        await store.messages.replace_body(row[0], StoredBody(row[1], row[1], row[1], ()))


async def test_search_orders_hits_by_what_its_reader_may_see(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Relevance or newest first is chosen by the matches the caller may see: a
    colleague's hidden mail changes neither the hits a member gets nor their order."""
    monkeypatch.setattr(search, "RANKED", 3)
    team = await _team(tmp_path)
    store = team.store
    await _round(
        store, team.bob_box, BOB_RULES, "everyone",
        _zebra("bob@f.example", "log-b@bcc.example", "zebra zebra zebra", "z-old", 1),
        _zebra("bob@f.example", "log-b@bcc.example",
               "zebra and a longer subject of many other words", "z-new", 5),
    )  # fmt: skip
    await _index(store)
    ids = {
        str(r[0]): int(r[1])
        for r in await store.db.fetchall("SELECT message_key, id FROM messages")
    }
    readers = (team.bob, team.carl)
    before = {
        r: [h.id for h in (await store.messages.search("zebra", 50, r)).hits] for r in readers
    }
    # Two matches, both visible: by relevance, the older one first.
    assert before[team.carl] == before[team.bob] == [ids["z-old@f.example"], ids["z-new@f.example"]]
    await _round(
        store, team.alice_box, ALICE_RULES, "owner",
        _zebra("alice@f.example", "log-a@bcc.example", "zebra", "z-hidden1", 6),
        _zebra("alice@f.example", "log-a@bcc.example", "zebra", "z-hidden2", 7),
    )  # fmt: skip
    await _index(store)
    for reader in readers:
        hits = (await store.messages.search("zebra", 50, reader)).hits
        assert [h.id for h in hits] == before[reader], reader
    # Alice sees all four (more than RANKED): newest first.
    mine = (await store.messages.search("zebra", 50, team.alice)).hits
    assert [h.id for h in mine] == [
        ids.get(k) or (await store.messages.resolve(None, f"<{k}>", team.alice))
        for k in (
            "z-hidden2@f.example",
            "z-hidden1@f.example",
            "z-new@f.example",
            "z-old@f.example",
        )
    ]
    await store.close()


async def test_merge_and_delete_count_only_what_their_caller_may_see(tmp_path: Path) -> None:
    """Merging or deleting a contact changes the shared record whole, hidden entries
    too, but the counts it reports are of the entries the caller may see."""
    team = await _team(tmp_path)
    store = team.store
    found = await store.contacts.lookup(["anna@k.example", "berit@k2.example"])
    anna, berit = found["anna@k.example"], found["berit@k2.example"]
    # Berit's only entry is Alice's hidden mail: Bob merges her into Anna and is told
    # of no entry, yet it moved.
    merged = await store.by_hand.merge_contacts(berit, anna, viewer=team.bob)
    assert (merged.entries_moved, merged.duplicates) == (0, 0)
    entries = await store.db.fetchval(
        "SELECT count(*) FROM timeline_entries WHERE contact_id = ?", (anna,)
    )
    assert entries == 4
    # Carl logs his own mail to Anna, hidden from the others; Alice (an admin) deletes
    # Anna: all five entries go, she is told of the four she sees.
    carl_box = await store.mailboxes.add("maildir", "carl@f.example", {}, user_id=team.carl)
    carl_rules = RuleSettings(
        bcc_address="log-c@bcc.example", own_addresses=frozenset({"carl@f.example"})
    )
    await _round(
        store, carl_box, carl_rules, "owner",
        _zebra("carl@f.example", "log-c@bcc.example", "Support case", "c1", 8),
    )  # fmt: skip
    deleted = await store.by_hand.delete_contact(anna, viewer=team.alice)
    assert (deleted.entries_removed, deleted.messages_unlogged) == (4, 4)
    assert not await store.db.fetchval("SELECT count(*) FROM timeline_entries")
    await store.close()


async def test_an_outage_of_a_colleagues_mailbox_is_told_without_which_or_when(
    tmp_path: Path,
) -> None:
    """Bob's mailbox (where Anna's thread is tracked) goes down and comes back with an
    answer that arrived meanwhile: Bob and Alice (an admin) read which mailbox, when
    and why; Carl, who sees the messages, reads "a colleague's mailbox" and no more."""
    team = await _team(tmp_path)
    store, kept = team.store, team.ids["kept@k.example"]
    anna = (await store.contacts.lookup(["anna@k.example"]))["anna@k.example"]
    await store.mailboxes.set_status(team.bob_box, "auth_failed", "password expired")
    secret_words = ("bob@f.example", "auth_failed", "password expired", f"mailbox {team.bob_box}")
    for member in (team.bob, team.alice):
        told = await store.messages.explain(kept, member)
        assert "bob@f.example" in told.evidence.details["mailbox_unavailable"], member
        [blind] = await store.outages.blind_threads_of_contact(anna, member)
        assert (blind.mailbox_id, blind.address, blind.cause) == (
            team.bob_box, "bob@f.example", "auth_failed",
        )  # fmt: skip
    told = await store.messages.explain(kept, team.carl)
    assert told.evidence.details["mailbox_unavailable"] == "a colleague's mailbox unavailable"
    assert "blind" in told.summary
    assert not [w for w in secret_words if w in _text(told)]
    [blind] = await store.outages.blind_threads_of_contact(anna, team.carl)
    assert (blind.mailbox_id, blind.address, blind.since, blind.cause, blind.detail) == (
        0, "a colleague's mailbox", "", "unavailable", "",
    )  # fmt: skip
    # An answer arrives while it is down, read when it comes back: read late.
    await _round(
        store, team.bob_box, BOB_RULES, "everyone",
        ("INBOX", "From: anna@k.example", "To: alice@f.example", "Cc: bob@f.example",
         "Subject: Re: Secret plans", "Message-ID: <late@k.example>",
         "In-Reply-To: <kept@k.example>", f"Date: {formatdate(time.time() + 60)}"),
    )  # fmt: skip
    await store.mailboxes.set_status(team.bob_box, "idle")
    late = await store.messages.resolve(None, "<late@k.example>", team.carl)
    for member in (team.bob, team.alice):
        told = await store.messages.explain(late, member)
        assert "auth_failed" in told.evidence.details["read_late"], member
    told = await store.messages.explain(late, team.carl)
    assert "a colleague's mailbox" in told.evidence.details["read_late"]
    assert not [w for w in secret_words if w in _text(told)]
    assert not re.search(r"\d{4}-\d\d-\d\dT", told.evidence.details["read_late"] + told.summary)
    await store.close()


async def test_a_bcc_line_is_its_senders_alone(tmp_path: Path) -> None:
    """Alice's Sent copy names whom she sent it to in secret (`Bcc:`, folded over two
    lines here): her colleagues may read the email (visibility `everyone`) and its
    headers, never that line; Alice reads it as stored, in `messages.headers` and in the
    header block `archive.export` rebuilds from."""
    team = await _team(tmp_path)
    store = team.store
    await _round(
        store, team.alice_box, ALICE_RULES, "everyone",
        ("Sent", "From: alice@f.example", "To: anna@k.example",
         "Bcc: log-a@bcc.example,\r\n boss@f.example", "Subject: Offer",
         "Message-ID: <offer@f.example>", "Date: Wed, 04 Jan 2023 09:00:00 +0000"),
    )  # fmt: skip
    offer = await store.db.fetchval("SELECT id FROM messages WHERE message_key = 'offer@f.example'")
    mine = (await store.messages.headers(offer, team.alice)).raw
    assert "Bcc: log-a@bcc.example,\r\n boss@f.example\r\n" in mine
    for member in (team.bob, team.carl):
        seen = (await store.messages.headers(offer, member)).raw
        assert "bcc" not in seen.lower() and "boss@" not in seen
        assert seen == mine.replace("Bcc: log-a@bcc.example,\r\n boss@f.example\r\n", "")
    for member, shown in ((team.alice, True), (team.bob, False), (team.carl, False)):
        _, _, _, headers = await store.archive.page(None, None, None, 50, member)
        assert (b"boss@f.example" in headers[offer]) is shown
    await store.close()
