"""The sync service: one `MailboxWorker` per connected mailbox, started and
stopped with the mailboxes, and fresh backends for one-off reads (audit,
manual logging, retry).

It also supervises the workers: a worker's task that ends while its mailbox
is still connected (it should never: only `removed` and `stop` end one) is
logged, its mailbox set to `error`, and the task started again after a
back-off (1 s, doubling up to 5 min).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import msgspec

from loggbok.daemon.mime.stream import Reduced
from loggbok.daemon.store.mailboxes import MailboxRow
from loggbok.daemon.store.store import Store
from loggbok.daemon.sync.backend import Backend, Folder, FolderRole
from loggbok.daemon.sync.bodies import read_reduced
from loggbok.daemon.sync.engine import Notify
from loggbok.daemon.sync.providers.registry import BackendFactory
from loggbok.daemon.sync.worker import MAX_BACKOFF, MailboxWorker
from loggbok.protocol.errors import ErrorCode, RpcError
from loggbok.protocol.types import Mailbox

log = logging.getLogger(__name__)


class SyncService:
    def __init__(
        self, store: Store, notify: Notify, backend_factory: BackendFactory, user_id: int = 1
    ) -> None:
        self.store = store
        self.user_id = user_id
        """The member this service syncs for: only their mailboxes get a worker."""
        self.notify = notify
        self.backend_factory = backend_factory
        self.workers: dict[int, MailboxWorker] = {}
        self.restarts: dict[int, int] = {}
        """Unexpected ends of each mailbox's worker task, and restarts, since the start."""
        self._revivals: set[asyncio.Task[None]] = set()
        self.edits = asyncio.Lock()
        """Held by changes made by hand to what is logged (`messages.redecide`,
        `messages.unlog`, `contacts.delete`, `contacts.merge`): one at a time."""

    async def start(self) -> None:
        for mailbox in await self.store.mailboxes.active(self.user_id):
            self._start(mailbox)

    def _start(self, mailbox: MailboxRow) -> MailboxWorker:
        worker = MailboxWorker(self.store, mailbox, self.backend_factory, self.notify)
        self.workers[mailbox.id] = worker
        self._run(worker)
        return worker

    def _run(self, worker: MailboxWorker) -> None:
        worker.start()
        assert worker.task is not None
        worker.task.add_done_callback(lambda task: self._ended(worker, task))

    def _ended(self, worker: MailboxWorker, task: asyncio.Task[None]) -> None:
        """A worker's task ended: expected after `stop`, otherwise revived."""
        if worker.stopping or self.workers.get(worker.mailbox.id) is not worker:
            return
        reason = "cancelled" if task.cancelled() else repr(task.exception() or "returned")
        log.error(
            "mailbox %s: worker ended unexpectedly (%s); restarting", worker.mailbox.id, reason
        )
        revival = asyncio.ensure_future(self._revive(worker, reason))
        self._revivals.add(revival)
        revival.add_done_callback(self._revivals.discard)

    async def _revive(self, worker: MailboxWorker, reason: str) -> None:
        mailbox_id = worker.mailbox.id
        ends = self.restarts[mailbox_id] = self.restarts.get(mailbox_id, 0) + 1
        await worker.close_backend()
        await worker.set_status("error", f"worker ended unexpectedly ({reason}); restarting")
        await asyncio.sleep(min(2.0 ** (ends - 1), MAX_BACKOFF))
        if not worker.stopping and self.workers.get(mailbox_id) is worker:
            self._run(worker)

    def live(self, mailboxes: Sequence[Mailbox]) -> list[Mailbox]:
        """`mailboxes` as stored, with each status its worker holds but could not write,
        and when a failing one is tried next."""
        result = []
        for mailbox in mailboxes:
            worker = self.workers.get(mailbox.id)
            if worker is not None and worker.unsaved:
                mailbox = msgspec.structs.replace(
                    mailbox, status=worker.status, status_detail=worker.detail or ""
                )
            if worker is not None and worker.retry_at and mailbox.status == worker.status:
                mailbox = msgspec.structs.replace(mailbox, retry_at=worker.retry_at)
            result.append(mailbox)
        return result

    async def added(self, mailbox_id: int) -> None:
        self._start(await self.store.mailboxes.get_row(mailbox_id, self.user_id))

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
        backend = await self.backend_factory(
            await self.store.mailboxes.get_row(mailbox_id, self.user_id)
        )
        try:
            await backend.connect()
            yield backend
        finally:
            await backend.close()

    async def read_message(
        self,
        mailbox_id: int,
        folder: str,
        role: FolderRole,
        remote_id: str,
        attachment_limit: int,
        body_limit: int,
    ) -> Reduced:
        """One message, read as a file and reduced while it streams (never held whole)."""
        async with self.open_backend(mailbox_id) as backend:
            return await read_reduced(
                backend,
                Folder(folder, role),
                remote_id,
                self.store.blobs,
                attachment_limit,
                body_limit,
            )

    @asynccontextmanager
    async def paused(self) -> AsyncIterator[None]:
        """No sync round runs inside (running ones are waited for), and no other edit."""
        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(self.edits)
            for _, worker in sorted(self.workers.items()):
                await stack.enter_async_context(worker.round_lock)
            yield

    async def sync_bodies(self, mailbox_id: int) -> None:
        """A round for `mailbox_id` now: it first fetches the bodies of logged messages
        still without one. A mailbox that cannot be reached keeps them waiting for its
        next round."""
        worker = self.workers.get(mailbox_id)
        if worker is None:
            return
        try:
            await worker.sync_now()
        except Exception as exc:  # unavailable: its next round fetches them
            log.warning("mailbox %s: bodies wait for the next round: %s", mailbox_id, exc)

    async def stop(self) -> None:
        for revival in list(self._revivals):
            revival.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await revival
        await asyncio.gather(*(w.stop() for w in self.workers.values()), return_exceptions=True)
        self.workers.clear()
