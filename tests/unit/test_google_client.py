"""Which OAuth client a sign-in uses: the mailbox's params over the daemon's Google
client file over Google's endpoints (Google's servers only); none is a clear
refusal. And the PKCE pair is S256 of the verifier."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest

from loggbok.daemon.google import (
    CLIENT_FILE_ENV,
    GOOGLE_AUTH_URI,
    GOOGLE_TOKEN_URI,
    pkce_pair,
)
from loggbok.daemon.sync.backend import PermanentError
from loggbok.daemon.sync.providers.imap.sign_in import client_of, signs_in


def test_pkce_challenge_is_s256_of_the_verifier() -> None:
    verifier, challenge = pkce_pair()
    assert 43 <= len(verifier) <= 128
    digest = hashlib.sha256(verifier.encode()).digest()
    assert challenge == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_params_over_the_client_file_over_googles_endpoints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "client_secret.json"
    path.write_text(json.dumps({"installed": {"client_id": "file-id", "client_secret": "s"}}))
    monkeypatch.setenv(CLIENT_FILE_ENV, str(path))
    google = {"auth": "xoauth2", "oauth": {"google": True}}
    client = client_of(google)
    assert (client.client_id, client.client_secret) == ("file-id", "s")
    assert (client.auth_uri, client.token_uri) == (GOOGLE_AUTH_URI, GOOGLE_TOKEN_URI)
    own = {"auth": "xoauth2", "oauth": {"google": True, "client_id": "mine"}}
    assert client_of(own).client_id == "mine"
    assert signs_in(google) and not signs_in({**google, "auth": "password"})


def test_no_client_is_refused_with_how_to_get_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CLIENT_FILE_ENV, raising=False)
    with pytest.raises(PermanentError, match="Desktop app"):
        client_of({"auth": "xoauth2", "oauth": {"google": True}})
    other = {"auth": "xoauth2", "oauth": {"google": False}}
    assert not signs_in(other)  # another server signs in only with its own endpoints
    with pytest.raises(PermanentError):
        client_of(other)


def test_a_broken_client_file_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "x.json"
    path.write_text("{not json")
    monkeypatch.setenv(CLIENT_FILE_ENV, str(path))
    with pytest.raises(PermanentError, match=CLIENT_FILE_ENV):
        client_of({"auth": "xoauth2", "oauth": {"google": True}})
