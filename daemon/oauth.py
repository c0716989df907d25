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


class OAuthError(Exception):
    """The refresh token was refused or the token endpoint could not be reached."""


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
    expiry = data.get("expiry")
    credentials = google.oauth2.credentials.Credentials(  # type: ignore[no-untyped-call]
        token=data.get("access_token"),
        refresh_token=data["refresh_token"],
        token_uri=data.get("token_uri", "https://oauth2.googleapis.com/token"),
        client_id=data.get("client_id"),
        client_secret=data.get("client_secret"),
        expiry=datetime.fromisoformat(expiry).astimezone(UTC).replace(tzinfo=None)
        if expiry
        else None,
    )
    if credentials.token and credentials.valid:
        return AccessToken(credentials.token, None)
    try:
        credentials.refresh(google.auth.transport.requests.Request())  # type: ignore[no-untyped-call]
    except google.auth.exceptions.RefreshError as exc:
        raise OAuthError(f"the token endpoint refused the refresh token: {exc}") from exc
    except google.auth.exceptions.TransportError as exc:
        raise OAuthError(f"cannot reach the token endpoint: {exc}") from exc
    data["access_token"] = credentials.token
    data["expiry"] = (
        credentials.expiry.replace(tzinfo=UTC).isoformat() if credentials.expiry else None
    )
    return AccessToken(str(credentials.token), json.dumps(data))
