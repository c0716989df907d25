"""A team on one PostgreSQL: three daemons (own data dirs and sockets, one database),
each syncing a member's mailbox on a real Dovecot, where the same customer email
sits in two members' mailboxes. Every message ends up stored once (with a location
per mailbox), every message decided once, and a daemon's clients hear of the
entries the other daemons wrote (LISTEN/NOTIFY), never of one hidden from their
member."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import psycopg
import pytest

from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from tests.conftest import DaemonProcess
from tests.servers.dovecot import DovecotServer, DovecotUser
from tests.support.mail import days_ago, deliver, make_maildir, make_message

pytestmark = pytest.mark.postgres_only

MEMBERS = ("alva", "bo", "cissi")
BCC = "log-team@bcc.loggbok.example"


def _address(name: str) -> str:
    return f"{name}@firma.example"


@pytest.fixture
async def team(workdir: Path, pg_url: str) -> AsyncIterator[list[DaemonProcess]]:
    """One daemon per member (one daemon per member and store: `--user`); alva, the
    first, adds the others."""
    daemons = _members_daemons(workdir, pg_url)
    try:
        daemons[0].start()
        alva = await daemons[0].client()
        for name in MEMBERS[1:]:
            await alva.call(m.USERS_ADD, t.UsersAddParams(email=_address(name), seat="core"))
        await alva.close()
        for daemon in daemons[1:]:
            daemon.start()
        yield daemons
    finally:
        for daemon in daemons:
            if daemon.process is not None:
                daemon.stop()


def _seed(server: DovecotServer, users: dict[str, DovecotUser]) -> None:
    """Per member: a customer's own email; and one email to alva and bo together (the
    same Message-ID in both mailboxes), with bo's reply to it in bo's Sent."""
    for n, name in enumerate(MEMBERS):
        server.append(
            users[name],
            "INBOX",
            make_message(
                f"Kund {n} <kund{n}@kund.example>", [_address(name)], f"Order {n}",
                f"<order{n}@kund.example>", date=days_ago(3),
            ),
        )  # fmt: skip
    shared = make_message(
        "Anna Berg <anna@kund.example>", [_address("alva"), _address("bo")],
        "Offer for both of you", "<shared@kund.example>", date=days_ago(2),
    )  # fmt: skip
    server.append(users["alva"], "INBOX", shared)
    server.append(users["bo"], "INBOX", shared)
    server.append(
        users["bo"],
        "Sent",
        make_message(
            _address("bo"), ["anna@kund.example"], "Re: Offer for both of you",
            "<reply@firma.example>", in_reply_to="<shared@kund.example>",
            references=["<shared@kund.example>"], date=days_ago(1),
        ),
    )  # fmt: skip


async def _entries_heard(client: Client, contact_ids: set[int], until: float) -> set[int]:
    heard: set[int] = set()
    loop = asyncio.get_running_loop()
    while loop.time() < until:
        try:
            name, params = await asyncio.wait_for(client.notifications.get(), 1.0)
        except TimeoutError:
            continue
        if name == "timeline.appended":
            heard.add(params.contact_id)
        elif name == "timeline.changed":
            heard.update(params.contact_ids)
        if contact_ids <= heard:
            break
    return heard


async def test_three_daemons_one_database(
    team: list[DaemonProcess], dovecot: DovecotServer, pg_url: str
) -> None:
    users = {name: dovecot.add_user(f"team-{name}-{id(team)}", "pw") for name in MEMBERS}
    _seed(dovecot, users)
    clients = [await d.client() for d in team]
    try:
        for client in clients:  # each member's own settings, the same for all three
            await client.call(
                m.SETTINGS_SET,
                t.SettingsSetParams(
                    bcc_address=BCC,
                    own_addresses=[_address(n) for n in MEMBERS],
                    logging_mode="all_with_contacts",
                ),
            )
        contacts: dict[str, int] = {}
        for email in ("anna@kund.example", *(f"kund{n}@kund.example" for n in range(3))):
            made = await clients[0].call(m.CONTACTS_CREATE, t.ContactCreateParams(email=email))
            contacts[email] = made.id
        watcher = clients[2]  # cissi's client hears of what alva's and bo's daemons wrote

        async def add(client: Client, name: str) -> Any:
            user = users[name]
            return await client.call(
                m.MAILBOXES_ADD,
                t.ImapAddParams(
                    host=dovecot.host, port=dovecot.port, security="none",
                    username=user.name, password=user.password, address=_address(name),
                ),
            )  # fmt: skip

        pairs = list(zip(clients, MEMBERS, strict=True))
        added = await asyncio.gather(*(add(c, n) for c, n in pairs))
        syncs = [(c, t.IdParams(id=a.id)) for c, a in zip(clients, added, strict=True)]
        await asyncio.gather(*(c.call(m.MAILBOXES_SYNC, p) for c, p in syncs))
        loop = asyncio.get_running_loop()
        wanted = {contacts["anna@kund.example"], contacts["kund0@kund.example"]}
        heard = await _entries_heard(watcher, wanted, loop.time() + 60)
        assert contacts["anna@kund.example"] in heard
        assert contacts["kund0@kund.example"] in heard  # alva's own customer, written by alva
    finally:
        for client in clients:
            await client.close()

    with psycopg.connect(pg_url) as conn:
        rows = conn.execute(
            """SELECT m.message_key, count(DISTINCT l.folder_id),
                      (SELECT count(*) FROM decisions d WHERE d.message = m.id)
               FROM messages m LEFT JOIN message_locations l ON l.message = m.id
               GROUP BY m.id, m.message_key"""
        ).fetchall()
        per_key: dict[str, tuple[int, int]] = {}
        for key, locations, decisions in rows:
            assert key not in per_key, f"{key} stored twice"
            per_key[key] = (locations, decisions)
        assert per_key["shared@kund.example"] == (2, 1)
        for n in range(3):
            assert per_key[f"order{n}@kund.example"] == (1, 1)
        assert per_key["reply@firma.example"] == (1, 1)
        threads = conn.execute(
            "SELECT count(DISTINCT thread_id) FROM messages"
            " WHERE message_key IN ('shared@kund.example', 'reply@firma.example')"
        ).fetchone()
        assert threads == (1,)
        entries = conn.execute(
            "SELECT count(*), count(DISTINCT (contact_id, message)) FROM timeline_entries"
        ).fetchone()
        assert entries is not None and entries[0] == entries[1]


def _members_daemons(workdir: Path, pg_url: str) -> list[DaemonProcess]:
    daemons = []
    for name in MEMBERS:
        (workdir / name).mkdir(mode=0o700)
        (workdir / name / "data").mkdir()
        daemons.append(
            DaemonProcess(
                workdir / name / "d.sock",
                workdir / name / "data",
                env={"LOGGBOK_DATABASE": pg_url},
                args=["--user", _address(name)],
            )
        )
    return daemons


def _logged(maildir: Path, token: str, number: int) -> None:
    """A mail alva sent to Anna with the log BCC: logged onto Anna's timeline."""
    raw = make_message(
        f"Alva <{_address('alva')}>", ["Anna Berg <anna@kund.example>"], f"Offer {token}",
        f"<{token.lower()}@firma.example>", bcc=[BCC], date=days_ago(5 - number * 0.01),
        body=f"about {token}\n",
    )  # fmt: skip
    deliver(maildir / ".Sent", raw)


