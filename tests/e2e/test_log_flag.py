"""End to end: R7's log flag over the socket, from a Maildir and from the real Dovecot
(where the header must be among the fields the header-first FETCH asks for)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from tests.servers.dovecot import DovecotServer
from tests.support.daemons import synced_daemon
from tests.support.mail import deliver, make_maildir, make_message

ME = "Maja Lindqvist <me@firma.example>"
BCC = "log-1234@bcc.loggbok.example"


def _mails() -> dict[str, bytes]:
    return {
        "<flag-yes@firma.example>": make_message(
            ME, ["Anna Berg <anna@kund.example>"], "Offer Q3", "<flag-yes@firma.example>",
            headers={"X-Loggbok-Log": "yes"},
        ),
        "<flag-no@firma.example>": make_message(
            ME, ["Anna Berg <anna@kund.example>"], "Private", "<flag-no@firma.example>",
            bcc=[BCC], headers={"X-Loggbok-Log": "no"},
        ),
        "<answer@kund.example>": make_message(
            "Anna Berg <anna@kund.example>", [ME], "SV: Offer Q3", "<answer@kund.example>",
            in_reply_to="<flag-yes@firma.example>", references=["<flag-yes@firma.example>"],
        ),
    }  # fmt: skip


async def _check(client: Client) -> None:
    reasons = {}
    for message_id in _mails():
        expl = await client.call(m.MESSAGES_EXPLAIN, t.MessageRefParams(message_id=message_id))
        reasons[message_id] = (expl.logged, expl.reason)
    assert reasons == {
        "<flag-yes@firma.example>": (True, "log_flag"),
        "<flag-no@firma.example>": (False, "log_flag_off"),
        "<answer@kund.example>": (True, "reply_in_tracked_thread"),
    }
    anna = await client.call(m.CONTACTS_LIST, t.ContactsListParams(query="anna@kund"))
    assert [c.source for c in anna.contacts] == ["log_flag"]
    headers = await client.call(
        m.MESSAGES_HEADERS, t.MessageRefParams(message_id="<flag-yes@firma.example>")
    )
    assert "X-Loggbok-Log: yes" in headers.raw


async def test_log_flag_on_a_maildir(workdir: Path) -> None:
    maildir = make_maildir(workdir / "Maildir", ".Sent")
    for message_id, raw in _mails().items():
        deliver(maildir if message_id.endswith("kund.example>") else maildir / ".Sent", raw)
    settings = t.SettingsSetParams(bcc_address=BCC, own_addresses=["me@firma.example"])
    async with synced_daemon(workdir, maildir, settings) as (client, _, _, _):
        await _check(client)
        document = await client.call(m.DISCOVER)
        codes = [c["const"] for c in document["components"]["schemas"]["ReasonCode"]["oneOf"]]
        assert {"log_flag", "log_flag_off", "subject_changed"} <= set(codes)


async def test_log_flag_on_dovecot(dovecot: DovecotServer, client: Client) -> None:
    user = dovecot.add_user()

    def append() -> None:
        for message_id, raw in _mails().items():
            dovecot.append(user, "INBOX" if message_id.endswith("kund.example>") else "Sent", raw)

    await asyncio.to_thread(append)
    await client.call(
        m.SETTINGS_SET, t.SettingsSetParams(bcc_address=BCC, own_addresses=["me@firma.example"])
    )
    added = await client.call(
        m.MAILBOXES_ADD,
        t.ImapAddParams(
            host=dovecot.host, port=dovecot.port, security="none",
            username=user.name, password=user.password, address="me@firma.example",
        ),
    )  # fmt: skip
    await client.call(m.MAILBOXES_SYNC, t.IdParams(id=added.id))
    await _check(client)
