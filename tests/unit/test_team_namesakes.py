"""A reply threads with the right one of two messages sharing a Message-ID: on a real
store (both stores).

Alice's real email and Bob's message of his own carry one Message-ID
(<plan@f.example>): whichever was stored second has a key of its own
(`store/foreign_copies.py`). Before, a reply naming it threaded with the one
stored first, whoever's mailbox it arrived in: Anna's answer to Alice's email
joined Bob's thread (and was decided against his subject), Berit's answer to
Bob's joined Alice's hidden thread. Now the replying mailbox's own message comes
first, then its member's, then the one the reply matches (subject, sender among
its participants), then the first stored (`rules/namesakes.py`); in a round, in
the same batch, for late replies and in a redecide replay alike.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from loggbok.daemon.store.redecisions import Scope
from loggbok.daemon.store.store import Store
from loggbok.daemon.sync.redecide import redecide
from loggbok.daemon.sync.service import SyncService
from loggbok.protocol import types as t
from tests.unit.test_team_leaks import ALICE_RULES, BOB_RULES, CARL_RULES, Team, _round, _team

BOBS = (
    "Sent", "From: bob@f.example", "To: berit@k2.example", "Bcc: log-b@bcc.example",
    "Subject: Offer", "Message-ID: <plan@f.example>", "Date: Thu, 05 Jan 2023 09:00:00 +0000",
)  # fmt: skip
ALICES = (
    "Sent", "From: alice@f.example", "To: anna@k.example", "Bcc: log-a@bcc.example",
    "Subject: Plan", "Message-ID: <plan@f.example>", "Date: Thu, 05 Jan 2023 10:00:00 +0000",
)  # fmt: skip
ANNAS_ANSWER = (
    "INBOX", "From: anna@k.example", "To: alice@f.example", "Subject: Re: Plan",
    "Message-ID: <re-plan@k.example>", "In-Reply-To: <plan@f.example>",
    "Date: Thu, 05 Jan 2023 11:00:00 +0000",
)  # fmt: skip
BERITS_ANSWER = (
    "INBOX", "From: berit@k2.example", "To: bob@f.example", "Subject: Re: Offer",
    "Message-ID: <re-offer@k2.example>", "In-Reply-To: <plan@f.example>",
    "Date: Thu, 05 Jan 2023 12:00:00 +0000",
)  # fmt: skip


async def _message(store: Store, where: str, *args: object) -> tuple[int, int, str, int]:
    """(id, thread, reason, logged) of the message `where` finds."""
    row = await store.db.fetchone(
        f"SELECT id, thread_id, reason, logged FROM messages WHERE {where}", args
    )
    assert row is not None, where
    return int(row[0]), int(row[1]), str(row[2]), int(row[3])


async def _plans(team: Team) -> tuple[int, int]:
    """The threads of Alice's and Bob's <plan@f.example>."""
    alices = await _message(team.store, "message_id = ? AND owner_id = ?", "<plan@f.example>", 1)
    bobs = await _message(
        team.store, "message_id = ? AND owner_id = ?", "<plan@f.example>", team.bob
    )
    assert alices[1] != bobs[1]
    return alices[1], bobs[1]


async def test_a_reply_answers_the_namesake_in_its_own_mailbox(tmp_path: Path) -> None:
    """Bob's message is stored first; Alice's real email and Anna's answer come in one
    batch of Alice's (the answer finds the email planned just before it), Berit's
    answer in a round of Bob's."""
    team = await _team(tmp_path)
    store = team.store
    await _round(store, team.bob_box, BOB_RULES, "everyone", BOBS)
    await _round(store, team.alice_box, ALICE_RULES, "owner", ALICES, ANNAS_ANSWER)
    await _round(store, team.bob_box, BOB_RULES, "everyone", BERITS_ANSWER)
    alices, bobs = await _plans(team)
    anna = await _message(store, "message_id = ?", "<re-plan@k.example>")
    assert (anna[1], anna[2], anna[3]) == (alices, "reply_in_tracked_thread", 1)
    berit = await _message(store, "message_id = ?", "<re-offer@k2.example>")
    assert (berit[1], berit[2], berit[3]) == (bobs, "reply_in_tracked_thread", 1)
    told = await store.messages.explain(anna[0], team.alice)
    assert told.evidence.matched_message_id == "<plan@f.example>"  # as the reply names it
    await store.close()


async def test_a_reply_stored_later_answers_its_mailboxs_namesake(tmp_path: Path) -> None:
    """Alice's email is stored first now; Bob's message has the key of its own, and
    Berit's answer to it, in Bob's mailbox, joins his thread, not Alice's hidden one."""
    team = await _team(tmp_path)
    store = team.store
    await _round(store, team.alice_box, ALICE_RULES, "owner", ALICES)
    await _round(store, team.bob_box, BOB_RULES, "everyone", BOBS)
    await _round(store, team.bob_box, BOB_RULES, "everyone", BERITS_ANSWER)
    await _round(store, team.alice_box, ALICE_RULES, "owner", ANNAS_ANSWER)
    alices, bobs = await _plans(team)
    berit = await _message(store, "message_id = ?", "<re-offer@k2.example>")
    assert (berit[1], berit[2]) == (bobs, "reply_in_tracked_thread")
    anna = await _message(store, "message_id = ?", "<re-plan@k.example>")
    assert (anna[1], anna[2]) == (alices, "reply_in_tracked_thread")
    await store.close()


