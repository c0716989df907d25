"""`mailboxes.sync` on a mailbox whose kept connection the server has dropped
meanwhile (a restart, an IMAP `BYE` after a UIDVALIDITY change, an admin's
kick) syncs on a new connection instead of failing with the old one's error.

The real `MailboxWorker` and a real Dovecot; its task is not started, so no
round of its own can notice the drop first and nothing depends on timing.
"""

from __future__ import annotations

from pathlib import Path

from loggbok.daemon.secrets import mailbox_secret_key
from loggbok.daemon.sync.providers.registry import backend_factory
from loggbok.daemon.sync.worker import MailboxWorker
from tests.imap.in_process import imap_mailbox
from tests.servers.dovecot import DovecotServer
from tests.support.mail import make_message


async def _ignore(method: str, params: object) -> None:
    return None


async def test_a_sync_after_the_server_dropped_the_kept_connection_reconnects(
    tmp_path: Path, dovecot: DovecotServer
) -> None:
    user = dovecot.add_user()
    mailbox = await imap_mailbox(tmp_path, dovecot, user)
    store, row = mailbox.store, mailbox.row
    mailbox.secrets.set(mailbox_secret_key(row.id), user.password)
    worker = MailboxWorker(store, row, backend_factory(mailbox.secrets), _ignore)
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
