"""Signing an EWS mailbox in, through a real `loggbokd` and the EWS test server:
NTLM (the server's acceptor verifies the NTLMv2 response) and Basic with the
password from the secret store, a wrong password refused before anything is
saved; OAuth2 with msal's device code against the identity endpoints served
beside EWS, a revoked consent ending in `auth_failed` (the status R13 reads:
the tracked thread is blind) and a new sign-in backfilling what came meanwhile."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from loggbok.protocol.errors import ErrorCode, RpcError
from tests.backends.harnesses import wait_for_status
from tests.servers.ews.server import EwsServer
from tests.support.ews import PASSWORD, ews_daemon, ntlm_params, oauth2_params
from tests.support.graph import counts
from tests.support.mail import make_message
from tests.support.store_rows import contents

ME = "maja@firma.example"
BCC = "log-1@bcc.loggbok.example"


async def status_of(client: Client, mailbox: int) -> t.Mailbox:
    listed = await client.call(m.MAILBOXES_LIST)
    return next(b for b in listed.mailboxes if b.id == mailbox)


def offer_and_reply(server: EwsServer) -> None:
    server.deliver(
        ME, "sentitems",
        make_message(ME, ["anna@kund.example"], "Offer", "<offer@firma.example>", bcc=[BCC]),
    )  # fmt: skip
    server.deliver(
        ME, "inbox",
        make_message("anna@kund.example", [ME], "Re: Offer", "<reply1@kund.example>",
                     in_reply_to="<offer@firma.example>", references=["<offer@firma.example>"]),
    )  # fmt: skip


@pytest.mark.parametrize("auth", ["ntlm", "basic"])
async def test_password_sign_in(ews_server: EwsServer, workdir: Path, auth: str) -> None:
    ews_server.add_user(ME, PASSWORD, "maja")
    offer_and_reply(ews_server)
    with ews_daemon(workdir, ews_server) as daemon:
        client = await daemon.client()
        await client.call(m.SETTINGS_SET, t.SettingsSetParams(bcc_address=BCC, own_addresses=[ME]))
        wrong = ntlm_params(ews_server, ME, password="not-it")
        wrong.auth = auth  # type: ignore[assignment]
        with pytest.raises(RpcError) as refused:
            await client.call(m.MAILBOXES_ADD, wrong)
        assert refused.value.code == ErrorCode.AUTH_FAILED
        params = ntlm_params(ews_server, ME)
        params.auth = auth  # type: ignore[assignment]
        added = await client.call(m.MAILBOXES_ADD, params)
        with pytest.raises(RpcError) as no_sign_in:  # a password mailbox does not sign in
            await client.call(m.MAILBOXES_SIGN_IN, t.IdParams(id=added.id))
        assert no_sign_in.value.code == ErrorCode.UNSUPPORTED
        await client.call(m.MAILBOXES_SYNC, t.IdParams(id=added.id))
        box = await status_of(client, added.id)
        await client.close()
    assert counts(daemon)["logged"] == 2
    assert (box.provider, box.auth, box.host) == ("ews", auth, "127.0.0.1")
    observed = ews_server.state.observed
    if auth == "ntlm":
        assert "maja" in observed.ntlm_verified and observed.auth["basic"] == 0
    else:
        assert observed.auth["basic"] > 0 and observed.auth["ntlm"] == 0
    # the password went to the secret store, never into the database
    assert PASSWORD.encode() not in contents(daemon.data_dir)


async def test_oauth2_sign_in_revoked_then_signed_in_again(
    ews_server: EwsServer, workdir: Path
) -> None:
    offer_and_reply(ews_server)
    with ews_daemon(workdir, ews_server) as daemon:
        client = await daemon.client()
        await client.call(m.SETTINGS_SET, t.SettingsSetParams(bcc_address=BCC, own_addresses=[ME]))
        added = await client.call(m.MAILBOXES_ADD, oauth2_params(ews_server, ME))
        waiting = await status_of(client, added.id)
        assert (waiting.status, waiting.status_detail) == ("auth_failed", "sign in to connect")
        prompt = await client.call(m.MAILBOXES_SIGN_IN, t.IdParams(id=added.id))
        await asyncio.to_thread(ews_server.approve, prompt.user_code, ME)
        await wait_for_status(client, added.id, ("syncing", "idle"))
        await client.call(m.MAILBOXES_SYNC, t.IdParams(id=added.id))
        assert counts(daemon)["logged"] == 2
        assert ews_server.state.observed.auth["bearer"] > 0

        ews_server.control(lambda s: s.graph.revoke(ME))  # access and refresh tokens stop working
        ews_server.deliver(
            ME, "inbox",
            make_message("anna@kund.example", [ME], "Re: Offer", "<reply2@kund.example>",
                         in_reply_to="<reply1@kund.example>",
                         references=["<offer@firma.example>", "<reply1@kund.example>"]),
        )  # fmt: skip
        failed = await wait_for_status(client, added.id, ("auth_failed",))
        assert "sign in" in failed.detail
        box = await status_of(client, added.id)
        assert box.status == "auth_failed" and box.blind_threads == 1

        prompt = await client.call(m.MAILBOXES_SIGN_IN, t.IdParams(id=added.id))
        await asyncio.to_thread(ews_server.approve, prompt.user_code, ME)
        await wait_for_status(client, added.id, ("idle",))
        explained = await client.call(
            m.MESSAGES_EXPLAIN, t.MessageRefParams(message_id="<reply2@kund.example>")
        )
        assert explained.logged
        assert (await status_of(client, added.id)).blind_threads == 0
        await client.close()
    assert counts(daemon)["logged"] == 3


async def test_oauth2_sign_in_as_another_user_is_refused(
    ews_server: EwsServer, workdir: Path
) -> None:
    offer_and_reply(ews_server)
    other = "olle@firma.example"
    with ews_daemon(workdir, ews_server) as daemon:
        client = await daemon.client()
        added = await client.call(m.MAILBOXES_ADD, oauth2_params(ews_server, ME))
        prompt = await client.call(m.MAILBOXES_SIGN_IN, t.IdParams(id=added.id))
        await asyncio.to_thread(ews_server.approve, prompt.user_code, other)
        expected = f"signed in as {other}, but this mailbox is {ME}: sign in as {ME}"
        refused = await wait_for_status(client, added.id, ("auth_failed",))
        if refused.detail != expected:  # the add's "sign in to connect" came first
            refused = await wait_for_status(client, added.id, ("auth_failed",))
        assert refused.detail == expected
        assert counts(daemon)["messages"] == 0
        prompt = await client.call(m.MAILBOXES_SIGN_IN, t.IdParams(id=added.id))
        await asyncio.to_thread(ews_server.approve, prompt.user_code, ME)
        await wait_for_status(client, added.id, ("idle",))
        await client.close()
    assert counts(daemon)["messages"] == 2
