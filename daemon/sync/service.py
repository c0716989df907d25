"""The sync service: one `MailboxWorker` per connected mailbox, started and
stopped with the mailboxes, and fresh backends for one-off reads (audit,
manual logging, retry)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from loggbok.daemon.store.mailboxes import MailboxRow
from loggbok.daemon.store.store import Store
from loggbok.daemon.sync.backend import Backend, Folder, FolderRole
from loggbok.daemon.sync.engine import Notify
from loggbok.daemon.sync.providers.registry import BackendFactory
from loggbok.daemon.sync.worker import MailboxWorker
from loggbok.protocol.errors import ErrorCode, RpcError


class SyncService:
    def __init__(self, store: Store, notify: Notify, backend_factory: BackendFactory) -> None:
        self.store = store
        self.notify = notify
        self.backend_factory = backend_factory
        self.workers: dict[int, MailboxWorker] = {}

    async def start(self) -> None:
        for mailbox in await self.store.mailboxes.active():
            self._start(mailbox)

    def _start(self, mailbox: MailboxRow) -> MailboxWorker:
        worker = MailboxWorker(self.store, mailbox, self.backend_factory, self.notify)
        self.workers[mailbox.id] = worker
        worker.start()
        return worker

    async def added(self, mailbox_id: int) -> None:
        self._start(await self.store.mailboxes.get_row(mailbox_id))

    async def removed(self, mailbox_id: int) -> None:
        worker = self.workers.pop(mailbox_id, None)
        if worker is not None:
            await worker.stop()

    def worker(self, mailbox_id: int) -> MailboxWorker:
        worker = self.workers.get(mailbox_id)
        if worker is None:
            raise RpcError(ErrorCode.NOT_FOUND, "No such mailbox", {"id": mailbox_id})
        return worker

    @asynccontextmanager
    async def open_backend(self, mailbox_id: int) -> AsyncIterator[Backend]:
        """A fresh connected backend beside the worker's own (audit, manual logging)."""
        backend = await self.backend_factory(await self.store.mailboxes.get_row(mailbox_id))
        try:
            await backend.connect()
            yield backend
        finally:
            await backend.close()

    async def fetch_message(
        self, mailbox_id: int, folder: str, role: FolderRole, remote_id: str
    ) -> bytes:
        async with self.open_backend(mailbox_id) as backend:
            return await backend.fetch_message(Folder(folder, role), remote_id)

    async def stop(self) -> None:
        await asyncio.gather(*(w.stop() for w in self.workers.values()), return_exceptions=True)
        self.workers.clear()
