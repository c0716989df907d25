"""R15 for a message stored first from a member's own mailbox, then found in the team
mailbox (the customer wrote to both): logged into its conversation once it is seen
there, exactly once, on a real store (both stores)."""

from __future__ import annotations

from pathlib import Path

import pytest

from loggbok.daemon.store.errors import NotFound
from loggbok.daemon.store.store import Store
from tests.unit.test_team_leaks import BOB_RULES, HELP_RULES, _round, _team

QUESTION = (
    "From: Nils Nyman <nils@n.example>", "To: help@f.example", "Cc: bob@f.example",
    "Subject: Printer", "Message-ID: <q1@n.example>", "Date: Wed, 04 Jan 2023 09:00:00 +0000",
)  # fmt: skip


async def _decisions(store: Store, key: str) -> list[tuple[str, int]]:
    rows = await store.db.fetchall(
        "SELECT d.reason, d.logged FROM decisions d JOIN messages m ON m.id = d.message"
        " WHERE m.message_key = ? ORDER BY d.id",
        (key,),
    )
    return [(r[0], r[1]) for r in rows]


async def test_a_message_decided_in_a_members_mailbox_is_logged_when_the_team_sees_it(
    tmp_path: Path,
) -> None:
    team = await _team(tmp_path)
    store = team.store
    help_box = await store.mailboxes.add("maildir", "help@f.example", {}, user_id=1, kind="team")
    await _round(store, team.bob_box, BOB_RULES, "owner", ("INBOX", *QUESTION))
    assert await _decisions(store, "q1@n.example") == [("no_contact_participant", 0)]
    written = await _round(store, help_box, HELP_RULES, "team", ("INBOX", *QUESTION))
    assert written.plan.messages == []  # stored already: only a location of the team mailbox
    [message] = written.team_logged
    assert [r.message_id for r in written.relogged] == [message]  # its body is fetched
    assert await _decisions(store, "q1@n.example") == [
        ("no_contact_participant", 0),
        ("team_inbox", 1),
    ]
    nils = (await store.contacts.lookup(["nils@n.example"]))["nils@n.example"]
    row = await store.db.fetchone(
        "SELECT m.logged, m.reason, m.visibility, m.owner_id, t.tracked, t.tracked_mailbox_id"
        " FROM messages m JOIN threads t ON t.id = m.thread_id WHERE m.id = ?",
        (message,),
    )
    assert tuple(row) == (1, "team_inbox", "team", team.bob, 1, help_box)
    # Seen again (another folder of the team mailbox, another round): nothing more.
    again = await _round(store, help_box, HELP_RULES, "team", ("Archive", *QUESTION))
    assert (again.team_logged, again.relogged) == ([], [])
    assert len(await _decisions(store, "q1@n.example")) == 2
    entries = await store.db.fetchall(
        "SELECT contact_id FROM timeline_entries WHERE message = ?", (message,)
    )
    assert [r[0] for r in entries] == [nils]
    # Alice, in Bob's team, sees it in the conversation; Carl (Support) does not: to him
    # the team mailbox, holding nothing he may see, is no mailbox (as one that is not).
    [conversation] = (await store.conversations.page(help_box, 50, None, 1)).conversations
    assert conversation.contact_ids == [nils]
    with pytest.raises(NotFound) as hidden:
        await store.conversations.page(help_box, 50, None, team.carl)
    with pytest.raises(NotFound) as missing:
        await store.conversations.page(10**9, 50, None, team.carl)
    assert (str(hidden.value), hidden.value.data) == (
        str(missing.value).replace(str(10**9), str(help_box)),
        {"id": help_box},
    )
    await store.close()


async def test_a_team_mailboxs_own_message_is_not_decided_twice(tmp_path: Path) -> None:
    """The other order: the team mailbox first (team_inbox), then the member's own
    mailbox finds it stored: one decision, as before."""
    team = await _team(tmp_path)
    store = team.store
    help_box = await store.mailboxes.add("maildir", "help@f.example", {}, user_id=1, kind="team")
    first = await _round(store, help_box, HELP_RULES, "team", ("INBOX", *QUESTION))
    assert [m.decision.reason for m in first.plan.messages] == ["team_inbox"]
    later = await _round(store, team.bob_box, BOB_RULES, "owner", ("INBOX", *QUESTION))
    assert later.team_logged == []
    assert await _decisions(store, "q1@n.example") == [("team_inbox", 1)]
    await store.close()
