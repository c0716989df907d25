"""Plan a sync batch: thread resolution, rule decisions and id allocation, pure.

Given the incoming messages (header facts, in date order) and a `Snapshot` of
what the store already knows about them, `plan_batch` decides every message
with the rules engine and returns a `Plan`: the rows to write. Messages in the
same batch see each other (a BCC'd message tracks its thread before the reply
that follows it is decided). What a plan creates (messages, threads,
contacts) gets its ids from the snapshot's `Ids`: for a sync round plan-local
ids (`LocalIds`, negative), which the store maps to real ids when it writes the
plan, inside its write transaction (`store/rounds.py`); a later batch planned
on the same snapshot may name them, and the store keeps the map for the round.

Thread evidence, strongest first: provider conversation key, In-Reply-To,
References (newest first). A named Message-ID that several stored messages share
(a colleague's different email under the same Message-ID) stands for the one
`namesakes.ranked` puts first: the replying mailbox's own, then its member's, then
the best match, then the first stored. Keys seen only as references are "ghosts": they
map to a thread but to no message; a message whose own key is a ghost of an
untracked thread (it arrived after a reply to it) joins that thread, or, when
its own evidence places it in another thread, folds that thread into its own.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from loggbok.daemon.mime.facts import Address, HeaderFacts
from loggbok.daemon.rules.context import (
    Decision,
    RuleContext,
    RuleSettings,
    SubjectRef,
    ThreadSnapshot,
)
from loggbok.daemon.rules.engine import decide, is_outbound
from loggbok.daemon.rules.namesakes import Namesake, plain_key, ranked


@dataclass(frozen=True, slots=True)
class Incoming:
    folder_id: int
    remote_id: str
    facts: HeaderFacts
    raw_header: bytes
    size: int = 0
    conversation_key: str | None = None
    preview: str | None = None
    labels: tuple[str, ...] | None = None
    """Gmail's labels: the folders the message is in (`Backend.labels`)."""


@dataclass(slots=True)
class ThreadState:
    subject_norm: str
    tracked: bool = False
    tracked_reason: str | None = None
    tracked_mailbox_id: int | None = None
    root_message: int | None = None
    conversation_key: str | None = None
    contact_ids: set[int] = field(default_factory=set)
    subjects: dict[str, tuple[int | None, str]] = field(default_factory=dict)
    """Every subject the thread is tracked under (in the order it got them) -> the
    message that tracked it under that subject: (store id, Message-ID as shown)."""


class Ids(Protocol):
    """Where a plan's new ids come from."""

    def message(self) -> int: ...
    def thread(self) -> int: ...
    def contact(self) -> int: ...


class LocalIds:
    """Plan-local ids: negative, counting down, one sequence for messages, threads and
    contacts, so the store tells them from stored ids and maps each to a real one when
    it writes the plan."""

    def __init__(self) -> None:
        self._next = -1

    def _take(self) -> int:
        taken = self._next
        self._next -= 1
        return taken

    def message(self) -> int:
        return self._take()

    def thread(self) -> int:
        return self._take()

    def contact(self) -> int:
        return self._take()


@dataclass(slots=True)
class Counters:
    """Ids counted up from given starts, one counter per kind (tests; a replay that
    plans stored messages under their own ids)."""

    next_message: int
    next_thread: int
    next_contact: int

    def message(self) -> int:
        self.next_message += 1
        return self.next_message - 1

    def thread(self) -> int:
        self.next_thread += 1
        return self.next_thread - 1

    def contact(self) -> int:
        self.next_contact += 1
        return self.next_contact - 1


def is_local(id_: int) -> bool:
    """True for a plan-local id (`LocalIds`), one the store has not given yet."""
    return id_ < 0


@dataclass(slots=True)
class Snapshot:
    existing: dict[str, int]
    """message_key -> message id, for keys already stored."""
    keys: dict[str, tuple[int, int | None]]
    """thread key -> (thread id, message id or None for a ghost)."""
    threads: dict[int, ThreadState]
    conversations: dict[str, int]
    contacts: dict[str, int]
    ids: Ids = field(default_factory=LocalIds)
    """Ids for what the plans create."""
    messages: dict[int, tuple[str, str]] = field(default_factory=dict)
    """Message id -> (normalised subject, Message-ID as shown), for the stored messages
    `keys` names (the parents a reply's subject is compared with)."""
    namesakes: dict[str, list[Namesake]] = field(default_factory=dict)
    """Plain key -> the messages sharing that Message-ID (`namesakes.py`), for the keys
    the batch names that several messages share; their own keys are in `keys`."""
    member: int | None = None
    """The member whose mailbox the batch is from (a reply prefers their namesake)."""


