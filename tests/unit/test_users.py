"""Users on a real store: the first user claimed by `--user`, members added,
changed and deactivated with an admin kept; R12 checked by a round when it writes
(a seat changed while a mailbox is connected); the config file's `user` and `database` parsed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from loggbok.daemon.config.parse import ConfigInvalid, DaemonOptions, daemon_options, parse
from loggbok.daemon.store.errors import Conflict, NotFound
from loggbok.daemon.store.store import Store
from loggbok.protocol import types as t
from tests.unit.test_decider import RULES, _batches, _reasons


async def test_the_first_user_is_claimed_then_members_are_added(
    tmp_path: Path, another_database: Callable[[], str | None]
) -> None:
    store = await Store.open(tmp_path)
    first = await store.users.serve(None)
    assert (first.id, first.email, first.admin, first.seat) == (1, None, True, "core")
    claimed = await store.users.serve("Alice <ALICE@firma.example>")
    assert (claimed.id, claimed.email) == (1, "alice@firma.example")
    assert (await store.users.serve("alice@firma.example")).id == 1
    with pytest.raises(NotFound):
        await store.users.serve("mallory@firma.example")  # the first user has an address now
    bob = await store.users.add(
        t.UsersAddParams(email="bob@firma.example", seat="view_only", team="Sales")
    )
    assert (bob.name, bob.team, bob.admin, bob.can_log) == ("bob", "Sales", False, False)
    with pytest.raises(Conflict):
        await store.users.add(t.UsersAddParams(email="BOB@firma.example", seat="core"))
    bob = await store.users.update(t.UsersUpdateParams(id=bob.id, seat="sales", team=None))
    assert (bob.seat, bob.team, bob.can_log) == ("sales", None, True)
    assert (await store.users.serve("bob@firma.example")).id == bob.id
    with pytest.raises(NotFound):
        await store.users.serve(None)  # several members: each daemon names its own
    # The store keeps an active admin: not the last one deactivated or demoted.
    with pytest.raises(Conflict):
        await store.users.deactivate(1)
    with pytest.raises(Conflict):
        await store.users.update(t.UsersUpdateParams(id=1, admin=False))
    await store.users.update(t.UsersUpdateParams(id=bob.id, admin=True))
    alice = await store.users.deactivate(1)
    assert (alice.active, alice.can_log) == (False, False)
    assert not await store.users.is_admin(1)
    # A second store: while its first user has no address, a member added first means
    # nobody may claim it by naming an unknown address.
    (tmp_path / "other").mkdir()
    other = await Store.open(tmp_path / "other", another_database())
    await other.users.add(t.UsersAddParams(email="carl@firma.example", seat="core"))
    with pytest.raises(NotFound):
        await other.users.serve("mallory@firma.example")
    await other.close()
    assert [u.email for u in await store.users.list()] == [
        "alice@firma.example",
        "bob@firma.example",
    ]
    await store.close()


async def test_a_seat_changed_during_a_round_logs_nothing_more(tmp_path: Path) -> None:
    """The round began while the user could log; the seat turned view-only before its
    write: the write decides by the seat as it is then (R12), plan or no plan."""
    store = await Store.open(tmp_path)
    mailbox = await store.mailboxes.add("maildir", "me@f.example", {})
    sent = await store.mailboxes.folder(mailbox, "Sent", "sent")
    inbox = await store.mailboxes.folder(mailbox, "INBOX", "inbox")
    first, _ = _batches(sent.id, inbox.id)
    rounds = store.rounds.begin(mailbox, RULES, {sent.id: "Sent", inbox.id: "INBOX"}, "team")
    snapshot = await rounds.snapshot(first)
    from loggbok.daemon.rules.planner import plan_batch

    planned = plan_batch(first, snapshot, RULES, mailbox)
    assert planned.messages[0].decision.logged  # as planned, before the change
    await store.users.update(t.UsersUpdateParams(id=1, seat="view_only"))
    written = await rounds.write(first, planned, [])
    assert written.replanned
    assert (await _reasons(store))["<offer@f.example>"][:2] == (0, "seat_cannot_log")
    row = await store.db.fetchone("SELECT owner_id, visibility FROM messages")
    assert row is not None and (row[0], row[1]) == (1, "team")
    await store.close()


def test_the_config_names_user_and_database() -> None:
    text = 'user = "me@firma.example"\ndatabase = "/srv/team.sqlite3"\n'
    parsed = parse(text)
    assert (parsed.user, parsed.database) == ("me@firma.example", "/srv/team.sqlite3")
    assert daemon_options(text) == DaemonOptions("me@firma.example", "/srv/team.sqlite3")
    # A mistake elsewhere is the config service's to report; not the daemon table's.
    assert daemon_options("[settings]\nbody_limit_bytes = -1\n") == DaemonOptions()
    assert daemon_options("not toml [") == DaemonOptions()
    for bad in ('user = "nobody"\n', "user = 1\n", 'user = "a@b"\n[daemon\n'):
        with pytest.raises(ConfigInvalid):
            daemon_options(bad)


async def test_what_a_daemon_tells_follows_visibility(tmp_path: Path) -> None:
    """The queries behind notifications (`entries_of`, `contacts_of`) and `visible`
    apply the one rule: the owner's team sees `team`, no one else sees `owner`."""
    store = await Store.open(tmp_path)
    await store.users.serve("alice@firma.example")
    await store.users.update(t.UsersUpdateParams(id=1, team="Sales"))
    bob = await store.users.add(t.UsersAddParams(email="bob@f.example", seat="core", team="Sales"))
    carl = await store.users.add(t.UsersAddParams(email="carl@f.example", seat="core"))
    mailbox = await store.mailboxes.add("maildir", "me@f.example", {}, user_id=1)
    sent = await store.mailboxes.folder(mailbox, "Sent", "sent")
    inbox = await store.mailboxes.folder(mailbox, "INBOX", "inbox")
    first, _ = _batches(sent.id, inbox.id)
    rounds = store.rounds.begin(mailbox, RULES, {sent.id: "Sent", inbox.id: "INBOX"}, "team")
    written = await rounds.write(first, None, [])
    message = written.plan.messages[0].id
    for viewer, sees in ((1, True), (bob.id, True), (carl.id, False)):
        assert await store.messages.visible(message, viewer) is sees
        assert bool(await store.timeline.entries_of([message], viewer)) is sees
        assert bool(await store.timeline.contacts_of([message], viewer)) is sees
    await store.messages.set_visibility(message, "owner", 1)
    assert not await store.timeline.entries_of([message], bob.id)
    assert await store.timeline.entries_of([message], 1)
    await store.close()
