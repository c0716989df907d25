"""Request lines read under a memory budget that all connections share.

asyncio's `StreamReader.readline` keeps a partial line of up to its limit per
connection (64 MiB), and reads ahead up to twice that while nobody asks: sixty
connections each sending a long unfinished line held 3.7 GB. Here the stream
reader reads ahead only `CHUNK`-sized pieces, and a `LineReader` assembles
lines itself, charging every byte it holds to a `LineBudget`: one line may be
up to `max_line` bytes, and all connections' unfinished lines together at most
the budget's `total`. The connection that would go past either is told so and
closed.
"""

from __future__ import annotations

import asyncio

CHUNK = 64 * 1024
"""Bytes read at a time (also the stream reader's limit: it reads ahead at most twice this)."""


class LineTooLong(Exception):
    """One line is longer than `max_line`."""


class BudgetExhausted(Exception):
    """All connections' unfinished lines together would pass the budget."""


class LineBudget:
    """Bytes of unfinished lines held across connections."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.held = 0

    def take(self, size: int) -> bool:
        if self.held + size > self.total:
            return False
        self.held += size
        return True

    def give(self, size: int) -> None:
        self.held -= size


class LineReader:
    def __init__(self, reader: asyncio.StreamReader, budget: LineBudget, max_line: int) -> None:
        self._reader = reader
        self._budget = budget
        self._max_line = max_line
        self._buffer = bytearray()
        self._scanned = 0
        self._charged = 0

    async def readline(self) -> bytes:
        """The next line with its newline; at the end of the stream what is left (b"" when
        nothing). `LineTooLong` or `BudgetExhausted` when it cannot be held."""
        while True:
            end = self._buffer.find(b"\n", self._scanned)
            if end >= 0:
                if end > self._max_line:
                    raise LineTooLong
                line = bytes(self._buffer[: end + 1])
                del self._buffer[: end + 1]
                self._scanned = 0
                self._settle()
                return line
            self._scanned = len(self._buffer)
            if len(self._buffer) > self._max_line:
                raise LineTooLong
            chunk = await self._reader.read(CHUNK)
            if not chunk:
                line = bytes(self._buffer)
                self.release()
                return line
            self._buffer += chunk
            if not self._settle():
                raise BudgetExhausted

    def _settle(self) -> bool:
        """Charge the budget for what the buffer holds now; False when it cannot."""
        change = len(self._buffer) - self._charged
        if change > 0 and not self._budget.take(change):
            return False
        if change < 0:
            self._budget.give(-change)
        self._charged = len(self._buffer)
        return True

    def release(self) -> None:
        """Drop what is held (the connection is done) and give it back to the budget."""
        self._budget.give(self._charged)
        self._charged = 0
        self._buffer = bytearray()
        self._scanned = 0
