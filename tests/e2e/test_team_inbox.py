"""R15 and R16 end to end: the real loggbokd over its socket against a real Dovecot.

A team mailbox (a help desk address) receives mail from unknown senders: each
is logged (`team_inbox`) into a conversation, its sender made a contact, the
attachment cap applied, never-log lists (the user's own and the team's for
everyone) ignored; the team's reply joins its conversation. The never-log list
for everyone is previewed through `messages.redecide`'s dry run before it is
saved, then applied to a member's own mailbox.
"""

from __future__ import annotations

import asyncio

import pytest

from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from loggbok.protocol.errors import ErrorCode, RpcError
from tests.servers.dovecot import DovecotServer, DovecotUser
from tests.support.mail import days_ago, make_message

HELP = "help@firma.example"
ME = "maja@firma.example"
BCC = "log-77@bcc.loggbok.example"
CAP = 4096
BIG = b"x" * (CAP * 4)


async def _add(
    client: Client, server: DovecotServer, user: DovecotUser, address: str, kind: t.MailboxKind
) -> int:
    added = await client.call(
        m.MAILBOXES_ADD,
        t.ImapAddParams(
            host=server.host,
            port=server.port,
            security="none",
            username=user.name,
            password=user.password,
            address=address,
            kind=kind,
        ),
    )
    await client.call(m.MAILBOXES_SYNC, t.IdParams(id=added.id))
    return added.id


def _seed_help_desk(server: DovecotServer, user: DovecotUser) -> None:
    inbox = [
        make_message(
            "Nils Nyman <nils@new.example>",
            [HELP],
            "Printer on fire",
            "<q1@new.example>",
            date=days_ago(3),
            attachments=[("photo.jpg", "image/jpeg", BIG), ("note.txt", "text/plain", b"hi")],
        ),
        make_message(  # on the user's own never-log list
            "Sara <sara@konkurrent.example>",
            [HELP],
            "Question",
            "<q2@konkurrent.example>",
            date=days_ago(2),
        ),
        make_message(  # on the team's never-log list for everyone
            "The CEO <ceo@kund.example>",
            [HELP],
            "Invoice",
            "<q3@kund.example>",
            date=days_ago(2),
        ),
        make_message(
            "Nils Nyman <nils@new.example>",
            [HELP],
            "Re: Printer on fire",
            "<q4@new.example>",
            in_reply_to="<a1@firma.example>",
            references=["<q1@new.example>", "<a1@firma.example>"],
            date=days_ago(0.5),
        ),
    ]
    for raw in inbox:
        server.append(user, "INBOX", raw)
    server.append(
        user,
        "Sent",
        make_message(
            HELP,
            ["Nils Nyman <nils@new.example>"],
            "Re: Printer on fire",
            "<a1@firma.example>",
            in_reply_to="<q1@new.example>",
            references=["<q1@new.example>"],
            date=days_ago(1),
        ),
    )


async def _explain(client: Client, message_id: str) -> t.Explanation:
    return await client.call(m.MESSAGES_EXPLAIN, t.MessageRefParams(message_id=message_id))


async def _contact(client: Client, email: str) -> t.Contact:
    found = await client.call(m.CONTACTS_LIST, t.ContactsListParams(query=email))
    [contact] = [c for c in found.contacts if email in c.emails]
    return contact


