"""What an EWS mailbox is opened with, without exchangelib: its settings and endpoint.

`provider.py` (imported by every daemon, through the provider registry) needs
these to describe and open an EWS mailbox; `connection.py` and `backend.py`
need exchangelib, which is only imported once an EWS mailbox is opened (about
a quarter of a second and 30,000 objects a daemon without one never pays).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

OFFICE365_EWS_URL = "https://outlook.office365.com/EWS/Exchange.asmx"

AuthKind = str
""""ntlm", "basic" or "oauth2" (`protocol.types.EwsAuth`)."""
TokenFetch = Callable[[bool], str]
"""Blocking: an access token (True: the server refused the last one)."""


@dataclass(frozen=True, slots=True)
class EwsSettings:
    address: str
    ews_url: str | None
    username: str
    auth: AuthKind
    secret: str | None = None
    """The password (ntlm, basic)."""
    token: TokenFetch | None = None
    """Access tokens (oauth2)."""
