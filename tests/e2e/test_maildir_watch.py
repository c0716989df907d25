"""A file dropped into a watched Maildir reaches the timeline, with inotify and
with the polling fallback (LOGGBOK_MAILDIR_POLL=1)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from tests.conftest import DaemonProcess
from tests.support.daemons import synced_daemon
from tests.support.mail import days_ago, deliver, make_maildir, make_message


@pytest.mark.parametrize("polling", ["0", "1"], ids=["inotify", "polling"])
async def test_dropped_file_is_logged(workdir: Path, polling: str) -> None:
    maildir = make_maildir(workdir / "Maildir", ".Sent")
    (workdir / "data").mkdir()
    daemon = DaemonProcess(
        workdir / "d.sock", workdir / "data", env={"LOGGBOK_MAILDIR_POLL": polling}
    )
    daemon.start()
    try:
        client = await daemon.client()
        await client.call(m.CONTACTS_CREATE, t.ContactCreateParams(email="anna@kund.example"))
        await client.call(m.SETTINGS_SET, t.SettingsSetParams(logging_mode="all_with_contacts"))
        added = await client.call(
            m.MAILBOXES_ADD,
            t.MaildirAddParams(path=str(maildir), address="me@firma.example"),
        )
        await client.call(m.MAILBOXES_SYNC, t.IdParams(id=added.id))
        deliver(
            maildir,
            make_message("anna@kund.example", ["me@firma.example"], "Hej", "<w1@kund.example>"),
            new=True,
        )
        while True:
            name, params = await asyncio.wait_for(client.notifications.get(), 20)
            if name == "timeline.appended" and params.entry.message_id == "<w1@kund.example>":
                break
        await client.close()
    finally:
        daemon.stop()


async def test_a_bulk_batch_is_announced_once(workdir: Path) -> None:
    """An initial sync that logs many messages sends one `timeline.changed` per body
    batch (contacts and entry count), not a `timeline.appended` per entry; a single
    new message afterwards still gets its own `timeline.appended`."""
    maildir = make_maildir(workdir / "Maildir", ".Sent")
    customers = ["anna@kund.example", "bo@kund.example"]
    for number in range(30):
        raw = make_message(
            customers[number % 2],
            ["me@firma.example"],
            f"Fråga {number}",
            f"<b{number}@kund.example>",
        )
        deliver(maildir, raw, new=True)
    settings = t.SettingsSetParams(logging_mode="all_with_contacts")
    async with synced_daemon(workdir, maildir, settings, tuple(customers)) as (client, _, ids, _):
        deliver(
            maildir,
            make_message(customers[0], ["me@firma.example"], "Hej", "<single@kund.example>"),
            new=True,
        )
        changed: list[t.TimelineChanged] = []
        appended: list[str] = []
        while "<single@kund.example>" not in appended:
            name, params = await asyncio.wait_for(client.notifications.get(), 20)
            if name == "timeline.changed":
                changed.append(params)
            elif name == "timeline.appended":
                appended.append(params.entry.message_id)
        assert appended == ["<single@kund.example>"]
        assert sum(c.entries for c in changed) == 30
        assert {i for c in changed for i in c.contact_ids} == set(ids)
        for contact_id in ids:
            page = await client.call(m.TIMELINE_GET, t.TimelineGetParams(contact_id=contact_id))
            assert len(page.entries) == 15 + (contact_id == ids[0])


async def test_a_reply_synced_before_its_original_is_logged_when_the_original_arrives(
    workdir: Path,
) -> None:
    """The customer's reply is synced first and turned down (nothing tracks its thread);
    the user's BCC'd original lands in Sent later: the next round logs both, and the
    reply's body is fetched and parsed like any logged message's."""
    maildir = make_maildir(workdir / "Maildir", ".Sent")
    deliver(
        maildir,
        make_message(
            "anna@kund.example",
            ["me@firma.example"],
            "Re: Offert",
            "<svar@kund.example>",
            in_reply_to="<offert@firma.example>",
            references=["<offert@firma.example>"],
            body="Tack, vi tar den!\n",
            date=days_ago(1),
        ),
        new=True,
    )
    settings = t.SettingsSetParams(bcc_address="log@bcc.loggbok.example", own_addresses=[])
    async with synced_daemon(workdir, maildir, settings) as (client, mailbox_id, _, _):
        unlogged = await client.call(m.MESSAGES_LIST, t.MessagesListParams(logged=False))
        assert [x.message_id for x in unlogged.messages] == ["<svar@kund.example>"]
        deliver(
            maildir / ".Sent",
            make_message(
                "me@firma.example",
                ["anna@kund.example"],
                "Offert",
                "<offert@firma.example>",
                bcc=["log@bcc.loggbok.example"],
                date=days_ago(2),
            ),
        )
        await client.call(m.MAILBOXES_SYNC, t.IdParams(id=mailbox_id))
        found = await client.call(m.CONTACTS_LIST, t.ContactsListParams(query="anna@kund.example"))
        contact = found.contacts[0]
        page = await client.call(m.TIMELINE_GET, t.TimelineGetParams(contact_id=contact.id))
        assert [(e.message_id, e.reason) for e in page.entries] == [
            ("<svar@kund.example>", "reply_in_tracked_thread"),
            ("<offert@firma.example>", "bcc_address"),
        ]
        assert "vi tar den" in page.entries[0].new_text
        why = await client.call(
            m.MESSAGES_EXPLAIN, t.MessageRefParams(message_id="<svar@kund.example>")
        )
        assert why.logged and why.reason == "reply_in_tracked_thread"
        assert why.evidence.matched_message_id == "<offert@firma.example>"


INVITE = (
    b"BEGIN:VCALENDAR\r\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\r\nVERSION:2.0\r\n"
    b"METHOD:REQUEST\r\nBEGIN:VEVENT\r\nSUMMARY:Demo\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)
PUBLISHED = INVITE.replace(b"METHOD:REQUEST", b"METHOD:PUBLISH")


async def test_a_calendar_invitation_seen_only_in_the_body_is_not_logged(workdir: Path) -> None:
    """A Google-Calendar-style invitation (multipart/mixed: nothing in the headers says
    calendar) from a contact is turned down once its body shows a REQUEST part (R17);
    an ordinary mail carrying a published .ics file stays on the timeline."""
    maildir = make_maildir(workdir / "Maildir", ".Sent")
    for subject, message_id, (name, ics), age in (
        ("Inbjudan: Demo", "<invite@kund.example>", ("invite.ics", INVITE), 1),
        ("Våra öppettider", "<ics@kund.example>", ("oppet.ics", PUBLISHED), 3),
    ):
        raw = make_message(
            "anna@kund.example",
            ["me@firma.example"],
            subject,
            message_id,
            attachments=[(name, "text/calendar", ics)],
            date=days_ago(age),
        )
        deliver(maildir, raw, new=True)
    settings = t.SettingsSetParams(logging_mode="all_with_contacts")
    async with synced_daemon(workdir, maildir, settings, ("anna@kund.example",)) as (
        client,
        _,
        (anna,),
        _,
    ):
        page = await client.call(m.TIMELINE_GET, t.TimelineGetParams(contact_id=anna))
        assert [e.message_id for e in page.entries] == ["<ics@kund.example>"]
        contact = await client.call(m.CONTACTS_GET, t.IdParams(id=anna))
        assert contact.last_activity == page.entries[0].date  # not the invitation's
        why = await client.call(
            m.MESSAGES_EXPLAIN, t.MessageRefParams(message_id="<invite@kund.example>")
        )
        assert (why.logged, why.reason) == (False, "calendar")
        assert why.evidence.details["calendar_method"] == "REQUEST"
        found = await client.call(m.MESSAGES_SEARCH, t.MessagesSearchParams(query="Inbjudan"))
        assert found.hits == []
        found = await client.call(m.MESSAGES_SEARCH, t.MessagesSearchParams(query="öppettider"))
        assert [h.message_id for h in found.hits] == ["<ics@kund.example>"]
