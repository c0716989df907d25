"""R13 per thread, on every provider through the one status path: a mailbox that
fails authentication (IMAP and EWS: the password changed; Graph and EWS: consent
revoked) or is removed makes the tracked threads that depend on it blind. `timeline.get` lists
them (`blind`, reason `mailbox_unavailable`), `contacts.list` counts them,
`messages.explain` says so; reconnecting (a password, a new sign-in, or a new
mailbox for the same address) reads the missed interval, oldest first, and the
daemon logs what arrived meanwhile, oldest first; those messages' explanations
say they were read late."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from tests.backends.harnesses import wait_for_status
from tests.conftest import DaemonProcess
from tests.servers.dovecot import DovecotServer, DovecotUser
from tests.servers.ews.server import EwsServer
from tests.servers.graph.server import GraphServer
from tests.support.ews import PASSWORD, add_signed_in, ews_daemon, ntlm_params
from tests.support.graph import graph_daemon, graph_params, sign_in
from tests.support.mail import days_ago, make_message

ME = "maja@firma.example"
BCC = "log-13@bcc.loggbok.example"
ANNA = "anna@kund.example"


@pytest.fixture
def own_dovecot() -> Iterator[DovecotServer]:
    with DovecotServer() as server:
        yield server


def offer() -> bytes:
    return make_message(ME, [ANNA], "Offer Q3", "<o1@firma.example>", bcc=[BCC], date=days_ago(3))


def reply(n: int, minutes: float) -> bytes:
    return make_message(
        ANNA, [ME], "SV: Offer Q3", f"<r{n}@kund.example>",
        in_reply_to="<o1@firma.example>", references=["<o1@firma.example>"],
        date=datetime.now(UTC) + timedelta(minutes=minutes),
    )  # fmt: skip


async def anna(client: Client) -> t.Contact:
    found = await client.call(m.CONTACTS_LIST, t.ContactsListParams(query="anna"))
    return next(c for c in found.contacts if ANNA in c.emails)


async def assert_blind(client: Client, cause: str) -> t.BlindThread:
    contact = await anna(client)
    assert contact.blind_threads == 1
    timeline = await client.call(m.TIMELINE_GET, t.TimelineGetParams(contact_id=contact.id))
    [blind] = timeline.blind
    assert (blind.reason, blind.cause, blind.subject) == ("mailbox_unavailable", cause, "offer q3")
    explained = await client.call(
        m.MESSAGES_EXPLAIN, t.MessageRefParams(message_id="<o1@firma.example>")
    )
    assert "mailbox_unavailable" in explained.evidence.details
    assert "blind" in explained.summary
    return blind


async def assert_seeing(client: Client) -> None:
    contact = await anna(client)
    assert contact.blind_threads == 0
    timeline = await client.call(m.TIMELINE_GET, t.TimelineGetParams(contact_id=contact.id))
    assert timeline.blind == []


async def read_late(client: Client, message_id: str) -> t.Explanation:
    explained = await client.call(m.MESSAGES_EXPLAIN, t.MessageRefParams(message_id=message_id))
    assert explained.logged and "read_late" in explained.evidence.details
    assert "was read" in explained.summary
    return explained


def arrivals_logged(daemon: DaemonProcess) -> list[str]:
    """The message ids the daemon logged as arrived while unavailable, in its order."""
    lines = (daemon.data_dir / "loggbokd.log").read_text(errors="replace").splitlines()
    messages = [str(json.loads(line).get("message", "")) for line in lines]
    return [
        found.group(1)
        for text in messages
        if (found := re.search(r"arrived while unavailable: .*?(<[^>\s]+>)", text))
    ]


def imap_params(server: DovecotServer, user: DovecotUser, password: str) -> t.ImapAddParams:
    return t.ImapAddParams(
        address=ME, host=server.host, port=server.port, security="none",
        username=user.name, password=password,
    )  # fmt: skip


async def test_imap_auth_failure_then_removal_and_replacement(
    own_dovecot: DovecotServer, client: Client, daemon: DaemonProcess
) -> None:
    server = own_dovecot
    user = await asyncio.to_thread(server.add_user)
    await asyncio.to_thread(server.append, user, "Sent", offer())
    await asyncio.to_thread(server.append, user, "INBOX", reply(1, -60))
    await client.call(m.SETTINGS_SET, t.SettingsSetParams(bcc_address=BCC, own_addresses=[ME]))
    added = await client.call(m.MAILBOXES_ADD, imap_params(server, user, user.password))
    await client.call(m.MAILBOXES_SYNC, t.IdParams(id=added.id))
    await assert_seeing(client)

    changed = await asyncio.to_thread(server.set_password, user, "a-new-password")
    await asyncio.to_thread(server.kick, user)
    await wait_for_status(client, added.id, ("auth_failed",), 90)
    blind = await assert_blind(client, "auth_failed")
    [box] = (await client.call(m.MAILBOXES_LIST)).mailboxes
    assert box.unavailable_since == blind.since and box.blind_threads == 1
    # Two replies arrive meanwhile, the later one first.
    await asyncio.to_thread(server.append, changed, "INBOX", reply(3, 2))
    await asyncio.to_thread(server.append, changed, "INBOX", reply(2, 1))

    await client.call(
        m.MAILBOXES_RECONNECT, t.MailboxReconnectParams(id=added.id, password="a-new-password")
    )
    await wait_for_status(client, added.id, ("idle",), 90)
    await assert_seeing(client)
    await read_late(client, "<r2@kund.example>")
    await read_late(client, "<r3@kund.example>")
    assert arrivals_logged(daemon) == ["<r2@kund.example>", "<r3@kund.example>"]
    [box] = (await client.call(m.MAILBOXES_LIST)).mailboxes
    assert box.unavailable_since is None

    # Removed: blind; a mailbox for the same address (another provider) replaces it.
    await client.call(m.MAILBOXES_REMOVE, t.IdParams(id=added.id))
    await assert_blind(client, "removed")
    await asyncio.to_thread(server.append, changed, "INBOX", reply(4, 3))
    again = await client.call(
        m.MAILBOXES_ADD,
        t.GmailAddParams(
            address=ME, host=server.host, port=server.port, security="none",
            username=user.name, password="a-new-password",
        ),
    )  # fmt: skip
    await client.call(m.MAILBOXES_SYNC, t.IdParams(id=again.id))
    await assert_seeing(client)
    late = await read_late(client, "<r4@kund.example>")
    assert late.reason == "reply_in_tracked_thread"


async def test_graph_revoked_consent_blinds_the_thread_until_signed_in_again(
    graph_server: GraphServer, workdir: Path
) -> None:
    graph_server.deliver(ME, "sentitems", offer())
    graph_server.deliver(ME, "inbox", reply(1, -60))
    with graph_daemon(workdir, graph_server) as daemon:
        client = await daemon.client()
        await client.call(m.SETTINGS_SET, t.SettingsSetParams(bcc_address=BCC, own_addresses=[ME]))
        added = await client.call(m.MAILBOXES_ADD, graph_params(graph_server, ME))
        await sign_in(client, graph_server, added.id, ME)
        await client.call(m.MAILBOXES_SYNC, t.IdParams(id=added.id))
        await assert_seeing(client)

        graph_server.revoke(ME)
        await wait_for_status(client, added.id, ("auth_failed",))
        await assert_blind(client, "auth_failed")
        graph_server.deliver(ME, "inbox", reply(2, 1))

        await sign_in(client, graph_server, added.id, ME)
        await wait_for_status(client, added.id, ("idle",))
        await assert_seeing(client)
        await read_late(client, "<r2@kund.example>")
        await client.close()
    assert arrivals_logged(daemon) == ["<r2@kund.example>"]


CHECK_SECONDS = "0.5"
"""The EWS login check's interval here (LOGGBOK_EWS_CHECK_SECONDS; 60 by default)."""


