"""Microsoft sign-in for a Graph mailbox: the account its config names, access
tokens for the client (cached, refreshed by msal, a rotated token cache stored
again), and the device-code flow behind `mailboxes.sign_in`.

msal blocks (requests): every call runs on a worker thread. The token cache is
the mailbox's secret: it goes to the secret store only.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import msal

from loggbok.daemon.microsoft import (
    MicrosoftAccount,
    SignInNeeded,
    SignInUnavailable,
    cancel_device_flow,
    graph_scopes,
)
from loggbok.daemon.secrets import SecretStore, mailbox_secret_key
from loggbok.daemon.store.mailboxes import MailboxRow
from loggbok.daemon.sync.backend import AuthError, TemporaryError
from loggbok.daemon.sync.providers.base import SIGN_IN_NEEDED, SignInFlow
from loggbok.protocol import types as t

TOKEN_REUSE = 30 * 60.0
"""Seconds an access token is used before msal is asked again (they live an hour;
a 401 asks at once)."""


def account_of(mailbox: MailboxRow) -> MicrosoftAccount:
    config = mailbox.config
    return MicrosoftAccount(
        client_id=str(config["client_id"]),
        authority=str(config["authority"]),
        scopes=tuple(graph_scopes(str(config["graph_url"]))),
        address=mailbox.address,
    )


class TokenSource:
    """Access tokens for one mailbox's GraphClient."""

    def __init__(self, account: MicrosoftAccount, secrets: SecretStore, mailbox_id: int) -> None:
        self._account = account
        self._secrets = secrets
        self._key = mailbox_secret_key(mailbox_id)
        self._token: str | None = None
        self._at = 0.0
        self._lock = asyncio.Lock()

    async def __call__(self, force_refresh: bool) -> str:
        async with self._lock:
            fresh = time.monotonic() - self._at < TOKEN_REUSE
            if self._token is not None and fresh and not force_refresh:
                return self._token
            secret = await asyncio.to_thread(self._secrets.get, self._key)
            if not secret:
                raise AuthError(SIGN_IN_NEEDED)
            try:
                token, updated = await asyncio.to_thread(
                    self._account.access_token, secret, force_refresh=force_refresh
                )
            except SignInNeeded as exc:
                raise AuthError(f"{exc}: {SIGN_IN_NEEDED}") from exc
            except SignInUnavailable as exc:
                raise TemporaryError(str(exc)) from exc
            if updated is not None:
                await asyncio.to_thread(self._secrets.set, self._key, updated)
            self._token, self._at = token, time.monotonic()
            return token


class DeviceCodeSignIn(SignInFlow):
    """One device-code flow: the prompt at once, the token cache when the user is done."""

    def __init__(
        self, account: MicrosoftAccount, flow: dict[str, Any], cache: msal.SerializableTokenCache
    ) -> None:
        self._account = account
        self._flow = flow
        self._cache = cache
        self.prompt = t.SignInPrompt(
            verification_uri=str(flow.get("verification_uri", "")),
            user_code=str(flow["user_code"]),
            expires_in=int(flow.get("expires_in", 900)),
            message=str(flow.get("message", "")),
        )

    @classmethod
    async def start(cls, account: MicrosoftAccount) -> DeviceCodeSignIn:
        try:
            flow, cache = await asyncio.to_thread(account.start_device_flow)
        except SignInUnavailable as exc:
            raise TemporaryError(str(exc)) from exc
        return cls(account, flow, cache)

    async def wait(self) -> str:
        try:
            return await asyncio.to_thread(
                self._account.finish_device_flow, self._flow, self._cache
            )
        except SignInNeeded as exc:
            raise AuthError(str(exc)) from exc
        except SignInUnavailable as exc:
            raise TemporaryError(str(exc)) from exc

    def cancel(self) -> None:
        cancel_device_flow(self._flow)
