"""End to end: the real loggbokd, a real Maildir, the protocol client.

Walks the logging rules the foundation covers, over the socket: BCC logging
(R2), replies (R3), a changed subject (R4), a new email in both modes (R5),
a stranger (R6), bounce and out-of-office (R17), never-log (R16), manual
logging (R9), explanations, raw headers, search, and live notifications.
"""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from tests.support.mail import days_ago, deliver, make_maildir, make_message

ME = "Maja Lindqvist <maja@firma.example>"
BCC = "log-1234@bcc.loggbok.example"
ANNA = "Anna Berg <anna@kund.example>"


def build_mailbox(root: Path) -> dict[str, bytes]:
    make_maildir(root, ".Sent")
    mails = {
        "sent": make_message(
            ME,
            [ANNA, "Bo Ek <bo@kund.example>"],
            "Offer Q3",
            "<a1@firma.example>",
            bcc=[BCC],
            date=days_ago(10),
        ),
        "reply": make_message(
            ANNA,
            [ME],
            "SV: Offer Q3",
            "<b1@kund.example>",
            in_reply_to="<a1@firma.example>",
            references=["<a1@firma.example>"],
            date=days_ago(9),
            body="Thanks, looks good!\n\n> old quote\n",
        ),
        "changed": make_message(
            ANNA,
            [ME],
            "Another matter",
            "<c1@kund.example>",
            in_reply_to="<b1@kund.example>",
            references=["<a1@firma.example>", "<b1@kund.example>"],
            date=days_ago(8),
        ),
        "new": make_message(
            ANNA, [ME], "A question about invoices", "<d1@kund.example>", date=days_ago(7)
        ),
        "bounce": make_message(
            "Mail Delivery System <MAILER-DAEMON@mx.firma.example>",
            [ME],
            "Undelivered Mail Returned to Sender",
            "<e1@mx.firma.example>",
            date=days_ago(6),
            headers={"Auto-Submitted": "auto-replied"},
        ),
        "ooo": make_message(
            ANNA,
            [ME],
            "Automatic reply: Offer Q3",
            "<f1@kund.example>",
            in_reply_to="<a1@firma.example>",
            date=days_ago(5),
            headers={"Auto-Submitted": "auto-replied"},
        ),
        "stranger": make_message(
            "Sven Okänd <sven@annan.example>", [ME], "Hej", "<g1@annan.example>", date=days_ago(4)
        ),
    }
    for name, raw in mails.items():
        deliver(root / ".Sent" if name == "sent" else root, raw)
    return mails


async def explain(client: Client, message_id: str) -> t.Explanation:
    return await client.call(m.MESSAGES_EXPLAIN, t.MessageRefParams(message_id=message_id))


