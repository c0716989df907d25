"""End to end: second thoughts over the socket, on a Maildir and on a real Dovecot.

Contacts imported after the mailbox was connected, a BCC address set later, the
mode changed, the never-log list changed: `messages.redecide` previews (nothing
changes) and applies (decisions, timelines, bodies, `timeline.changed`), and a
second apply changes nothing. `messages.unlog` sticks through a redecide;
`contacts.delete` and `contacts.merge` keep what was logged.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from loggbok.protocol.errors import ErrorCode, RpcError
from tests.conftest import DaemonProcess
from tests.servers.dovecot import DovecotServer
from tests.support.mail import days_ago, deliver, make_maildir, make_message
from tests.support.store_rows import on_postgres, rows

ME = "Maja Lindqvist <me@firma.example>"
BCC = "log-55@bcc.loggbok.example"
ANNA = "Anna Berg <anna@kund.example>"
BO = "Bo Ek <bo@kund.example>"
CARL = "Carl Ny <carl@kund2.example>"
CARL_B = "Carl B <carl.b@kund2.example>"
VCARDS = (
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bo Ek\r\nEMAIL:bo@kund.example\r\nEND:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Carl Ny\r\nEMAIL:carl@kund2.example\r\nEND:VCARD\r\n"
)


def strangers_mail() -> dict[str, tuple[str, bytes]]:
    """Mail from people who are no contacts yet: folder and message, by name."""
    return {
        "q1": (
            "INBOX",
            make_message(
                BO,
                [ME],
                "Question about pricing",
                "<q1@kund.example>",
                date=days_ago(9),
                body="What would 40 seats cost?\n",
            ),
        ),
        "q2": (
            "INBOX",
            make_message(
                CARL, [ME], "Invoice", "<q2@kund2.example>", cc=[CARL_B], date=days_ago(8)
            ),
        ),
        "q3": (
            "INBOX",
            make_message(CARL_B, [ME], "Follow up", "<q3@kund2.example>", date=days_ago(7)),
        ),
        "news": (
            "INBOX",
            make_message(
                BO,
                [ME],
                "Our newsletter",
                "<n1@kund.example>",
                date=days_ago(6),
                headers={"List-Id": "<news.kund.example>"},
            ),
        ),
        "stranger": (
            "INBOX",
            make_message(
                "Sven <sven@annan.example>", [ME], "Hej", "<s1@annan.example>", date=days_ago(5)
            ),
        ),
    }


async def reason(client: Client, message_id: str) -> str:
    return (await client.call(m.MESSAGES_EXPLAIN, t.MessageRefParams(message_id=message_id))).reason


async def timeline(client: Client, contact_id: int) -> list[str]:
    page = await client.call(m.TIMELINE_GET, t.TimelineGetParams(contact_id=contact_id))
    return [e.message_id for e in page.entries]


async def contact_id(client: Client, email: str) -> int:
    found = await client.call(m.CONTACTS_LIST, t.ContactsListParams(query=email))
    [contact] = [c for c in found.contacts if email in c.emails]
    return contact.id


async def redecide(client: Client, dry_run: bool, **kw: object) -> t.RedecideResult:
    return await client.call(
        m.MESSAGES_REDECIDE,
        t.MessagesRedecideParams(dry_run=dry_run, **kw),  # type: ignore[arg-type]
    )


def counts(result: t.RedecideResult) -> dict[tuple[str, str], int]:
    return {(c.from_, c.to): c.count for c in result.changes}


async def changed_notification(client: Client) -> t.TimelineChanged:
    while True:
        name, params = await client.notifications.get()
        if name == "timeline.changed":
            assert isinstance(params, t.TimelineChanged)
            return params


def drain(client: Client) -> None:
    while not client.notifications.empty():
        client.notifications.get_nowait()


async def connect(client: Client, mailbox: t.MaildirAddParams | t.ImapAddParams) -> int:
    added = await client.call(m.MAILBOXES_ADD, mailbox)
    result = await client.call(m.MAILBOXES_SYNC, t.IdParams(id=added.id))
    assert result.errors == 0
    return added.id


async def import_then_redecide(client: Client, workdir: Path) -> None:
    """The flow both backends walk: contacts imported after the mailbox was synced."""
    assert await reason(client, "<q1@kund.example>") == "no_contact_participant"
    cards = workdir / "contacts.vcf"
    cards.write_text(VCARDS)
    imported = await client.call(m.CONTACTS_IMPORT, t.ContactsImportParams(path=str(cards)))
    assert imported.created == 2
    bo, carl = (
        await contact_id(client, "bo@kund.example"),
        await contact_id(client, "carl@kund2.example"),
    )

    preview = await redecide(client, True)
    assert counts(preview) == {("no_contact_participant", "contact_email"): 2}
    assert (preview.changed, preview.entries_added, preview.entries_removed) == (2, 2, 0)
    by_id = {s.message_id: s for s in preview.sample}
    assert by_id["<q1@kund.example>"].contacts_gained == [bo]
    assert by_id["<q2@kund2.example>"].contacts_gained == [carl]
    assert not by_id["<q1@kund.example>"].old_logged and by_id["<q1@kund.example>"].new_logged
    # A dry run changes nothing.
    assert await reason(client, "<q1@kund.example>") == "no_contact_participant"
    assert await timeline(client, bo) == []

    drain(client)
    applied = await redecide(client, False)
    assert counts(applied) == counts(preview) and applied.bodies_pending == 0
    changed = await asyncio.wait_for(changed_notification(client), 15)
    assert set(changed.contact_ids) == {bo, carl}
    assert await timeline(client, bo) == ["<q1@kund.example>"]
    assert await timeline(client, carl) == ["<q2@kund2.example>"]
    q1 = await client.call(m.MESSAGES_GET, t.MessageRefParams(message_id="<q1@kund.example>"))
    assert q1.logged and "40 seats" in q1.body_text  # the body was fetched
    hits = await client.call(m.MESSAGES_SEARCH, t.MessagesSearchParams(query="seats"))
    assert [h.message_id for h in hits.hits] == ["<q1@kund.example>"]
    why = await client.call(m.MESSAGES_EXPLAIN, t.MessageRefParams(message_id="<q1@kund.example>"))
    assert why.evidence.details["previous_reason"] == "no_contact_participant"
    assert await reason(client, "<n1@kund.example>") == "bulk"
    assert await reason(client, "<s1@annan.example>") == "no_contact_participant"

    # A second apply changes nothing.
    again = await redecide(client, False)
    assert (again.changed, again.changes, again.examined) == (0, [], applied.examined)


async def test_import_then_redecide_unlog_delete_merge_on_maildir(
    client: Client, workdir: Path
) -> None:
    maildir = make_maildir(workdir / "Maildir", ".Sent")
    for folder, raw in strangers_mail().values():
        deliver(maildir if folder == "INBOX" else maildir / ".Sent", raw)
    await client.call(
        m.SETTINGS_SET,
        t.SettingsSetParams(logging_mode="all_with_contacts", bcc_address=BCC),
    )
    await connect(client, t.MaildirAddParams(path=str(maildir), address="me@firma.example"))
    await import_then_redecide(client, workdir)
    bo = await contact_id(client, "bo@kund.example")
    carl = await contact_id(client, "carl@kund2.example")

    # Unlogged by hand: no redecide logs it again.
    unlogged = await client.call(
        m.MESSAGES_UNLOG, t.MessagesUnlogParams(message_id="<q1@kund.example>")
    )
    assert (unlogged.removed, unlogged.contact_ids) == ([bo], [])
    why = await client.call(m.MESSAGES_EXPLAIN, t.MessageRefParams(message_id="<q1@kund.example>"))
    assert (why.logged, why.reason) == (False, "manual_unlog")
    assert await timeline(client, bo) == []
    hits = await client.call(m.MESSAGES_SEARCH, t.MessagesSearchParams(query="seats"))
    assert hits.hits == []
    after = await redecide(client, False)
    assert after.changed == 0 and after.kept == 1
    assert await reason(client, "<q1@kund.example>") == "manual_unlog"
    assert await timeline(client, bo) == []

    # A second Carl: q2 (Cc) and q3 land on him; merging collapses q2 and moves q3.
    carl_b = (
        await client.call(m.CONTACTS_CREATE, t.ContactCreateParams(email="carl.b@kund2.example"))
    ).id
    gained = await redecide(client, False)
    assert counts(gained) == {
        ("contact_email", "contact_email"): 1,
        ("no_contact_participant", "contact_email"): 1,
    }
    assert await timeline(client, carl_b) == ["<q3@kund2.example>", "<q2@kund2.example>"]
    drain(client)
    merged = await client.call(m.CONTACTS_MERGE, t.ContactMergeParams(id=carl_b, into=carl))
    assert merged.emails == ["carl@kund2.example", "carl.b@kund2.example"]
    assert await timeline(client, carl) == ["<q3@kund2.example>", "<q2@kund2.example>"]
    note = await asyncio.wait_for(changed_notification(client), 15)
    assert set(note.contact_ids) == {carl, carl_b}
    with pytest.raises(RpcError) as gone:
        await client.call(m.CONTACTS_GET, t.IdParams(id=carl_b))
    assert gone.value.code == ErrorCode.NOT_FOUND
    assert (await redecide(client, True)).changed == 0  # the merge is what the rules say

    # Deleting a contact: entries go, the messages stay (unlogged), the address is free.
    deleted = await client.call(m.CONTACTS_DELETE, t.IdParams(id=carl))
    assert (deleted.entries_removed, deleted.messages_unlogged) == (2, 2)
    q3 = await client.call(m.MESSAGES_EXPLAIN, t.MessageRefParams(message_id="<q3@kund2.example>"))
    assert (q3.logged, q3.reason) == (False, "manual_unlog")
    assert "deleted" in q3.summary
    assert (await redecide(client, False)).changed == 0
    again = await client.call(m.CONTACTS_CREATE, t.ContactCreateParams(email="carl@kund2.example"))
    assert await timeline(client, again.id) == []


def threads_of(
    daemon: DaemonProcess,
) -> tuple[dict[str, int], set[tuple[int, int, str]], list[object]]:
    """Straight from the database: each message's thread, the tracked threads with
    their contacts and subjects, and what the foreign-key check and a look for threads
    without messages find (nothing, when all is well)."""
    data = daemon.data_dir
    threads = dict(rows(data, "SELECT message_id, thread_id FROM messages"))
    tracked = set(
        rows(
            data,
            "SELECT t.id, c.contact_id, s.subject_norm FROM threads t"
            " JOIN thread_contacts c ON c.thread_id = t.id"
            " JOIN thread_subjects s ON s.thread_id = t.id WHERE t.tracked = 1",
        )
    )
    # PostgreSQL checks foreign keys itself, on every write; SQLite is asked.
    problems = [] if on_postgres(data) else rows(data, "PRAGMA foreign_key_check")
    orphans = rows(
        data,
        "SELECT id FROM threads WHERE id NOT IN (SELECT thread_id FROM messages"
        " WHERE thread_id IS NOT NULL)",
    )
    return threads, tracked, [*problems, *orphans]


async def test_bcc_mode_and_never_log_changes_on_maildir(
    client: Client, daemon: DaemonProcess, workdir: Path
) -> None:
    maildir = make_maildir(workdir / "Maildir", ".Sent")
    mails = {
        "a1": make_message(
            ME, [ANNA], "Offer Q3", "<a1@firma.example>", bcc=[BCC], date=days_ago(10)
        ),
        "b1": make_message(
            ANNA,
            [ME],
            "SV: Offer Q3",
            "<b1@kund.example>",
            in_reply_to="<a1@firma.example>",
            references=["<a1@firma.example>"],
            date=days_ago(9),
        ),
        "d1": make_message(ANNA, [ME], "A question", "<d1@kund.example>", date=days_ago(7)),
    }
    deliver(maildir / ".Sent", mails["a1"])
    deliver(maildir, mails["b1"])
    deliver(maildir, mails["d1"])
    anna = (
        await client.call(m.CONTACTS_CREATE, t.ContactCreateParams(email="anna@kund.example"))
    ).id
    await client.call(m.SETTINGS_SET, t.SettingsSetParams(own_addresses=["me@firma.example"]))
    await connect(client, t.MaildirAddParams(path=str(maildir), address="me@firma.example"))
    assert await reason(client, "<a1@firma.example>") == "not_in_tracked_thread"
    assert await reason(client, "<b1@kund.example>") == "not_in_tracked_thread"

    # The logging address set later: the BCC'd message tracks its thread, the reply follows.
    await client.call(m.SETTINGS_SET, t.SettingsSetParams(bcc_address=BCC))
    preview = await redecide(client, True)
    assert counts(preview) == {
        ("not_in_tracked_thread", "bcc_address"): 1,
        ("not_in_tracked_thread", "reply_in_tracked_thread"): 1,
    }
    before = threads_of(daemon)
    await redecide(client, False)
    assert await timeline(client, anna) == ["<b1@kund.example>", "<a1@firma.example>"]
    threads, tracked, problems = threads_of(daemon)
    assert threads == before[0] and problems == []
    assert tracked == {(threads["<a1@firma.example>"], anna, "offer q3")}
    assert await reason(client, "<b1@kund.example>") == "reply_in_tracked_thread"
    # The thread is tracked in the store: a new reply is logged as it arrives.
    drain(client)
    deliver(
        maildir,
        make_message(
            ANNA,
            [ME],
            "SV: Offer Q3",
            "<b2@kund.example>",
            in_reply_to="<b1@kund.example>",
            references=["<a1@firma.example>", "<b1@kund.example>"],
            date=days_ago(0),
        ),
        new=True,
    )
    await asyncio.wait_for(_appended(client, "<b2@kund.example>"), 15)

    # replies_only -> all_with_contacts: the new email from Anna is logged.
    await client.call(m.SETTINGS_SET, t.SettingsSetParams(logging_mode="all_with_contacts"))
    assert counts(await redecide(client, True)) == {("not_in_tracked_thread", "contact_email"): 1}
    await redecide(client, False)
    assert "<d1@kund.example>" in await timeline(client, anna)

    # Anna on the never-log list: every entry of hers goes, the thread is no longer tracked.
    await client.call(m.SETTINGS_SET, t.SettingsSetParams(never_log=["@kund.example"]))
    preview = await redecide(client, True)
    assert counts(preview) == {
        ("reply_in_tracked_thread", "never_log"): 2,
        ("bcc_address", "never_log"): 1,
        ("contact_email", "never_log"): 1,
    }
    assert preview.entries_removed == 4
    assert len(await timeline(client, anna)) == 4  # the preview changed nothing
    drain(client)
    applied = await redecide(client, False)
    assert applied.entries_removed == 4
    assert (await asyncio.wait_for(changed_notification(client), 15)).contact_ids == [anna]
    assert await timeline(client, anna) == []
    assert (await redecide(client, False)).changed == 0

    # Taken off the list again, since a date: only mail from then on comes back.
    await client.call(m.SETTINGS_SET, t.SettingsSetParams(never_log=[]))
    since = days_ago(8).date().isoformat()
    partial = await redecide(client, False, since=since)
    # The thread began before `since` and counts as stored (no longer tracked): the
    # new reply comes back as an email with a contact.
    assert counts(partial) == {("never_log", "contact_email"): 2}
    assert await timeline(client, anna) == ["<b2@kund.example>", "<d1@kund.example>"]
    everything = await redecide(client, False)
    assert counts(everything) == {
        ("never_log", "bcc_address"): 1,
        ("never_log", "reply_in_tracked_thread"): 1,
        ("contact_email", "reply_in_tracked_thread"): 1,
    }
    assert await timeline(client, anna) == [
        "<b2@kund.example>",
        "<d1@kund.example>",
        "<b1@kund.example>",
        "<a1@firma.example>",
    ]
    assert (await redecide(client, True)).changed == 0
    settled = threads_of(daemon)
    assert (await redecide(client, False)).changed == 0
    assert threads_of(daemon) == settled and settled[2] == []


async def _appended(client: Client, message_id: str) -> t.TimelineAppended:
    while True:
        name, params = await client.notifications.get()
        if name == "timeline.appended" and params.entry.message_id == message_id:
            assert isinstance(params, t.TimelineAppended)
            return params


async def test_import_then_redecide_on_dovecot(
    dovecot: DovecotServer, client: Client, workdir: Path
) -> None:
    user = dovecot.add_user()
    for folder, raw in strangers_mail().values():
        await asyncio.to_thread(dovecot.append, user, folder, raw)
    await client.call(
        m.SETTINGS_SET,
        t.SettingsSetParams(logging_mode="all_with_contacts", bcc_address=BCC),
    )
    await connect(
        client,
        t.ImapAddParams(
            host=dovecot.host,
            port=dovecot.port,
            security="none",
            username=user.name,
            password=user.password,
            address="me@firma.example",
        ),
    )
    await import_then_redecide(client, workdir)


async def test_redecide_refuses_bad_params(client: Client, daemon: DaemonProcess) -> None:
    with pytest.raises(RpcError) as bad:
        await redecide(client, True, since="last tuesday")
    assert bad.value.code == ErrorCode.INVALID_PARAMS
    with pytest.raises(RpcError) as missing:
        await redecide(client, True, ids=[12345])
    assert missing.value.code == ErrorCode.NOT_FOUND
    empty = await redecide(client, True)
    assert (empty.examined, empty.changed) == (0, 0)
    with pytest.raises(RpcError) as same:
        await client.call(m.CONTACTS_MERGE, t.ContactMergeParams(id=1, into=1))
    assert same.value.code == ErrorCode.INVALID_PARAMS
    with pytest.raises(RpcError) as nobody:
        await client.call(m.CONTACTS_DELETE, t.IdParams(id=99))
    assert nobody.value.code == ErrorCode.NOT_FOUND