@dataclass(slots=True)
class PlannedMessage:
    id: int
    incoming: Incoming
    thread_id: int
    direction: str
    decision: Decision
    contact_ids: tuple[int, ...]
    evidence: dict[str, Any]


@dataclass(slots=True)
class Plan:
    messages: list[PlannedMessage] = field(default_factory=list)
    locations: list[tuple[int, str, int]] = field(default_factory=list)
    """(folder id, remote id, message id) for every incoming item."""
    new_threads: set[int] = field(default_factory=set)
    touched_threads: set[int] = field(default_factory=set)
    keys: dict[str, tuple[int, int | None]] = field(default_factory=dict)
    new_contacts: list[tuple[int, Address]] = field(default_factory=list)
    contact_sources: dict[int, str] = field(default_factory=dict)
    """New contact id -> the reason that made it (`bcc_address`, `log_flag`)."""
    merged: dict[int, int] = field(default_factory=dict)
    """Threads folded into another by this plan (old id -> new id, in order)."""
    newly_tracked: dict[int, int] = field(default_factory=dict)
    """Threads this plan starts tracking -> the message id that tracks each."""
    threads: dict[int, ThreadState] = field(default_factory=dict)
    """The new and touched threads as this plan leaves them (copies: planning the next
    batch must not change what this one writes)."""

    @property
    def logged(self) -> list[PlannedMessage]:
        return [m for m in self.messages if m.decision.logged]


