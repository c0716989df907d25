"""`EwsServer`: an Exchange Web Services test server on loopback, over TLS from
a local CA (trustme), on a thread of its own (as `GraphServer`).

The real exchangelib talks to it unchanged. How a client is pointed at it (the
test hooks, all of them what a user behind a proxy or split DNS would set):

- the CA: `REQUESTS_CA_BUNDLE` / `SSL_CERT_FILE` in a daemon's environment
  (`client_env`); in the test process, `ews.transport.trust(ca_path)`;
- an explicit EWS URL: `ews_url` = `https://127.0.0.1:{port}/EWS/Exchange.asmx`;
- autodiscover for a domain (`https://{domain}/autodiscover/...`, port 443):
  `LOGGBOK_EWS_CONNECT_TO` maps host:443 to this server's port (as curl's
  `--connect-to`; TLS still checks the certificate against the host name,
  which the test CA signs), and `LOGGBOK_DNS_SERVER` names a loopback DNS
  server (`tests/servers/dns.py`) that answers the A and SRV lookups
  exchangelib makes before it connects.

Mail lives in the Graph test server's mail store (one `GraphState`): the same
`deliver`, `move`, `renumber` and Message-ID conversations. Users are added
with a password (`add_user`), for Basic and for NTLM (pyspnego's acceptor reads
them from the `NTLM_USER_FILE` the server writes), or sign in with msal against
the identity endpoints served beside EWS (OAuth2).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import ssl
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import trustme
from aiohttp import web

from tests.servers.ews.app import AUTODISCOVER_PATH, EWS_PATH, EwsState, User, build_app
from tests.servers.graph.app import GraphState

T = TypeVar("T")
HOSTS = ("127.0.0.1", "localhost", "firma.example", "autodiscover.firma.example",
         "mail.firma.example", "ews.other.example")  # fmt: skip
"""The names the server's certificate is valid for (autodiscover tests use them)."""


class EwsServer:
    def __init__(self) -> None:
        self.state = EwsState(GraphState())
        self._ca = trustme.CA()
        self._dir = Path(tempfile.mkdtemp(prefix="lb-ews-"))
        self.ca_path = self._dir / "ca.pem"
        self._ca.cert_pem.write_to_path(str(self.ca_path))
        self.ntlm_file = self._dir / "ntlm-users"
        self.ntlm_file.write_text("")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self._http: web.AppRunner | None = None
        self.port = 0
        self.http_port = 0
        """Plain HTTP: answers GET /autodiscover/autodiscover.svc with a redirect to
        `https://{redirect_host}/autodiscover/autodiscover.svc` (autodiscover's third
        step, http://autodiscover.{domain}/)."""
        self.redirect_host = "ews.other.example"

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def ews_url(self) -> str:
        return f"{self.base}{EWS_PATH}"

    @property
    def autodiscover_url(self) -> str:
        return f"{self.base}{AUTODISCOVER_PATH}"

    def authority(self, tenant: str = "organizations") -> str:
        return f"{self.base}/{tenant}"

    def client_env(self) -> dict[str, str]:
        return {"SSL_CERT_FILE": str(self.ca_path), "REQUESTS_CA_BUNDLE": str(self.ca_path)}

    def start(self) -> EwsServer:
        os.environ["NTLM_USER_FILE"] = str(self.ntlm_file)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(30)
        return self

    async def _start(self) -> None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._ca.issue_cert(*HOSTS).configure_cert(context)
        self._runner = web.AppRunner(build_app(self.state), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=context)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self.state.graph.base = self.base
        self.state.ews_url = self.ews_url

        async def redirect(request: web.Request) -> web.Response:
            location = f"https://{self.redirect_host}{AUTODISCOVER_PATH}"
            return web.Response(status=302, headers={"Location": location})

        plain = web.Application()
        plain.router.add_get(AUTODISCOVER_PATH, redirect)
        self._http = web.AppRunner(plain, access_log=None)
        await self._http.setup()
        http_site = web.TCPSite(self._http, "127.0.0.1", 0)
        await http_site.start()
        assert http_site._server is not None
        self.http_port = http_site._server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    def stop(self) -> None:
        def close_streams(state: EwsState) -> None:
            for subscription in state.subscriptions.values():
                subscription.closed = True

        self.control(close_streams)
        for runner in (self._runner, self._http):
            if runner is not None:
                asyncio.run_coroutine_threadsafe(runner.cleanup(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)
        self._loop.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    # ------------------------------------------------------------ control

    def control(self, change: Callable[[EwsState], T]) -> T:
        async def run() -> T:
            return change(self.state)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(60)

    def add_user(self, address: str, password: str, username: str | None = None) -> User:
        user = self.control(lambda s: s.add_user(address, password, username))
        with self.ntlm_file.open("a") as handle:
            # "FIRMA\\maja" and a bare "maja" (no domain) both sign in
            handle.write(f"{user.domain}:{user.username}:{password}\n:{user.username}:{password}\n")
        return user

    def set_password(self, address: str, password: str) -> None:
        """The user's password changed: Basic and new NTLM handshakes need the new one
        (a connection NTLM already authenticated stays authenticated, as on IIS)."""

        def change(state: EwsState) -> list[User]:
            for user in state.users.values():
                if user.address == address.lower():
                    user.password = password
            return list(state.users.values())

        users = self.control(change)
        self.ntlm_file.write_text(
            "".join(
                f"{u.domain}:{u.username}:{u.password}\n:{u.username}:{u.password}\n" for u in users
            )
        )

    def deliver(self, address: str, folder: str, mime: bytes) -> str:
        return self.control(lambda s: s.mailbox(address).deliver(folder, mime))

    def deliver_many(self, address: str, items: list[tuple[str, bytes]]) -> list[str]:
        return self.control(lambda s: [s.mailbox(address).deliver(f, m) for f, m in items])

    def server_busy(self, requests: int, back_off_ms: int = 1000) -> None:
        def change(state: EwsState) -> None:
            state.faults.busy, state.faults.back_off_ms = requests, back_off_ms

        self.control(change)

    def invalidate_sync_states(self, address: str) -> None:
        """Every SyncState given out so far is ErrorInvalidSyncStateData from now on."""
        self.control(lambda s: setattr(s.mailbox(address), "epoch", s.mailbox(address).epoch + 1))

    def expire_subscriptions(self) -> None:
        """Every subscription is gone (its open streams close): clients subscribe again."""

        def change(state: EwsState) -> None:
            for subscription in state.subscriptions.values():
                subscription.closed = True
            state.subscriptions.clear()

        self.control(change)

    def set_minute(self, seconds: float) -> None:
        """How long a ConnectionTimeout minute lasts (short: streams close and reopen)."""
        self.control(lambda s: setattr(s.faults, "minute", seconds))

    def approve(self, user_code: str, address: str) -> None:
        self.control(lambda s: s.graph.identity.approved.__setitem__(user_code, address.lower()))

    def token_for(self, address: str, client_id: str = "test-client") -> dict[str, Any]:
        return self.control(
            lambda s: s.graph.issue_tokens(address.lower(), client_id, "EWS.AccessAsUser.All")
        )


@pytest.fixture
def ews_server() -> Iterator[EwsServer]:
    server = EwsServer().start()
    try:
        yield server
    finally:
        server.stop()
