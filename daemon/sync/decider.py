"""Deciding a round's batches: plans carried in memory, writes overlapped with planning.

`Decider` owns step 3 of a sync round (`engine.py`). It reads one snapshot of
what the store knows about every incoming message, then plans batch after
batch in memory (each plan sees the ones before it, as one big batch would),
and has the store write each plan in its own short transaction
(`store/rounds.py`). The engine plans batch n + 1 on the event loop while
batch n is written on SQLite's thread.

A carried snapshot is only as good as the store it was read from: the store
writes a carried plan only when nothing that a plan reads was committed since
(by this process or another), and otherwise plans that batch again inside its
transaction against a fresh snapshot. From then on (or once a batch decided
earlier replies again) this round plans every batch inside its transaction,
exactly as a round without carrying would. Either way a batch's messages,
decisions, timeline entries, the earlier replies it makes loggable and (for the
last) the folder cursors commit together.
"""

from __future__ import annotations

from typing import Any

from loggbok.daemon.rules.context import RuleSettings
from loggbok.daemon.rules.planner import Incoming, Plan, Snapshot, plan_batch
from loggbok.daemon.store.rounds import Written
from loggbok.daemon.store.store import Store


class Decider:
    def __init__(
        self,
        store: Store,
        mailbox_id: int,
        rules: RuleSettings,
        folder_names: dict[int, str],
        visibility: str,
    ) -> None:
        self.round = store.rounds.begin(mailbox_id, rules, folder_names, visibility)
        self.mailbox_id = mailbox_id
        self.rules = rules
        self._carried: Snapshot | None = None
        self.replanned = 0
        """Batches that had to be planned again inside their transaction."""

    async def load(self, incoming: list[Incoming]) -> None:
        """Read the snapshot every batch of this round will be planned against."""
        self._carried = await self.round.snapshot(incoming)

    def plan_ahead(self, batch: list[Incoming]) -> Plan | None:
        """Plan `batch` against the carried snapshot (None once it has gone stale)."""
        if self._carried is None:
            return None
        return plan_batch(batch, self._carried, self.rules, self.mailbox_id)

    async def write(
        self, batch: list[Incoming], planned: Plan | None, cursors: list[tuple[int, dict[str, Any]]]
    ) -> Written:
        """Write `batch` (and `cursors`) in one transaction, with the earlier replies its
        plan makes loggable; returns what was written."""
        written = await self.round.write(batch, planned if self._carried else None, cursors)
        if written.replanned:
            self.replanned += 1
        if written.replanned or written.relogged or written.team_logged:
            self._carried = None
        return written
