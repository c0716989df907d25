"""Google sign-in for `auth: xoauth2` IMAP mailboxes: OAuth 2.0 for installed
(desktop) apps, an authorization code with PKCE (S256) sent back to a loopback
listener the daemon opens (RFC 8252 section 7.3).

Why not the device flow: Google's "OAuth 2.0 for TV and Limited-Input Device
Applications" allows only a short list of scopes, and Gmail's (the only one
IMAP takes is https://mail.google.com/) is not among them; Google tells
command-line tools to use the desktop-app flow instead
(developers.google.com/identity/protocols/oauth2/limited-input-device#allowedscopes,
.../oauth2/native-app). The browser must run where the daemon runs (its
listener is on 127.0.0.1); over SSH, forward the port the URL names
(`LOGGBOK_GOOGLE_REDIRECT_PORT` fixes it).

The client is Google's installed-app client ("Desktop app" in the Google
Cloud console): its id and secret come from the mailbox's params or from the
JSON file Google hands out (`LOGGBOK_GOOGLE_CLIENT_FILE`, {"installed": {...}}).
Google treats a desktop client's secret as not confidential (a public client);
it still wants it at the token endpoint. The result is the secret
`oauth.access_token` refreshes: {"refresh_token", "token_uri", "client_id",
"client_secret", "access_token", "expiry"}, for the secret store only.

google-auth-oauthlib's `run_local_server` would do the same, but it blocks a
thread in wsgiref until a request comes and opens a browser on the daemon's
machine; here the listener is an aiohttp server on the event loop that a newer
sign-in simply closes.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

GOOGLE_AUTH_URI = "https://accounts.google.com/o/oauth2/v2/auth"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
GMAIL_SCOPE = "https://mail.google.com/"
CLIENT_FILE_ENV = "LOGGBOK_GOOGLE_CLIENT_FILE"
PORT_ENV = "LOGGBOK_GOOGLE_REDIRECT_PORT"
SIGN_IN_SECONDS = 600
"""How long a sign-in waits for the browser to come back."""
TOKEN_TIMEOUT = 30.0

NO_CLIENT = (
    "signing in needs a Google OAuth client: in the Google Cloud console (APIs & Services > "
    "Credentials > Create credentials > OAuth client ID, type Desktop app) create one, "
    f"download its JSON and name it in {CLIENT_FILE_ENV} for the daemon, or give its "
    "client_id and client_secret"
)


class SignInRefused(Exception):
    """The user (or the authority) said no, or the code was refused: sign in again."""


class SignInFailed(Exception):
    """The token endpoint failed or could not be reached: try again later."""


@dataclass(frozen=True, slots=True)
class OAuthClient:
    """An installed-app client and the endpoints it signs in at."""

    client_id: str
    client_secret: str
    auth_uri: str = GOOGLE_AUTH_URI
    token_uri: str = GOOGLE_TOKEN_URI
    scope: str = GMAIL_SCOPE


def client_file() -> dict[str, str]:
    """The daemon's client from `LOGGBOK_GOOGLE_CLIENT_FILE` ({} when not set);
    ValueError when the file cannot be read as Google's client JSON."""
    path = os.environ.get(CLIENT_FILE_ENV, "")
    if not path:
        return {}
    try:
        data = json.loads(Path(path).expanduser().read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{CLIENT_FILE_ENV}: cannot read {path}: {exc}") from exc
    inner = data.get("installed", data) if isinstance(data, dict) else None
    if not isinstance(inner, dict) or not inner.get("client_id"):
        raise ValueError(f"{CLIENT_FILE_ENV}: {path} is not a Google OAuth client file")
    return {k: str(v) for k, v in inner.items() if isinstance(v, str)}


def pkce_pair() -> tuple[str, str]:
    """A code verifier and its S256 challenge (RFC 7636)."""
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


_DONE_PAGE = "<!doctype html><title>loggbok</title><p>{}</p>"


class LoopbackAuthorization:
    """One sign-in: a listener on 127.0.0.1, the URL to open, the secret once the
    browser comes back with a code (exchanged at the token endpoint)."""

    def __init__(self, client: OAuthClient, login_hint: str) -> None:
        self.client = client
        self._hint = login_hint
        self._state = secrets.token_urlsafe(24)
        self._verifier, self._challenge = pkce_pair()
        self._result: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._runner: web.AppRunner | None = None
        self.redirect_uri = ""
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/", self._redirected)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        port = int(os.environ.get(PORT_ENV, "0") or 0)
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        try:
            await site.start()
        except OSError as exc:
            await self.close()
            raise SignInFailed(f"cannot listen on 127.0.0.1:{port}: {exc}") from exc
        bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.redirect_uri = f"http://127.0.0.1:{bound}/"
        query = {
            "response_type": "code",
            "client_id": self.client.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": self.client.scope,
            "state": self._state,
            "code_challenge": self._challenge,
            "code_challenge_method": "S256",
            "access_type": "offline",  # a refresh token
            "prompt": "consent",  # a refresh token on a second sign-in too
            "login_hint": self._hint,
        }
        self.url = f"{self.client.auth_uri}?{urlencode(query)}"

    async def _redirected(self, request: web.Request) -> web.Response:
        query = request.query
        if query.get("state") != self._state:
            # not our authorization's answer (another tab, a stale link): keep waiting
            return _page("This link is not for the sign-in under way.", status=400)
        if self._result.done():
            return _page("Already done; you can close this tab.")
        if "error" in query:
            self._result.set_exception(SignInRefused(f"sign-in refused: {query['error']}"))
            return _page("Sign-in refused; you can close this tab.")
        code = query.get("code", "")
        try:
            secret = await self._exchange(code)
        except (SignInRefused, SignInFailed) as exc:
            if not self._result.done():
                self._result.set_exception(exc)
            return _page(f"Sign-in failed: {exc}", status=502)
        if not self._result.done():
            self._result.set_result(secret)
        return _page("Signed in: loggbok reads this mailbox now. You can close this tab.")

    async def _exchange(self, code: str) -> str:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": self._verifier,
            "redirect_uri": self.redirect_uri,
            "client_id": self.client.client_id,
            "client_secret": self.client.client_secret,
        }
        timeout = aiohttp.ClientTimeout(total=TOKEN_TIMEOUT)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.post(self.client.token_uri, data=form) as response,
            ):
                status = response.status
                body: Any = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise SignInFailed(f"the token endpoint failed: {exc}") from exc
        if not isinstance(body, dict):
            raise SignInFailed(f"the token endpoint answered {status} with no token")
        if status >= 500 or status == 429:
            raise SignInFailed(f"the token endpoint answered {status}")
        if "refresh_token" not in body or "access_token" not in body:
            error = body.get("error_description") or body.get("error") or "no refresh token"
            raise SignInRefused(f"the code was refused: {error}")
        expiry = datetime.now(UTC) + timedelta(seconds=int(body.get("expires_in", 3600)))
        return json.dumps(
            {
                "refresh_token": body["refresh_token"],
                "token_uri": self.client.token_uri,
                "client_id": self.client.client_id,
                "client_secret": self.client.client_secret,
                "access_token": body["access_token"],
                "expiry": expiry.isoformat(),
            }
        )

    async def wait(self, timeout: float = SIGN_IN_SECONDS) -> str:
        """The secret to store; SignInRefused when refused or out of time."""
        try:
            return await asyncio.wait_for(asyncio.shield(self._result), timeout)
        except TimeoutError:
            raise SignInRefused("sign-in expired: nobody came back from the browser") from None
        finally:
            await self.close()

    def cancel(self) -> None:
        if not self._result.done():
            self._result.set_exception(SignInRefused("replaced by a newer sign-in"))
            self._result.exception()  # told to `wait` if it waits; never "unretrieved"

    async def close(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            with contextlib.suppress(Exception):
                await runner.cleanup()


def _page(text: str, status: int = 200) -> web.Response:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return web.Response(text=_DONE_PAGE.format(escaped), status=status, content_type="text/html")