async def test_team_mailbox_logs_every_inbound_email_into_conversations(
    dovecot: DovecotServer, client: Client
) -> None:
    await client.call(
        m.SETTINGS_SET,
        t.SettingsSetParams(
            own_addresses=[ME], never_log=["@konkurrent.example"], attachment_limit_bytes=CAP
        ),
    )
    team = await client.call(
        m.TEAM_SETTINGS_SET, t.TeamSettingsSetParams(never_log=["CEO@kund.example"])
    )
    assert team.never_log == ["ceo@kund.example"] and team.can_edit
    user = dovecot.add_user()
    await asyncio.to_thread(_seed_help_desk, dovecot, user)
    mailbox_id = await _add(client, dovecot, user, HELP, "team")
    [mailbox] = (await client.call(m.MAILBOXES_LIST)).mailboxes
    assert mailbox.kind == "team"

    for message_id in ("<q1@new.example>", "<q2@konkurrent.example>", "<q3@kund.example>"):
        why = await _explain(client, message_id)
        assert (why.logged, why.reason, why.evidence.rule) == (True, "team_inbox", "R15")
    ignored = await _explain(client, "<q3@kund.example>")
    assert ignored.evidence.details["never_log_ignored"] == "ceo@kund.example"
    assert "logged all the same" in ignored.summary
    # unknown senders became contacts, each with the mail on their timeline
    nils, sara, ceo = [
        await _contact(client, e)
        for e in ("nils@new.example", "sara@konkurrent.example", "ceo@kund.example")
    ]
    assert (nils.name, nils.source) == ("Nils Nyman", "team_inbox")
    for contact, count in ((nils, 3), (sara, 1), (ceo, 1)):
        timeline = await client.call(m.TIMELINE_GET, t.TimelineGetParams(contact_id=contact.id))
        assert len(timeline.entries) == count
        assert {e.reason for e in timeline.entries} == {"team_inbox"}
    # the attachment cap applies (R10)
    first = await client.call(m.MESSAGES_GET, t.MessageRefParams(message_id="<q1@new.example>"))
    assert {a.filename: a.status for a in first.attachments} == {
        "photo.jpg": "over_limit",
        "note.txt": "stored",
    }
    # a team mailbox's mail is the team's (not the owner's default_visibility, `everyone`)
    assert first.visibility == "team"

    # conversations: three threads, the latest first; the team's reply in Nils's
    listed = await client.call(
        m.CONVERSATIONS_LIST, t.ConversationsListParams(mailbox_id=mailbox_id)
    )
    subjects = [c.subject for c in listed.conversations]
    assert subjects[0] == "Printer on fire" and sorted(subjects[1:]) == ["Invoice", "Question"]
    printer = listed.conversations[0]
    assert (printer.messages, printer.last_from.email, printer.contact_ids) == (
        3,
        "nils@new.example",
        [nils.id],
    )
    detail = await client.call(m.CONVERSATIONS_GET, t.IdParams(id=printer.id))
    assert [(x.message_id, x.direction, x.reason) for x in detail.messages] == [
        ("<q1@new.example>", "inbound", "team_inbox"),
        ("<a1@firma.example>", "outbound", "team_inbox"),
        ("<q4@new.example>", "inbound", "team_inbox"),
    ]
    # paged by `before`
    page = await client.call(
        m.CONVERSATIONS_LIST, t.ConversationsListParams(mailbox_id=mailbox_id, limit=2)
    )
    assert len(page.conversations) == 2 and page.next
    rest = await client.call(
        m.CONVERSATIONS_LIST,
        t.ConversationsListParams(mailbox_id=mailbox_id, limit=2, before=page.next),
    )
    assert [c.id for c in page.conversations + rest.conversations] == [
        c.id for c in listed.conversations
    ]
    assert rest.next is None

    # a redecide keeps the team mailbox's decisions whatever the lists say
    again = await client.call(m.MESSAGES_REDECIDE, t.MessagesRedecideParams(dry_run=True))
    assert again.changed == 0

    # a personal mailbox has no conversations; kind is changed by mailboxes.update
    with pytest.raises(RpcError) as not_team:
        await client.call(m.CONVERSATIONS_GET, t.IdParams(id=10**6))
    assert not_team.value.code == ErrorCode.NOT_FOUND
    changed = await client.call(
        m.MAILBOXES_UPDATE, t.MailboxUpdateParams(id=mailbox_id, kind="personal")
    )
    assert changed.kind == "personal"
    with pytest.raises(RpcError) as personal:
        await client.call(m.CONVERSATIONS_LIST, t.ConversationsListParams(mailbox_id=mailbox_id))
    assert personal.value.code == ErrorCode.INVALID_PARAMS
    # from now on the mailbox's new mail is decided as a member's own: R16 again
    await asyncio.to_thread(
        dovecot.append,
        user,
        "INBOX",
        make_message("ceo@kund.example", [HELP], "Another", "<q5@kund.example>"),
    )
    await client.call(m.MAILBOXES_SYNC, t.IdParams(id=mailbox_id))
    assert (await _explain(client, "<q5@kund.example>")).reason == "never_log"


