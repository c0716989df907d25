"""Signing a Graph mailbox in over the protocol (msal's device-code flow against
the test server's identity endpoints): a new mailbox waits in auth_failed, a
sign-in connects it, an expired code and a revoked consent are auth_failed
with the reason, the tracked threads go blind meanwhile, and signing in again
backfills what arrived during the outage. The token cache never reaches the
database or the log."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from loggbok.daemon.microsoft import MicrosoftAccount, WrongAccount, graph_scopes
from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from loggbok.protocol.errors import ErrorCode, RpcError
from tests.backends.harnesses import GRAPH_CLIENT_ID, wait_for_status
from tests.servers.graph.server import GraphServer
from tests.support.graph import counts, graph_daemon, graph_params, sign_in
from tests.support.mail import make_maildir, make_message
from tests.support.store_rows import contents

ME = "maja@firma.example"
BCC = "log-1@bcc.loggbok.example"


async def status_of(client: Client, mailbox: int) -> t.Mailbox:
    listed = await client.call(m.MAILBOXES_LIST)
    return next(b for b in listed.mailboxes if b.id == mailbox)


def offer_and_reply(server: GraphServer) -> None:
    server.deliver(
        ME, "sentitems",
        make_message(ME, ["anna@kund.example"], "Offer", "<offer@firma.example>", bcc=[BCC]),
    )  # fmt: skip
    server.deliver(
        ME, "inbox",
        make_message("anna@kund.example", [ME], "Re: Offer", "<reply1@kund.example>",
                     in_reply_to="<offer@firma.example>", references=["<offer@firma.example>"]),
    )  # fmt: skip


async def test_device_code_sign_in_end_to_end(graph_server: GraphServer, workdir: Path) -> None:
    offer_and_reply(graph_server)
    with graph_daemon(workdir, graph_server) as daemon:
        client = await daemon.client()
        await client.call(m.SETTINGS_SET, t.SettingsSetParams(bcc_address=BCC, own_addresses=[ME]))
        tested = await client.call(m.MAILBOXES_TEST, graph_params(graph_server, ME))
        assert tested.ok and "sign_in" in tested.capabilities and "sign in" in tested.next_step
        added = await client.call(m.MAILBOXES_ADD, graph_params(graph_server, ME))
        waiting = await status_of(client, added.id)
        assert (waiting.status, waiting.status_detail) == ("auth_failed", "sign in to connect")

        prompt = await client.call(m.MAILBOXES_SIGN_IN, t.IdParams(id=added.id))
        assert prompt.verification_uri.startswith(graph_server.base)
        assert prompt.user_code and prompt.user_code in prompt.message
        assert prompt.expires_in > 0
        await asyncio.to_thread(graph_server.approve, prompt.user_code, ME)
        await wait_for_status(client, added.id, ("idle",))
        await client.call(m.MAILBOXES_SYNC, t.IdParams(id=added.id))
        assert (await status_of(client, added.id)).status == "idle"
        assert counts(daemon)["logged"] == 2

        box = make_maildir(workdir / "box")
        other = await client.call(
            m.MAILBOXES_ADD, t.MaildirAddParams(address="x@firma.example", path=str(box))
        )
        with pytest.raises(RpcError) as unsupported:
            await client.call(m.MAILBOXES_SIGN_IN, t.IdParams(id=other.id))
        assert unsupported.value.code == ErrorCode.UNSUPPORTED
        await client.close()
    refresh_tokens = graph_server.control(lambda s: list(s.identity.refresh))
    assert refresh_tokens
    stored = contents(daemon.data_dir)
    log = (workdir / "daemon.stderr").read_bytes()
    for token in refresh_tokens:
        assert token.encode() not in stored and token.encode() not in log


async def test_an_expired_code_leaves_the_mailbox_waiting_with_the_reason(
    graph_server: GraphServer, workdir: Path
) -> None:
    with graph_daemon(workdir, graph_server) as daemon:
        client = await daemon.client()
        added = await client.call(m.MAILBOXES_ADD, graph_params(graph_server, ME))
        await client.call(m.MAILBOXES_SIGN_IN, t.IdParams(id=added.id))
        graph_server.expire_device_codes()
        told = await wait_for_status(client, added.id, ("auth_failed",))
        assert told.detail == "sign in to connect"  # at add, before the answer to it
        failed = await wait_for_status(client, added.id, ("auth_failed",))
        assert "expired" in failed.detail
        assert (await status_of(client, added.id)).status_detail == failed.detail
        await client.close()
        assert daemon.process is not None


async def test_revoked_consent_then_a_new_sign_in_backfills_the_gap(
    graph_server: GraphServer, workdir: Path
) -> None:
    offer_and_reply(graph_server)
    with graph_daemon(workdir, graph_server) as daemon:
        client = await daemon.client()
        await client.call(m.SETTINGS_SET, t.SettingsSetParams(bcc_address=BCC, own_addresses=[ME]))
        added = await client.call(m.MAILBOXES_ADD, graph_params(graph_server, ME))
        await sign_in(client, graph_server, added.id, ME)
        await client.call(m.MAILBOXES_SYNC, t.IdParams(id=added.id))
        assert counts(daemon)["logged"] == 2

        graph_server.revoke(ME)  # consent revoked: access and refresh tokens stop working
        failed = await wait_for_status(client, added.id, ("auth_failed",))
        assert "sign in" in failed.detail
        box = await status_of(client, added.id)
        assert box.status == "auth_failed" and box.blind_threads == 1
        graph_server.deliver(
            ME, "inbox",
            make_message("anna@kund.example", [ME], "Re: Offer", "<reply2@kund.example>",
                         in_reply_to="<reply1@kund.example>",
                         references=["<offer@firma.example>", "<reply1@kund.example>"]),
        )  # fmt: skip
        await sign_in(client, graph_server, added.id, ME)
        await wait_for_status(client, added.id, ("idle",))
        explained = await client.call(
            m.MESSAGES_EXPLAIN, t.MessageRefParams(message_id="<reply2@kund.example>")
        )
        assert explained.logged
        assert (await status_of(client, added.id)).blind_threads == 0
        await client.close()
    assert counts(daemon)["logged"] == 3


OTHER = "olle@firma.example"


async def test_a_sign_in_as_another_user_is_refused_and_nothing_of_theirs_synced(
    graph_server: GraphServer, workdir: Path
) -> None:
    offer_and_reply(graph_server)
    graph_server.deliver(
        OTHER, "inbox",
        make_message("anna@kund.example", [OTHER], "Olle's", "<olle@kund.example>", bcc=[BCC]),
    )  # fmt: skip
    with graph_daemon(workdir, graph_server) as daemon:
        client = await daemon.client()
        await client.call(m.SETTINGS_SET, t.SettingsSetParams(bcc_address=BCC, own_addresses=[ME]))
        added = await client.call(m.MAILBOXES_ADD, graph_params(graph_server, ME))
        prompt = await client.call(m.MAILBOXES_SIGN_IN, t.IdParams(id=added.id))
        await asyncio.to_thread(graph_server.approve, prompt.user_code, OTHER)
        refused = await wait_for_status(client, added.id, ("auth_failed",))
        if refused.detail == "sign in to connect":
            refused = await wait_for_status(client, added.id, ("auth_failed",))
        expected = f"signed in as {OTHER}, but this mailbox is {ME}: sign in as {ME}"
        assert refused.detail == expected
        box = await status_of(client, added.id)
        assert (box.status, box.status_detail) == ("auth_failed", expected)
        with pytest.raises(RpcError):
            await client.call(m.MAILBOXES_SYNC, t.IdParams(id=added.id))
        assert counts(daemon)["messages"] == 0

        await sign_in(client, graph_server, added.id, ME)
        await wait_for_status(client, added.id, ("idle",))
        await client.call(m.MAILBOXES_SYNC, t.IdParams(id=added.id))
        await client.close()
    assert counts(daemon)["messages"] == 2 and counts(daemon)["logged"] == 2
    graph_refresh = graph_server.control(lambda s: dict(s.identity.refresh))
    stored = contents(daemon.data_dir)
    for token, user in graph_refresh.items():
        assert user == ME or token.encode() not in stored


async def test_a_stored_cache_of_another_user_is_never_used(
    graph_server: GraphServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A token cache holding only someone else's account (two mailboxes sharing one, or
    one stored before the check) gives no token: the mailbox must sign in itself."""
    for name, value in graph_server.client_env().items():
        monkeypatch.setenv(name, value)
    scopes = tuple(graph_scopes(graph_server.graph_url))
    other = MicrosoftAccount(GRAPH_CLIENT_ID, graph_server.authority(), scopes, OTHER)
    flow, cache = await asyncio.to_thread(other.start_device_flow)
    await asyncio.to_thread(graph_server.approve, flow["user_code"], OTHER)
    secret = await asyncio.to_thread(other.finish_device_flow, flow, cache)
    token, _ = await asyncio.to_thread(other.access_token, secret)
    assert token

    mine = MicrosoftAccount(GRAPH_CLIENT_ID, graph_server.authority(), scopes, ME)
    with pytest.raises(WrongAccount, match=f"signed in as {OTHER}, but this mailbox is {ME}"):
        await asyncio.to_thread(mine.access_token, secret)
