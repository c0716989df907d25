"""Fair turns at the reader connection, shared out between callers.

Every RPC read runs on the store's one reader connection, whose thread takes
operations first come, first served: a client that queued thousands of reads
(one batch, or many pipelined requests) made every other client wait behind
all of them. `FairGate` lets at most `width` reads reach the connection at
once and hands the next turn round-robin between the callers that wait, so a
client with one read waits for at most one read of each other caller. Callers
are told apart by the `caller` context variable: the RPC server sets it to the
connection's number; everything else (sync, start-up) shares the default.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager

caller: contextvars.ContextVar[Hashable] = contextvars.ContextVar("caller", default="daemon")


class FairGate:
    def __init__(self, width: int = 2) -> None:
        self._width = width
        self._busy = 0
        self._waiting: OrderedDict[Hashable, deque[asyncio.Future[None]]] = OrderedDict()

    @property
    def waiting(self) -> int:
        return sum(len(queue) for queue in self._waiting.values())

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        if self._busy < self._width and not self._waiting:
            self._busy += 1
        else:
            await self._wait(caller.get())
        try:
            yield
        finally:
            self._pass_on()

    async def _wait(self, key: Hashable) -> None:
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(key, deque()).append(granted)
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                self._pass_on()  # the turn came with the cancellation: hand it on
            else:
                queue = self._waiting.get(key)
                if queue is not None and granted in queue:
                    queue.remove(granted)
                    if not queue:
                        del self._waiting[key]
            raise

    def _pass_on(self) -> None:
        """The turn goes to the first waiter of the next caller in the rotation."""
        while self._waiting:
            key, queue = next(iter(self._waiting.items()))
            granted = queue.popleft()
            if queue:
                self._waiting.move_to_end(key)
            else:
                del self._waiting[key]
            if not granted.done():
                granted.set_result(None)
                return
        self._busy -= 1
