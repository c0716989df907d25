"""Browser sign-in for `auth: xoauth2` IMAP and Gmail mailboxes (`mailboxes.sign_in`):
the OAuth client a mailbox's config names, and the loopback flow of `google.py`
as a `SignInFlow`. The secret it yields is the refresh-token JSON that
`oauth.py` turns into access tokens."""

from __future__ import annotations

from typing import Any

from loggbok.daemon.google import (
    GOOGLE_AUTH_URI,
    GOOGLE_TOKEN_URI,
    NO_CLIENT,
    SIGN_IN_SECONDS,
    LoopbackAuthorization,
    OAuthClient,
    SignInFailed,
    SignInRefused,
    client_file,
)
from loggbok.daemon.sync.backend import AuthError, PermanentError, TemporaryError
from loggbok.daemon.sync.providers.base import SignInFlow
from loggbok.protocol import types as t

OAUTH_KEYS = ("client_id", "client_secret", "auth_uri", "token_uri")


def oauth_config(params: t.ImapAddParams | t.GmailAddParams, google: bool) -> dict[str, Any]:
    """What a sign-in needs beside the daemon's client file: the params' own client and
    endpoints, and whether the server is Google's (whose endpoints and client file
    apply). Never a token."""
    config: dict[str, Any] = {k: str(v) for k in OAUTH_KEYS if (v := getattr(params, k))}
    config["google"] = google
    return config


def signs_in(config: dict[str, Any]) -> bool:
    """`auth: xoauth2` at Google, or with an authorization endpoint of its own."""
    oauth = config.get("oauth", {})
    return config.get("auth") == "xoauth2" and bool(oauth.get("google") or oauth.get("auth_uri"))


def client_of(config: dict[str, Any]) -> OAuthClient:
    """The client for a mailbox's sign-in: its own params, over the daemon's client file
    and Google's endpoints (for Google's servers); PermanentError when there is none
    (with how to get one)."""
    oauth = {k: str(v) for k, v in config.get("oauth", {}).items() if k in OAUTH_KEYS and v}
    if config.get("oauth", {}).get("google"):
        try:
            daemon = client_file()
        except ValueError as exc:
            raise PermanentError(str(exc)) from exc
        defaults = {"auth_uri": GOOGLE_AUTH_URI, "token_uri": GOOGLE_TOKEN_URI}
        oauth = {**defaults, **{k: v for k, v in daemon.items() if k in OAUTH_KEYS}, **oauth}
    if not oauth.get("client_id") or not oauth.get("auth_uri") or not oauth.get("token_uri"):
        raise PermanentError(NO_CLIENT)
    return OAuthClient(
        client_id=oauth["client_id"],
        client_secret=oauth.get("client_secret", ""),
        auth_uri=oauth["auth_uri"],
        token_uri=oauth["token_uri"],
    )


class BrowserSignIn(SignInFlow):
    """One loopback authorization: the URL to open at once, the secret when done."""

    def __init__(self, flow: LoopbackAuthorization) -> None:
        self._flow = flow
        self.prompt = t.SignInPrompt(
            verification_uri=flow.url,
            user_code="",
            expires_in=SIGN_IN_SECONDS,
            message="Open this address in a browser on the computer loggbokd runs on and "
            "allow access; the browser comes back to loggbok by itself "
            f"({flow.redirect_uri}).",
        )

    @classmethod
    async def start(cls, client: OAuthClient, address: str) -> BrowserSignIn:
        flow = LoopbackAuthorization(client, address)
        try:
            await flow.start()
        except SignInFailed as exc:
            raise TemporaryError(str(exc)) from exc
        return cls(flow)

    async def wait(self) -> str:
        try:
            return await self._flow.wait()
        except SignInRefused as exc:
            raise AuthError(str(exc)) from exc
        except SignInFailed as exc:
            raise TemporaryError(str(exc)) from exc

    def cancel(self) -> None:
        self._flow.cancel()