async def stream_open(server: EwsServer) -> None:
    """Until the daemon holds a GetStreamingEvents open (push on: nothing is polled).
    A new subscription starts a round (what came before it): a mailboxes.sync after
    this mostly runs after that round (a race the assertions allow)."""
    async with asyncio.timeout(60):
        while server.control(lambda s: s.observed.streams) == 0:  # noqa: ASYNC110 - the server is on another thread
            await asyncio.sleep(0.1)


async def test_ews_revoked_consent_on_a_quiet_mailbox_blinds_the_thread_until_signed_in_again(
    ews_server: EwsServer, workdir: Path
) -> None:
    ews_server.deliver(ME, "sentitems", offer())
    ews_server.deliver(ME, "inbox", reply(1, -60))
    with ews_daemon(workdir, ews_server, LOGGBOK_EWS_CHECK_SECONDS=CHECK_SECONDS) as daemon:
        client = await daemon.client()
        await client.call(m.SETTINGS_SET, t.SettingsSetParams(bcc_address=BCC, own_addresses=[ME]))
        mailbox = await add_signed_in(client, ews_server, ME)
        await stream_open(ews_server)
        await client.call(m.MAILBOXES_SYNC, t.IdParams(id=mailbox))  # after the stream's round
        await assert_seeing(client)

        # Access and refresh tokens stop working; no mail comes, so no notification starts
        # a round: the login check (one GetFolder every LOGGBOK_EWS_CHECK_SECONDS) meets the 401.
        ews_server.control(lambda s: s.graph.revoke(ME))
        await wait_for_status(client, mailbox, ("auth_failed",))
        blind = await assert_blind(client, "auth_failed")
        assert (blind.mailbox_id, blind.address) == (mailbox, ME)
        [box] = (await client.call(m.MAILBOXES_LIST)).mailboxes
        assert box.unavailable_since == blind.since and box.blind_threads == 1
        # Two replies arrive meanwhile, the later one first.
        ews_server.deliver(ME, "inbox", reply(3, 2))
        ews_server.deliver(ME, "inbox", reply(2, 1))

        prompt = await client.call(m.MAILBOXES_SIGN_IN, t.IdParams(id=mailbox))
        await asyncio.to_thread(ews_server.approve, prompt.user_code, ME)
        await wait_for_status(client, mailbox, ("idle",))
        await assert_seeing(client)
        await read_late(client, "<r2@kund.example>")
        await read_late(client, "<r3@kund.example>")
        [box] = (await client.call(m.MAILBOXES_LIST)).mailboxes
        assert box.unavailable_since is None
        await client.close()
    assert arrivals_logged(daemon) == ["<r2@kund.example>", "<r3@kund.example>"]


