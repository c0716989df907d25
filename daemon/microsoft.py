"""Microsoft sign-in through msal: the device-code flow and silent refresh, for
Graph (and EWS with OAuth2) mailboxes.

The mailbox's secret (in the secret store, never the database or a log) is
msal's serialisable token cache as JSON. Everything here blocks (msal uses
requests): call it on a worker thread. msal trusts the system store, or the
CA bundle named by `REQUESTS_CA_BUNDLE` / `SSL_CERT_FILE` (an inspecting
proxy's CA; the tests' local CA).

Errors: `SignInNeeded` (no account in the cache, a refused refresh token:
`invalid_grant`, consent revoked: the user must sign in again) and
`SignInUnavailable` (the authority cannot be reached or answers garbage: try
again later).
"""

from __future__ import annotations

import contextlib
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


@dataclass(frozen=True, slots=True)
class MicrosoftAccount:
    """One mailbox's sign-in: the app (client id), the authority and the scopes."""

    client_id: str
    authority: str
    scopes: tuple[str, ...]
    address: str

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
        accounts = app.get_accounts(username=self.address) or app.get_accounts()
        if not accounts:
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

    @staticmethod
    def finish_device_flow(flow: dict[str, Any], cache: msal.SerializableTokenCache) -> str:
        """Wait until the user has signed in (or the code expired, or `cancel_device_flow`
        was called); the token cache to store."""
        app: msal.PublicClientApplication = flow.pop("_app")
        try:
            result = app.acquire_token_by_device_flow(flow)
        except requests.RequestException as exc:
            raise SignInUnavailable(f"the sign-in service failed: {exc}") from exc
        if "access_token" not in result:
            detail = str(result.get("error_description", result.get("error", "no token")))
            raise SignInNeeded(f"sign-in did not complete: {detail.splitlines()[0]}")
        return str(cache.serialize())


def cancel_device_flow(flow: dict[str, Any]) -> None:
    """Make a waiting `finish_device_flow` give up at its next poll (msal's own way)."""
    flow["expires_at"] = 0
