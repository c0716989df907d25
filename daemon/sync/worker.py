"""One task per mailbox: connect, sync, wait for changes, recover from errors.

The mailbox state machine (persisted as `mailboxes.status`):

    new ──connect──► syncing ──round done──► idle ──change/timeout──► syncing
     ▲                  │ TemporaryError           │
     │                  ▼                          │
     │            disconnected ──back-off (1 s … 5 min, jittered)──► syncing
     │                  │ AuthError
     │                  ▼
     └──reconnect── auth_failed   (nothing retried until mailboxes.reconnect)

The wait for changes ends early when a re-fetch of attachments waiting for a
scanner (R11, `rescan.py`) falls due: the round that follows runs it.

Any other exception: status `error`, logged with its traceback, retried with
back-off. A full disk (`StorageFull`) is such an error, with the detail
"storage full: ...": nothing of the failed write was kept, and the round that
succeeds once space returns logs what the failed ones did not. While a
mailbox is unavailable its tracked threads are blind (R13): the status path
(`store.mailboxes.set_status`, the same for every provider) opens an outage
from the last successful sync; the next successful round syncs the missed
interval (oldest first, as every round), ends the outage, and logs what
arrived meanwhile, oldest first (`_caught_up`).

A wake-up (`reconnect`, a failed `mailboxes.sync`) is a flag cleared only
where a round starts, under the round lock: one that comes while a round runs
(or fails) is still set when the task next waits, so another round follows at
once; so does a `mailboxes.sync` that succeeds while the task waits out a
failure (it watches for changes again). (The flag was cleared after the
round, and such a wake-up was lost: a new password given while a sign-in was
failing left the mailbox `auth_failed`.)

The task never ends of an error: only `stop` ends it. A status that cannot be
written (the disk is full) is still announced (`mailbox.status_changed`), held
here (`status`, `detail`, `unsaved`; `mailboxes.list` shows it) and written
with the next change that can be. `SyncService` restarts a task that ends
all the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import cast

from loggbok.daemon.memory import release_after_bulk
from loggbok.daemon.store.db import is_storage_full, storage_full
from loggbok.daemon.store.mailboxes import MailboxRow
from loggbok.daemon.store.outages import Outage, iso
from loggbok.daemon.store.store import Store
from loggbok.daemon.sync.backend import AuthError, Backend, TemporaryError
from loggbok.daemon.sync.engine import Notify, SyncRound
from loggbok.daemon.sync.rescan import next_due
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
        self.status: MailboxStatus = cast(MailboxStatus, mailbox.status)
        self.detail: str | None = None
        """The last status detail announced (None: none yet since the daemon started)."""
        self.unsaved = False
        """The announced status could not be written to the database (yet)."""
        self.retry_at: str | None = None
        """When the task tries again after a failure (announced with the status)."""
        self.stopping = False

    @property
    def task(self) -> asyncio.Task[None] | None:
        return self._task

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"mailbox-{self.mailbox.id}")

    async def stop(self) -> None:
        self.stopping = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.close_backend()

    @property
    def round_lock(self) -> asyncio.Lock:
        """Held for the length of every round: holding it keeps rounds from starting."""
        return self._lock

    def reconnect(self, mailbox: MailboxRow | None = None) -> None:
        """Leave auth_failed/back-off now (after a new password, say)."""
        if mailbox is not None:
            self.mailbox = mailbox
        self._wake.set()

    async def sign_in_failed(self, detail: str) -> None:
        """A sign-in did not complete: a mailbox waiting for one stays auth_failed
        with the reason; a working one keeps working (the reason is still told)."""
        status: MailboxStatus = (
            "auth_failed" if self.status in ("auth_failed", "new") else self.status
        )
        await self.set_status(status, detail)

    async def sync_now(self) -> SyncResult:
        """One round right away (`mailboxes.sync`); raises on failure (a full disk as
        `StorageFull`), after the status says so and the task is woken to retry."""
        async with self._lock:
            failing = self.status in ("auth_failed", "disconnected", "error")
            try:
                result = await self._round_on_a_live_connection()
                if failing:  # the task waits out that failure: it watches for changes again
                    self._wake.set()
                return result
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                await self._failed(exc)
                self._wake.set()
                if is_storage_full(exc):
                    raise storage_full(exc) from exc
                raise

    async def _round_on_a_live_connection(self) -> SyncResult:
        """A round on the kept connection, or on a new one when the server had
        dropped the kept one meanwhile (a restart, an IMAP `BYE` after a
        UIDVALIDITY change): rounds are idempotent, so the retry logs nothing twice."""
        kept = self._backend is not None
        try:
            return await self._round(await self._connected())
        except TemporaryError as exc:
            if not kept:
                raise
            log.info("mailbox %s: the kept connection failed (%s); a new one", self.mailbox.id, exc)
            await self.close_backend()
            return await self._round(await self._connected())

    async def set_status(
        self, status: MailboxStatus, detail: str = "", retry_in: float | None = None
    ) -> None:
        """Persist and announce a status; never raises (but a cancellation).

        Clients hear of every change even when the database cannot take it; it is
        then held in memory (`unsaved`) and written with the next status that can be.
        `retry_in`: seconds until the task tries again (announced as `retry_at`).
        """
        retry_at = (
            None
            if retry_in is None
            else (datetime.now(UTC) + timedelta(seconds=retry_in)).isoformat(timespec="seconds")
        )
        changed = (status, detail, retry_at) != (self.status, self.detail, self.retry_at)
        self.status, self.detail, self.retry_at = status, detail, retry_at
        ended = None
        try:
            written = await self.store.mailboxes.set_status(self.mailbox.id, status, detail)
            stored_change, ended = written.changed, written.ended
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if not self.unsaved:
                log.warning(
                    "mailbox %s: status %s kept in memory, not written: %s",
                    self.mailbox.id,
                    status,
                    exc,
                )
            self.unsaved = True
            stored_change = False
        else:
            self.unsaved = False
        if changed or stored_change:
            try:
                await self._notify(
                    "mailbox.status_changed",
                    MailboxStatusChanged(
                        id=self.mailbox.id, status=status, detail=detail, retry_at=retry_at
                    ),
                )
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("mailbox %s: status change not announced", self.mailbox.id)
        if ended is not None:
            await self._caught_up(ended)

    async def _caught_up(self, outage: Outage) -> None:
        """R13: the mailbox is read again after an outage; log what arrived in it."""
        try:
            arrived = await self.store.outages.arrived(outage)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("mailbox %s: back, but what arrived is unknown: %s", self.mailbox.id, exc)
            return
        log.info(
            "mailbox %s: read again after %s since %s (%s); %d message(s) arrived meanwhile",
            self.mailbox.id,
            outage.cause,
            iso(outage.since_ts),
            outage.detail or "no detail",
            len(arrived),
        )
        for row in arrived:  # oldest first
            log.info(
                "mailbox %s: arrived while unavailable: %s %s %s",
                self.mailbox.id,
                row["date"],
                row["message_id"],
                f"logged ({row['reason']})" if row["logged"] else f"not logged ({row['reason']})",
            )

    async def _failed(self, exc: Exception, retry_in: float | None = None) -> None:
        """Close the backend and set the status an error calls for (`retry_in`: the
        back-off before the next try, None when it is not known here)."""
        await self.close_backend()
        if isinstance(exc, AuthError):
            await self.set_status("auth_failed", str(exc))
        elif isinstance(exc, TemporaryError):
            await self.set_status("disconnected", str(exc), retry_in)
        elif is_storage_full(exc):
            log.warning("mailbox %s: %s; retrying with back-off", self.mailbox.id, exc)
            await self.set_status("error", f"storage full: {storage_full(exc)}", retry_in)
        else:
            log.exception("mailbox %s: unexpected error", self.mailbox.id, exc_info=exc)
            await self.set_status("error", f"{type(exc).__name__}: {exc}", retry_in)

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

    async def close_backend(self) -> None:
        backend, self._backend = self._backend, None
        if backend is not None:
            with contextlib.suppress(Exception):
                await backend.close()

    async def _round(self, backend: Backend) -> SyncResult:
        await self.set_status("syncing")
        result = await SyncRound(self.store, self.mailbox, backend, self._notify).run()
        release_after_bulk(result.new)
        await self.set_status("idle")
        return result

    async def _run(self) -> None:
        backoff = 1.0
        while True:
            try:
                async with self._lock:
                    self._wake.clear()  # this round serves every wake-up so far
                    backend = await self._connected()
                    await self._round(backend)
                backoff = 1.0
                await self._wait(backend)
                continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                delay = backoff * random.uniform(0.5, 1.5)
                await self._failed(exc, delay)
                if isinstance(exc, AuthError):
                    await self._wake.wait()  # set during the round: try again now
                    continue
            backoff = min(backoff * 2, MAX_BACKOFF)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)

    async def _timeout(self) -> float:
        """How long to wait for changes: `IDLE_TIMEOUT`, or less when a re-fetch of
        attachments waiting for a scan (R11) falls due sooner."""
        due = await next_due(self.store, self.mailbox.id)
        if due is None:
            return IDLE_TIMEOUT
        return min(IDLE_TIMEOUT, max(0.0, due - time.time()))

    async def _wait(self, backend: Backend) -> None:
        """Until the backend reports a change, a reconnect is asked for (or was, during
        the round just done: the wake-up is still set), or the timeout."""
        changes = asyncio.ensure_future(backend.wait_for_changes(await self._timeout()))
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
