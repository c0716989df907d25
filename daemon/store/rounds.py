"""The store's side of a sync round: the contract the sync engine writes through.

`store.rounds.begin(mailbox_id, rules, folder_names, visibility)` gives one
`Round` per mailbox round. The engine (`sync/engine.py`, `sync/decider.py`)
calls only these operations; it opens no transaction and reads no counter.

`await round.snapshot(batch)`
    Reads what the store knows about the incoming messages (their keys, the
    threads and thread keys they name, the contacts of their addresses) in one
    transaction, as a `rules.planner.Snapshot` the engine may carry and plan
    batch after batch against (`plan_batch`, pure). Remembers when it read it.

`await round.write(batch, planned, cursors)`
    One write transaction, all or nothing: the plan's messages, thread keys,
    threads (folds too), contacts, decisions, locations, timeline entries and
    contacts' last activity; the earlier replies it makes loggable
    (`late_replies.py`); in a team mailbox, the stored messages it finds that
    were decided in a member's own mailbox, logged into their conversation
    (R15, `team_copies.py`); the Gmail labels of the batch's locations; the
    folder cursors given. Inside it:
    - staleness: the carried plan is written only when nothing that a plan reads
      was committed since this round's snapshot or last write, by this process
      (`Database.generation`, bumped by every commit not marked plan-neutral) or
      by any other (`Transaction.other_writers`: SQLite's `PRAGMA data_version`,
      which another connection's commit changes; on PostgreSQL a generation row
      every plan-changing commit bumps, less this process's own bumps; read
      inside the transaction, which on PostgreSQL holds the store's write lock).
      Otherwise (or with no plan) the batch is planned again here against a
      fresh snapshot, and `Written.replanned` says so. After that, and after a
      write that decided late replies again (thread contacts changed outside
      the plans), plans made on the old snapshot are never written: each later
      batch is planned inside its transaction (the engine stops planning ahead
      until it takes a new snapshot).
    - an incoming message whose Message-ID is stored as another member's
      different message (sender, Date, subject, To, Cc) is given a key of its
      own and the batch planned again (`foreign_copies.py`): a Message-ID alone
      neither shows a colleague's mail nor takes over one arriving later.
    - R12: the mailbox's member's seat is read here too; when they may no longer
      log (a seat turned view-only, a member deactivated since the round
      began), or may again, the batch is planned again with that, and so is
      every later batch of the round. The new messages are the member's
      (`owner_id`), with the round's visibility.
    - ids: plans name what they create by plan-local ids (negative:
      `rules.planner.LocalIds`, one sequence per round). The store gives each
      a real id here, after the highest stored one, and rewrites the plan in
      place to real ids (the `Written.plan` the engine gets back is the plan it
      gave, now with real ids). It keeps the map for the round: a later batch
      planned on the same snapshot names earlier batches' creations by their
      local ids. No id is taken from a snapshot read outside this transaction.

`await round.write_bodies(parsed, failed, unreadable, forwards=...)`
    One transaction: a forward's original settled (R8; it can create a
    contact, so such a transaction counts as plan-changing), calendar parts
    turning a header decision down (R17), bodies, attachments and search rows
    written (`bodies.py`), unreadable locations quarantined. Returns the
    messages turned down. Before it, outside the store's write lock, the
    chunk's attachments are copied into the database where they live there
    (`Database.upload_blobs`, PostgreSQL); the transaction makes sure of each.

Errors: `StorageFull` when the disk is full (nothing of that transaction is
kept); other database errors propagate and the round fails as a whole.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from loggbok.daemon.rules.context import RuleSettings
from loggbok.daemon.rules.planner import (
    Incoming,
    LocalIds,
    Plan,
    Snapshot,
    ThreadState,
    is_local,
    plan_batch,
)
from loggbok.daemon.store.bodies import (
    StoredBody,
    quarantine,
    turn_down_calendar,
    write_bodies,
)
from loggbok.daemon.store.db import Database, Transaction
from loggbok.daemon.store.foreign_copies import rekey_foreign_copies
from loggbok.daemon.store.forwards import settle_forwards
from loggbok.daemon.store.late_replies import Relogged, relog_waiting_replies
from loggbok.daemon.store.plans import load_snapshot, save_cursor, write_labels, write_plan
from loggbok.daemon.store.team_copies import log_team_copies


@dataclass(frozen=True, slots=True)
class Written:
    plan: Plan
    """The plan as written, with real ids."""
    relogged: list[Relogged]
    """Messages stored in earlier rounds that this batch made loggable."""
    replanned: bool = False
    """The plan given had gone stale (or none was given): planned again inside the
    transaction against a fresh snapshot."""
    team_logged: list[int] = field(default_factory=list)
    """Stored messages a team mailbox's batch found and logged into their conversation
    (R15, `team_copies.py`); those not logged before are in `relogged` too."""


class RoundQueries:
    def __init__(self, db: Database) -> None:
        self._db = db

    def begin(
        self,
        mailbox_id: int,
        rules: RuleSettings,
        folder_names: dict[int, str],
        visibility: str,
    ) -> Round:
        return Round(self._db, mailbox_id, rules, folder_names, visibility)


class Round:
    """One mailbox round's snapshots, plan writes and body writes (see the module)."""

    def __init__(
        self,
        db: Database,
        mailbox_id: int,
        rules: RuleSettings,
        folder_names: dict[int, str],
        visibility: str,
    ) -> None:
        self._db = db
        self.mailbox_id = mailbox_id
        self.rules = rules
        self.folder_names = folder_names
        self.visibility = visibility
        self._ids = LocalIds()
        self._real: dict[int, int] = {}
        """Plan-local id -> the real id the store gave it (this round)."""
        self._seen: tuple[int, int] | None = None
        """(generation, data_version) as of the last snapshot or write."""
        self._carried = False
        """Plans made on the last snapshot can still be written: no write since it was
        planned again, and none changed threads outside its plan (late replies)."""

    async def _version(self, tx: Transaction) -> tuple[int, int]:
        return self._db.generation, await tx.other_writers()

    async def snapshot(self, batch: Sequence[Incoming]) -> Snapshot:
        async with self._db.transaction(plan_neutral=True) as tx:
            member, _ = await _owner(tx, self.mailbox_id)
            snapshot = await load_snapshot(tx, batch, self._ids, member)
            self._seen = await self._version(tx)
        self._carried = True
        return snapshot

    async def write(
        self,
        batch: list[Incoming],
        planned: Plan | None,
        cursors: Iterable[tuple[int, dict[str, Any]]] = (),
    ) -> Written:
        async with self._db.transaction() as tx:
            # One statement: what other connections committed, and the highest ids.
            state = await tx.fetchone(tx.dialect.round_state(), {"own": self._db.generation})
            assert state is not None
            seen = (self._db.generation, int(state[0]))
            owner, can_log = await _owner(tx, self.mailbox_id)
            seat_changed = can_log != self.rules.can_log
            if seat_changed:  # R12: the seat as it is now, whatever the round began with
                self.rules = replace(self.rules, can_log=can_log)
            rekeyed = await rekey_foreign_copies(tx, batch, owner)
            if rekeyed is not None:  # a Message-ID of another member's different message
                batch = rekeyed
            replanned = (
                planned is None
                or not self._carried
                or seen != self._seen
                or seat_changed
                or rekeyed is not None
            )
            if planned is None or replanned:
                fresh = await load_snapshot(tx, batch, self._ids, owner)
                planned = plan_batch(batch, fresh, self.rules, self.mailbox_id)
            self._give_ids(planned, int(state[1]), int(state[2]), int(state[3]))
            await write_plan(
                tx, planned, self.mailbox_id, self.folder_names, self.visibility, owner
            )
            await write_labels(
                tx, [(i.folder_id, i.remote_id, i.labels) for i in batch if i.labels is not None]
            )
            relogged = await relog_waiting_replies(tx, planned, self.rules, list(self.folder_names))
            team = await log_team_copies(tx, planned, self.rules, self.visibility, self.mailbox_id)
            relogged += team.bodies
            for folder_id, cursor in cursors:
                await save_cursor(tx, folder_id, cursor)
            data_version = seen[1]
        self._seen = (self._db.generation, data_version)
        self._carried = self._carried and not replanned and not relogged and not team.decided
        return Written(planned, relogged, replanned, team.decided)

    async def write_bodies(
        self,
        parsed: dict[int, StoredBody],
        failed: dict[int, StoredBody],
        unreadable: list[tuple[int, str, str]],
        *,
        forwards: bool,
    ) -> set[int]:
        """Store a chunk's bodies (see the module; `forwards`: the chunk holds a forward
        to the forwarding address); returns the messages turned down."""
        bodies = {**parsed, **failed}
        calendars = {i: b.calendar_method for i, b in parsed.items() if b.calendar_method}
        await self._db.upload_blobs(
            {a.sha256 for b in bodies.values() for a in b.attachments if a.sha256}
        )  # the bytes before the write lock (PostgreSQL), not under it
        # Settling a forward can create a contact, which changes plans: not plan-neutral.
        async with self._db.transaction(plan_neutral=not forwards) as tx:
            settled = await settle_forwards(tx, parsed, self.rules)
            turned_down = await turn_down_calendar(tx, calendars) | settled.turned_down
            await write_bodies(tx, {i: b for i, b in bodies.items() if i not in turned_down})
            await write_bodies(
                tx, {i: b for i, b in bodies.items() if i in turned_down}, index=False
            )
            await quarantine(tx, unreadable)
        return turned_down

    def _give_ids(self, plan: Plan, messages: int, threads: int, contacts: int) -> None:
        """Real ids for what `plan` creates, after the highest stored ones (read in this
        write transaction); then the plan rewritten in place to name everything by its
        real id."""
        self._allocate(messages, [m.id for m in plan.messages])
        self._allocate(threads, sorted(plan.new_threads, reverse=True))
        self._allocate(contacts, [c for c, _ in plan.new_contacts])
        _resolve(plan, self._real)

    def _allocate(self, top: int, local: list[int]) -> None:
        """`local` ids (in the order the plan made them) -> consecutive real ids after `top`."""
        self._real.update(
            (i, top + n) for n, i in enumerate((i for i in local if is_local(i)), start=1)
        )


