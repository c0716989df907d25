"""Requests that end when their client hangs up.

Most requests run to the end even when their client has gone (a message being
logged, a mailbox being added: the work is the point). A request whose only
use is its answer and its progress to the caller (`contacts.import`) calls
`cancel_on_hangup()`; when the server reads end-of-file from that connection
and the peer has closed the socket altogether (not just its sending side, as
`socat` does after its last request), such requests are cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import select
from contextvars import ContextVar
from typing import Any, Protocol


class _Socket(Protocol):
    def fileno(self) -> int: ...


_current: ContextVar[tuple[Hangup, asyncio.Task[Any]] | None] = ContextVar(
    "loggbok_rpc_request", default=None
)


class Hangup:
    """One connection's requests to cancel when its client hangs up."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def enter(self) -> None:
        """Called by the server at the start of a request's task."""
        task = asyncio.current_task()
        if task is not None:
            _current.set((self, task))

    def cancel(self) -> None:
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()

    def _add(self, task: asyncio.Task[Any]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def cancel_on_hangup() -> None:
    """Let the server cancel the calling request if its client hangs up."""
    current = _current.get()
    if current is not None:
        hangup, task = current
        hangup._add(task)


def peer_closed(sock: _Socket | None) -> bool:
    """Whether the peer of `sock` has closed it for good (POLLHUP), not only shut
    down its sending side."""
    if sock is None:
        return True
    poller = select.poll()
    with contextlib.suppress(OSError, ValueError):
        poller.register(sock.fileno(), select.POLLOUT)
        return any(events & (select.POLLHUP | select.POLLERR) for _, events in poller.poll(0))
    return True
