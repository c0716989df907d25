"""`GraphServer`: the Graph and identity test server on loopback, over TLS from a
local CA (trustme), on a thread of its own so the test's event loop and a
`loggbokd` subprocess can both talk to it.

The real clients are pointed at it the way a user on a national cloud points
them at another host: `graph_url` = `{base}/v1.0`, `authority` =
`{base}/{tenant}`, and the CA through `SSL_CERT_FILE` / `REQUESTS_CA_BUNDLE`.
Nothing in loggbok knows it is under test. Every change to the server's state
runs on the server's own loop (`control`), between requests.
"""

from __future__ import annotations

import asyncio
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

from tests.servers.graph.app import GraphState, build_app
from tests.servers.graph.mailstore import Mailbox

T = TypeVar("T")


class GraphServer:
    def __init__(self) -> None:
        self.state = GraphState()
        self._ca = trustme.CA()
        self._dir = Path(tempfile.mkdtemp(prefix="lb-graph-"))
        self.ca_path = self._dir / "ca.pem"
        self._ca.cert_pem.write_to_path(str(self.ca_path))
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def graph_url(self) -> str:
        return f"{self.base}/v1.0"

    def authority(self, tenant: str = "organizations") -> str:
        return f"{self.base}/{tenant}"

    def client_env(self) -> dict[str, str]:
        """What a process needs to trust the server (a daemon's environment)."""
        return {"SSL_CERT_FILE": str(self.ca_path), "REQUESTS_CA_BUNDLE": str(self.ca_path)}

    def client_ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_path))

    def start(self) -> GraphServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(30)
        return self

    async def _start(self) -> None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        self._runner = web.AppRunner(build_app(self.state), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=context)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self.state.base = self.base

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)
        self._loop.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    # ------------------------------------------------------------ control

    def control(self, change: Callable[[GraphState], T]) -> T:
        """Run `change(state)` on the server's loop, between requests."""

        async def run() -> T:
            return change(self.state)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(30)

    def mailbox(self, address: str) -> Mailbox:
        return self.control(lambda s: s.mailbox(address))

    def deliver(self, address: str, folder: str, mime: bytes) -> str:
        return self.control(lambda s: s.mailbox(address).deliver(folder, mime))

    def deliver_many(self, address: str, items: list[tuple[str, bytes]]) -> list[str]:
        """(folder, MIME) pairs delivered in this order (give threads in time order:
        a message joins its parent's conversation only when the parent came first)."""
        return self.control(lambda s: [s.mailbox(address).deliver(f, m) for f, m in items])

    def expire_device_codes(self) -> None:
        """Every device code waiting for its user expires now."""

        def change(state: GraphState) -> None:
            for pending in state.identity.pending.values():
                pending["expires"] = 0.0

        self.control(change)

    def approve(self, user_code: str, address: str) -> None:
        self.control(lambda s: s.identity.approved.__setitem__(user_code, address.lower()))

    def auto_approve(self, address: str | None) -> None:
        def change(state: GraphState) -> None:
            state.identity.auto_approve = address.lower() if address else None

        self.control(change)

    def revoke(self, address: str) -> None:
        self.control(lambda s: s.revoke(address))

    def token_for(self, address: str, client_id: str = "test-client") -> dict[str, Any]:
        """Tokens issued as a completed sign-in would issue them."""
        return self.control(lambda s: s.issue_tokens(address.lower(), client_id, "Mail.Read"))

    def throttle(self, requests: int, retry_after: float = 1.0, status: int = 429) -> None:
        def change(state: GraphState) -> None:
            state.faults.throttle, state.faults.retry_after = requests, retry_after
            state.faults.throttle_status = status

        self.control(change)

    def throttle_batch_items(self, items: int, retry_after: float = 1.0) -> None:
        def change(state: GraphState) -> None:
            state.faults.throttle_batch_items, state.faults.retry_after = items, retry_after

        self.control(change)

    def expire_delta_tokens(self, address: str, *, with_410: bool = False) -> None:
        def change(state: GraphState) -> None:
            state.mailbox(address).epoch += 1
            state.faults.expire_with_410 = with_410

        self.control(change)


@pytest.fixture
def graph_server() -> Iterator[GraphServer]:
    server = GraphServer().start()
    try:
        yield server
    finally:
        server.stop()
