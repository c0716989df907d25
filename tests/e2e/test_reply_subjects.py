"""End to end: replies compared with the message they answer (R3/R4), over the socket.

The real loggbokd syncs real-world thread shapes (`tests/support/threads.py`)
round after round, from a Maildir and from the real Dovecot: a patch series
under a cover letter, a follow-up with a new subject sent with the logging
address, truncated References, localised reply prefixes and list tags, and a
reply that really changed the subject. `messages.explain` names the subject
each reply was compared with and the message it belongs to.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from tests.servers.dovecot import DovecotServer
from tests.support.daemons import synced_daemon
from tests.support.mail import deliver, make_maildir
from tests.support.threads import ME_EMAIL, SHAPES, Shaped


async def _explain(client: Client, message_id: str) -> t.Explanation:
    return await client.call(m.MESSAGES_EXPLAIN, t.MessageRefParams(message_id=message_id))


async def _check(client: Client, shapes: list[Shaped]) -> None:
    for shaped in shapes:
        expl = await _explain(client, shaped.message_id)
        assert expl.reason == shaped.reason, shaped.message_id
        if shaped.compared_message_id is not None:
            details = expl.evidence.details
            assert details["compared_message_id"] == shaped.compared_message_id
            assert details["compared_message_id"] in expl.summary


def _deliver(maildir: Path, shapes: list[Shaped]) -> None:
    for shaped in shapes:
        deliver(maildir / ".Sent" if shaped.folder == "sent" else maildir, shaped.raw)


@pytest.mark.parametrize(
    "names",
    [
        ("patch_series",),
        ("follow_up_with_new_subject", "truncated_references", "localised_prefixes"),
    ],
)
async def test_shapes_on_a_maildir(names: tuple[str, ...], workdir: Path) -> None:
    shapes = [s for name in names for s in SHAPES[name][0]()]
    bcc = SHAPES[names[0]][1]
    maildir = make_maildir(workdir / "Maildir", ".Sent")
    _deliver(maildir, [s for s in shapes if s.round == 0])
    settings = t.SettingsSetParams(bcc_address=bcc, own_addresses=[ME_EMAIL])
    async with synced_daemon(workdir, maildir, settings, ("anna@kund.example",)) as synced:
        client, mailbox_id, _, _ = synced
        _deliver(maildir, [s for s in shapes if s.round == 1])
        result = await client.call(m.MAILBOXES_SYNC, t.IdParams(id=mailbox_id))
        assert result.errors == 0
        await _check(client, shapes)


async def test_follow_up_with_a_new_subject_on_dovecot(
    dovecot: DovecotServer, client: Client
) -> None:
    """The Sent copies and the replies on a real IMAP server, the replies arriving
    after the first sync: the follow-up's subject is tracked, its replies are logged."""
    user = dovecot.add_user()
    shapes = SHAPES["follow_up_with_new_subject"][0]()

    def append(round_: int) -> None:
        for shaped in shapes:
            if shaped.round == round_:
                dovecot.append(user, "Sent" if shaped.folder == "sent" else "INBOX", shaped.raw)

    await asyncio.to_thread(append, 0)
    await client.call(m.CONTACTS_CREATE, t.ContactCreateParams(email="anna@kund.example"))
    await client.call(
        m.SETTINGS_SET,
        t.SettingsSetParams(
            bcc_address=SHAPES["follow_up_with_new_subject"][1], own_addresses=[ME_EMAIL]
        ),
    )
    added = await client.call(
        m.MAILBOXES_ADD,
        t.ImapAddParams(
            host=dovecot.host, port=dovecot.port, security="none",
            username=user.name, password=user.password, address=ME_EMAIL,
        ),
    )  # fmt: skip
    await client.call(m.MAILBOXES_SYNC, t.IdParams(id=added.id))
    await asyncio.to_thread(append, 1)
    await client.call(m.MAILBOXES_SYNC, t.IdParams(id=added.id))
    await _check(client, shapes)
    reply = await _explain(client, "<fe@kund.example>")
    assert reply.evidence.details["compared_with"] == "the message it answers"
    assert json.loads(reply.evidence.details["thread_subjects"]) == ["offer q3", "updated quote v2"]
    bo = await client.call(m.CONTACTS_LIST, t.ContactsListParams(query="bo@kund"))
    timeline = await client.call(m.TIMELINE_GET, t.TimelineGetParams(contact_id=bo.contacts[0].id))
    assert [e.message_id for e in timeline.entries] == [
        "<ff@kund.example>",
        "<fe@kund.example>",
        "<fd@firma.example>",
    ]
