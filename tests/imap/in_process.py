"""An IMAP mailbox on the test Dovecot, added to a fresh store in a data dir, for
tests that drive the real `MailboxWorker` in-process (no daemon around it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from loggbok.daemon.secrets import SecretStore
from loggbok.daemon.store.mailboxes import MailboxRow
from loggbok.daemon.store.store import Store
from tests.servers.dovecot import DovecotServer, DovecotUser


@dataclass
class InProcessMailbox:
    store: Store
    row: MailboxRow
    secrets: SecretStore
    """The data dir's own 0600 file (no keyring); holds no password until a test sets it."""


async def imap_mailbox(
    tmp_path: Path, dovecot: DovecotServer, user: DovecotUser
) -> InProcessMailbox:
    """`user`'s mailbox on `dovecot` (plain IMAP, password sign-in), in a new store."""
    data = tmp_path / "data"
    data.mkdir()
    store = await Store.open(data)
    config = {
        "host": dovecot.host,
        "port": dovecot.port,
        "security": "none",
        "username": user.name,
        "auth": "password",
    }
    mailbox_id = await store.mailboxes.add("imap", f"{user.name}@example.test", config)
    row = await store.mailboxes.get_row(mailbox_id)
    return InProcessMailbox(store, row, SecretStore(data, use_keyring=False))
