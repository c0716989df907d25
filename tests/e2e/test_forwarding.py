"""End to end, R8: forwards to the forwarding address, over the socket, on a Maildir.

A forward in Sent (the original attached), another delivered into INBOX (inline,
Swedish Outlook) and one whose original sender is shown by name only: the first
two are logged on the original sender's contact (created, with its company) as
the original (sender, subject, date, body, attachment), the forward's own headers
kept; the third waits in the review list (`messages.list` by `forward_unparsed`)
until it is logged by hand (`manual`). The same on the real Dovecot over IMAP,
and a forward arriving there while the daemon idles lands on the contact the
first one created.
"""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from tests.conftest import DaemonProcess
from tests.servers.dovecot import DovecotServer
from tests.support.daemons import synced_daemon
from tests.support.mail import deliver, make_maildir
from tests.support.store_rows import execute, value

FORWARDS = Path(__file__).parents[1] / "data" / "forwards"
SETTINGS = t.SettingsSetParams(
    forwarding_address="Log <Forward@Log.example>", own_addresses=["ulla@seller.example"]
)


def fixture(name: str) -> bytes:
    return (FORWARDS / name).read_bytes()


async def check_forwards(client: Client) -> None:
    """What every backend must show after syncing the three forwards."""
    attached = await client.call(
        m.MESSAGES_GET, t.MessageRefParams(message_id="<attached-0001@seller.example>")
    )
    assert (attached.logged, attached.reason) == (True, "forwarded_to_log")
    assert (attached.from_.email, attached.from_.name) == ("karin@customer.example", "Karin Kund")
    assert (attached.subject, attached.date) == ("Offer Q3", "2024-01-08T09:12:00+00:00")
    assert attached.direction == "inbound"
    assert [p.email for p in attached.cc] == ["per@customer.example"]
    assert "please find our requirements attached" in attached.body_text
    assert [(a.filename, a.status) for a in attached.attachments] == [
        ("requirements.pdf", "stored")
    ]
    assert attached.forwarded is not None
    assert attached.forwarded.by.email == "ulla@seller.example"
    assert attached.forwarded.subject == "Fwd: Offer Q3"
    assert attached.forwarded.original_message_id == "<orig-attached-0001@customer.example>"
    assert attached.forwarded.found_in == "attached message"
    pdf = await client.call(m.ATTACHMENTS_GET, t.AttachmentGetParams(id=attached.id, index=0))
    assert base64.b64decode(pdf.data_base64).startswith(b"%PDF")

    headers = await client.call(m.MESSAGES_HEADERS, t.MessageRefParams(id=attached.id))
    assert "Subject: Fwd: Offer Q3" in headers.raw
    assert "To: forward@log.example" in headers.raw

    (karin_id,) = attached.contact_ids
    karin = await client.call(m.CONTACTS_GET, t.IdParams(id=karin_id))
    assert (karin.name, karin.emails, karin.company) == (
        "Karin Kund",
        ["karin@customer.example"],
        "Customer",
    )
    why = await client.call(m.MESSAGES_EXPLAIN, t.MessageRefParams(id=attached.id))
    assert (why.reason, why.evidence.rule) == ("forwarded_to_log", "R8")
    assert why.evidence.details["created_contacts"] == "karin@customer.example"
    assert "karin@customer.example" in why.summary

    inline = await client.call(
        m.MESSAGES_GET,
        t.MessageRefParams(message_id="<HE1P190MB0003SV@HE1P190MB0003.EURP190.PROD.OUTLOOK.COM>"),
    )
    assert (inline.logged, inline.reason, inline.subject) == (
        True,
        "forwarded_to_log",
        "Offert serviceavtal",
    )
    assert inline.from_.email == "karin@kund.example"
    assert inline.date == "2024-01-08T09:12:00+00:00"
    assert inline.body_text.startswith("Hej Ulla,")
    timeline = await client.call(
        m.TIMELINE_GET, t.TimelineGetParams(contact_id=inline.contact_ids[0])
    )
    assert [e.subject for e in timeline.entries] == ["Offert serviceavtal"]

    review = await client.call(
        m.MESSAGES_LIST, t.MessagesListParams(reason="forward_unparsed", limit=10)
    )
    assert [s.message_id for s in review.messages] == ["<nameonly-0001@seller.example>"]
    unparsed = review.messages[0]
    assert (unparsed.logged, unparsed.subject) == (False, "FW: Offer Q3")
    why = await client.call(m.MESSAGES_EXPLAIN, t.MessageRefParams(id=unparsed.id))
    assert (why.reason, why.evidence.rule, why.fixes) == (
        "forward_unparsed",
        "R8",
        ["log_manually"],
    )
    assert why.evidence.details["named_sender"] == "Karin Kund"
    assert "without an address" in why.summary

    logged = await client.call(
        m.MESSAGES_LOG, t.MessagesLogParams(id=unparsed.id, contact_ids=[karin_id])
    )
    assert logged.contact_ids == [karin_id]
    after = await client.call(m.MESSAGES_GET, t.MessageRefParams(id=unparsed.id))
    assert (after.logged, after.reason) == (True, "manual")
    assert "the offer looks fine" in after.body_text
    review = await client.call(
        m.MESSAGES_LIST, t.MessagesListParams(reason="forward_unparsed", limit=10)
    )
    assert review.messages == []
    hits = await client.call(m.MESSAGES_SEARCH, t.MessagesSearchParams(query="requirements"))
    assert attached.id in [h.id for h in hits.hits]
    hits = await client.call(m.MESSAGES_SEARCH, t.MessagesSearchParams(query="fine"))
    assert [h.id for h in hits.hits] == [unparsed.id]