async def _synced(client: Client, mailbox: int, contact: int, entries: int) -> None:
    """Sync until the contact's timeline holds `entries` entries (the mailbox's first
    round may be running already when it is added)."""
    for _ in range(60):
        await client.call(m.MAILBOXES_SYNC, t.IdParams(id=mailbox))
        page = await client.call(m.TIMELINE_GET, t.TimelineGetParams(contact_id=contact, limit=100))
        if len(page.entries) >= entries:
            assert len(page.entries) == entries
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"the timeline never held {entries} entries")


async def _heard_until(client: Client, token: str, timeout: float) -> list[Any]:
    """Every notification `client` gets until one names `token` (or the time is up)."""
    heard: list[Any] = []
    loop = asyncio.get_running_loop()
    until = loop.time() + timeout
    while loop.time() < until:
        try:
            name, params = await asyncio.wait_for(client.notifications.get(), 1.0)
        except TimeoutError:
            continue
        heard.append((name, msgspec.to_builtins(params)))
        if token in str(heard[-1]):
            break
    return heard


async def test_a_hidden_entry_is_not_announced_to_another_member(
    workdir: Path, pg_url: str
) -> None:
    """alva logs mail only she may see (her mailbox's visibility `owner`): a few
    entries (each announced) and a bulk batch (one `timeline.changed`); bo (her team)
    and cissi (another team) hear of neither through their daemons' relay of alva's
    entries, and do hear of the entry alva then logs for everyone."""
    daemons = _members_daemons(workdir, pg_url)
    clients: list[Client] = []
    try:
        daemons[0].start()  # alva first: she claims the new store's first user, the admin
        alva = await daemons[0].client()
        clients.append(alva)
        me = await alva.call(m.USERS_ME)
        await alva.call(m.USERS_UPDATE, t.UsersUpdateParams(id=me.id, team="Sales"))
        await alva.call(
            m.USERS_ADD, t.UsersAddParams(email=_address("bo"), seat="sales", team="Sales")
        )
        await alva.call(
            m.USERS_ADD, t.UsersAddParams(email=_address("cissi"), seat="core", team="Support")
        )
        for daemon in daemons[1:]:
            daemon.start()
            clients.append(await daemon.client())
        anna = await alva.call(m.CONTACTS_CREATE, t.ContactCreateParams(email="anna@kund.example"))
        await alva.call(
            m.SETTINGS_SET,
            t.SettingsSetParams(bcc_address=BCC, own_addresses=[_address("alva")]),
        )
        maildir = make_maildir(workdir / "alva-mail", ".Sent")
        hidden = [f"QXHIDDEN{n:02d}" for n in range(25 + 2)]
        for number, token in enumerate(hidden[:25]):  # the first round: one bulk batch
            _logged(maildir, token, number)
        added = await alva.call(
            m.MAILBOXES_ADD,
            t.MaildirAddParams(path=str(maildir), address=_address("alva"), visibility="owner"),
        )
        await _synced(alva, added.id, anna.id, 25)
        for number, token in enumerate(hidden[25:], start=25):  # a few: announced each
            _logged(maildir, token, number)
        await _synced(alva, added.id, anna.id, 27)
        await alva.call(
            m.MAILBOXES_UPDATE, t.MailboxUpdateParams(id=added.id, visibility="everyone")
        )
        _logged(maildir, "QXMARKER", 40)
        await _synced(alva, added.id, anna.id, 28)
        marker = await alva.call(
            m.MESSAGES_GET, t.MessageRefParams(message_id="<qxmarker@firma.example>")
        )
        assert marker.visibility == "everyone"
        for name, client in zip(MEMBERS[1:], clients[1:], strict=True):
            heard = await _heard_until(client, "QXMARKER", 120)
            assert "QXMARKER" in str(heard), f"{name} never heard of alva's visible entry"
            told = str(heard)
            assert not [token for token in hidden if token in told], (name, heard)
            assert [n for n, _ in heard if n == "timeline.changed"] == [], (name, heard)
            appended = [n for n, _ in heard if n == "timeline.appended"]
            assert appended == ["timeline.appended"], (name, heard)  # the marker's only
    finally:
        for client in clients:
            await client.close()
        for daemon in daemons:
            if daemon.process is not None:
                daemon.stop()