class _Planner:
    def __init__(self, snapshot: Snapshot, settings: RuleSettings, mailbox_id: int) -> None:
        self.s = snapshot
        self.settings = settings
        self.mailbox_id = mailbox_id
        self.plan = Plan()

    def run(self, batch: list[Incoming]) -> Plan:
        for item in batch:
            known = self.s.existing.get(item.facts.message_key)
            if known is not None:
                self.plan.locations.append((item.folder_id, item.remote_id, known))
                continue
            self._decide(item)
        for thread_id in sorted(self.plan.new_threads | self.plan.touched_threads):
            state = self.s.threads[thread_id]
            self.plan.threads[thread_id] = replace(
                state, contact_ids=set(state.contact_ids), subjects=dict(state.subjects)
            )
        return self.plan

    def _match(self, item: Incoming) -> ThreadSnapshot | None:
        facts = item.facts
        candidates: list[tuple[str, str]] = []
        if item.conversation_key and item.conversation_key in self.s.conversations:
            thread_id = self.s.conversations[item.conversation_key]
            return self._snapshot(thread_id, None, item.conversation_key, "conversation_key", facts)
        candidates += [(k, "in-reply-to") for k in facts.in_reply_to]
        candidates += [(k, "references") for k in reversed(facts.references)]
        for key, via in candidates:
            for found in self._ranked(key, facts):
                if found in self.s.keys and found != facts.message_key:
                    thread_id, message = self.s.keys[found]
                    return self._snapshot(thread_id, message, key, via, facts)
        # A message that arrives after a reply to it (its own key is that reply's ghost)
        # joins the reply's thread, when that thread is not tracked: its own decision
        # is the same as in a thread of its own, and `late_replies` can then decide
        # the waiting reply again once this message tracks the thread.
        ghost = self.s.keys.get(facts.message_key)
        if ghost is not None and ghost[1] is None and not self.s.threads[ghost[0]].tracked:
            return self._snapshot(ghost[0], None, facts.message_key, "a later reply", facts)
        return None

    def _snapshot(
        self, thread_id: int, message: int | None, key: str, via: str, facts: HeaderFacts
    ) -> ThreadSnapshot:
        thread = self.s.threads[thread_id]
        return ThreadSnapshot(
            thread_id,
            thread.tracked,
            thread.subject_norm,
            tuple(sorted(thread.contact_ids)),
            message,
            key,
            via,
            parent=find_parent(
                facts, thread_id, self.s.keys, self.s.messages, lambda k: self._ranked(k, facts)
            ),
            subjects=tuple(
                SubjectRef(subject, shown, stored)
                for subject, (stored, shown) in thread.subjects.items()
            ),
        )

    def _ranked(self, key: str, facts: HeaderFacts) -> list[str]:
        """The message keys a Message-ID `facts` names may stand for, best first."""
        return ranked(key, facts, self.s.namesakes, self.mailbox_id, self.s.member)

    def _namesake(self, facts: HeaderFacts, message_id: int) -> None:
        """A message planned under a key of its own: a namesake later replies may answer."""
        plain = plain_key(facts.message_key)
        if plain == facts.message_key:
            return
        namesakes = self.s.namesakes.setdefault(plain, [])
        if all(n.key != facts.message_key for n in namesakes):
            member = frozenset() if self.s.member is None else frozenset({self.s.member})
            namesakes.append(
                Namesake(
                    facts.message_key,
                    message_id,
                    frozenset({self.mailbox_id}),
                    member,
                    facts.from_.email,
                    facts.subject_norm,
                )
            )

    def _new_thread(self, item: Incoming) -> int:
        thread_id = self.s.ids.thread()
        self.s.threads[thread_id] = ThreadState(
            item.facts.subject_norm, conversation_key=item.conversation_key
        )
        if item.conversation_key:
            self.s.conversations[item.conversation_key] = thread_id
        self.plan.new_threads.add(thread_id)
        return thread_id

    def _decide(self, item: Incoming) -> None:
        facts = item.facts
        match = self._match(item)
        participants = (facts.from_, *facts.to, *facts.cc, *facts.bcc)
        contacts = {
            a.email: self.s.contacts[a.email] for a in participants if a.email in self.s.contacts
        }
        decision = decide(facts, RuleContext(self.settings, contacts, match))

        message_id = self.s.ids.message()
        if match is None or decision.new_thread:
            thread_id = self._new_thread(item)
            if match is None:
                for key in (*facts.in_reply_to, *facts.references):
                    self._set_key(key, thread_id, None, overwrite=False)
        else:
            thread_id = match.thread_id
        ghost = self.s.keys.get(facts.message_key)
        if ghost is not None and ghost[1] is None and ghost[0] != thread_id:
            self._merge(ghost[0], into=thread_id)
        self._set_key(facts.message_key, thread_id, message_id, overwrite=True)
        self._namesake(facts, message_id)

        contact_ids = list(decision.contact_ids)
        for address in decision.new_contacts:
            contact_id = self.s.contacts.get(address.email)
            if contact_id is None:
                contact_id = self.s.ids.contact()
                self.s.contacts[address.email] = contact_id
                self.plan.new_contacts.append((contact_id, address))
                self.plan.contact_sources[contact_id] = decision.reason
            contact_ids.append(contact_id)
        contact_ids = list(dict.fromkeys(contact_ids))

        thread = self.s.threads[thread_id]
        if thread.root_message is None:
            thread.root_message = message_id
        if decision.track_thread:
            if not thread.tracked:
                thread.subject_norm = facts.subject_norm
                thread.tracked_reason = decision.reason
                self.plan.newly_tracked.setdefault(thread_id, message_id)
            thread.subjects.setdefault(facts.subject_norm, (message_id, facts.message_id))
            thread.tracked = True
            thread.tracked_mailbox_id = self.mailbox_id
            thread.contact_ids.update(contact_ids)
            self.plan.touched_threads.add(thread_id)

        self.s.existing[facts.message_key] = message_id
        self.s.messages[message_id] = (facts.subject_norm, facts.message_id)
        self.plan.locations.append((item.folder_id, item.remote_id, message_id))
        self.plan.messages.append(
            PlannedMessage(
                id=message_id,
                incoming=item,
                thread_id=thread_id,
                direction="outbound" if is_outbound(facts, self.settings) else "inbound",
                decision=decision,
                contact_ids=tuple(contact_ids),
                evidence=evidence_for(decision, match, thread_id, contact_ids, facts),
            )
        )

    def _merge(self, other: int, *, into: int) -> None:
        """Fold thread `other` into `into`: a message arrived that `other`'s messages
        answer (its own Message-ID was their ghost) and that belongs to `into`. Only an
        untracked thread is folded (a tracked one keeps its own history)."""
        if self.s.threads[other].tracked:
            return
        for key, (thread_id, message) in list(self.s.keys.items()):
            if thread_id == other:
                self.s.keys[key] = (into, message)
                self.plan.keys[key] = (into, message)
        for conversation, thread_id in list(self.s.conversations.items()):
            if thread_id == other:
                self.s.conversations[conversation] = into
        self.s.threads[into].contact_ids.update(self.s.threads[other].contact_ids)
        for subject, source in self.s.threads[other].subjects.items():
            self.s.threads[into].subjects.setdefault(subject, source)
        self.plan.merged[other] = into
        self.plan.touched_threads.add(into)

    def _set_key(self, key: str, thread_id: int, message: int | None, *, overwrite: bool) -> None:
        if not key or (not overwrite and key in self.s.keys):
            return
        self.s.keys[key] = (thread_id, message)
        self.plan.keys[key] = (thread_id, message)


