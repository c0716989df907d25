"""R11 end to end: a real loggbokd with a short back-off (`LOGGBOK_RESCAN_BACKOFF`)
logs a message whose attachment is a Dynamic Delivery placeholder as pending, and
the real file replaces it when the provider delivers the final copy under the same
Message-ID: on a Maildir (the file deleted, a new one written) and on the real
Dovecot (the real message APPENDed, the placeholder EXPUNGEd); on the Graph test
server, with a back-off of an hour so only the provider's signals can find it, the
same item updated in place (delta lists it again: `Changes.changed`) or deleted
and created again with the same Message-ID. Exactly one
message and one timeline entry; `message.changed` tells the clients;
`messages.explain` says what happened. A restart in between goes on from what
was persisted."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from tests.conftest import DaemonProcess
from tests.servers.dovecot import DovecotServer
from tests.servers.ews.server import EwsServer
from tests.servers.graph.server import GraphServer
from tests.support.ews import add_ntlm, ews_daemon
from tests.support.graph import add_signed_in
from tests.support.mail import deliver, make_maildir
from tests.support.placeholders import PDF, dynamic_delivery

ANNA = "anna@kund.example"
ME = "me@firma.example"
SHORT = {"LOGGBOK_RESCAN_BACKOFF": "0.2,0.5"}


@contextlib.asynccontextmanager
async def _daemon(workdir: Path, env: dict[str, str]) -> AsyncIterator[Client]:
    (workdir / "data").mkdir(exist_ok=True)
    daemon = DaemonProcess(workdir / "d.sock", workdir / "data", env=env)
    daemon.start()
    client = await daemon.client()
    try:
        yield client
    finally:
        await client.close()
        daemon.stop()


async def _prepare(client: Client) -> int:
    """Anna a contact, every email with a contact logged; returns her id."""
    contact = await client.call(m.CONTACTS_CREATE, t.ContactCreateParams(email=ANNA))
    await client.call(m.SETTINGS_SET, t.SettingsSetParams(logging_mode="all_with_contacts"))
    return contact.id


async def _changed(client: Client, message: int) -> t.MessageChanged:
    async with asyncio.timeout(60):
        while True:
            name, params = await client.notifications.get()
            if name == "message.changed" and params.id == message:
                return params  # type: ignore[no-any-return]


async def _pending(client: Client, message_id: str) -> t.Message:
    message = await client.call(m.MESSAGES_GET, t.MessageRefParams(message_id=message_id))
    assert [(a.filename, a.status) for a in message.attachments] == [
        ("ATP Scan In Progress.eml", "pending_scan")
    ]
    explained = await client.call(m.MESSAGES_EXPLAIN, t.MessageRefParams(id=message.id))
    assert explained.evidence.details["attachment_pending_scan"] == "ATP Scan In Progress.eml"
    assert explained.evidence.details["atp_message_properties"] == "SA|SL"
    assert "fetched again until the real file replaces it" in explained.summary
    return message


async def _replaced(client: Client, message: int, contact: int) -> None:
    got = await client.call(m.MESSAGES_GET, t.MessageRefParams(id=message))
    digest = hashlib.sha256(PDF).hexdigest()
    assert [(a.filename, a.status, a.sha256) for a in got.attachments] == [
        ("contract.pdf", "stored", digest)
    ]
    piece = await client.call(m.ATTACHMENTS_GET, t.AttachmentGetParams(id=message, index=0))
    assert piece.size == len(PDF)
    listed = await client.call(m.MESSAGES_LIST, t.MessagesListParams())
    assert [s.id for s in listed.messages] == [message]  # one message, no duplicate
    timeline = await client.call(m.TIMELINE_GET, t.TimelineGetParams(contact_id=contact))
    assert [e.id for e in timeline.entries] == [message]  # one timeline entry
    assert [a.status for a in timeline.entries[0].attachments] == ["stored"]
    explained = await client.call(m.MESSAGES_EXPLAIN, t.MessageRefParams(id=message))
    assert explained.evidence.details["scan_state"] == "replaced"
    assert "the real file replaced it at" in explained.summary


async def test_maildir_file_replaced(workdir: Path) -> None:
    maildir = make_maildir(workdir / "Maildir", ".Sent")
    placeholder = deliver(maildir, dynamic_delivery("<dd@kund.example>", scanned=False))
    async with _daemon(workdir, SHORT) as client:
        contact = await _prepare(client)
        added = await client.call(
            m.MAILBOXES_ADD, t.MaildirAddParams(path=str(maildir), address=ME)
        )
        await client.call(m.MAILBOXES_SYNC, t.IdParams(id=added.id))
        message = await _pending(client, "<dd@kund.example>")
        placeholder.unlink()
        deliver(maildir, dynamic_delivery("<dd@kund.example>", scanned=True), new=True)
        changed = await _changed(client, message.id)
        assert changed.change == "attachments_scanned" and changed.contact_ids == [contact]
        await _replaced(client, message.id, contact)


async def test_imap_real_message_appended_placeholder_expunged(
    workdir: Path, dovecot: DovecotServer
) -> None:
    user = dovecot.add_user(password="pw")
    dovecot.append(user, "INBOX", dynamic_delivery("<dd-imap@kund.example>", scanned=False))
    async with _daemon(workdir, SHORT) as client:
        contact = await _prepare(client)
        added = await client.call(
            m.MAILBOXES_ADD,
            t.ImapAddParams(
                host=dovecot.host,
                port=dovecot.port,
                security="none",
                username=user.name,
                password=user.password,
                address=ME,
            ),
        )
        await client.call(m.MAILBOXES_SYNC, t.IdParams(id=added.id))
        message = await _pending(client, "<dd-imap@kund.example>")
        # Exchange Online's IMAP view: the final copy comes as a new message, the
        # placeholder copy goes.
        dovecot.append(user, "INBOX", dynamic_delivery("<dd-imap@kund.example>", scanned=True))
        imap = dovecot.connect(user)
        try:
            imap.select("INBOX")
            imap.uid("STORE", "1", "+FLAGS", "(\\Deleted)")
            imap.expunge()
        finally:
            imap.logout()
        await _changed(client, message.id)
        await _replaced(client, message.id, contact)
        got = await client.call(m.MESSAGES_GET, t.MessageRefParams(id=message.id))
        assert got.body_text.startswith("Here is the signed contract.")


async def test_a_restart_goes_on_from_what_was_persisted(workdir: Path) -> None:
    """The first daemon's back-off is an hour: it stores the placeholder and stops.
    The file is then rewritten in place (no new remote id: nothing but the schedule
    can find it); the next daemon fetches it by the persisted rescan."""
    maildir = make_maildir(workdir / "Maildir", ".Sent")
    path = deliver(maildir, dynamic_delivery("<dd-r@kund.example>", scanned=False))
    async with _daemon(workdir, {"LOGGBOK_RESCAN_BACKOFF": "3600"}) as client:
        contact = await _prepare(client)
        added = await client.call(
            m.MAILBOXES_ADD, t.MaildirAddParams(path=str(maildir), address=ME)
        )
        await client.call(m.MAILBOXES_SYNC, t.IdParams(id=added.id))
        message = await _pending(client, "<dd-r@kund.example>")
    path.write_bytes(dynamic_delivery("<dd-r@kund.example>", scanned=True))
    async with _daemon(workdir, SHORT) as client:
        await _until_stored(client, message.id)
        await _replaced(client, message.id, contact)


async def _until_stored(client: Client, message: int) -> Any:
    """The first round after a start may run before this client connected: read until
    the attachment is stored (each read after a notification or a short pause)."""
    for _ in range(600):
        got = await client.call(m.MESSAGES_GET, t.MessageRefParams(id=message))
        if [a.status for a in got.attachments] == ["stored"]:
            return got
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(client.notifications.get(), 0.1)
    raise AssertionError("the real attachment never replaced the placeholder")


@pytest.mark.parametrize("how", ["updated in place", "deleted and created again"])
async def test_graph_item_replaced(workdir: Path, graph_server: GraphServer, how: str) -> None:
    env = {
        **graph_server.client_env(),
        "LOGGBOK_GRAPH_POLL_SECONDS": "0.2",
        "LOGGBOK_RESCAN_BACKOFF": "3600",
    }
    item = graph_server.deliver(ME, "inbox", dynamic_delivery("<dd-g@kund.example>", scanned=False))
    async with _daemon(workdir, env) as client:
        contact = await _prepare(client)
        mailbox = await add_signed_in(client, graph_server, ME)
        await client.call(m.MAILBOXES_SYNC, t.IdParams(id=mailbox))
        message = await _pending(client, "<dd-g@kund.example>")
        final = dynamic_delivery("<dd-g@kund.example>", scanned=True)
        if how == "updated in place":
            graph_server.control(lambda s: s.mailbox(ME).replace_mime(item, final))
        else:
            graph_server.control(lambda s: s.mailbox(ME).delete(item))
            graph_server.deliver(ME, "inbox", final)
        await _changed(client, message.id)
        await _replaced(client, message.id, contact)


@pytest.mark.parametrize("how", ["updated in place", "deleted and created again"])
async def test_ews_item_replaced(workdir: Path, ews_server: EwsServer, how: str) -> None:
    """EWS: SyncFolderItems lists the item again as an Update (or a Delete and a
    Create with the same Message-ID); streaming tells the daemon at once."""
    item = ews_server.deliver(ME, "inbox", dynamic_delivery("<dd-e@kund.example>", scanned=False))
    with ews_daemon(workdir, ews_server, poll="600", LOGGBOK_RESCAN_BACKOFF="3600") as daemon:
        client = await daemon.client()
        try:
            contact = await _prepare(client)
            mailbox = await add_ntlm(client, ews_server, ME)
            await client.call(m.MAILBOXES_SYNC, t.IdParams(id=mailbox))
            message = await _pending(client, "<dd-e@kund.example>")
            final = dynamic_delivery("<dd-e@kund.example>", scanned=True)
            if how == "updated in place":
                ews_server.control(lambda s: s.mailbox(ME).replace_mime(item, final))
            else:
                ews_server.control(lambda s: s.mailbox(ME).delete(item))
                ews_server.deliver(ME, "inbox", final)
            await _changed(client, message.id)
            await _replaced(client, message.id, contact)
        finally:
            await client.close()
