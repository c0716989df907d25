"""Second thoughts: stored mail decided again with today's contacts and settings.

`redecide(store, sync, scope, dry_run)` replays the stored messages of a scope
through the sync planner (`planner.py`, the rules engine behind it) as if they
arrived now: oldest first, a message never before one it replies to, every
decision seen by the ones after it. So a thread becomes tracked by a BCC'd
message that is logged now, and its replies follow; a thread whose tracking
message is now on the never-log list stops being tracked, and its replies
leave the timelines.

Each message is planned under its own stored id (and its stored key, when it
has one of its own: `store/foreign_copies.py`); a message that starts a
thread gets the thread it was in (unless another message of the replay took
it), so deciding again what did not change writes nothing: a second apply is
a no-op. Messages outside the scope (older than `since`, or not in `ids`)
keep their decisions, and their threads count as they are stored.

A dry run may take the never-log lists as they would be (`Preview`): the user
sees what a change to their own list or the team's for everyone would unlog
before saving it. Mail of a team mailbox (R15) is decided as `team_inbox`
whatever the lists say.

Never changed: a decision made by hand (`manual`, `manual_unlog`); the
original of a forward and the other decisions the headers cannot make again
(`forwarded_to_log`, `forward_unparsed`, `sent_from_crm`, `team_inbox`); a
calendar invitation that only its body showed. No contact is created (a
message that would only land on new contacts stays as it is). With `ids`
only decisions and timeline entries change, threads stay as they are.

Applied, batches of 500 are written each in its own transaction while no sync
round runs (`SyncService.paused`); then clients get one `timeline.changed`,
and the mailboxes fetch the bodies of the newly logged messages (the same
pending-bodies step a sync round starts with).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, field, replace
from typing import Any

import msgspec

from loggbok.daemon.mime.facts import HeaderFacts
from loggbok.daemon.rules.context import RuleSettings
from loggbok.daemon.rules.namesakes import plain_key
from loggbok.daemon.rules.planner import (
    Counters,
    Incoming,
    PlannedMessage,
    Snapshot,
    ThreadState,
    decision_order,
    plan_batch,
)
from loggbok.daemon.store.bodies import CALENDAR_OVERRIDES
from loggbok.daemon.store.redecisions import (
    BatchContext,
    BatchWrite,
    NewDecision,
    Outcome,
    Scope,
    StoredMessage,
    StoredThread,
)
from loggbok.daemon.store.store import Store
from loggbok.daemon.sync.engine import rule_settings
from loggbok.daemon.sync.parse_pool import parse_header_blocks
from loggbok.daemon.sync.service import SyncService
from loggbok.protocol.types import (
    ReasonChange,
    RedecidedMessage,
    RedecideResult,
    TimelineChanged,
)

BY_HAND = frozenset({"manual", "manual_unlog"})
KEPT = BY_HAND | {"forwarded_to_log", "forward_unparsed", "sent_from_crm", "team_inbox"}
"""Decisions a replay from the headers never changes."""
WINDOW = 20_000
"""Messages whose headers are held and ordered together (as in a sync round)."""
BATCH = 500
"""Messages planned and written per transaction."""
SAMPLE = 50


class Replay:
    """The planner's snapshot carried across a whole replay, fed per batch."""

    def __init__(self, next_thread: int, next_contact: int) -> None:
        self.ids = Counters(0, 0, next_contact)
        self.s = Snapshot({}, {}, {}, {}, {}, self.ids)
        self.fresh = next_thread
        self.claimed: set[int] = set()
        self.folded: dict[int, int] = {}

    def add_context(self, ctx: BatchContext) -> None:
        """Today's contacts, and what the messages outside the scope hold (as stored)."""
        self.s.contacts.update(ctx.contacts)
        for message_id, subject in ctx.messages.items():
            self.s.messages.setdefault(message_id, subject)
        for key, value in ctx.keys.items():
            self.s.keys.setdefault(key, value)
        for conversation, thread_id in ctx.conversations.items():
            self.s.conversations.setdefault(conversation, thread_id)
        for key, namesakes in ctx.namesakes.items():
            self.s.namesakes.setdefault(key, namesakes)
        for thread_id, t in ctx.threads.items():
            if thread_id not in self.s.threads:
                self.s.threads[thread_id] = ThreadState(
                    t.subject_norm,
                    t.tracked,
                    t.tracked_reason,
                    t.tracked_mailbox_id,
                    t.root_message,
                    t.conversation_key,
                    set(t.contact_ids),
                    {subject: (message, shown) for subject, message, shown in t.subjects},
                )

    def _final(self, thread_id: int) -> int:
        while thread_id in self.folded:
            thread_id = self.folded[thread_id]
        return thread_id

    def plan(self, row: StoredMessage, item: Incoming, rules: RuleSettings) -> PlannedMessage:
        """Plan one stored message under its own id, in the thread it had when it
        starts one; keys and folds go to `self.batch`."""
        s = self.s
        s.member = row.owner_id
        self.ids.next_message = row.id
        reuse = row.thread_id
        if reuse is None or reuse in self.claimed or reuse in s.threads:
            reuse = None
        self.ids.next_thread = self.fresh if reuse is None else reuse
        plan = plan_batch([item], s, rules, row.mailbox_id or 0)
        for thread_id in plan.new_threads:
            self.claimed.add(thread_id)
            if thread_id == self.fresh:
                self.fresh += 1
        created = {contact_id for contact_id, _ in plan.new_contacts}
        for _, address in plan.new_contacts:  # a replay creates no contact
            s.contacts.pop(address.email, None)
        if created:
            for thread in s.threads.values():
                thread.contact_ids -= created
        self.folded.update(plan.merged)
        self.batch.merged.update(plan.merged)
        self.batch.keys.update(plan.keys)
        planned = plan.messages[0]
        planned.contact_ids = tuple(c for c in planned.contact_ids if c not in created)
        return planned

    def start_batch(self) -> None:
        self.batch = BatchWrite()

    def finish_batch(self, rows: list[StoredMessage], planned: list[PlannedMessage]) -> BatchWrite:
        batch = self.batch
        touched: set[int] = set()
        for row, p in zip(rows, planned, strict=True):
            thread_id = self._final(p.thread_id)
            batch.moves[row.id] = thread_id
            touched.add(thread_id)
            if row.thread_id is not None:
                batch.orphans.add(row.thread_id)
        touched |= {self._final(t) for t in batch.merged.values()}
        batch.keys = {k: (self._final(t), m) for k, (t, m) in batch.keys.items()}
        batch.threads = [_stored(t, self.s.threads[t]) for t in sorted(touched)]
        live = set(self.s.threads) - set(self.folded)
        batch.orphans -= live
        return batch


