"""R8 after the body is read: a forward becomes its original, or waits for review.

Owns `settle_forwards`, run in the transaction that stores the bodies. A message
logged from its headers as `forwarded_to_log` (on no contact yet) is settled
once its original has been read out of it:

- read: the message shows the original (sender, recipients, subject, date;
  the body and attachments stored with it are the original's), keeps the
  forward's own sender, subject, date and where the original was found in
  `messages.forwarded`, and is logged on the contacts `rules/forwarded.py`
  chooses, creating the missing ones (company from a work domain). The raw
  headers stay the forward's (`messages.headers`).
- not read (the sender's address is not shown): not logged,
  `forward_unparsed`, with the reason; it waits in the review list
  (`messages.list` by that reason) until it is logged by hand (R9).

Each gets a decision of its own after the header-time one (the history is kept).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from loggbok.daemon.mime.facts import Address
from loggbok.daemon.mime.subject import normalise_subject
from loggbok.daemon.rules.context import Decision, RuleSettings
from loggbok.daemon.rules.forwarded import OriginalFacts, decide_original
from loggbok.daemon.store.bodies import StoredBody, StoredForward
from loggbok.daemon.store.contacts import insert_contact
from loggbok.daemon.store.db import Row, Transaction
from loggbok.daemon.store.plans import add_to_timelines

CONTACT_SOURCE = "forwarded_to_log"


@dataclass(slots=True)
class Settled:
    logged: set[int] = field(default_factory=set)
    turned_down: set[int] = field(default_factory=set)
    """Not logged after all: `forward_unparsed`, or the original's people are all
    internal or never-logged."""
    created_contacts: list[int] = field(default_factory=list)


async def _decision(
    tx: Transaction, message: int, decision: Decision, evidence: dict[str, object]
) -> None:
    await tx.execute(
        "INSERT INTO decisions (message, logged, reason, rule, evidence) VALUES (?, ?, ?, ?, ?)",
        (
            message,
            int(decision.logged),
            decision.reason,
            decision.rule,
            json.dumps(evidence, ensure_ascii=False),
        ),
    )


def _people(pairs: tuple[tuple[str, str], ...]) -> tuple[Address, ...]:
    return tuple(Address(email, name) for email, name in pairs)


async def _contacts_of(tx: Transaction, emails: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for email in dict.fromkeys(e for e in emails if e):
        owner = await tx.fetchval("SELECT contact_id FROM contact_emails WHERE email = ?", (email,))
        if owner is not None:
            found[email] = int(owner)
    return found


async def _show_original(tx: Transaction, row: Row, forward: StoredForward, outbound: bool) -> None:
    """The message row shows the original; the forward's own fields go to `forwarded`."""
    own = {
        "from": [row["from_email"], row["from_name"]],
        "subject": row["subject"],
        "date": row["date"],
        "original_message_id": forward.message_id,
        "found_in": forward.found_in,
        "date_shown": forward.date_shown,
    }
    recipients = {
        "to": [list(p) for p in forward.to],
        "cc": [list(p) for p in forward.cc],
        "bcc": [],
    }
    await tx.execute(
        """UPDATE messages SET subject = ?, subject_norm = ?, from_email = ?, from_name = ?,
               recipients = ?, date = ?, date_ts = ?, direction = ?, forwarded = ?
           WHERE id = ?""",
        (
            forward.subject,
            normalise_subject(forward.subject),
            forward.sender_email,
            forward.sender_name,
            json.dumps(recipients, ensure_ascii=False),
            forward.date_iso or row["date"],
            forward.date_ts or row["date_ts"],
            "outbound" if outbound else "inbound",
            json.dumps(own, ensure_ascii=False),
            row["id"],
        ),
    )


async def _settle_one(
    tx: Transaction, row: Row, forward: StoredForward, rules: RuleSettings, settled: Settled
) -> None:
    message = row["id"]
    base: dict[str, object] = {"rule": "R8", "thread_id": row["thread_id"]}
    if forward.unparsed is not None:
        await tx.execute(
            "UPDATE messages SET logged = 0, reason = 'forward_unparsed' WHERE id = ?", (message,)
        )
        details = {"forwarding": rules.forwarding_address or "", "why": forward.unparsed}
        if forward.sender_name:
            details["named_sender"] = forward.sender_name
        await _decision(
            tx,
            message,
            Decision(False, "forward_unparsed", "R8"),
            {**base, "subject": row["subject_norm"], "details": details},
        )
        settled.turned_down.add(message)
        return
    original = OriginalFacts(
        Address(forward.sender_email, forward.sender_name),
        _people(forward.to),
        _people(forward.cc),
    )
    emails = [forward.sender_email, *(e for e, _ in forward.to), *(e for e, _ in forward.cc)]
    decision = decide_original(original, rules, await _contacts_of(tx, emails))
    await _show_original(tx, row, forward, forward.sender_email in rules.own_addresses)
    details = {
        **decision.details,
        "original_subject": forward.subject,
        "original_date": forward.date_iso,
        "found_in": forward.found_in,
        "forwarded_by": row["from_email"],
        "forward_subject": row["subject"],
    }
    if not forward.date_shown:
        details["original_date"] = "not shown in the forward: the forward's date is used"
    evidence = {
        **base,
        "subject": normalise_subject(forward.subject),
        "never_logged": list(decision.never_logged),
    }
    if not decision.logged:
        await tx.execute(
            "UPDATE messages SET logged = 0, reason = ? WHERE id = ?", (decision.reason, message)
        )
        await _decision(tx, message, decision, {**evidence, "details": details})
        settled.turned_down.add(message)
        return
    contact_ids = list(decision.contact_ids)
    created = []
    for address in decision.new_contacts:
        owner = await tx.fetchval(
            "SELECT contact_id FROM contact_emails WHERE email = ?", (address.email,)
        )
        if owner is None:
            name = address.name or address.email.partition("@")[0]
            owner = await insert_contact(tx, name, [address.email], CONTACT_SOURCE)
            created.append(address.email)
            settled.created_contacts.append(int(owner))
        contact_ids.append(int(owner))
    contact_ids = list(dict.fromkeys(contact_ids))
    if created:
        details["created_contacts"] = ", ".join(created)
    date_ts = forward.date_ts or row["date_ts"]
    await add_to_timelines(tx, message, contact_ids, date_ts, "forwarded_to_log")
    await _decision(
        tx, message, decision, {**evidence, "contact_ids": contact_ids, "details": details}
    )
    settled.logged.add(message)


async def settle_forwards(
    tx: Transaction, bodies: Mapping[int, StoredBody], rules: RuleSettings
) -> Settled:
    """Settle the forwards among `bodies` that are still waiting for their original (a
    message logged `forwarded_to_log` from its headers, on no contact yet)."""
    settled = Settled()
    for message, body in sorted(bodies.items()):
        if body.forward is None:
            continue
        row = await tx.fetchone(
            """SELECT * FROM messages WHERE id = ? AND logged = 1
                   AND reason = 'forwarded_to_log' AND forwarded IS NULL""",
            (message,),
        )
        if row is not None:
            await _settle_one(tx, row, body.forward, rules, settled)
    return settled
