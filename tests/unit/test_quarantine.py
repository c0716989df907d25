"""A logged message whose body cannot be fetched is still logged from its headers,
quarantined with its error, and read again by `messages.retry`.

The failure is injected by a Maildir backend that refuses one fetch, the way a
server refuses a message expunged between the header and the body fetch.
"""

from __future__ import annotations

from pathlib import Path

from loggbok.daemon.rpc import handlers_messages
from loggbok.daemon.rpc.context import Context
from loggbok.daemon.secrets import SecretStore
from loggbok.daemon.store.mailboxes import MailboxRow
from loggbok.daemon.store.store import Store
from loggbok.daemon.sync.backend import Backend, BackendError, Folder, PermanentError
from loggbok.daemon.sync.engine import SyncRound
from loggbok.daemon.sync.providers.maildir.backend import MaildirBackend
from loggbok.daemon.sync.service import SyncService
from loggbok.protocol import types as t
from loggbok.protocol.types import SyncResult
from tests.support.mail import deliver, make_maildir, make_message


class RefusesFirstFetch(MaildirBackend):
    async def fetch_messages(
        self, folder: Folder, remote_ids: list[str]
    ) -> dict[str, bytes | BackendError]:
        return {r: PermanentError("NO [EXPUNGEISSUED] message was expunged") for r in remote_ids}


async def _ignore(name: str, params: object) -> None:
    return None


async def _sync_refusing_bodies(store: Store, maildir: Path) -> tuple[int, SyncResult]:
    """Anna a contact, all_with_contacts, one round whose body fetches are refused."""
    await store.contacts.create("anna@kund.example", "Anna")
    await store.settings.update(t.SettingsSetParams(logging_mode="all_with_contacts"))
    mailbox_id = await store.mailboxes.add("maildir", "me@firma.example", {"path": str(maildir)})
    row: MailboxRow = await store.mailboxes.get_row(mailbox_id)
    backend = RefusesFirstFetch(maildir)
    await backend.connect()
    try:
        return mailbox_id, await SyncRound(store, row, backend, _ignore).run()
    finally:
        await backend.close()


def _rpc_context(store: Store, root: Path) -> Context:
    """The handlers' context, with a service that reads the Maildir normally."""

    async def factory(mailbox: MailboxRow) -> Backend:
        return MaildirBackend(Path(mailbox.config["path"]))

    return Context(store, SyncService(store, _ignore, factory), SecretStore(root), root)


async def test_unreadable_body_is_quarantined_then_retried(tmp_path: Path) -> None:
    maildir = make_maildir(tmp_path / "Maildir")
    deliver(
        maildir,
        make_message(
            "anna@kund.example",
            ["me@firma.example"],
            "Hej",
            "<q1@kund.example>",
            body="The body text.\n",
        ),
    )
    store = await Store.open(tmp_path)
    try:
        mailbox_id, result = await _sync_refusing_bodies(store, maildir)
        assert (result.logged, result.errors) == (1, 1)
        [mailbox] = await store.mailboxes.describe(mailbox_id)
        assert mailbox.quarantined == 1
        message_id = await store.messages.resolve(None, "<q1@kund.example>", 1)
        before = await store.messages.get(message_id, 1)
        assert before.logged and before.parse_error and "EXPUNGEISSUED" in before.parse_error

        ctx = _rpc_context(store, tmp_path)
        after = await handlers_messages.retry(ctx, t.MessageRefParams(id=message_id))
        assert after.parse_error is None and after.body_text.startswith("The body text.")
        [mailbox] = await store.mailboxes.describe(mailbox_id)
        assert mailbox.quarantined == 0
        hits = await store.messages.search("body", 10, 1)
        assert [h.id for h in hits.hits] == [message_id]
    finally:
        await store.close()


async def test_a_retried_body_that_shows_an_invitation_is_turned_down(tmp_path: Path) -> None:
    """`messages.retry` applies the body's calendar check as a sync does (R17)."""
    maildir = make_maildir(tmp_path / "Maildir")
    invite = b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"
    deliver(
        maildir,
        make_message(
            "anna@kund.example",
            ["me@firma.example"],
            "Inbjudan",
            "<q2@kund.example>",
            attachments=[("invite.ics", "text/calendar", invite)],
        ),
    )
    store = await Store.open(tmp_path)
    try:
        await _sync_refusing_bodies(store, maildir)
        message_id = await store.messages.resolve(None, "<q2@kund.example>", 1)
        assert (await store.messages.get(message_id, 1)).logged  # from its headers

        ctx = _rpc_context(store, tmp_path)
        after = await handlers_messages.retry(ctx, t.MessageRefParams(id=message_id))
        assert (after.logged, after.reason) == (False, "calendar")
        assert (await store.messages.search("Inbjudan", 10, 1)).hits == []
    finally:
        await store.close()