def _stored(thread_id: int, t: ThreadState) -> StoredThread:
    return StoredThread(
        thread_id,
        t.subject_norm,
        t.tracked,
        t.tracked_reason,
        t.tracked_mailbox_id,
        t.root_message,
        t.conversation_key,
        frozenset(t.contact_ids),
        tuple((subject, message, shown) for subject, (message, shown) in t.subjects.items()),
    )


def new_decision(row: StoredMessage, planned: PlannedMessage) -> NewDecision | None:
    """What the rules say now about `row`, or None when it stays as it is."""
    if row.reason in KEPT:
        return None
    d = planned.decision
    contacts = planned.contact_ids
    if d.logged and not contacts:
        return None  # it would land only on contacts to be created: no contact is made
    if row.calendar_in_body and d.reason in CALENDAR_OVERRIDES:
        return None
    new = set(contacts) if d.logged else set()
    if d.reason == row.reason and d.logged == row.logged and new == set(row.contact_ids):
        return None
    evidence: dict[str, Any] = dict(planned.evidence)
    evidence["contact_ids"] = list(contacts) if d.logged else []
    details = dict(evidence.get("details", {}))
    details.pop("created_contacts", None)
    details["decided_again"] = "messages.redecide, with the contacts and settings of the day"
    details["previous_reason"] = row.reason
    evidence["details"] = details
    return NewDecision(row, d.logged, d.reason, d.rule, contacts if d.logged else (), evidence)


@dataclass(slots=True)
class Tally:
    examined: int = 0
    kept: int = 0
    changes: Counter[tuple[str, str]] = field(default_factory=Counter)
    sample: list[RedecidedMessage] = field(default_factory=list)
    added: int = 0
    removed: int = 0
    changed_ids: list[int] = field(default_factory=list)

    def count(self, decisions: Iterable[NewDecision]) -> None:
        for d in decisions:
            row = d.message
            old, new = set(row.contact_ids), set(d.contact_ids)
            self.changes[(row.reason, d.reason)] += 1
            self.added += len(new - old)
            self.removed += len(old - new)
            self.changed_ids.append(row.id)
            if len(self.sample) < SAMPLE:
                self.sample.append(
                    RedecidedMessage(
                        id=row.id,
                        message_id=row.message_id,
                        subject=row.subject,
                        date=row.date,
                        old_reason=row.reason,
                        new_reason=d.reason,
                        old_logged=row.logged,
                        new_logged=d.logged,
                        contacts_gained=sorted(new - old),
                        contacts_lost=sorted(old - new),
                    )
                )

    def result(self, dry_run: bool, bodies_pending: int = 0) -> RedecideResult:
        return RedecideResult(
            dry_run=dry_run,
            examined=self.examined,
            changed=sum(self.changes.values()),
            kept=self.kept,
            changes=[
                ReasonChange(from_=old, to=new, count=n)
                for (old, new), n in sorted(self.changes.items(), key=lambda kv: (-kv[1], kv[0]))
            ],
            sample=self.sample,
            entries_added=self.added,
            entries_removed=self.removed,
            bodies_pending=bodies_pending,
        )


