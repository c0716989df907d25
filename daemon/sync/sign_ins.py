"""`SignIns`: the sign-ins under way (`mailboxes.sign_in`), one per mailbox.

Starting one asks the provider for a flow and returns its prompt at once; a
task waits for the user, then stores the secret (the secret store only),
and reconnects the mailbox's worker, whose status changes (syncing, idle) tell
clients the outcome. A refused or expired sign-in is told as the mailbox's
status (auth_failed with the reason). A newer sign-in for the same mailbox
replaces an older one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from loggbok.daemon.secrets import SecretStore, mailbox_secret_key
from loggbok.daemon.store.mailboxes import MailboxRow
from loggbok.daemon.sync.backend import BackendError
from loggbok.daemon.sync.providers.base import Provider, SignInFlow
from loggbok.daemon.sync.service import SyncService
from loggbok.protocol import types as t

log = logging.getLogger(__name__)


class SignIns:
    def __init__(self, sync: SyncService, secrets: SecretStore) -> None:
        self._sync = sync
        self._secrets = secrets
        self._running: dict[int, tuple[SignInFlow, asyncio.Task[None]]] = {}

    async def start(self, mailbox: MailboxRow, provider: Provider) -> t.SignInPrompt:
        """The prompt to show; TemporaryError when the sign-in service cannot be reached."""
        flow = await provider.start_sign_in(mailbox)
        self.forget(mailbox.id)
        task = asyncio.create_task(self._finish(mailbox, flow), name=f"sign-in-{mailbox.id}")
        self._running[mailbox.id] = (flow, task)
        return flow.prompt

    async def _finish(self, mailbox: MailboxRow, flow: SignInFlow) -> None:
        try:
            secret = await flow.wait()
        except BackendError as exc:
            log.info("mailbox %s: sign-in did not complete: %s", mailbox.id, exc)
            if mailbox.id in self._sync.workers:
                await self._sync.workers[mailbox.id].sign_in_failed(str(exc))
            return
        finally:
            if self._running.get(mailbox.id, (None,))[0] is flow:
                del self._running[mailbox.id]
        await asyncio.to_thread(self._secrets.set, mailbox_secret_key(mailbox.id), secret)
        log.info("mailbox %s: signed in", mailbox.id)
        worker = self._sync.workers.get(mailbox.id)
        if worker is not None:
            worker.reconnect(await self._sync.store.mailboxes.get_row(mailbox.id))

    def forget(self, mailbox_id: int) -> None:
        """Give up a sign-in under way (a newer one, a removed mailbox)."""
        running = self._running.pop(mailbox_id, None)
        if running is not None:
            running[0].cancel()
            running[1].cancel()

    async def stop(self) -> None:
        tasks = []
        for mailbox_id in list(self._running):
            tasks.append(self._running[mailbox_id][1])
            self.forget(mailbox_id)
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