def _seed_personal(server: DovecotServer, user: DovecotUser) -> None:
    server.append(
        user,
        "Sent",
        make_message(
            ME, ["anna@kund.example"], "Offer", "<p1@firma.example>", bcc=[BCC], date=days_ago(4)
        ),
    )
    server.append(
        user,
        "Sent",
        make_message(
            ME,
            ["bo@lawyers.example"],
            "Contract",
            "<p2@firma.example>",
            bcc=[BCC],
            date=days_ago(3),
        ),
    )
    server.append(
        user,
        "INBOX",
        make_message(
            "bo@lawyers.example",
            [ME],
            "Re: Contract",
            "<p3@lawyers.example>",
            in_reply_to="<p2@firma.example>",
            references=["<p2@firma.example>"],
            date=days_ago(2),
        ),
    )


async def test_never_log_for_everyone_previewed_then_applied(
    dovecot: DovecotServer, client: Client
) -> None:
    await client.call(m.SETTINGS_SET, t.SettingsSetParams(own_addresses=[ME], bcc_address=BCC))
    for email in ("anna@kund.example", "bo@lawyers.example"):
        await client.call(m.CONTACTS_CREATE, t.ContactCreateParams(email=email))
    user = dovecot.add_user()
    await asyncio.to_thread(_seed_personal, dovecot, user)
    await _add(client, dovecot, user, ME, "personal")
    assert (await _explain(client, "<p3@lawyers.example>")).reason == "reply_in_tracked_thread"
    bo = await _contact(client, "bo@lawyers.example")

    # the preview: nothing saved, nothing written
    preview = await client.call(
        m.MESSAGES_REDECIDE,
        t.MessagesRedecideParams(dry_run=True, team_never_log=["@Lawyers.example"]),
    )
    assert (preview.changed, preview.entries_removed, preview.entries_added) == (2, 2, 0)
    assert {(c.from_, c.to, c.count) for c in preview.changes} == {
        ("bcc_address", "never_log", 1),
        ("reply_in_tracked_thread", "never_log", 1),
    }
    assert {s.message_id for s in preview.sample} == {"<p2@firma.example>", "<p3@lawyers.example>"}
    assert (await client.call(m.TEAM_SETTINGS_GET)).never_log == []
    assert (await _explain(client, "<p2@firma.example>")).reason == "bcc_address"
    # the user's own list is previewed the same way
    own = await client.call(
        m.MESSAGES_REDECIDE,
        t.MessagesRedecideParams(dry_run=True, never_log=["anna@kund.example"]),
    )
    assert [(c.from_, c.to) for c in own.changes] == [("bcc_address", "never_log")]
    # a preview list is for dry runs only, and checked like the saved one
    for bad in (
        t.MessagesRedecideParams(dry_run=False, team_never_log=["@lawyers.example"]),
        t.MessagesRedecideParams(dry_run=True, team_never_log=["not an address"]),
    ):
        with pytest.raises(RpcError) as refused:
            await client.call(m.MESSAGES_REDECIDE, bad)
        assert refused.value.code == ErrorCode.INVALID_PARAMS
    with pytest.raises(RpcError) as invalid:
        await client.call(m.TEAM_SETTINGS_SET, t.TeamSettingsSetParams(never_log=["nope"]))
    assert invalid.value.code == ErrorCode.INVALID_PARAMS

    # saved, then applied: what the preview said
    await client.call(m.TEAM_SETTINGS_SET, t.TeamSettingsSetParams(never_log=["@lawyers.example"]))
    done = await client.call(m.MESSAGES_REDECIDE, t.MessagesRedecideParams(dry_run=False))
    assert (done.changed, done.entries_removed) == (2, 2)
    why = await _explain(client, "<p3@lawyers.example>")
    assert (why.logged, why.reason) == (False, "never_log")
    assert why.evidence.details["never_log_everyone"] == "bo@lawyers.example"
    assert "list for everyone" in why.summary
    timeline = await client.call(m.TIMELINE_GET, t.TimelineGetParams(contact_id=bo.id))
    assert timeline.entries == []
    assert (await _explain(client, "<p1@firma.example>")).reason == "bcc_address"
    # new mail follows the saved list
    await asyncio.to_thread(
        dovecot.append,
        user,
        "INBOX",
        make_message(
            "bo@lawyers.example",
            [ME, "anna@kund.example"],
            "Re: Offer",
            "<p4@lawyers.example>",
            in_reply_to="<p1@firma.example>",
            references=["<p1@firma.example>"],
        ),
    )
    [mailbox] = (await client.call(m.MAILBOXES_LIST)).mailboxes
    await client.call(m.MAILBOXES_SYNC, t.IdParams(id=mailbox.id))
    latest = await _explain(client, "<p4@lawyers.example>")
    assert (latest.reason, latest.evidence.never_logged) == (
        "reply_in_tracked_thread",
        ["bo@lawyers.example"],
    )