@dataclass(frozen=True, slots=True)
class Preview:
    """A dry run's settings as they would be (None: as saved): the user's never-log
    list and the team's for everyone, normalised, so a change is seen before it is saved."""

    never_log: list[str] | None = None
    team_never_log: list[str] | None = None


async def redecide(
    store: Store,
    sync: SyncService,
    scope: Scope,
    *,
    dry_run: bool,
    preview: Preview = Preview(),
    user_id: int = 1,
) -> RedecideResult:
    """Decide the messages of `scope` again by `user_id`'s settings; with `dry_run` only
    say what would change (with `preview`'s lists in place of the saved ones)."""
    guard: AbstractAsyncContextManager[Any] = nullcontext() if dry_run else sync.paused()
    tally = Tally()
    outcome = Outcome()
    async with guard:
        rules_for = await _rules(store, preview, user_id)
        replay = Replay(*await store.redecisions.next_ids())
        ids = await store.redecisions.scope_ids(scope)
        for start in range(0, len(ids), WINDOW):
            rows = {r.id: r for r in await store.redecisions.messages(ids[start : start + WINDOW])}
            ordered = await _in_order(list(rows.values()))
            for first in range(0, len(ordered), BATCH):
                items = ordered[first : first + BATCH]
                batch = [rows[int(i.remote_id)] for i in items]
                replay.add_context(await _context(store, items, scope))
                replay.start_batch()
                planned = [
                    replay.plan(r, i, rules_for(r.mailbox_id))
                    for r, i in zip(batch, items, strict=True)
                ]
                write = replay.finish_batch(batch, planned)
                tally.examined += len(batch)
                tally.kept += sum(1 for r in batch if r.reason in KEPT)
                write.decisions = [
                    d for r, p in zip(batch, planned, strict=True) if (d := new_decision(r, p))
                ]
                if dry_run:
                    tally.count(write.decisions)
                    continue
                written = await store.redecisions.write(write, rethread=scope.ids is None)
                tally.count(written.changed)
                outcome.contacts |= written.contacts
                outcome.waiting_bodies += written.waiting_bodies
    if dry_run:
        return tally.result(True)
    if outcome.contacts:
        await sync.notify(
            "timeline.changed",
            TimelineChanged(
                contact_ids=sorted(outcome.contacts), entries=tally.added + tally.removed
            ),
        )
    for mailbox_id in sorted({m for _, m in outcome.waiting_bodies if m is not None}):
        await sync.sync_bodies(mailbox_id)
    waiting = await store.redecisions.still_waiting([i for i, _ in outcome.waiting_bodies])
    return tally.result(False, waiting)


async def _rules(
    store: Store, preview: Preview, user_id: int
) -> Callable[[int | None], RuleSettings]:
    settings = await store.settings.get(user_id)
    team = await store.team.get()
    if preview.never_log is not None:
        settings = msgspec.structs.replace(settings, never_log=preview.never_log)
    if preview.team_never_log is not None:
        team = msgspec.structs.replace(team, never_log=preview.team_never_log)
    can_log = await store.users.can_log(user_id)
    kinds = await store.mailboxes.kinds()
    by_mailbox = {
        mailbox_id: rule_settings(
            settings, address, can_log, team=team, kind=kinds.get(mailbox_id, "personal")
        )
        for mailbox_id, address in (await store.redecisions.mailbox_addresses()).items()
    }
    default = rule_settings(settings, "", can_log, team=team)
    default = replace(default, own_addresses=default.own_addresses - {""})
    return lambda mailbox_id: by_mailbox.get(mailbox_id or 0, default)


async def _in_order(rows: list[StoredMessage]) -> list[Incoming]:
    """The window's messages as the planner takes them, oldest first, parents first."""
    facts = await parse_header_blocks([r.raw_headers for r in rows])
    items = [
        Incoming(0, str(r.id), _keyed(f, r.message_key), b"", 0, r.conversation_key)
        for r, f in zip(rows, facts, strict=True)
    ]
    items.sort(key=lambda i: (i.facts.date_ts, int(i.remote_id)))
    return decision_order(items)


def _keyed(facts: HeaderFacts, key: str) -> HeaderFacts:
    """The headers' facts under the message's stored key when that is a key of its own
    (its Message-ID is a colleague's different email's: `store/foreign_copies.py`)."""
    return facts if plain_key(key) == key else replace(facts, message_key=key)


async def _context(store: Store, items: list[Incoming], scope: Scope) -> BatchContext:
    facts = [i.facts for i in items]
    return await store.redecisions.context(
        emails=[a.email for f in facts for a in (f.from_, *f.to, *f.cc, *f.bcc) if a.email],
        keys=[k for f in facts for k in (f.message_key, *f.in_reply_to, *f.references)],
        conversation_keys=[i.conversation_key for i in items if i.conversation_key],
        scope=scope,
    )
