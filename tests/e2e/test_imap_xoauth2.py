"""XOAUTH2 end to end: Dovecot's oauth2 passdb checks access tokens at an
introspection endpoint served by this test (aiohttp); the daemon holds only a
refresh token, gets an access token from the test's token endpoint through
google-auth, logs in with AUTHENTICATE XOAUTH2 and syncs."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from loggbok.protocol.errors import ErrorCode, RpcError
from tests.servers.dovecot import DovecotServer
from tests.support.mail import make_message

REFRESH = "refresh-" + secrets.token_hex(8)


@dataclass
class OAuthServer:
    """A token endpoint (refresh grant) and an RFC 7662 introspection endpoint."""

    username: str = ""
    issued: list[str] = field(default_factory=list)
    introspected: list[str] = field(default_factory=list)
    url: str = ""

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("grant_type") != "refresh_token" or form.get("refresh_token") != REFRESH:
            return web.json_response({"error": "invalid_grant"}, status=400)
        access = "access-" + secrets.token_hex(8)
        self.issued.append(access)
        return web.json_response(
            {"access_token": access, "expires_in": 3600, "token_type": "Bearer"}
        )

    async def introspect(self, request: web.Request) -> web.Response:
        token = str((await request.post()).get("token", ""))
        self.introspected.append(token)
        if token in self.issued:
            return web.json_response({"active": True, "username": self.username})
        return web.json_response({"active": False})


@pytest.fixture
async def oauth() -> AsyncIterator[OAuthServer]:
    server = OAuthServer()
    app = web.Application()
    app.router.add_post("/token", server.token)
    app.router.add_post("/introspect", server.introspect)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    server.url = f"http://127.0.0.1:{port}"
    yield server
    await runner.cleanup()


async def test_xoauth2_login_with_refreshed_token(oauth: OAuthServer, client: Client) -> None:
    dovecot = await asyncio.to_thread(
        DovecotServer, oauth2_introspection_url=f"{oauth.url}/introspect"
    )
    await asyncio.to_thread(dovecot.start)
    try:
        user = await asyncio.to_thread(dovecot.add_user)
        oauth.username = user.name
        await asyncio.to_thread(
            dovecot.append,
            user,
            "INBOX",
            make_message("anna@kund.example", ["me@firma.example"], "Hej", "<x1@kund.example>"),
        )
        await client.call(m.CONTACTS_CREATE, t.ContactCreateParams(email="anna@kund.example"))
        await client.call(m.SETTINGS_SET, t.SettingsSetParams(logging_mode="all_with_contacts"))
        secret = json.dumps(
            {
                "refresh_token": REFRESH,
                "token_uri": f"{oauth.url}/token",
                "client_id": "loggbok-test",
                "client_secret": "s3cret",
            }
        )
        params = t.GmailAddParams(
            host=dovecot.host,
            port=dovecot.port,
            security="none",
            username=user.name,
            auth="xoauth2",
            password=secret,
            address="me@firma.example",
        )
        assert (await client.call(m.MAILBOXES_TEST, params)).ok
        added = await client.call(m.MAILBOXES_ADD, params)
        await client.call(m.MAILBOXES_SYNC, t.IdParams(id=added.id))
        explained = await client.call(
            m.MESSAGES_EXPLAIN, t.MessageRefParams(message_id="<x1@kund.example>")
        )
        assert explained.reason == "contact_email"
        assert oauth.issued and set(oauth.introspected) <= set(oauth.issued)

        bad = t.GmailAddParams(
            host=dovecot.host,
            port=dovecot.port,
            security="none",
            username=user.name,
            auth="xoauth2",
            password="not-a-valid-access-token",
            address="x@firma.example",
        )
        with pytest.raises(RpcError) as refused:
            await client.call(m.MAILBOXES_ADD, bad)
        assert refused.value.code == ErrorCode.AUTH_FAILED
    finally:
        await asyncio.to_thread(dovecot.stop)
        await asyncio.to_thread(dovecot.cleanup)