async def test_reply_logging_end_to_end(client: Client, workdir: Path) -> None:
    maildir = workdir / "Maildir"
    mails = build_mailbox(maildir)
    hello = await client.call(m.HELLO, t.HelloParams(client="tests"))
    assert hello.protocol_version.startswith("1.")
    anna = await client.call(
        m.CONTACTS_CREATE, t.ContactCreateParams(email="anna@kund.example", name="Anna Berg")
    )
    stored = await client.call(
        m.SETTINGS_SET,
        t.SettingsSetParams(
            bcc_address=f"Loggbok <{BCC.upper()}>", own_addresses=["Maja@Firma.example"]
        ),
    )
    assert (stored.bcc_address, stored.own_addresses) == (BCC, ["maja@firma.example"])

    added = await client.call(
        m.MAILBOXES_ADD,
        t.MaildirAddParams(path=str(maildir), address="maja@firma.example"),
    )
    result = await client.call(m.MAILBOXES_SYNC, t.IdParams(id=added.id))
    assert result.errors == 0

    sent = await explain(client, "<a1@firma.example>")
    assert (sent.logged, sent.reason, sent.evidence.rule) == (True, "bcc_address", "R2")
    reply = await explain(client, "<b1@kund.example>")
    assert (reply.logged, reply.reason) == (True, "reply_in_tracked_thread")
    assert reply.evidence.matched_message_id == "<a1@firma.example>"
    assert reply.evidence.matched_via == "in-reply-to"
    changed = await explain(client, "<c1@kund.example>")
    assert (changed.logged, changed.reason) == (False, "subject_changed")
    assert "offer q3" in changed.summary and "another matter" in changed.summary
    assert "log_manually" in changed.fixes
    new = await explain(client, "<d1@kund.example>")
    assert (new.logged, new.reason) == (False, "not_in_tracked_thread")
    assert (await explain(client, "<e1@mx.firma.example>")).reason == "bounce"
    ooo = await explain(client, "<f1@kund.example>")
    assert (ooo.logged, ooo.reason) == (False, "auto_reply")
    stranger = await explain(client, "<g1@annan.example>")
    assert (stranger.logged, stranger.reason) == (False, "no_contact_participant")
    assert "add_contact" in stranger.fixes

    # R2 created Bo (a missing recipient) and his company; the BCC address is no participant.
    contacts = await client.call(m.CONTACTS_LIST, t.ContactsListParams(query="bo@kund"))
    assert [c.emails for c in contacts.contacts] == [["bo@kund.example"]]
    assert contacts.contacts[0].company == "Kund"
    timeline = await client.call(m.TIMELINE_GET, t.TimelineGetParams(contact_id=anna.id))
    assert [e.message_id for e in timeline.entries] == ["<b1@kund.example>", "<a1@firma.example>"]
    assert timeline.entries[0].direction == "inbound"
    assert timeline.entries[1].direction == "outbound"
    assert all(p.email != BCC for e in timeline.entries for p in e.to + e.cc)
    assert timeline.entries[0].snippet.startswith("Thanks, looks good!")

    # Raw headers exactly as received.
    headers = await client.call(
        m.MESSAGES_HEADERS, t.MessageRefParams(message_id="<c1@kund.example>")
    )
    raw = base64.b64decode(headers.raw_base64)
    assert mails["changed"].startswith(raw) and raw.endswith(b"\n\n")

    # all_with_contacts: a new email from a contact is logged, live.
    await client.call(m.SETTINGS_SET, t.SettingsSetParams(logging_mode="all_with_contacts"))
    deliver(
        maildir,
        make_message(ANNA, [ME], "Meeting next week?", "<h1@kund.example>", date=days_ago(0)),
        new=True,
    )
    appended = await asyncio.wait_for(_appended(client, "<h1@kund.example>"), 15)
    assert appended.contact_id == anna.id
    assert (await explain(client, "<h1@kund.example>")).reason == "contact_email"

    # R9: log the unlogged new email by hand.
    logged = await client.call(
        m.MESSAGES_LOG, t.MessagesLogParams(message_id="<d1@kund.example>", contact_ids=[anna.id])
    )
    assert logged.contact_ids == [anna.id]
    manual = await explain(client, "<d1@kund.example>")
    assert (manual.logged, manual.reason, manual.evidence.rule) == (True, "manual", "R9")
    message = await client.call(m.MESSAGES_GET, t.MessageRefParams(id=logged.id))
    assert "invoices" in message.subject and message.body_text

    hits = await client.call(m.MESSAGES_SEARCH, t.MessagesSearchParams(query="looks good"))
    assert [h.message_id for h in hits.hits] == ["<b1@kund.example>"]
    # The logging address sits in Bcc of the sent message: never a participant, never indexed.
    hidden = await client.call(m.MESSAGES_SEARCH, t.MessagesSearchParams(query="loggbok"))
    assert hidden.hits == []
    sent_hits = await client.call(m.MESSAGES_SEARCH, t.MessagesSearchParams(query="bo"))
    assert "<a1@firma.example>" in [h.message_id for h in sent_hits.hits]

    unlogged = await client.call(m.MESSAGES_LIST, t.MessagesListParams(logged=False))
    assert {u.reason for u in unlogged.messages} == {
        "subject_changed",
        "bounce",
        "auto_reply",
        "no_contact_participant",
    }


async def _appended(client: Client, message_id: str) -> t.TimelineAppended:
    """The timeline.appended notification for `message_id` (earlier ones are skipped)."""
    while True:
        name, params = await client.notifications.get()
        if name == "timeline.appended" and params.entry.message_id == message_id:
            assert isinstance(params, t.TimelineAppended)
            return params


async def test_never_log_recipient_gets_nothing(client: Client, workdir: Path) -> None:
    maildir = make_maildir(workdir / "Maildir", ".Sent")
    await client.call(
        m.SETTINGS_SET,
        t.SettingsSetParams(
            bcc_address=BCC, own_addresses=["maja@firma.example"], never_log=["@konkurrent.example"]
        ),
    )
    deliver(
        maildir / ".Sent",
        make_message(
            ME, [ANNA, "Spion <x@konkurrent.example>"], "Pris", "<n1@firma.example>", bcc=[BCC]
        ),
    )
    added = await client.call(
        m.MAILBOXES_ADD,
        t.MaildirAddParams(path=str(maildir), address="maja@firma.example"),
    )
    await client.call(m.MAILBOXES_SYNC, t.IdParams(id=added.id))
    sent = await explain(client, "<n1@firma.example>")
    assert sent.logged and sent.evidence.never_logged == ["x@konkurrent.example"]
    everyone = await client.call(m.CONTACTS_LIST, t.ContactsListParams())
    assert [c.emails for c in everyone.contacts] == [["anna@kund.example"]]
