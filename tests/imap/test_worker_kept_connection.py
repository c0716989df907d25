"""`mailboxes.sync` on a mailbox whose kept connection the server has dropped
meanwhile (a restart, an IMAP `BYE` after a UIDVALIDITY change, an admin's
kick) syncs on a new connection instead of failing with the old one's error.

The real `MailboxWorker` and a real Dovecot; its task is not started, so no
round of its own can notice the drop first and nothing depends on timing.
"""

from __future__ import annotations

from pathlib import Path

from loggbok.daemon.secrets import SecretStore, mailbox_secret_key
from loggbok.daemon.store.store import Store
from loggbok.daemon.sync.providers.registry import backend_factory
from loggbok.daemon.sync.worker import MailboxWorker
from tests.servers.dovecot import DovecotServer
from tests.support.mail import make_message


async def _ignore(method: str, params: object) -> None:
    return None


async def test_a_sync_after_the_server_dropped_the_kept_connection_reconnects(
    tmp_path: Path, dovecot: DovecotServer
) -> None:
    user = dovecot.add_user()
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
    secrets = SecretStore(data, use_keyring=False)
    secrets.set(mailbox_secret_key(mailbox_id), user.password)
    row = await store.mailboxes.get_row(mailbox_id)
    worker = MailboxWorker(store, row, backend_factory(secrets), _ignore)
    try:
        await worker.sync_now()
        dovecot.kick(user)  # the kept connection is gone; the worker has not noticed
        dovecot.append(
            user, "INBOX", make_message("kund@kund.example", [row.address], "Hej", "<n@k>")
        )
        result = await worker.sync_now()
        assert result.new == 1
        assert worker.status == "idle"
    finally:
        await worker.stop()
        await store.close()
