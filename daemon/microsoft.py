"""Microsoft sign-in through msal: the device-code flow and silent refresh, for
Graph (and EWS with OAuth2) mailboxes.

The mailbox's secret (in the secret store, never the database or a log) is
msal's serialisable token cache as JSON. Everything here blocks (msal uses
requests): call it on a worker thread. msal trusts the system store, or the
CA bundle named by `REQUESTS_CA_BUNDLE` / `SSL_CERT_FILE` (an inspecting
proxy's CA; the tests' local CA).

Only the mailbox's own account is ever used: the account signed in (its
`username`, and the id token's `preferred_username`, `upn` and `email`) must be
the mailbox's address (or, for EWS, its configured username), compared without
case. A sign-in as anyone else is refused and its tokens are dropped, never
stored; a stored cache holding only other accounts is never used.

Errors: `SignInNeeded` (no account in the cache, a refused refresh token:
`invalid_grant`, consent revoked: the user must sign in again), its subclass
`WrongAccount` (signed in as another account than the mailbox's), and
`SignInUnavailable` (the authority cannot be reached or answers garbage: try
again later).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import msal
import requests

DEFAULT_AUTHORITY_HOST = "https://login.microsoftonline.com"
DEFAULT_GRAPH_URL = "https://graph.microsoft.com/v1.0"


class SignInNeeded(Exception):
    """No usable token: the user must sign in (again)."""


class WrongAccount(SignInNeeded):
    """The sign-in was for another account than the mailbox's."""


class SignInUnavailable(Exception):
    """The sign-in service failed or could not be reached: try again later."""


def graph_scopes(graph_url: str) -> list[str]:
    """Mail.Read on the Graph host in use (national clouds have their own host)."""
    parts = urlsplit(graph_url)
    return [f"{parts.scheme}://{parts.netloc}/Mail.Read"]


def _ca_bundle() -> str | bool:
    for name in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"):
        if path := os.environ.get(name):
            return path
    return True


NAME_CLAIMS = ("preferred_username", "upn", "email")
"""The id token claims that name the signed-in user (v2.0 tokens; v1.0 `upn`)."""


def _claims(id_token: str) -> dict[str, Any]:
    """An id token's claims, unverified: it came from the authority over TLS and only
    names the user (the authority checks the tokens themselves)."""
    parts = id_token.split(".")
    if len(parts) < 2:
        return {}
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return {}
    return claims if isinstance(claims, dict) else {}


def names_of(cache: msal.SerializableTokenCache, account: dict[str, Any]) -> set[str]:
    """Every name (lower case) a cached account goes by: msal's `username` and the
    name claims of its id tokens."""
    names = {str(account.get("username") or "")}
    query = {"home_account_id": account.get("home_account_id")}
    for entry in cache.search(msal.TokenCache.CredentialType.ID_TOKEN, query=query):
        claims = _claims(str(entry.get("secret", "")))
        names.update(str(claims[k]) for k in NAME_CLAIMS if claims.get(k))
    return {name.lower() for name in names if name}


