"""Small helpers shared by the TUI tests: finding demo data over a second client,
and steps through the TUI that several tests take."""

from __future__ import annotations

import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Input

from loggbok.protocol import methods
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from loggbok.tui.dialogs.prompt import TextPrompt

from .conftest import screen_of

UNFOLDED = email.policy.default.clone(max_line_length=998)
"""Long Message-IDs stay as they are (folding would turn them into encoded words)."""
TRACKING = {"bcc_address", "reply_in_tracked_thread", "sent_from_crm", "log_flag"}


async def contact_with_timeline(
    client: Client, reasons: set[str] | None = None
) -> tuple[t.Contact, t.Timeline]:
    """The external demo contact with the most timeline entries (newest with such a reason).

    Colleagues (the mailbox's own domain) are left out: mail among them is internal.
    """
    boxes = await client.call(methods.MAILBOXES_LIST)
    own = {b.address.rpartition("@")[2].lower() for b in boxes.mailboxes}
    contacts = await client.call(methods.CONTACTS_LIST, t.ContactsListParams(limit=500))
    best: tuple[t.Contact, t.Timeline] | None = None
    for contact in contacts.contacts:
        if any(e.rpartition("@")[2].lower() in own for e in contact.emails):
            continue
        timeline = await client.call(
            methods.TIMELINE_GET, t.TimelineGetParams(contact_id=contact.id, limit=50)
        )
        if not timeline.entries:
            continue
        if reasons and timeline.entries[0].reason not in reasons:
            continue
        if best is None or len(timeline.entries) > len(best[1].entries):
            best = (contact, timeline)
    assert best is not None, "the demo has no contact with a timeline"
    return best


async def unlogged_fixable(client: Client) -> tuple[t.MessageSummary, t.Explanation]:
    """An unlogged demo message whose explanation offers "log manually", from a contact."""
    listing = await client.call(
        methods.MESSAGES_LIST, t.MessagesListParams(logged=False, limit=500)
    )
    candidates: list[tuple[t.MessageSummary, t.Explanation]] = []
    for msg in listing.messages:
        expl = await client.call(methods.MESSAGES_EXPLAIN, t.MessageRefParams(id=msg.id))
        if "log_manually" in expl.fixes and msg.direction == "inbound":
            candidates.append((msg, expl))
    assert candidates, "the demo has no unlogged message that can be logged by hand"
    preferred = [c for c in candidates if c[1].reason == "subject_changed"]
    return (preferred or candidates)[0]


async def contact_by_email(client: Client, email: str) -> t.Contact | None:
    found = await client.call(methods.CONTACTS_LIST, t.ContactsListParams(query=email))
    for contact in found.contacts:
        if email.lower() in (e.lower() for e in contact.emails):
            return contact
    return None


def reply_to(entry: t.TimelineEntry, sender: str, to: str, body: str) -> tuple[bytes, str]:
    """A reply to `entry` keeping its subject, as the contact's mail client would send it."""
    msg = EmailMessage(policy=UNFOLDED)
    message_id = make_msgid(domain="tests.loggbok.example")
    msg["From"] = sender
    msg["To"] = to
    subject = entry.subject if entry.subject.lower().startswith("re:") else f"Re: {entry.subject}"
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    msg["In-Reply-To"] = entry.message_id
    msg["References"] = entry.message_id
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg.set_content(body)
    return msg.as_bytes(), message_id


async def import_contacts_file(app: App[Any], pilot: Pilot[Any], path: Path) -> None:
    """On the contacts screen: open the import prompt, give it `path`, confirm."""
    await pilot.press("i")
    prompt = await screen_of(app, TextPrompt)
    prompt.query_one(Input).value = str(path)
    await pilot.press("enter")
