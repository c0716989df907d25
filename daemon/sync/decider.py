"""Deciding a round's batches: plans carried in memory, writes overlapped with planning.

`Decider` owns step 3 of a sync round (`engine.py`). It reads one snapshot of
what the store knows about every incoming message, then plans batch after
batch in memory (each plan sees the ones before it, as one big batch would),
and writes each plan in its own short transaction. The engine plans batch
n + 1 on the event loop while batch n is written on SQLite's thread.

A carried snapshot is only as good as the store it was read from. Every write
transaction that could change a plan bumps `Database.generation`; a batch is
written from its carried plan only when nothing else has been committed since
this round's previous commit. Otherwise (another mailbox's round, a contact
added over RPC) that batch is planned again inside its own transaction against
a fresh snapshot, and so is every batch after it, exactly as a round without
carrying would. Either way a batch's messages, decisions, timeline entries, the earlier
replies it makes loggable (`late_replies.py`) and (for the last) the folder
cursors commit together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from loggbok.daemon.rules.context import RuleSettings
from loggbok.daemon.rules.planner import Incoming, Plan, Snapshot, plan_batch
from loggbok.daemon.store.late_replies import Relogged, relog_waiting_replies
from loggbok.daemon.store.store import Store
from loggbok.daemon.store.sync_batch import load_snapshot, save_cursor, write_labels, write_plan


class Decider:
    def __init__(
        self,
        store: Store,
        mailbox_id: int,
        rules: RuleSettings,
        folder_names: dict[int, str],
        visibility: str,
    ) -> None:
        self.store = store
        self.mailbox_id = mailbox_id
        self.rules = rules
        self.folder_names = folder_names
        self.visibility = visibility
        self._carried: Snapshot | None = None
        self._generation = -1
        self.replanned = 0
        """Batches that had to be planned again inside their transaction."""

    async def load(self, incoming: list[Incoming]) -> None:
        """Read the snapshot every batch of this round will be planned against."""
        async with self.store.db.transaction(plan_neutral=True) as tx:
            self._carried = await load_snapshot(tx, incoming)
        self._generation = self.store.db.generation

    def plan_ahead(self, batch: list[Incoming]) -> Plan | None:
        """Plan `batch` against the carried snapshot (None once it has gone stale)."""
        if self._carried is None:
            return None
        return plan_batch(batch, self._carried, self.rules, self.mailbox_id)

    async def write(
        self, batch: list[Incoming], planned: Plan | None, cursors: list[tuple[int, dict[str, Any]]]
    ) -> Written:
        """Write `batch` (and `cursors`) in one transaction, with the earlier replies its
        plan makes loggable (`late_replies.py`); returns what was written."""
        db = self.store.db
        async with db.transaction() as tx:
            if planned is None or self._carried is None or db.generation != self._generation:
                self._carried = None
                self.replanned += 1
                snapshot = await load_snapshot(tx, batch)
                plan = plan_batch(batch, snapshot, self.rules, self.mailbox_id)
            else:
                plan = planned
            await write_plan(tx, plan, self.mailbox_id, self.folder_names, self.visibility)
            await write_labels(
                tx, [(i.folder_id, i.remote_id, i.labels) for i in batch if i.labels is not None]
            )
            relogged = await relog_waiting_replies(tx, plan, self.rules, list(self.folder_names))
            for folder_id, cursor in cursors:
                await save_cursor(tx, folder_id, cursor)
        self._generation = db.generation
        if relogged:
            self._carried = None  # thread contacts changed outside the carried snapshot
        return Written(plan, relogged)


@dataclass(frozen=True, slots=True)
class Written:
    plan: Plan
    relogged: list[Relogged]
    """Messages stored in earlier rounds that this batch made loggable."""
