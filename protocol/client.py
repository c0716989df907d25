"""An asyncio JSON-RPC client for the daemon's Unix socket.

Used by the CLI, the TUI and the tests. Calls are typed through the method
registry: `await client.call(methods.CONTACTS_GET, IdParams(id=1))` returns a
`Contact`. Notifications are delivered to subscribers and to an optional
queue. A lost connection fails every pending call with `ConnectionError`.
`connect` refuses a socket that is not the user's own (`socket_check`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from loggbok.protocol import types as t
from loggbok.protocol.errors import Refused, RpcError
from loggbok.protocol.framing import MAX_LINE_BYTES, encode
from loggbok.protocol.methods import NOTIFICATIONS, Method, Notification
from loggbok.protocol.socket_check import check_path, check_peer

P = TypeVar("P", bound=t.Params)
R = TypeVar("R")
NotificationHandler = Callable[[str, Any], None]


class Client:
    """One connection to the daemon. Use `await Client.connect(path)`."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._write_lock = asyncio.Lock()
        self._handlers: list[NotificationHandler] = []
        self.notifications: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._reader_task = asyncio.create_task(self._read_loop(), name="loggbok-client-reader")
        self.closed = asyncio.Event()
        self.refused: Refused | None = None
        """Why the daemon refused this connection (an error with id null, then the
        end: too many clients, a line too long), once it said so."""

    @classmethod
    async def connect(cls, socket_path: str | Path) -> Client:
        """Connect once the socket, its folder and the listening process are found to
        be this user's own (`UnsafeSocket`, a `PermissionError`, otherwise): nothing
        is sent to a socket another user could have put in place."""
        path = Path(socket_path)
        check_path(path)
        reader, writer = await asyncio.open_unix_connection(str(path), limit=MAX_LINE_BYTES)
        try:
            check_peer(writer.get_extra_info("socket"), path)
        except BaseException:
            writer.close()
            raise
        return cls(reader, writer)

    def subscribe(self, handler: NotificationHandler) -> None:
        """Call `handler(name, typed_params)` for every notification."""
        self._handlers.append(handler)

    async def call(self, method: Method[P, R], params: P | None = None) -> R:
        """Call a registered method with typed params; returns the typed result."""
        raw = await self.call_raw(method.name, msgspec.to_builtins(params) if params else {})
        return msgspec.convert(raw, method.result)

    async def call_raw(self, name: str, params: dict[str, Any] | list[Any] | None = None) -> Any:
        """Call any method by name with plain JSON params; returns the plain result."""
        if self.closed.is_set():
            raise self.refused or ConnectionError("connection to the daemon is closed")
        request_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": name, "id": request_id}
        if params is not None:
            message["params"] = params
        try:
            try:
                await self.send_line(encode(message))
            except ConnectionError:  # refused: the reason may still be on its way in
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.closed.wait(), 5)
                if not future.cancel():
                    future.exception()  # set by the read loop: taken, as this raises instead
                raise self.refused or ConnectionError("the daemon closed the connection") from None
            return await future
        finally:
            self._pending.pop(request_id, None)

    async def send_line(self, line: bytes) -> None:
        """Write one raw line (tests use this to send malformed input)."""
        async with self._write_lock:
            self._writer.write(line)
            await self._writer.drain()

    async def close(self) -> None:
        self._reader_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader_task
        self._writer.close()
        with contextlib.suppress(ConnectionError, BrokenPipeError):
            await self._writer.wait_closed()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _read_loop(self) -> None:
        try:
            while True:
                line = await self._reader.readline()
                if not line:
                    break
                self._handle(msgspec.json.decode(line))
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            self.closed.set()
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(
                        self.refused or ConnectionError("the daemon closed the connection")
                    )

    def _handle(self, message: Any) -> None:
        for item in message if isinstance(message, list) else [message]:
            if "method" in item and "id" not in item:
                self._notify(item["method"], item.get("params"))
                continue
            if item.get("id") is None and "error" in item:  # about the connection
                err = item["error"]
                self.refused = Refused(err["code"], err["message"], err.get("data"))
                continue
            future = self._pending.get(item.get("id"))
            if future is None or future.done():
                continue
            if "error" in item:
                err = item["error"]
                future.set_exception(RpcError(err["code"], err["message"], err.get("data")))
            else:
                future.set_result(item.get("result"))

    def _notify(self, name: str, params: Any) -> None:
        notification: Notification[Any] | None = NOTIFICATIONS.get(name)
        typed = msgspec.convert(params, notification.params) if notification else params
        self.notifications.put_nowait((name, typed))
        for handler in self._handlers:
            handler(name, typed)