async def test_a_message_synced_first_from_the_members_own_mailbox_joins_its_conversation(
    dovecot: DovecotServer, client: Client
) -> None:
    """The customer wrote to the member and to the help desk: the member's own mailbox
    is synced first (not logged there: an unknown sender), then the team mailbox finds
    it stored and logs it into its conversation (R15), body and all, exactly once."""
    await client.call(m.SETTINGS_SET, t.SettingsSetParams(own_addresses=[ME]))
    own, desk = dovecot.add_user(), dovecot.add_user()
    question = make_message(
        "Nils Nyman <nils@new.example>",
        [HELP, ME],
        "Printer on fire",
        "<both@new.example>",
        date=days_ago(1),
        body="the printer is on fire\n",
        attachments=[("note.txt", "text/plain", b"smoke")],
    )
    for user in (own, desk):
        await asyncio.to_thread(dovecot.append, user, "INBOX", question)
    await _add(client, dovecot, own, ME, "personal")
    before = await _explain(client, "<both@new.example>")
    assert (before.logged, before.reason) == (False, "no_contact_participant")
    desk_id = await _add(client, dovecot, desk, HELP, "team")
    after = await _explain(client, "<both@new.example>")
    assert (after.logged, after.reason, after.evidence.rule) == (True, "team_inbox", "R15")
    assert after.evidence.details["previous_reason"] == "no_contact_participant"
    nils = await _contact(client, "nils@new.example")
    timeline = await client.call(m.TIMELINE_GET, t.TimelineGetParams(contact_id=nils.id))
    [entry] = timeline.entries
    assert entry.reason == "team_inbox"
    got = await client.call(m.MESSAGES_GET, t.MessageRefParams(message_id="<both@new.example>"))
    assert "on fire" in got.body_text
    assert [(a.filename, a.status) for a in got.attachments] == [("note.txt", "stored")]
    assert got.visibility == "team"
    [conversation] = (
        await client.call(m.CONVERSATIONS_LIST, t.ConversationsListParams(mailbox_id=desk_id))
    ).conversations
    assert (conversation.messages, conversation.contact_ids) == (1, [nils.id])
    # A second sync of either mailbox decides nothing again.
    for mailbox in (await client.call(m.MAILBOXES_LIST)).mailboxes:
        await client.call(m.MAILBOXES_SYNC, t.IdParams(id=mailbox.id))
    again = await _explain(client, "<both@new.example>")
    assert again.decided_at == after.decided_at
    hits = await client.call(m.MESSAGES_SEARCH, t.MessagesSearchParams(query="fire"))
    assert [h.message_id for h in hits.hits] == ["<both@new.example>"]