@dataclass(frozen=True, slots=True)
class MicrosoftAccount:
    """One mailbox's sign-in: the app (client id), the authority and the scopes."""

    client_id: str
    authority: str
    scopes: tuple[str, ...]
    address: str
    aliases: tuple[str, ...] = ()
    """Other names the mailbox's own account may sign in as (EWS: its username)."""

    def _own(
        self, app: msal.PublicClientApplication, cache: msal.SerializableTokenCache
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The cached accounts that are the mailbox's, and the others."""
        wanted = {name.lower() for name in (self.address, *self.aliases) if name}
        own: list[dict[str, Any]] = []
        others: list[dict[str, Any]] = []
        for account in app.get_accounts():
            (own if names_of(cache, account) & wanted else others).append(account)
        return own, others

    def _wrong(self, account: dict[str, Any]) -> WrongAccount:
        who = str(account.get("username") or "another account")
        return WrongAccount(
            f"signed in as {who}, but this mailbox is {self.address}: sign in as {self.address}"
        )

    def _app(self, cache: msal.SerializableTokenCache) -> msal.PublicClientApplication:
        session = requests.Session()
        session.verify = _ca_bundle()
        try:
            return msal.PublicClientApplication(
                self.client_id,
                authority=self.authority,
                token_cache=cache,
                http_client=session,
                instance_discovery=False,
            )
        except (ValueError, requests.RequestException) as exc:
            raise SignInUnavailable(f"cannot reach {self.authority}: {exc}") from exc

    @staticmethod
    def _cache(secret: str | None) -> msal.SerializableTokenCache:
        cache = msal.SerializableTokenCache()
        if secret:  # a secret of another kind (a password) leaves the cache empty
            with contextlib.suppress(ValueError):
                cache.deserialize(secret)
        return cache

    def access_token(
        self, secret: str | None, *, force_refresh: bool = False
    ) -> tuple[str, str | None]:
        """A fresh access token, refreshed silently (`force_refresh` after the server
        refused the cached one); and the cache to store again when msal changed it (a
        rotated refresh token), else None."""
        cache = self._cache(secret)
        app = self._app(cache)
        accounts, others = self._own(app, cache)
        if not accounts:
            if others:  # never another user's tokens
                raise self._wrong(others[0])
            raise SignInNeeded(f"{self.address} is not signed in")
        try:
            result = app.acquire_token_silent_with_error(
                list(self.scopes), account=accounts[0], force_refresh=force_refresh
            )
        except requests.RequestException as exc:
            raise SignInUnavailable(f"cannot reach {self.authority}: {exc}") from exc
        if not result:
            raise SignInNeeded(f"{self.address} must sign in again")
        if "access_token" not in result:
            error = str(result.get("error", ""))
            detail = str(result.get("error_description", error)).splitlines()[0]
            if error in ("invalid_grant", "interaction_required", "invalid_client"):
                raise SignInNeeded(f"{self.address} must sign in again: {detail}")
            raise SignInUnavailable(f"the sign-in service failed: {detail}")
        return str(result["access_token"]), cache.serialize() if cache.has_state_changed else None

    def start_device_flow(self) -> tuple[dict[str, Any], msal.SerializableTokenCache]:
        """Ask for a device code: the flow to show the user and wait on."""
        cache = self._cache(None)
        app = self._app(cache)
        try:
            flow = app.initiate_device_flow(scopes=list(self.scopes))
        except requests.RequestException as exc:
            raise SignInUnavailable(f"cannot reach {self.authority}: {exc}") from exc
        if "user_code" not in flow:
            raise SignInUnavailable(
                str(flow.get("error_description", "the device code was refused"))
            )
        flow["_app"] = app
        return flow, cache

    def finish_device_flow(self, flow: dict[str, Any], cache: msal.SerializableTokenCache) -> str:
        """Wait until the user has signed in (or the code expired, or `cancel_device_flow`
        was called); the token cache to store, holding the mailbox's account only.
        WrongAccount (nothing to store) when the user signed in as someone else."""
        app: msal.PublicClientApplication = flow.pop("_app")
        try:
            result = app.acquire_token_by_device_flow(flow)
        except requests.RequestException as exc:
            raise SignInUnavailable(f"the sign-in service failed: {exc}") from exc
        if "access_token" not in result:
            detail = str(result.get("error_description", result.get("error", "no token")))
            raise SignInNeeded(f"sign-in did not complete: {detail.splitlines()[0]}")
        own, others = self._own(app, cache)
        if not own:
            claims = result.get("id_token_claims") or {}
            who = next((str(claims[k]) for k in NAME_CLAIMS if claims.get(k)), None)
            raise self._wrong({"username": who} if who else (others or [{}])[0])
        for account in others:  # keep only the mailbox's own tokens
            app.remove_account(account)
        return str(cache.serialize())


def cancel_device_flow(flow: dict[str, Any]) -> None:
    """Make a waiting `finish_device_flow` give up at its next poll (msal's own way)."""
    flow["expires_at"] = 0
