"""A team on one PostgreSQL: three daemons (own data dirs and sockets, one database),
each syncing a member's mailbox on a real Dovecot, where the same customer email
sits in two members' mailboxes. Every message ends up stored once (with a location
per mailbox), every message decided once, and a daemon's clients hear of the
entries the other daemons wrote (LISTEN/NOTIFY)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from tests.conftest import DaemonProcess
from tests.servers.dovecot import DovecotServer, DovecotUser
from tests.support.mail import days_ago, make_message

pytestmark = pytest.mark.postgres_only

MEMBERS = ("alva", "bo", "cissi")
BCC = "log-team@bcc.loggbok.example"


def _address(name: str) -> str:
    return f"{name}@firma.example"


@pytest.fixture
def team(workdir: Path, pg_url: str) -> Iterator[list[DaemonProcess]]:
    daemons = []
    for name in MEMBERS:
        (workdir / name).mkdir(mode=0o700)
        (workdir / name / "data").mkdir()
        daemons.append(
            DaemonProcess(
                workdir / name / "d.sock",
                workdir / name / "data",
                env={"LOGGBOK_DATABASE": pg_url},
            )
        )
    try:
        for daemon in daemons:
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
        await clients[0].call(
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
