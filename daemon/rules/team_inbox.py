"""R15: the mail of a team mailbox (a shared inbox, a help desk address), decided, pure.

Every message of a team mailbox is logged (`team_inbox`) into its conversation:
the thread the thread machinery puts it in (conversation key, In-Reply-To,
References; subjects never split a conversation), which the decision tracks,
so a customer's answer that reaches a member's own mailbox is logged there too
(R3). Who it lands on:

- inbound: its sender's contact, created when unknown, and the other
  participants that are contacts already;
- outbound (a reply sent from the team address): its To recipients, created
  when unknown, the other participants that are contacts, and the contacts the
  conversation already has.

No contact is made for a colleague (same work domain as the team address) nor
for the sender of an automatic reply, a bounce, bulk mail or a calendar message
(R17's kinds: logged all the same, on the contacts they already have, the kind
named in the details as `kind`). Never-log lists (R16) do not apply: the
entries they would have held back are named in the details, `never_log_ignored`.
The attachment cap (R10) applies as to any logged mail (the body pipeline's).
"""

from __future__ import annotations

from loggbok.daemon.mime.facts import Address, HeaderFacts
from loggbok.daemon.rules.classify import classify
from loggbok.daemon.rules.context import Decision, RuleContext


def _domain(email: str) -> str:
    return email.rpartition("@")[2]


def decide_team(
    facts: HeaderFacts,
    ctx: RuleContext,
    others: list[Address],
    blocked: tuple[str, ...],
    *,
    outbound: bool,
) -> Decision:
    """`others`: the participants but the user's own and logging addresses;
    `blocked`: those a never-log list holds (logged all the same)."""
    settings = ctx.settings
    details: dict[str, str] = {"team_mailbox": "a shared inbox: never-log lists do not apply"}
    kind = classify(facts)
    if kind is not None:
        details["kind"] = kind
    if blocked:
        details["never_log_ignored"] = ", ".join(blocked)
    customers = list(facts.to) if outbound else [facts.from_]
    creatable: tuple[Address, ...] = ()
    if kind is None:
        creatable = tuple(
            a
            for a in {a.email: a for a in customers if a.email}.values()
            if a.email not in ctx.contacts
            and a.email in {o.email for o in others}
            and _domain(a.email) not in settings.colleague_domains
        )
    known = [ctx.contacts[a.email] for a in others if a.email in ctx.contacts]
    if outbound and ctx.thread is not None:
        known.extend(ctx.thread.contact_ids)
    return Decision(
        True,
        "team_inbox",
        "R15",
        tuple(dict.fromkeys(known)),
        new_contacts=creatable,
        track_thread=True,
        details=details,
    )
