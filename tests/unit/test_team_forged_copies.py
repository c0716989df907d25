"""A forged copy cannot take over a colleague's email: on a real store (both stores).

Bob knows the Message-ID of an answer Anna is sending Alice (say, from an earlier
thread's References) and puts a message of his own carrying it in his mailbox.
Before: when Bob's copy was stored first, Alice's real email, arriving later, was
refused a location on it (it differed) and, the store keeping one message per
Message-ID, was lost: neither stored nor decided nor on Anna's timeline. Now a
message whose Message-ID is another member's different message (sender, Date,
subject, To, Cc) is a message of its own (`store/foreign_copies.py`), whichever
came first; the same real email in a third member's mailbox is still one message
with two locations.
"""

from __future__ import annotations

from pathlib import Path

from loggbok.daemon.store.store import Store
from tests.unit.test_team_leaks import ALICE_RULES, BOB_RULES, CARL_RULES, Team, _round, _team

FORGED = (
    "Drafts", "From: anna@k.example", "To: alice@f.example", "Subject: Re: Secret plans",
    "Message-ID: <deal@k.example>", "Date: Wed, 04 Jan 2023 08:00:00 +0000",
    "In-Reply-To: <secret@f.example>",
)  # fmt: skip
REAL = (
    "From: anna@k.example", "To: alice@f.example", "Subject: Re: Secret plans",
    "Message-ID: <deal@k.example>", "Date: Wed, 04 Jan 2023 09:00:00 +0000",
    "In-Reply-To: <secret@f.example>",
)  # fmt: skip


async def _deals(store: Store) -> dict[int, tuple[int, str, int, str]]:
    """owner -> (id, key, logged, reason) of the messages with Anna's Message-ID."""
    rows = await store.db.fetchall(
        "SELECT id, owner_id, message_key, logged, reason FROM messages"
        " WHERE message_id = '<deal@k.example>'"
    )
    return {int(r[1]): (int(r[0]), str(r[2]), int(r[3]), str(r[4])) for r in rows}


async def _on_annas_timeline(store: Store, message: int) -> bool:
    row = await store.db.fetchone(
        "SELECT 1 FROM timeline_entries e JOIN contact_emails a ON a.contact_id = e.contact_id"
        " WHERE e.message = ? AND a.email = 'anna@k.example'",
        (message,),
    )
    return row is not None


async def _real_is_alices(team: Team) -> int:
    """Alice's real email is stored, hers, decided and logged as hers; Bob sees nothing of it."""
    store = team.store
    deals = await _deals(store)
    assert set(deals) == {team.alice, team.bob}
    real, _, logged, reason = deals[team.alice]
    assert (logged, reason) == (1, "reply_in_tracked_thread")
    assert await _on_annas_timeline(store, real)
    assert await store.messages.folders(real, team.alice) == ["INBOX"]
    assert not await store.messages.visible(real, team.bob)  # Alice's mailbox logs `owner`
    forged = deals[team.bob][0]
    assert await store.messages.folders(forged, team.alice) == []  # no location on Bob's
    assert await store.messages.resolve(None, "<deal@k.example>", team.alice) == real
    assert await store.messages.resolve(None, "<deal@k.example>", team.bob) == forged
    return real


async def test_a_forged_copy_stored_first_takes_nothing_from_the_real_email(tmp_path: Path) -> None:
    team = await _team(tmp_path)
    store = team.store
    await _round(store, team.bob_box, BOB_RULES, "everyone", FORGED)
    await _round(store, team.alice_box, ALICE_RULES, "owner", ("INBOX", *REAL))
    real = await _real_is_alices(team)
    # The same real email again (another folder of Alice's, and Carl had it as Bcc):
    # one message, more locations.
    carl_box = await store.mailboxes.add("maildir", "carl@f.example", {}, user_id=team.carl)
    await _round(store, carl_box, CARL_RULES, "everyone", ("INBOX", *REAL))
    await _round(store, team.alice_box, ALICE_RULES, "owner", ("Archive", *REAL))
    assert {o: d[0] for o, d in (await _deals(store)).items()}[team.alice] == real
    assert len(await _deals(store)) == 2
    assert await store.messages.folders(real, team.carl) == ["INBOX"]
    # Carl sees Bob's forged one too (logged, and Bob's mailbox logs `everyone`): the
    # one in his own mailbox comes first.
    forged = (await _deals(store))[team.bob][0]
    assert await store.messages.visible(forged, team.carl)
    assert await store.messages.resolve(None, "<deal@k.example>", team.carl) == real
    assert sorted(await store.messages.folders(real, team.alice)) == ["Archive", "INBOX"]
    await store.close()


async def test_a_forged_copy_stored_later_is_its_forgers_own(tmp_path: Path) -> None:
    team = await _team(tmp_path)
    store = team.store
    await _round(store, team.alice_box, ALICE_RULES, "owner", ("INBOX", *REAL))
    await _round(store, team.bob_box, BOB_RULES, "everyone", FORGED)
    await _real_is_alices(team)
    forged = (await _deals(store))[team.bob][0]
    assert await store.messages.folders(forged, team.bob) == ["Drafts"]  # kept, not lost
    await store.close()
