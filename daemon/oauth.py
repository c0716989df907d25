"""OAuth 2.0 access tokens for XOAUTH2 (Gmail, and IMAP servers that take tokens).

The stored secret of an `auth: "xoauth2"` mailbox is either a bare access
token, or a JSON object {"refresh_token", "token_uri", "client_id",
"client_secret", "access_token"?, "expiry"?}. In the second form the access
token is refreshed through google-auth (Google's own, well-kept OAuth client;
it works with any RFC 6749 token endpoint) when missing or about to expire,
and the updated secret is handed back for storing. Blocking: call it on a
worker thread.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import google.auth.exceptions
import google.auth.transport.requests
import google.oauth2.credentials
import requests


class OAuthError(Exception):
    """No access token: the refresh token was refused (`temporary` False: the user must
    sign in again), or the token endpoint failed, could not be reached or answered
    with something that is not a token response (`temporary` True: try later)."""

    def __init__(self, message: str, *, temporary: bool) -> None:
        super().__init__(message)
        self.temporary = temporary


def _expiry(value: object) -> datetime | None:
    """The stored expiry as google-auth wants it (naive UTC); unreadable -> None
    (the token is then refreshed)."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value).astimezone(UTC).replace(tzinfo=None)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class AccessToken:
    token: str
    updated_secret: str | None
    """The secret to store instead of the old one (a refreshed token), if it changed."""


def access_token(secret: str) -> AccessToken:
    try:
        data = json.loads(secret)
    except ValueError:
        return AccessToken(secret, None)
    if not isinstance(data, dict) or "refresh_token" not in data:
        return AccessToken(secret, None)
    credentials = google.oauth2.credentials.Credentials(  # type: ignore[no-untyped-call]
        token=data.get("access_token"),
        refresh_token=data["refresh_token"],
        token_uri=data.get("token_uri", "https://oauth2.googleapis.com/token"),
        client_id=data.get("client_id"),
        client_secret=data.get("client_secret"),
        expiry=_expiry(data.get("expiry")),
    )
    if credentials.token and credentials.valid:
        return AccessToken(credentials.token, None)
    statuses: list[int] = []
    session = requests.Session()
    session.hooks["response"].append(
        lambda response, *_a, **_k: statuses.append(response.status_code)
    )
    try:
        credentials.refresh(google.auth.transport.requests.Request(session))  # type: ignore[no-untyped-call]
    except google.auth.exceptions.RefreshError as exc:
        server_failed = bool(statuses) and (statuses[-1] >= 500 or statuses[-1] == 429)
        if server_failed or getattr(exc, "retryable", False):
            raise OAuthError(f"the token endpoint failed: {exc}", temporary=True) from exc
        raise OAuthError(
            f"the token endpoint refused the refresh token: {exc}", temporary=False
        ) from exc
    except google.auth.exceptions.TransportError as exc:
        raise OAuthError(f"cannot reach the token endpoint: {exc}", temporary=True) from exc
    except (TypeError, ValueError, AttributeError, KeyError, OverflowError) as exc:
        # google-auth reads the answer without checking its shape
        raise OAuthError(
            f"the token endpoint's answer is not a token response ({type(exc).__name__}: {exc})",
            temporary=True,
        ) from exc
    finally:
        session.close()
    data["access_token"] = credentials.token
    data["expiry"] = (
        credentials.expiry.replace(tzinfo=UTC).isoformat() if credentials.expiry else None
    )
    return AccessToken(str(credentials.token), json.dumps(data))
