"""The Unix-socket transport: framing, one task per request, push notifications.

Every connection reads one JSON-RPC message (or batch) per line; each request
runs in its own task so a long `mailboxes.sync` does not hold up the next call,
and every write happens under the connection's lock. A line over the limit is
answered with an Invalid Request error and the connection is closed (the rest
of that line cannot be told apart from a new message). Notifications are
encoded once and handed to every connected client without waiting for any of
them: a client that stops reading (a TUI suspended with Ctrl-Z) must never hold
up a sync or the other clients. Once it has left `MAX_BACKLOG` bytes unread it
is disconnected; clients reconnect and re-read what they show.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from pathlib import Path
from typing import Any

from loggbok.daemon.rpc.context import Context
from loggbok.daemon.rpc.dispatch import Bound, dispatch
from loggbok.daemon.rpc.hangup import Hangup, peer_closed
from loggbok.protocol.errors import ErrorCode
from loggbok.protocol.framing import MAX_LINE_BYTES, encode

log = logging.getLogger(__name__)
MAX_IN_FLIGHT = 64
MAX_BACKLOG = 16 * 1024 * 1024
"""Bytes of notifications a client may leave unread before it is disconnected."""


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.lock = asyncio.Lock()
        self.slots = asyncio.Semaphore(MAX_IN_FLIGHT)
        self.tasks: set[asyncio.Task[None]] = set()
        self.hangup = Hangup()

    async def write(self, line: bytes) -> None:
        async with self.lock:
            self.writer.write(line)
            await asyncio.wait_for(self.writer.drain(), 30)

    def push(self, line: bytes) -> bool:
        """Queue a whole line without waiting (it cannot land inside another line:
        the transport appends whole writes); False when the client is gone or has
        fallen `MAX_BACKLOG` bytes behind."""
        transport = self.writer.transport
        if transport.is_closing():
            return False
        if transport.get_write_buffer_size() + len(line) > MAX_BACKLOG:
            return False
        self.writer.write(line)
        return True


class RpcServer:
    def __init__(self, socket_path: Path, methods: dict[str, Bound], context: Context) -> None:
        self.socket_path = socket_path
        self.methods = methods
        self.context = context
        self._connections: set[_Connection] = set()
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        old_umask = os.umask(0o177)
        try:
            self._server = await asyncio.start_unix_server(
                self._serve, path=str(self.socket_path), limit=MAX_LINE_BYTES
            )
        finally:
            os.umask(old_umask)
        os.chmod(self.socket_path, 0o600)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for conn in list(self._connections):
            conn.writer.close()
            for task in conn.tasks:
                task.cancel()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()

    async def notify(self, method: str, params: Any) -> None:
        if not self._connections:
            return
        line = encode({"jsonrpc": "2.0", "method": method, "params": params})
        for conn in list(self._connections):
            if not conn.push(line):
                if not conn.writer.transport.is_closing():
                    log.warning(
                        "a client left %d bytes of notifications unread: disconnected",
                        conn.writer.transport.get_write_buffer_size(),
                    )
                conn.writer.close()
                self._connections.discard(conn)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = _Connection(reader, writer)
        self._connections.add(conn)
        try:
            while True:
                try:
                    line = await reader.readline()
                except (ValueError, asyncio.LimitOverrunError):
                    await conn.write(
                        encode(
                            _error(
                                ErrorCode.INVALID_REQUEST,
                                "Invalid request",
                                f"line longer than {MAX_LINE_BYTES} bytes",
                            )
                        )
                    )
                    break
                if not line:
                    break
                if not line.strip():
                    continue
                await conn.slots.acquire()
                task = asyncio.create_task(self._handle(conn, line))
                conn.tasks.add(task)
                task.add_done_callback(conn.tasks.discard)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._connections.discard(conn)
            if peer_closed(writer.get_extra_info("socket")):
                conn.hangup.cancel()
            if conn.tasks:
                await asyncio.gather(*conn.tasks, return_exceptions=True)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _handle(self, conn: _Connection, line: bytes) -> None:
        conn.hangup.enter()
        try:
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                response: Any = _error(ErrorCode.PARSE_ERROR, "Parse error", "not UTF-8")
            else:
                response = await dispatch(text, self.methods, self.context)
            if response is not None and response != []:
                await conn.write(encode(response))
        except (ConnectionError, TimeoutError):
            pass
        except Exception:
            log.exception("failed to answer a request")
        finally:
            conn.slots.release()


def _error(code: int, message: str, data: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "error": {"code": code, "message": message, "data": data}, "id": None}