def find_parent(
    facts: HeaderFacts,
    thread_id: int,
    keys: Mapping[str, tuple[int, int | None]],
    messages: Mapping[int, tuple[str, str]],
    namesakes: Callable[[str], Sequence[str]] = lambda key: (key,),
) -> SubjectRef | None:
    """The message `facts` answers, when it is stored in `thread_id`: the one named by
    In-Reply-To, else the newest References entry that is stored. `keys` maps thread
    keys to (thread id, message id or None); `messages` message ids to (normalised
    subject, Message-ID as shown); `namesakes` a named Message-ID to the message keys
    it may stand for, best first (`namesakes.ranked`)."""
    for named in (*facts.in_reply_to, *reversed(facts.references)):
        for key in namesakes(named):
            found = keys.get(key)
            if key == facts.message_key or found is None or found[0] != thread_id:
                continue
            stored = messages.get(found[1]) if found[1] is not None else None
            if stored is not None:
                return SubjectRef(stored[0], stored[1], found[1])
    return None


def evidence_for(
    decision: Decision,
    match: ThreadSnapshot | None,
    thread_id: int,
    contact_ids: list[int],
    facts: HeaderFacts,
) -> dict[str, Any]:
    details = dict(decision.details)
    if facts.thread_index:
        details["thread_index"] = facts.thread_index
    if decision.new_contacts:
        details["created_contacts"] = ", ".join(a.email for a in decision.new_contacts)
    return {
        "rule": decision.rule,
        "thread_id": thread_id,
        "matched_id": match.matched_message if match else None,
        "matched_message_id": f"<{match.matched_key}>" if match else None,
        "matched_via": match.matched_via if match else None,
        "thread_subject": match.subject_norm if match else None,
        "subject": facts.subject_norm,
        "contact_ids": contact_ids,
        "never_logged": list(decision.never_logged),
        "details": details,
    }


def decision_order(items: list[Incoming]) -> list[Incoming]:
    """Date order, except that a message never comes before one it replies to.

    Clocks differ: a reply can carry a Date earlier than the message it answers.
    Deciding it first would miss the thread its parent is about to track, so
    parents found in the same set go first (Kahn's algorithm, date as priority).
    """
    by_key = {item.facts.message_key: index for index, item in enumerate(items)}
    for index, item in enumerate(items):  # a key of its own answers to its Message-ID too
        by_key.setdefault(plain_key(item.facts.message_key), index)
    children: dict[int, list[int]] = {}
    waiting = [0] * len(items)
    for index, item in enumerate(items):
        parents = {by_key.get(key) for key in (*item.facts.in_reply_to, *item.facts.references)}
        for parent in parents - {None, index}:
            assert parent is not None
            children.setdefault(parent, []).append(index)
            waiting[index] += 1
    ready = [(item.facts.date_ts, index) for index, item in enumerate(items) if not waiting[index]]
    heapq.heapify(ready)
    ordered: list[Incoming] = []
    while ready:
        _, index = heapq.heappop(ready)
        ordered.append(items[index])
        for child in children.get(index, ()):
            waiting[child] -= 1
            if not waiting[child]:
                heapq.heappush(ready, (items[child].facts.date_ts, child))
    if len(ordered) < len(items):  # a reference cycle (forged headers): keep date order
        placed = {id(item) for item in ordered}
        ordered += sorted((i for i in items if id(i) not in placed), key=lambda i: i.facts.date_ts)
    return ordered


def plan_batch(
    batch: list[Incoming], snapshot: Snapshot, settings: RuleSettings, mailbox_id: int
) -> Plan:
    """Decide every message of `batch` (in date order) against `snapshot`."""
    return _Planner(snapshot, settings, mailbox_id).run(batch)
