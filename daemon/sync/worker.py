"""One task per mailbox: connect, sync, wait for changes, recover from errors.

The mailbox state machine (persisted as `mailboxes.status`):

    new ──connect──► syncing ──round done──► idle ──change/timeout──► syncing
     ▲                  │ TemporaryError           │
     │                  ▼                          │
     │            disconnected ──back-off (1 s … 5 min, jittered)──► syncing
     │                  │ AuthError
     │                  ▼
     └──reconnect── auth_failed   (nothing retried until mailboxes.reconnect)

Any other exception: status `error`, logged with its traceback, retried with
back-off. While a mailbox is unavailable its tracked threads count as blind
(R13); the next successful round syncs the missed interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable

from loggbok.daemon.memory import release_after_bulk
from loggbok.daemon.store.mailboxes import MailboxRow
from loggbok.daemon.store.store import Store
from loggbok.daemon.sync.backend import AuthError, Backend, TemporaryError
from loggbok.daemon.sync.engine import Notify, SyncRound
from loggbok.protocol.types import MailboxStatus, MailboxStatusChanged, SyncResult

log = logging.getLogger(__name__)

IDLE_TIMEOUT = 25 * 60.0
MAX_BACKOFF = 300.0


class MailboxWorker:
    def __init__(
        self,
        store: Store,
        mailbox: MailboxRow,
        backend_factory: Callable[[MailboxRow], Awaitable[Backend]],
        notify: Notify,
    ) -> None:
        self.store = store
        self.mailbox = mailbox
        self._factory = backend_factory
        self._notify = notify
        self._backend: Backend | None = None
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.status: str = mailbox.status

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"mailbox-{self.mailbox.id}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._close_backend()

    def reconnect(self, mailbox: MailboxRow | None = None) -> None:
        """Leave auth_failed/back-off now (after a new password, say)."""
        if mailbox is not None:
            self.mailbox = mailbox
        self._wake.set()

    async def sync_now(self) -> SyncResult:
        """One round right away (`mailboxes.sync`); raises on failure."""
        async with self._lock:
            backend = await self._connected()
            return await self._round(backend)

    async def _set_status(self, status: MailboxStatus, detail: str = "") -> None:
        self.status = status
        if await self.store.mailboxes.set_status(self.mailbox.id, status, detail):
            await self._notify(
                "mailbox.status_changed",
                MailboxStatusChanged(id=self.mailbox.id, status=status, detail=detail),
            )

    async def _connected(self) -> Backend:
        if self._backend is None:
            backend = await self._factory(self.mailbox)
            try:
                await backend.connect()
            except BaseException:
                with contextlib.suppress(Exception):
                    await backend.close()
                raise
            self._backend = backend
        return self._backend

    async def _close_backend(self) -> None:
        backend, self._backend = self._backend, None
        if backend is not None:
            with contextlib.suppress(Exception):
                await backend.close()

    async def _round(self, backend: Backend) -> SyncResult:
        await self._set_status("syncing")
        result = await SyncRound(self.store, self.mailbox, backend, self._notify).run()
        release_after_bulk(result.new)
        await self._set_status("idle")
        return result

    async def _run(self) -> None:
        backoff = 1.0
        while True:
            try:
                async with self._lock:
                    backend = await self._connected()
                    await self._round(backend)
                backoff = 1.0
                await self._wait(backend)
                continue
            except AuthError as exc:
                await self._close_backend()
                await self._set_status("auth_failed", str(exc))
                self._wake.clear()
                await self._wake.wait()
                continue
            except TemporaryError as exc:
                await self._close_backend()
                await self._set_status("disconnected", str(exc))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.exception("mailbox %s: unexpected error", self.mailbox.id)
                await self._close_backend()
                await self._set_status("error", f"{type(exc).__name__}: {exc}")
            delay = backoff * random.uniform(0.5, 1.5)
            backoff = min(backoff * 2, MAX_BACKOFF)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)

    async def _wait(self, backend: Backend) -> None:
        """Until the backend reports a change, a reconnect is asked for, or the timeout."""
        self._wake.clear()
        changes = asyncio.ensure_future(backend.wait_for_changes(IDLE_TIMEOUT))
        woken = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({changes, woken}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            woken.cancel()
            if not changes.done():
                changes.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await changes
        if changes.done() and not changes.cancelled() and changes.exception() is not None:
            raise changes.exception()  # type: ignore[misc]
