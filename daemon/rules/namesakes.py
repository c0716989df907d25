"""Messages that share a Message-ID: which one a reply naming it answers, pure.

The store keeps one message per key, the normalised Message-ID; a message whose
Message-ID is another member's different email is stored under a key of its
own, `<key> #<fingerprint>` (`store/foreign_copies.py`). So one Message-ID can
stand for several stored messages, its namesakes: the one under the plain key
(stored first) and those with keys of their own. A reply names the Message-ID
only (In-Reply-To, References), so the rule that picks which of them it answers
lives here, and every place that threads a reply by the Message-IDs it names
applies it (a sync round's planner, the late replies of a round, a redecide
replay, `archive.import`):

1. the namesake in the replying mailbox (the one whose copy it holds);
2. then one of the replying member's (theirs, or in another mailbox of theirs);
3. then the one whose identity the reply matches best: the reply's normalised
   subject is the namesake's, and the namesake's sender is among the reply's
   participants (From, To, Cc), one point each;
4. then the first stored (the lowest id: the plain key's), so the choice is the
   same whatever order the candidates were read in.

A namesake that is not known to the threads (no thread key yet) is skipped; with
none, the plain key is what it always was.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from loggbok.daemon.mime.facts import HeaderFacts

SEPARATOR = " #"
"""Between a Message-ID's key and the fingerprint of a message with a key of its own
(a normalised Message-ID holds no space)."""


def plain_key(key: str) -> str:
    """The Message-ID's key of a message key, plain or one of its own."""
    return key.partition(SEPARATOR)[0]


def own_key(key: str, print_: str) -> str:
    """The key of a message whose Message-ID is another member's different message."""
    return f"{key}{SEPARATOR}{print_}"


@dataclass(frozen=True, slots=True)
class Namesake:
    """One stored (or just planned) message of a Message-ID several messages share."""

    key: str
    """Its message key (and thread key): the plain key or one of its own."""
    message: int
    mailboxes: frozenset[int]
    """The mailboxes holding it."""
    members: frozenset[int]
    """Its owner and the members whose mailboxes hold it."""
    sender: str
    subject_norm: str


def _participants(facts: HeaderFacts) -> set[str]:
    return {a.email for a in (facts.from_, *facts.to, *facts.cc) if a.email}


def ranked(
    key: str,
    facts: HeaderFacts,
    namesakes: Mapping[str, Sequence[Namesake]],
    mailbox_id: int | None,
    member: int | None,
) -> list[str]:
    """The message keys a reply (`facts`, in `mailbox_id` of `member`) naming `key` may
    answer, most likely first (see the module); just `[key]` when it has no namesake."""
    found = namesakes.get(key)
    if not found:
        return [key]
    people = _participants(facts)

    def order(n: Namesake) -> tuple[bool, bool, int, int]:
        matches = (n.subject_norm == facts.subject_norm) + (n.sender in people)
        return (mailbox_id not in n.mailboxes, member not in n.members, -matches, n.message)

    keys = [n.key for n in sorted(found, key=order)]
    return keys if key in keys else [*keys, key]
