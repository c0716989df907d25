"""One connection to the daemon for the whole app, with reconnect bookkeeping.

`DaemonLink.call` is the only way the TUI reaches the daemon: typed through
`loggbok.protocol.methods`, it raises `DaemonUnreachable` when the socket is
gone, so screens can tell "the daemon said no" (`RpcError`) from "there is no
daemon". `generation` counts successful connects; screens compare it with the
generation they last loaded at to know their data may be stale.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from loggbok.protocol import methods
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from loggbok.protocol.methods import Method
from loggbok.protocol.version import PROTOCOL_VERSION

P = TypeVar("P", bound=t.Params)
R = TypeVar("R")

CONNECT_SECONDS = 5.0
NotificationSink = Callable[[str, Any], None]


class DaemonUnreachable(ConnectionError):
    """No daemon answers on the socket, or the connection just dropped."""


class DaemonLink:
    """The app's connection to the daemon: connect, call, wait for it to drop."""

    def __init__(self, socket_path: Path, on_notification: NotificationSink | None = None) -> None:
        self.socket_path = socket_path
        self._on_notification = on_notification
        self._client: Client | None = None
        self._connected = asyncio.Event()
        self.generation = 0
        self.hello: t.HelloResult | None = None

    @property
    def connected(self) -> bool:
        return self._client is not None and not self._client.closed.is_set()

    async def connect(self) -> t.HelloResult:
        """Connect and shake hands; raises `OSError`/`ConnectionError` when nobody answers."""
        async with asyncio.timeout(CONNECT_SECONDS):
            client = await Client.connect(self.socket_path)
        try:
            async with asyncio.timeout(CONNECT_SECONDS):
                hello = await client.call(
                    methods.HELLO,
                    t.HelloParams(client="loggbok-tui", protocol_version=PROTOCOL_VERSION),
                )
        except BaseException:
            await client.close()
            raise
        if self._on_notification is not None:
            client.subscribe(self._on_notification)
        self._client = client
        self.hello = hello
        self.generation += 1
        self._connected.set()
        return hello

    async def wait_connected(self) -> None:
        """Return once a connection is up (at once when it already is)."""
        await self._connected.wait()

    async def wait_closed(self) -> None:
        """Return when the current connection drops."""
        client = self._client
        if client is not None:
            await client.closed.wait()
        self._connected.clear()

    async def call(self, method: Method[P, R], params: P | None = None) -> R:
        """A typed call; waits for a connection first; `DaemonUnreachable` when it drops."""
        await self.wait_connected()
        client = self._client
        if client is None or client.closed.is_set():
            raise DaemonUnreachable(f"no daemon answers on {self.socket_path}")
        try:
            return await client.call(method, params)
        except ConnectionError as exc:
            raise DaemonUnreachable(str(exc)) from exc

    async def close(self) -> None:
        client, self._client = self._client, None
        self._connected.clear()
        if client is not None:
            await client.close()
