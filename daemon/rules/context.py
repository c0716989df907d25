"""The inputs and output of the rules engine: settings, thread snapshot, decision."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from loggbok.daemon.mime.facts import Address

Mode = Literal["replies_only", "all_with_contacts"]


@dataclass(frozen=True, slots=True)
class RuleSettings:
    mode: Mode = "replies_only"
    bcc_address: str | None = None
    forwarding_address: str | None = None
    never_log: frozenset[str] = frozenset()
    """The user's own never-log list (R16): lower-cased addresses and "@domain" entries."""
    never_log_everyone: frozenset[str] = frozenset()
    """The team's never-log list, for everyone (R16), in the same form."""
    own_addresses: frozenset[str] = frozenset()
    """The user's addresses, the mailbox address included."""
    colleague_domains: frozenset[str] = frozenset()
    """Work domains of the user's own addresses: mail only among these is internal."""
    can_log: bool = True
    """False for a view-only seat or a deactivated user (R12)."""
    team_inbox: bool = False
    """The mailbox is a team mailbox (shared inbox, help desk address): R15."""

    def never_list(self, email: str) -> str | None:
        """Which never-log list holds `email` (exactly or by its @domain): "yours",
        "everyone", or None."""
        domain = "@" + email.rpartition("@")[2]
        if email in self.never_log or domain in self.never_log:
            return "yours"
        if email in self.never_log_everyone or domain in self.never_log_everyone:
            return "everyone"
        return None


@dataclass(frozen=True, slots=True)
class SubjectRef:
    """A normalised subject and the message it belongs to (R3/R4 compare a reply with it)."""

    subject_norm: str
    message_id: str
    """The message's Message-ID as shown ("<...>"); "" when not known."""
    id: int | None = None
    """The message's store id; None when not known."""


@dataclass(frozen=True, slots=True)
class ThreadSnapshot:
    """The thread a message's In-Reply-To/References (or conversation key) found."""

    thread_id: int
    tracked: bool
    subject_norm: str
    contact_ids: tuple[int, ...]
    matched_message: int | None
    """Store id of the message matched, None for a ghost (referenced, never seen)."""
    matched_key: str
    matched_via: str
    """"conversation_key", "in-reply-to", "references", "a later reply" (its own
    Message-ID was referenced by a message stored earlier) or "late parent"."""
    parent: SubjectRef | None = None
    """The message this one answers, when it is stored in this thread: the one named by
    In-Reply-To, else the newest References entry that is stored."""
    subjects: tuple[SubjectRef, ...] = ()
    """Every subject the thread is tracked under (oldest first), with the message that
    tracked it under each; empty for an untracked thread."""


@dataclass(frozen=True, slots=True)
class RuleContext:
    settings: RuleSettings
    contacts: Mapping[str, int]
    """Participant address -> contact id, for the participants that are contacts."""
    thread: ThreadSnapshot | None


@dataclass(frozen=True, slots=True)
class Decision:
    logged: bool
    reason: str
    rule: str
    contact_ids: tuple[int, ...] = ()
    new_contacts: tuple[Address, ...] = ()
    """Recipients to create as contacts and log on (R2)."""
    track_thread: bool = False
    new_thread: bool = False
    """True when the message starts a new thread despite its references (R4)."""
    never_logged: tuple[str, ...] = ()
    details: Mapping[str, str] = field(default_factory=dict)

    def with_contacts(self, contact_ids: tuple[int, ...]) -> Decision:
        """This decision landing on `contact_ids` instead (the store's ids for a plan's
        local ones): `dataclasses.replace(self, contact_ids=...)` without its walk of the
        fields, at a third of the cost (a sync round renames thousands). Every field is
        named here (a test compares it with `replace`)."""
        return Decision(
            self.logged,
            self.reason,
            self.rule,
            contact_ids,
            self.new_contacts,
            self.track_thread,
            self.new_thread,
            self.never_logged,
            self.details,
        )
