"""A batch's answer line, assembled under two byte budgets: its own and all batches'.

A batch of calls whose answers are large (a thousand `messages.get` of big
mail, `attachments.get` pieces) used to be built into one reply of any size.
Here each answer is encoded once, as its chunk ends, and kept as bytes in its
slot (the line is those bytes joined, in the batch's order). An answer that
would take the batch past `batch_answer_bytes`, or the answers all batches hold
until written past `answer_buffer_total`, is replaced by a `LIMIT_REACHED`
error (`data.ran` true: the call ran, its answer was dropped); the batch's later
calls with an id are not run and answered the same (`ran` false); its
notifications still run (they have no answer). What a batch holds at most is
its budget, plus the answers of one chunk in flight, plus the short errors.
"""

from __future__ import annotations

from typing import Any

import msgspec

from loggbok.daemon.rpc.dispatch import Response, error
from loggbok.daemon.rpc.lines import LineBudget
from loggbok.protocol.errors import ERROR_MESSAGES, ErrorCode

_encoder = msgspec.json.Encoder()


def request_id(request: dict[str, Any]) -> Any:
    """The id an answer to `request` carries (an integral float as the integer)."""
    value = request.get("id")
    return int(value) if isinstance(value, float) else value


class BatchAnswer:
    """The answers of one batch, slot by slot, charged to the shared `budget`."""

    def __init__(self, size: int, own_limit: int, budget: LineBudget) -> None:
        self._parts: list[bytes | None] = [None] * size
        self._own_limit = own_limit
        self._budget = budget
        self.held = 0
        """Bytes of answers kept (charged to the shared budget until `release`)."""
        self.reached: str | None = None
        """The limit reached (its name in `Limits`), None while answers fit."""

    def known(self, slot: int, answer: Response) -> None:
        """An answer found without running anything (a malformed item): short, kept."""
        self._parts[slot] = _encoder.encode(answer)

    def add(self, slot: int, request: dict[str, Any], answer: Any) -> None:
        """A call's answer (None for a notification): kept if it fits, else refused."""
        if answer is None:
            return
        data = _encoder.encode(answer)
        if self.reached is None:
            if self.held + len(data) > self._own_limit:
                self.reached = "batch_answer_bytes"
            elif not self._budget.take(len(data)):
                self.reached = "answer_buffer_total"
            else:
                self.held += len(data)
                self._parts[slot] = data
                return
        self._parts[slot] = self._refused(request, ran=True)

    def skip(self, slot: int, request: dict[str, Any]) -> None:
        """A call not run because the budget was reached before it."""
        if "id" in request:
            self._parts[slot] = self._refused(request, ran=False)

    def _refused(self, request: dict[str, Any], *, ran: bool) -> bytes:
        limit = self.reached or "batch_answer_bytes"
        data = {
            "limit": limit,
            "ran": ran,
            "detail": (
                "this call ran; its answer did not fit in the batch's answer"
                if ran
                else "not run: the batch's answers reached the limit before this call"
            ),
        }
        code = ErrorCode.LIMIT_REACHED
        return _encoder.encode(error(code, ERROR_MESSAGES[code], data, request_id(request)))

    def line(self) -> bytes | None:
        """The answer line (None when the batch held only notifications)."""
        parts = [part for part in self._parts if part is not None]
        return b"[" + b",".join(parts) + b"]\n" if parts else None

    def release(self) -> None:
        """Give the bytes kept back to the shared budget (the line was written, or dropped)."""
        self._budget.give(self.held)
        self.held = 0
