"""A small OAuth 2.0 authority on loopback, shaped as Google's installed-app endpoints:
an authorization endpoint (it "signs in" whoever the test says and redirects to the
client's loopback redirect URI with a code), a token endpoint (authorization code
with PKCE S256, and refresh), an RFC 7662 introspection endpoint Dovecot's oauth2
passdb asks, and revocation by the test (`revoke`).

The test plays the browser with `browse(url)`: a GET of the authorization URL the
daemon gave, following the redirect to the daemon's listener. It checks what
Google checks: the client id and secret, the redirect URI (loopback, the same at
both steps), the state passed through, and the verifier against the challenge.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

import aiohttp
import pytest
from aiohttp import web

CLIENT_ID = "loggbok-test.apps.example"
CLIENT_SECRET = "GOCSPX-test-not-confidential"


@dataclass
class Grant:
    user: str
    challenge: str
    redirect_uri: str


@dataclass
class OAuthAuthority:
    url: str = ""
    users: dict[str, str] = field(default_factory=dict)
    """login hint (the address) -> the user name the introspection answers with."""
    deny: bool = False
    codes: dict[str, Grant] = field(default_factory=dict)
    refresh: dict[str, str] = field(default_factory=dict)
    """refresh token -> user, while valid."""
    access: dict[str, str] = field(default_factory=dict)
    """access token -> user, while valid."""
    authorizations: list[dict[str, str]] = field(default_factory=list)

    @property
    def auth_uri(self) -> str:
        return f"{self.url}/authorize"

    @property
    def token_uri(self) -> str:
        return f"{self.url}/token"

    @property
    def introspection_url(self) -> str:
        return f"{self.url}/introspect"

    def revoke(self, user: str) -> None:
        """The user took the app's access away: every token of theirs stops working."""
        for table in (self.refresh, self.access):
            for token in [k for k, v in table.items() if v == user]:
                del table[token]

    async def authorize(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        self.authorizations.append(query)
        redirect = query.get("redirect_uri", "")
        if query.get("client_id") != CLIENT_ID or urlsplit(redirect).hostname != "127.0.0.1":
            return web.Response(status=400, text="invalid_request")
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return web.Response(status=400, text="PKCE required")
        answer = {"state": query.get("state", "")}
        user = self.users.get(query.get("login_hint", ""))
        if self.deny or user is None:
            answer["error"] = "access_denied"
        else:
            code = "code-" + secrets.token_hex(8)
            self.codes[code] = Grant(user, query["code_challenge"], redirect)
            answer["code"] = code
        raise web.HTTPFound(f"{redirect}?{urlencode(answer)}")

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
            return web.json_response({"error": "invalid_client"}, status=401)
        if form.get("grant_type") == "authorization_code":
            grant = self.codes.pop(str(form.get("code", "")), None)
            verifier = str(form.get("code_verifier", ""))
            digest = hashlib.sha256(verifier.encode()).digest()
            challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if (
                grant is None
                or grant.challenge != challenge
                or grant.redirect_uri != form.get("redirect_uri")
            ):
                return web.json_response({"error": "invalid_grant"}, status=400)
            refresh = "refresh-" + secrets.token_hex(8)
            self.refresh[refresh] = grant.user
            return self._access(grant.user, refresh)
        if form.get("grant_type") == "refresh_token":
            user = self.refresh.get(str(form.get("refresh_token", "")))
            if user is None:
                return web.json_response(
                    {"error": "invalid_grant", "error_description": "Token has been revoked."},
                    status=400,
                )
            return self._access(user, None)
        return web.json_response({"error": "unsupported_grant_type"}, status=400)

    def _access(self, user: str, refresh: str | None) -> web.Response:
        access = "access-" + secrets.token_hex(8)
        self.access[access] = user
        body: dict[str, object] = {
            "access_token": access,
            "expires_in": 3599,
            "token_type": "Bearer",
            "scope": "https://mail.google.com/",
        }
        if refresh is not None:
            body["refresh_token"] = refresh
        return web.json_response(body)

    async def introspect(self, request: web.Request) -> web.Response:
        user = self.access.get(str((await request.post()).get("token", "")))
        if user is None:
            return web.json_response({"active": False})
        return web.json_response({"active": True, "username": user})


async def browse(url: str) -> str:
    """The browser's part: open the authorization URL, follow the redirect home."""
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return await response.text()


@pytest.fixture
def authority() -> Iterator[OAuthAuthority]:
    """The authority on a thread of its own with its own event loop: a daemon stopped by
    a synchronous fixture may still be logging in (Dovecot asks the introspection
    endpoint meanwhile), which must not wait on the test's loop."""
    server = OAuthAuthority()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    runner: list[web.AppRunner] = []

    async def serve() -> None:
        app = web.Application()
        app.router.add_get("/authorize", server.authorize)
        app.router.add_post("/token", server.token)
        app.router.add_post("/introspect", server.introspect)
        runner.append(web.AppRunner(app, access_log=None))
        await runner[0].setup()
        site = web.TCPSite(runner[0], "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        server.url = f"http://127.0.0.1:{port}"
        ready.set()

    thread = threading.Thread(target=loop.run_forever, name="oauth-authority", daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(serve(), loop).result(10)
    assert ready.is_set()
    yield server
    asyncio.run_coroutine_threadsafe(runner[0].cleanup(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()