async def test_a_third_members_copy_answers_the_namesake_it_matches(tmp_path: Path) -> None:
    """Carl, Cc'd on Anna's answer, holds neither message: the answer threads with the
    one whose subject it keeps and whose sender it names (Alice's), not the one stored
    first (Bob's)."""
    team = await _team(tmp_path)
    store = team.store
    carl_box = await store.mailboxes.add("maildir", "carl@f.example", {}, user_id=team.carl)
    await _round(store, team.bob_box, BOB_RULES, "everyone", BOBS)
    await _round(store, team.alice_box, ALICE_RULES, "owner", ALICES)
    copy = (*ANNAS_ANSWER, "Cc: carl@f.example")
    await _round(store, carl_box, CARL_RULES, "everyone", copy)
    alices, _ = await _plans(team)
    anna = await _message(store, "message_id = ?", "<re-plan@k.example>")
    assert (anna[1], anna[2]) == (alices, "reply_in_tracked_thread")
    await store.close()


async def _quiet(method: str, params: object) -> None:
    return None


async def test_a_replay_keeps_namesakes_apart(tmp_path: Path) -> None:
    """messages.redecide replays stored mail under each message's stored key: both
    namesakes are planned (before, the second was taken for the first and the replay
    failed), the thread keys stay theirs, and the answers stay in their threads."""
    team = await _team(tmp_path)
    store = team.store
    await _round(store, team.bob_box, BOB_RULES, "everyone", BOBS)
    await _round(store, team.alice_box, ALICE_RULES, "owner", ALICES, ANNAS_ANSWER)
    await _round(store, team.bob_box, BOB_RULES, "everyone", BERITS_ANSWER)
    keys_before = await store.db.fetchall("SELECT key, thread_id, message FROM thread_keys")
    sync = SyncService(store, _quiet, lambda *_: None)  # type: ignore[arg-type]
    for member, bcc in ((team.alice, "log-a@bcc.example"), (team.bob, "log-b@bcc.example")):
        await store.settings.update(t.SettingsSetParams(bcc_address=bcc), member)
        # Everyone's mail by one member's settings: other BCC addresses (changes), but planned.
        assert (await redecide(store, sync, Scope(), dry_run=True, user_id=member)).examined == 9
        dry = await redecide(store, sync, Scope(owner=member), dry_run=True, user_id=member)
        assert dry.examined and not dry.changed, dry
        done = await redecide(store, sync, Scope(owner=member), dry_run=False, user_id=member)
        assert done.examined and not done.changed, done
    keys_after = await store.db.fetchall("SELECT key, thread_id, message FROM thread_keys")
    assert sorted(map(tuple, keys_after)) == sorted(map(tuple, keys_before))
    alices, bobs = await _plans(team)
    assert (await _message(store, "message_id = ?", "<re-plan@k.example>"))[1] == alices
    assert (await _message(store, "message_id = ?", "<re-offer@k2.example>"))[1] == bobs
    await store.close()


async def test_a_store_from_before_namesakes_lists_them(tmp_path: Path, store_backend: str) -> None:
    """Migration 17 lists the messages that share a Message-ID in a store made before it
    (both stores): then a reply arriving later still finds its mailbox's namesake."""
    team = await _team(tmp_path)
    store = team.store
    await _round(store, team.bob_box, BOB_RULES, "everyone", BOBS)
    await _round(store, team.alice_box, ALICE_RULES, "owner", ALICES)
    listed = "SELECT key, message FROM namesakes ORDER BY message"
    before = [tuple(r) for r in await store.db.fetchall(listed)]
    assert [k for k, _ in before] == ["plan@f.example", "plan@f.example"]
    async with store.db.transaction() as tx:  # back to migration 16
        await tx.execute("DROP TABLE namesakes")
        await tx.execute("DROP TABLE hidden_imports")
        if store_backend == "sqlite":  # and 18's
            await tx.execute("DROP INDEX contacts_listed")
            await tx.execute("ALTER TABLE contacts DROP COLUMN search_text")
            await tx.execute(
                "CREATE INDEX contacts_listed"
                " ON contacts((last_activity IS NULL), last_activity DESC, lower(name), id)"
            )
        if store_backend == "postgres":
            await tx.execute("UPDATE schema_version SET version = 16")
    await store.close()
    if store_backend == "sqlite":
        path = tmp_path / "loggbok.sqlite3"
        with sqlite3.connect(path) as conn:
            conn.execute("PRAGMA user_version = 16")
        conn.close()
    store = await Store.open(tmp_path)
    assert [tuple(r) for r in await store.db.fetchall(listed)] == before
    team.store = store
    await _round(store, team.alice_box, ALICE_RULES, "owner", ANNAS_ANSWER)
    alices, _ = await _plans(team)
    anna = await _message(store, "message_id = ?", "<re-plan@k.example>")
    assert (anna[1], anna[2]) == (alices, "reply_in_tracked_thread")
    await store.close()
