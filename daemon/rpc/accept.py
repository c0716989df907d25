"""Accepting clients on the listening socket: one at a time, pausing at the fd limit.

asyncio's own accept loop (3.11, `start_unix_server`) meets EMFILE/ENFILE by
trying 99 more accepts in the same turn, each failing, each logged and each
scheduling a retry a second later; the retries fire at slightly different
times, each re-arms the socket, which is still readable, and fails 100 more:
3,300 failed accepts a second, a daemon at 64 descriptors took 60 s to answer
32 clients, and retries still fired on the closed socket after it stopped.

Here one task accepts one connection at a time (`loop.sock_accept`). At a
resource error (out of file descriptors, or of kernel memory) it says so once
and waits until one of its connections closes (`freed`) or `RETRY` seconds
pass, then tries again; new clients wait in the listening backlog meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import socket
import stat
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)

RESOURCE_ERRORS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
"""Accept failures that last until something is freed."""
RETRY = 1.0
"""Seconds between tries while out of a resource, unless a connection closes sooner."""
BACKLOG = 100


def listen_unix(path: str) -> socket.socket:
    """A non-blocking Unix socket listening on `path` (a stale socket there is replaced;
    the caller sets the umask and mode)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        with contextlib.suppress(FileNotFoundError):
            if stat.S_ISSOCK(os.stat(path).st_mode):
                os.remove(path)
        sock.bind(path)
        sock.listen(BACKLOG)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


class Acceptor:
    """Accepts on `sock` and hands each connection to `serve` in a task of its own."""

    def __init__(
        self, sock: socket.socket, serve: Callable[[socket.socket], Coroutine[Any, Any, None]]
    ) -> None:
        self.sock = sock
        self._serve = serve
        self.freed = asyncio.Event()
        """Set when a connection closes: a try after a resource error may succeed now."""
        self.connections: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.sock.setblocking(False)
        self._task = asyncio.create_task(self._run(), name="rpc-accept")

    async def stop(self) -> None:
        """Stop accepting (connections being served go on)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def closed_one(self) -> None:
        self.freed.set()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        short_of: str | None = None
        while True:
            try:
                conn, _ = await loop.sock_accept(self.sock)
            except OSError as exc:
                if exc.errno not in RESOURCE_ERRORS:
                    if exc.errno not in (errno.ECONNABORTED, errno.EINTR, errno.EAGAIN):
                        log.warning("accepting a client failed: %s", exc)
                        await asyncio.sleep(RETRY)  # whatever it is, never in a tight loop
                    continue
                if short_of is None:
                    short_of = exc.strerror or str(exc)
                    log.warning(
                        "cannot accept clients (%s; %d connected): they wait until one goes",
                        short_of,
                        len(self.connections),
                    )
                self.freed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.freed.wait(), RETRY)
                continue
            if short_of is not None:
                log.info("accepting clients again (was: %s)", short_of)
                short_of = None
            conn.setblocking(False)
            task = asyncio.create_task(self._serve(conn))
            self.connections.add(task)
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self.connections.discard(task)
        self.freed.set()