@pytest.mark.parametrize("auth", ["basic", "ntlm"])
async def test_ews_changed_password_on_a_quiet_mailbox_blinds_the_thread_until_reconnected(
    ews_server: EwsServer, workdir: Path, auth: t.EwsAuth
) -> None:
    ews_server.add_user(ME, PASSWORD, "maja")
    ews_server.deliver(ME, "sentitems", offer())
    ews_server.deliver(ME, "inbox", reply(1, -60))
    with ews_daemon(workdir, ews_server, LOGGBOK_EWS_CHECK_SECONDS=CHECK_SECONDS) as daemon:
        client = await daemon.client()
        await client.call(m.SETTINGS_SET, t.SettingsSetParams(bcc_address=BCC, own_addresses=[ME]))
        params = ntlm_params(ews_server, ME)
        params.auth = auth
        added = await client.call(m.MAILBOXES_ADD, params)
        await stream_open(ews_server)
        await client.call(m.MAILBOXES_SYNC, t.IdParams(id=added.id))  # after the stream's round
        await assert_seeing(client)

        # No mail comes while the stream is open. Basic: the check's request carries the
        # old password. NTLM: the server keeps an authenticated connection authenticated
        # (as IIS does), so a round would read on (a round the stream's subscription
        # started may still be running) and only the check, signing in on a new
        # connection, is refused.
        await asyncio.to_thread(ews_server.set_password, ME, "Sommar-2027")
        await wait_for_status(client, added.id, ("auth_failed",))
        [box] = (await client.call(m.MAILBOXES_LIST)).mailboxes
        assert "refused the login" in box.status_detail
        blind = await assert_blind(client, "auth_failed")
        assert (blind.mailbox_id, blind.address) == (added.id, ME)
        ews_server.deliver(ME, "inbox", reply(2, 1))

        await client.call(
            m.MAILBOXES_RECONNECT, t.MailboxReconnectParams(id=added.id, password="Sommar-2027")
        )
        await wait_for_status(client, added.id, ("idle",))
        await assert_seeing(client)
        await read_late(client, "<r2@kund.example>")
        await client.close()
    assert arrivals_logged(daemon) == ["<r2@kund.example>"]
