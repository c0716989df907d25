"""Seats and admins over the socket, two daemons on one store (R12).

A view-only member cannot connect a mailbox (a clear error with the reason
`seat_cannot_log`) and may not call admin methods (-32010); a member whose seat
turns view-only, or who is deactivated, while their mailbox is connected logs
nothing more; a `--user` who is not a member is refused at start. On both stores:
one shared SQLite file, or the test's PostgreSQL (`$LOGGBOK_DATABASE`).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from loggbok.protocol.errors import ErrorCode, RpcError
from tests.conftest import DaemonProcess
from tests.support.daemons import refused_start
from tests.support.mail import days_ago, deliver, make_maildir, make_message

ANNA = "Anna Berg <anna@kund.example>"
BOB = "Bob <bob@firma.example>"


def _database(workdir: Path) -> str:
    """The store the members share: the test's PostgreSQL, else one SQLite file."""
    return os.environ.get("LOGGBOK_DATABASE") or f"sqlite://{workdir}/team.db"


def _daemon(workdir: Path, name: str, database: str) -> DaemonProcess:
    (workdir / name).mkdir()
    return DaemonProcess(
        workdir / f"{name}.sock",
        workdir / name,
        args=["--user", f"{name}@firma.example", "--database", database],
    )


def _sent(maildir: Path, number: int) -> str:
    message_id = f"<offer{number}@firma.example>"
    raw = make_message(
        BOB,
        [ANNA],
        f"Offer {number}",
        message_id,
        bcc=["log-bob@bcc.example"],
        date=days_ago(5 - number),
    )
    deliver(maildir / ".Sent", raw)
    return message_id


async def _refused(client: Client, method: str, params: dict[str, object]) -> RpcError:
    with pytest.raises(RpcError) as caught:
        await client.call_raw(method, params)
    return caught.value


async def test_seats_and_admins(workdir: Path) -> None:
    database = _database(workdir)
    daemons = [_daemon(workdir, name, database) for name in ("alice", "viv", "bob")]
    alice_d, viv_d, bob_d = daemons
    clients: list[Client] = []
    try:
        alice_d.start()
        alice = await alice_d.client()
        clients.append(alice)
        await alice.call(m.USERS_ADD, t.UsersAddParams(email="viv@firma.example", seat="view_only"))
        bob_user = await alice.call(
            m.USERS_ADD, t.UsersAddParams(email="bob@firma.example", seat="sales", name="Bob")
        )
        await alice.call(m.CONTACTS_CREATE, t.ContactCreateParams(email="anna@kund.example"))

        viv_d.start()
        viv = await viv_d.client()
        clients.append(viv)
        maildir = make_maildir(workdir / "viv-mail", ".Sent")
        refused = await _refused(
            viv,
            "mailboxes.add",
            {"provider": "maildir", "path": str(maildir), "address": "viv@firma.example"},
        )
        assert refused.code == ErrorCode.FORBIDDEN
        assert refused.data["reason"] == "seat_cannot_log"
        assert "view-only" in refused.message
        for method, params in [
            ("users.list", {}),
            ("users.add", {"email": "x@firma.example", "seat": "core"}),
            ("users.update", {"id": 1, "seat": "view_only"}),
            ("users.deactivate", {"id": 1}),
            ("archive.backup", {"path": str(workdir / "backup")}),
        ]:
            error = await _refused(viv, method, params)
            assert error.code == ErrorCode.ADMIN_REQUIRED, method
        me = await viv.call(m.USERS_ME)
        assert (me.seat, me.can_log, me.admin) == ("view_only", False, False)
        assert (await alice.call(m.USERS_LIST)).users[1].email == "viv@firma.example"
        if database.startswith("sqlite://"):
            # One daemon per member and SQLite store: a second one for alice is refused.
            twice = await refused_start(workdir, "alice2", "alice@firma.example", database)
            assert twice.returncode == 2
            assert "another loggbokd serves alice@firma.example" in twice.stderr

        # Bob logs; his seat turns view-only while his mailbox is connected; then he is
        # deactivated: nothing of his is logged from then on.
        bob_d.start()
        bob = await bob_d.client()
        clients.append(bob)
        await bob.call(
            m.SETTINGS_SET,
            t.SettingsSetParams(
                bcc_address="log-bob@bcc.example", own_addresses=["bob@firma.example"]
            ),
        )
        bob_mail = make_maildir(workdir / "bob-mail", ".Sent")
        first = _sent(bob_mail, 1)
        added = await bob.call(
            m.MAILBOXES_ADD, t.MaildirAddParams(path=str(bob_mail), address="bob@firma.example")
        )
        await bob.call(m.MAILBOXES_SYNC, t.IdParams(id=added.id))
        explained = await bob.call(m.MESSAGES_EXPLAIN, t.MessageRefParams(message_id=first))
        assert (explained.logged, explained.reason) == (True, "bcc_address")
        # The mailbox's own visibility, from now on: viv (view-only) reads the first only.
        changed = await bob.call(
            m.MAILBOXES_UPDATE, t.MailboxUpdateParams(id=added.id, visibility="owner")
        )
        assert changed.visibility == "owner"
        private = _sent(bob_mail, 4)
        await bob.call(m.MAILBOXES_SYNC, t.IdParams(id=added.id))
        got = await bob.call(m.MESSAGES_GET, t.MessageRefParams(message_id=private))
        assert (got.logged, got.visibility) == (True, "owner")
        seen = await viv.call(m.MESSAGES_GET, t.MessageRefParams(message_id=first))
        assert seen.visibility == "everyone"
        hidden = await _refused(viv, "messages.get", {"message_id": private})
        assert hidden.code == ErrorCode.NOT_FOUND
        other = await _refused(alice, "mailboxes.update", {"id": added.id, "visibility": "team"})
        assert other.code == ErrorCode.NOT_FOUND  # not alice's mailbox

        await alice.call(m.USERS_UPDATE, t.UsersUpdateParams(id=bob_user.id, seat="view_only"))
        second = _sent(bob_mail, 2)
        await bob.call(m.MAILBOXES_SYNC, t.IdParams(id=added.id))
        explained = await bob.call(m.MESSAGES_EXPLAIN, t.MessageRefParams(message_id=second))
        assert (explained.logged, explained.reason) == (False, "seat_cannot_log")

        await alice.call(m.USERS_UPDATE, t.UsersUpdateParams(id=bob_user.id, seat="sales"))
        await alice.call(m.USERS_DEACTIVATE, t.IdParams(id=bob_user.id))
        third = _sent(bob_mail, 3)
        await bob.call(m.MAILBOXES_SYNC, t.IdParams(id=added.id))
        explained = await bob.call(m.MESSAGES_EXPLAIN, t.MessageRefParams(message_id=third))
        assert (explained.logged, explained.reason) == (False, "seat_cannot_log")
        refused = await _refused(bob, "messages.log", {"message_id": third, "contact_ids": [1]})
        assert (refused.code, refused.data["active"]) == (ErrorCode.FORBIDDEN, False)
        # The last active admin stays one.
        error = await _refused(alice, "users.deactivate", {"id": 1})
        assert error.code == ErrorCode.CONFLICT
    finally:
        for client in clients:
            await client.close()
        for daemon in daemons:
            if daemon.process is not None:
                daemon.stop()

    # Not a member: refused at start, saying who adds members.
    started = await refused_start(workdir, "eve", "eve@firma.example", database)
    assert started.returncode == 1
    assert "eve@firma.example is not a member" in started.stderr
    assert "users.add" in started.stderr
