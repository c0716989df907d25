"""Signing a Gmail (`auth: xoauth2`) mailbox in over the protocol: the installed-app
flow against a local authority (`tests/servers/oauth_authority.py`), the test
playing the browser by a GET of the authorization URL that is redirected to the
daemon's loopback listener; Dovecot checks the access tokens at the authority's
introspection endpoint. A revoked grant is auth_failed with the tracked thread
blind, signing in again backfills what arrived meanwhile, and the refresh token
never reaches the database or the log."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from loggbok.protocol.errors import ErrorCode, RpcError
from tests.backends.harnesses import wait_for_status
from tests.conftest import DaemonProcess
from tests.servers.dovecot import DovecotServer, DovecotUser
from tests.servers.oauth_authority import (
    CLIENT_ID,
    CLIENT_SECRET,
    OAuthAuthority,
    authority,  # noqa: F401  (a fixture)
    browse,
)
from tests.support.mail import make_message
from tests.support.store_rows import contents

ME = "maja@firma.example"
BCC = "log-1@bcc.loggbok.example"


@pytest.fixture
async def google(authority: OAuthAuthority) -> AsyncIterator[tuple[DovecotServer, DovecotUser]]:  # noqa: F811
    server = await asyncio.to_thread(
        DovecotServer, oauth2_introspection_url=authority.introspection_url
    )
    await asyncio.to_thread(server.start)
    try:
        user = await asyncio.to_thread(server.add_user)
        authority.users[ME] = user.name
        yield server, user
    finally:
        await asyncio.to_thread(server.stop)
        await asyncio.to_thread(server.cleanup)


def gmail_params(
    server: DovecotServer, user: DovecotUser, auth: OAuthAuthority
) -> t.GmailAddParams:
    return t.GmailAddParams(
        address=ME,
        host=server.host,
        port=server.port,
        security="none",
        username=user.name,
        auth="xoauth2",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        auth_uri=auth.auth_uri,
        token_uri=auth.token_uri,
    )


async def status_of(client: Client, mailbox: int) -> t.Mailbox:
    listed = await client.call(m.MAILBOXES_LIST)
    return next(b for b in listed.mailboxes if b.id == mailbox)


async def sign_in(client: Client, mailbox: int) -> str:
    prompt = await client.call(m.MAILBOXES_SIGN_IN, t.IdParams(id=mailbox))
    return await browse(prompt.verification_uri)


async def test_browser_sign_in_revoked_then_signed_in_again_backfills(
    authority: OAuthAuthority,  # noqa: F811
    google: tuple[DovecotServer, DovecotUser],
    client: Client,
    daemon: DaemonProcess,
) -> None:
    server, user = google
    offer = make_message(ME, ["anna@kund.example"], "Offer", "<offer@firma.example>", bcc=[BCC])
    reply = make_message(
        "anna@kund.example", [ME], "Re: Offer", "<reply1@kund.example>",
        in_reply_to="<offer@firma.example>", references=["<offer@firma.example>"],
    )  # fmt: skip
    await asyncio.to_thread(server.append, user, "Sent", offer)
    await asyncio.to_thread(server.append, user, "INBOX", reply)
    await client.call(m.SETTINGS_SET, t.SettingsSetParams(bcc_address=BCC, own_addresses=[ME]))

    params = gmail_params(server, user, authority)
    tested = await client.call(m.MAILBOXES_TEST, params)
    assert tested.ok and "sign in" in tested.next_step
    added = await client.call(m.MAILBOXES_ADD, params)
    assert added.sign_in_needed
    waiting = await status_of(client, added.id)
    assert (waiting.status, waiting.status_detail) == ("auth_failed", "sign in to connect")

    prompt = await client.call(m.MAILBOXES_SIGN_IN, t.IdParams(id=added.id))
    assert prompt.verification_uri.startswith(authority.auth_uri) and prompt.user_code == ""
    page = await browse(prompt.verification_uri)
    assert "Signed in" in page
    asked = authority.authorizations[-1]
    assert asked["login_hint"] == ME and asked["code_challenge_method"] == "S256"
    assert asked["access_type"] == "offline"
    await wait_for_status(client, added.id, ("idle",))
    await client.call(m.MAILBOXES_SYNC, t.IdParams(id=added.id))
    explained = await client.call(
        m.MESSAGES_EXPLAIN, t.MessageRefParams(message_id="<reply1@kund.example>")
    )
    assert explained.logged and explained.reason == "reply_in_tracked_thread"

    # The user takes the access away; the daemon's connection is dropped and the
    # token it holds is refused at the next login.
    authority.revoke(user.name)
    await asyncio.to_thread(server.kick, user)
    await wait_for_status(client, added.id, ("auth_failed",))
    assert (await status_of(client, added.id)).blind_threads == 1
    await asyncio.to_thread(
        server.append, user, "INBOX",
        make_message("anna@kund.example", [ME], "Re: Offer", "<reply2@kund.example>",
                     in_reply_to="<reply1@kund.example>",
                     references=["<offer@firma.example>", "<reply1@kund.example>"]),
    )  # fmt: skip

    assert "Signed in" in await sign_in(client, added.id)
    await wait_for_status(client, added.id, ("idle",))
    explained = await client.call(
        m.MESSAGES_EXPLAIN, t.MessageRefParams(message_id="<reply2@kund.example>")
    )
    assert explained.logged
    assert (await status_of(client, added.id)).blind_threads == 0

    refresh_tokens = list(authority.refresh)
    assert refresh_tokens
    stored = contents(daemon.data_dir)
    log = (daemon.data_dir.parent / "daemon.stderr").read_bytes()
    for token in refresh_tokens:
        assert token.encode() not in stored and token.encode() not in log


async def test_a_refused_sign_in_leaves_the_mailbox_waiting_with_the_reason(
    authority: OAuthAuthority,  # noqa: F811
    google: tuple[DovecotServer, DovecotUser],
    client: Client,
) -> None:
    server, user = google
    added = await client.call(m.MAILBOXES_ADD, gmail_params(server, user, authority))
    authority.deny = True
    assert "refused" in await sign_in(client, added.id)
    failed = await wait_for_status(client, added.id, ("auth_failed",))
    while failed.detail == "sign in to connect":  # told at add, before the answer to it
        failed = await wait_for_status(client, added.id, ("auth_failed",))
    assert "access_denied" in failed.detail
    assert (await status_of(client, added.id)).status_detail == failed.detail


async def test_no_client_anywhere_is_refused_at_add(
    authority: OAuthAuthority,  # noqa: F811
    client: Client,
) -> None:
    params = t.GmailAddParams(address=ME, auth="xoauth2")
    with pytest.raises(RpcError) as refused:
        await client.call(m.MAILBOXES_ADD, params)
    assert refused.value.code == ErrorCode.BAD_INPUT
    assert "Desktop app" in str(refused.value.data)


async def test_a_token_of_another_account_is_refused_by_the_server(
    authority: OAuthAuthority,  # noqa: F811
    google: tuple[DovecotServer, DovecotUser],
    client: Client,
) -> None:
    """The browser signed in as someone else: the one refresh token stored is theirs,
    and XOAUTH2 names the mailbox's user, so the server refuses it (no fallback to
    pick another account exists on this path)."""
    server, user = google
    someone = await asyncio.to_thread(server.add_user)
    added = await client.call(m.MAILBOXES_ADD, gmail_params(server, user, authority))
    authority.users[ME] = someone.name
    await sign_in(client, added.id)
    failed = await wait_for_status(client, added.id, ("auth_failed",))
    while failed.detail == "sign in to connect":  # told at add, before the answer to it
        failed = await wait_for_status(client, added.id, ("auth_failed",))
    assert "refused the login" in failed.detail
    assert (await status_of(client, added.id)).status == "auth_failed"
    authority.users[ME] = user.name
    await sign_in(client, added.id)
    await wait_for_status(client, added.id, ("idle",))
