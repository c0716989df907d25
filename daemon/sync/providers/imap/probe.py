"""`probe`: what `mailboxes.test` asks before a mailbox is saved.

Connects and logs in exactly as the backend would, reads the capabilities and
logs out. Every failure comes back as a kind the UI can explain: `dns`,
`refused`, `tls`, `timeout`, `network`, `protocol` or `auth`; a server without
IDLE is fine but gets a `no_idle` warning (loggbok then polls).
"""

from __future__ import annotations

import asyncio
import ssl
from typing import NamedTuple

from loggbok.daemon.sync.backend import AuthError, TemporaryError
from loggbok.daemon.sync.providers.imap.connection import (
    AuthMethod,
    ImapConnectError,
    ImapConnection,
    Security,
    ServerSettings,
)


class ProbeWarning(NamedTuple):
    kind: str
    message: str


class ProbeResult(NamedTuple):
    ok: bool
    capabilities: tuple[str, ...]
    error_kind: str | None
    error: str | None
    warnings: tuple[ProbeWarning, ...]


def probe_sync(settings: ServerSettings) -> ProbeResult:
    """Blocking probe; `probe` runs it on a thread."""
    conn = ImapConnection(settings)
    try:
        conn.open()
    except AuthError as exc:
        return ProbeResult(False, (), "auth", str(exc), ())
    except ImapConnectError as exc:
        return ProbeResult(False, (), exc.reason, str(exc), ())
    except TemporaryError as exc:
        return ProbeResult(False, (), "network", str(exc), ())
    caps = tuple(sorted(conn.capabilities))
    conn.logout()
    warnings: list[ProbeWarning] = []
    if "IDLE" not in conn.capabilities:
        warnings.append(
            ProbeWarning(
                "no_idle",
                f"{settings.host} does not offer IDLE: new mail is noticed by polling, "
                "not within seconds",
            )
        )
    return ProbeResult(True, caps, None, None, tuple(warnings))


async def probe(
    host: str,
    port: int,
    security: Security,
    username: str,
    secret: str,
    auth: AuthMethod = "password",
    *,
    ssl_context: ssl.SSLContext | None = None,
    timeout: float = 15.0,
) -> ProbeResult:
    """Connect, log in, read capabilities, log out: never raises for server trouble."""
    settings = ServerSettings(host, port, security, username, secret, auth, ssl_context, timeout)
    return await asyncio.to_thread(probe_sync, settings)
