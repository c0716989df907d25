"""The EWS backend's login check (`EwsBackend.check_login`), in process against the
EWS test server: while a stream is open nothing else is asked of the server, so the
check is what notices a changed password. NTLM authenticates a connection (the
server, as IIS, keeps an authenticated connection authenticated after the
change): the check signs in on a new one. The daemon's side (auth_failed, blind
threads, reconnect) is in tests/e2e/test_blind_threads.py."""

from __future__ import annotations

import asyncio

import pytest

from loggbok.daemon.sync.backend import AuthError
from loggbok.daemon.sync.providers.ews import transport
from loggbok.daemon.sync.providers.ews.backend import EwsBackend
from loggbok.daemon.sync.providers.ews.connection import EwsConnection, EwsSettings
from tests.servers.ews.server import EwsServer

ME = "maja@firma.example"
PASSWORD = "Vinter-2026"


@pytest.mark.parametrize("auth", ["ntlm", "basic"])
async def test_a_changed_password_is_noticed_by_the_login_check(
    ews_server: EwsServer, auth: str
) -> None:
    ews_server.add_user(ME, PASSWORD, "maja")
    transport.trust(str(ews_server.ca_path))
    settings = EwsSettings(ME, ews_server.ews_url, "FIRMA\\maja", auth, PASSWORD)
    backend = EwsBackend(
        EwsConnection(settings, timeout=30.0), poll_interval=3600.0, check_interval=0.1, push=False
    )
    try:
        await backend.connect()
        inbox = next(f for f in await backend.folders() if f.role == "inbox")
        await backend.check_login()
        await backend.changes(inbox, None)
        await asyncio.to_thread(ews_server.set_password, ME, "Sommar-2027")
        if auth == "ntlm":
            await backend.changes(inbox, None)  # the authenticated connection reads on
        with pytest.raises(AuthError, match="refused the login"):
            await backend.wait_for_changes(60.0)  # nothing changes: only the check asks
        assert backend.login_checks == 2
    finally:
        await backend.close()


async def test_waits_shorter_than_the_interval_do_not_put_the_check_off(
    ews_server: EwsServer,
) -> None:
    """A busy mailbox: every wait ends (a round) before the interval has passed since
    it began; the check is still made once due."""
    ews_server.add_user(ME, PASSWORD, "maja")
    transport.trust(str(ews_server.ca_path))
    settings = EwsSettings(ME, ews_server.ews_url, "FIRMA\\maja", "ntlm", PASSWORD)
    backend = EwsBackend(
        EwsConnection(settings, timeout=30.0), poll_interval=3600.0, check_interval=0.5, push=False
    )
    try:
        await backend.connect()
        await asyncio.to_thread(ews_server.set_password, ME, "Sommar-2027")
        with pytest.raises(AuthError, match="refused the login"):
            for _ in range(100):
                await backend.wait_for_changes(0.2)  # < 0.8 x the interval: never one whole
        assert backend.login_checks == 1
    finally:
        await backend.close()
