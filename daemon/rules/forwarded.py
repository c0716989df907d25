"""R8: an email the user forwards to their forwarding address, decided in two steps.

1. From the headers (`is_forward`, `forward_received`): a message from one of
   the user's own addresses with the forwarding address among its To, Cc, Bcc or
   Delivered-To is a forward to log (its Sent copy, or the copy delivered into a
   synced mailbox: one message either way). It is marked logged, on no contact
   yet, so that its body is fetched.
2. From the body, once the forwarded original has been read out of it
   (`decide_original`, pure): the original's sender becomes the contact it is
   logged on (created when missing, company from a work domain), or, when the
   user forwarded their own or a colleague's email, the original's customer
   recipients do. Never-logged addresses get nothing (R16). A forward whose
   original sender's address cannot be read is `forward_unparsed` (decided by
   the store, `store/forwards.py`): nothing is guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from loggbok.daemon.mime.facts import Address, HeaderFacts
from loggbok.daemon.rules.context import Decision, RuleSettings


def _domain(email: str) -> str:
    return email.rpartition("@")[2]


def is_forward(facts: HeaderFacts, settings: RuleSettings) -> bool:
    """Sent by the user to their forwarding address."""
    address = settings.forwarding_address
    if not address or facts.from_.email not in settings.own_addresses:
        return False
    seen = {a.email for a in (*facts.to, *facts.cc, *facts.bcc)} | set(facts.delivered_to)
    return address in seen


def forward_received(settings: RuleSettings) -> Decision:
    """The header-time decision: logged, its contacts chosen once the body is read."""
    return Decision(
        True,
        "forwarded_to_log",
        "R8",
        details={
            "forwarding": settings.forwarding_address or "",
            "original_from": "(read from the body once it is fetched)",
        },
    )


@dataclass(frozen=True, slots=True)
class OriginalFacts:
    """The forwarded original as read from the forward (`mime/forward.py`)."""

    sender: Address
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()


def _internal(email: str, settings: RuleSettings) -> bool:
    logging = {a for a in (settings.bcc_address, settings.forwarding_address) if a}
    return (
        email in settings.own_addresses
        or email in logging
        or _domain(email) in settings.colleague_domains
    )


def _never(email: str, settings: RuleSettings) -> bool:
    return settings.never_list(email) is not None


def decide_original(
    original: OriginalFacts, settings: RuleSettings, contacts: Mapping[str, int]
) -> Decision:
    """Which contacts a read forward is logged on. `contacts` maps the addresses of
    the original's participants that are contacts to their ids."""
    sender = original.sender
    details = {"original_from": sender.email, "forwarding": settings.forwarding_address or ""}
    if _internal(sender.email, settings):
        details["original_sent_by"] = "you or a colleague: logged on its recipients"
        people = [a for a in (*original.to, *original.cc) if not _internal(a.email, settings)]
    else:
        people = [sender]
    people = list({a.email: a for a in people if a.email}.values())
    blocked = tuple(a.email for a in people if _never(a.email, settings))
    allowed = [a for a in people if a.email not in blocked]
    if not people:
        return Decision(False, "internal_only", "R17", details=details)
    if not allowed:
        return Decision(False, "never_log", "R16", never_logged=blocked, details=details)
    known = tuple(dict.fromkeys(contacts[a.email] for a in allowed if a.email in contacts))
    return Decision(
        True,
        "forwarded_to_log",
        "R8",
        known,
        new_contacts=tuple(a for a in allowed if a.email not in contacts),
        never_logged=blocked,
        details=details,
    )