def _resolve(plan: Plan, real: dict[int, int]) -> None:
    """Every plan-local id in `plan` replaced by its real one (in place). `real` holds
    only local ids as keys, so `get(i, i)` leaves a stored id as it is. A sync round
    renames every id of 10,000 messages: a group of ids with no local one among them
    is left as it is, and a decision is copied only when it names a local contact
    (`Decision.with_contacts`, not `dataclasses.replace`)."""
    get = real.get
    for m in plan.messages:
        m.id = get(m.id, m.id)
        m.thread_id = get(m.thread_id, m.thread_id)
        if _any_local(m.contact_ids):
            m.contact_ids = tuple([get(c, c) for c in m.contact_ids])
        contacts = m.decision.contact_ids
        if _any_local(contacts):
            m.decision = m.decision.with_contacts(tuple([get(c, c) for c in contacts]))
        e = m.evidence
        e["thread_id"] = get(e["thread_id"], e["thread_id"])
        if e["matched_id"] is not None:
            e["matched_id"] = get(e["matched_id"], e["matched_id"])
        if _any_local(e["contact_ids"]):
            e["contact_ids"] = [get(c, c) for c in e["contact_ids"]]
    plan.locations = [(f, remote, get(i, i)) for f, remote, i in plan.locations]
    plan.new_threads = {get(i, i) for i in plan.new_threads}
    plan.touched_threads = {get(i, i) for i in plan.touched_threads}
    plan.keys = {
        k: (get(t, t), None if i is None else get(i, i)) for k, (t, i) in plan.keys.items()
    }
    plan.new_contacts = [(get(c, c), a) for c, a in plan.new_contacts]
    plan.contact_sources = {get(c, c): s for c, s in plan.contact_sources.items()}
    plan.merged = {get(a, a): get(b, b) for a, b in plan.merged.items()}
    plan.newly_tracked = {get(t, t): get(i, i) for t, i in plan.newly_tracked.items()}
    threads: dict[int, ThreadState] = {}
    for t, state in plan.threads.items():
        root = state.root_message
        state.root_message = None if root is None else get(root, root)
        if _any_local(state.contact_ids):
            state.contact_ids = {get(c, c) for c in state.contact_ids}
        subjects = state.subjects
        if any(i is not None and is_local(i) for i, _ in subjects.values()):
            state.subjects = {
                s: (None if i is None else get(i, i), shown) for s, (i, shown) in subjects.items()
            }
        threads[get(t, t)] = state
    plan.threads = threads


def _any_local(ids: Collection[int]) -> bool:
    """Whether `ids` holds a plan-local id (`is_local`: negative), without a call per id."""
    return bool(ids) and is_local(min(ids))


async def _owner(tx: Transaction, mailbox_id: int) -> tuple[int, bool]:
    """The mailbox's member, and whether they may log now (R12: an active member whose
    seat is not view-only), read inside the write transaction: a seat changed or a member
    deactivated while a round runs logs nothing from the next batch on."""
    row = await tx.fetchone(
        """SELECT u.id, u.seat, u.active FROM mailboxes b JOIN users u ON u.id = b.user_id
           WHERE b.id = ?""",
        (mailbox_id,),
    )
    if row is None:  # a mailbox the tests made without a user row: the first user's
        return 1, True
    return int(row[0]), bool(row["active"]) and row["seat"] != "view_only"