async def test_forwards_on_a_maildir(workdir: Path) -> None:
    maildir = make_maildir(workdir / "Maildir", ".Sent")
    deliver(maildir / ".Sent", fixture("attached_rfc822.eml"))
    deliver(maildir, fixture("outlook_desktop_sv.eml"))
    deliver(maildir / ".Sent", fixture("name_only_outlook_en.eml"))
    async with synced_daemon(workdir, maildir, SETTINGS) as (client, _, _, _):
        await check_forwards(client)


async def _appended(client: Client, message_id: str) -> Any:
    while True:
        name, params = await client.notifications.get()
        if name == "timeline.appended" and params.entry.message_id == message_id:
            return params


async def test_forwards_on_dovecot(dovecot: DovecotServer, client: Client) -> None:
    user = dovecot.add_user()
    await asyncio.to_thread(dovecot.append, user, "Sent", fixture("attached_rfc822.eml"))
    await asyncio.to_thread(dovecot.append, user, "INBOX", fixture("outlook_desktop_sv.eml"))
    await asyncio.to_thread(dovecot.append, user, "Sent", fixture("name_only_outlook_en.eml"))
    await client.call(m.SETTINGS_SET, SETTINGS)
    added = await client.call(
        m.MAILBOXES_ADD,
        t.ImapAddParams(
            host=dovecot.host,
            port=dovecot.port,
            security="none",
            username=user.name,
            password=user.password,
            address="ulla@seller.example",
        ),
    )
    await client.call(m.MAILBOXES_SYNC, t.IdParams(id=added.id))
    await check_forwards(client)

    karin = await client.call(
        m.MESSAGES_GET, t.MessageRefParams(message_id="<attached-0001@seller.example>")
    )
    await asyncio.to_thread(dovecot.append, user, "Sent", fixture("gmail_en.eml"))
    appended = await asyncio.wait_for(_appended(client, "<CAFwd0001gmailen@mail.gmail.com>"), 30)
    assert appended.contact_id == karin.contact_ids[0]
    assert (appended.entry.subject, appended.entry.reason) == ("Offer Q3", "forwarded_to_log")
    contacts = await client.call(m.CONTACTS_LIST, t.ContactsListParams(query="customer.example"))
    assert [c.id for c in contacts.contacts] == [appended.contact_id]


def _unsettle(data_dir: Path, message_id: str, subject: str, *, quarantined: bool) -> None:
    """Put a forward back where a crash (or a failed fetch) leaves it: decided from its
    headers (logged, on no contact), its original not read yet."""
    message = value(data_dir, "SELECT id FROM messages WHERE message_id = ?", (message_id,))
    statements: list[tuple[str, tuple[object, ...]]] = [
        ("DELETE FROM timeline_entries WHERE message = ?", (message,)),
        ("DELETE FROM attachments WHERE message = ?", (message,)),
        ("DELETE FROM message_fts WHERE rowid = ?", (message,)),
        (
            """UPDATE messages SET logged = 1, reason = 'forwarded_to_log', forwarded = NULL,
                   body_state = 'headers', body_text = NULL, subject = ?,
                   from_email = 'ulla@seller.example', from_name = 'Ulla Saljare'
               WHERE id = ?""",
            (subject, message),
        ),
    ]
    if quarantined:
        statements.append(
            (
                "UPDATE message_locations SET state = 'quarantined', error = 'could not fetch'"
                " WHERE message = ?",
                (message,),
            )
        )
    execute(data_dir, statements)


async def test_forward_read_after_a_crash_and_by_retry(workdir: Path) -> None:
    """The next round reads a forward a crash left unread; `messages.retry` one whose fetch
    failed."""
    maildir = make_maildir(workdir / "Maildir", ".Sent")
    deliver(maildir / ".Sent", fixture("attached_rfc822.eml"))
    deliver(maildir / ".Sent", fixture("gmail_de.eml"))
    async with synced_daemon(workdir, maildir, SETTINGS):
        pass
    data = workdir / "data"
    _unsettle(data, "<attached-0001@seller.example>", "Fwd: Offer Q3", quarantined=False)
    _unsettle(
        data,
        "<CAFwd0002gmailde@mail.gmail.com>",
        "Fwd: Angebot Wartungsvertrag",
        quarantined=True,
    )
    daemon = DaemonProcess(workdir / "d.sock", workdir / "data")
    daemon.start()
    try:
        client = await daemon.client()
        (box,) = (await client.call(m.MAILBOXES_LIST)).mailboxes
        await client.call(m.MAILBOXES_SYNC, t.IdParams(id=box.id))
        attached = await client.call(
            m.MESSAGES_GET, t.MessageRefParams(message_id="<attached-0001@seller.example>")
        )
        assert (attached.reason, attached.subject, attached.from_.email) == (
            "forwarded_to_log",
            "Offer Q3",
            "karin@customer.example",
        )
        assert len(attached.contact_ids) == 1
        assert [a.filename for a in attached.attachments] == ["requirements.pdf"]
        assert attached.forwarded is not None and attached.forwarded.subject == "Fwd: Offer Q3"

        waiting = t.MessageRefParams(message_id="<CAFwd0002gmailde@mail.gmail.com>")
        before = await client.call(m.MESSAGES_GET, waiting)
        assert (before.contact_ids, before.forwarded) == ([], None)
        after = await client.call(m.MESSAGES_RETRY, waiting)
        assert (after.reason, after.subject, after.from_.email) == (
            "forwarded_to_log",
            "Angebot Wartungsvertrag",
            "joerg.mueller@kunde.example",
        )
        assert len(after.contact_ids) == 1
        await client.close()
    finally:
        daemon.stop()
