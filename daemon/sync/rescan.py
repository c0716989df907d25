"""R11: fetching again, with back-off, logged mail whose attachments a security
scanner's placeholder stands in for, until the real files replace them.

Microsoft Defender's Dynamic Delivery delivers a message at once with a
placeholder per attachment ("ATP Scan In Progress") and puts the real file in
minutes later: either into the same item (Graph, EWS: the same remote id, new
content) or as a new item with the same Message-ID (what IMAP shows: a new UID,
in the same folder or another, the placeholder copy expunged). Both end the
same way here: the message is stored once (by Message-ID), its locations
(`message_locations`) say where copies of it sit, and a re-fetch tries them,
the one learnt last first.

The life of a rescan (persisted in `attachment_rescans`, so a restart goes on
where it was):

    body stored with placeholders ──► pending ──fetch: real files──► replaced
                                        │  ▲                        (stored, clients told)
             still placeholders / gone  │  │ due again after the back-off
                                        ▼  │ (1, 2, 5, 10, 30 min, then hourly)
                                      attempted
                                        │ a day after it was first seen so
                                        ▼
                                     gave_up   (those attachments `missing`, clients told)

Due at once, whatever the back-off: when a sync round meets the message under
a new remote id (the engine, `nudge`), or the backend reports its remote id
changed in place (`Changes.changed`, `nudge_changed`: Graph delta updates).
Rescans run at the end of each sync round of the mailbox that holds the
message (`SyncRound.run`), and the mailbox worker wakes for the next one due
(`next_due`) even when the mailbox stays quiet. `LOGGBOK_RESCAN_BACKOFF`
(seconds, comma-separated, the last repeating) and `LOGGBOK_RESCAN_GIVE_UP`
(seconds) replace the schedule: tests use a short one.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

from loggbok.daemon.store.rescans import PENDING_SCAN, Rescan
from loggbok.daemon.store.store import Store
from loggbok.daemon.sync.backend import (
    Backend,
    CursorInvalid,
    Folder,
    FolderRole,
    PermanentError,
)
from loggbok.daemon.sync.bodies import build_body_async, read_reduced
from loggbok.protocol.types import MessageChanged

log = logging.getLogger(__name__)

BACKOFF_ENV = "LOGGBOK_RESCAN_BACKOFF"
GIVE_UP_ENV = "LOGGBOK_RESCAN_GIVE_UP"
DEFAULT_STEPS: tuple[float, ...] = (60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)
"""Seconds between attempts: 1, 2, 5, 10, 30 minutes, then hourly."""
GIVE_UP_AFTER = 24 * 3600.0
PER_ROUND = 50
"""Rescans one round makes at most (the rest are due at once after it)."""

Clock = Callable[[], float]
Notify = Callable[[str, Any], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Backoff:
    """When a pending rescan is due, and when it is given up. Pure: times in, times out."""

    steps: tuple[float, ...] = DEFAULT_STEPS
    give_up_after: float = GIVE_UP_AFTER

    def delay(self, attempts: int) -> float:
        """Seconds to wait after `attempts` attempts (0: after the placeholder was stored)."""
        return self.steps[min(attempts, len(self.steps) - 1)]

    def due(self, rescan: Rescan) -> float:
        if rescan.next_at is not None:
            return rescan.next_at
        return rescan.first_at + self.delay(0)

    def after_attempt(self, rescan: Rescan, now: float) -> float | None:
        """When the next attempt is due after one at `now` that found no real files;
        None: a day has passed since the placeholder was stored, give up. The last
        attempt falls on the day's end, not an hour past it."""
        deadline = rescan.first_at + self.give_up_after
        if now >= deadline:
            return None
        return min(now + self.delay(rescan.attempts + 1), deadline)

    @classmethod
    def from_env(cls) -> Backoff:
        steps, give_up = DEFAULT_STEPS, GIVE_UP_AFTER
        try:
            if raw := os.environ.get(BACKOFF_ENV, "").strip():
                steps = tuple(float(part) for part in raw.split(","))
            if raw := os.environ.get(GIVE_UP_ENV, "").strip():
                give_up = float(raw)
        except ValueError:
            log.warning(
                "%s / %s: not numbers; the default schedule is used", BACKOFF_ENV, GIVE_UP_ENV
            )
            return cls()
        if not steps or min(steps) <= 0 or give_up <= 0:
            return cls()
        return cls(steps, give_up)


@cache
def schedule() -> Backoff:
    """The daemon's schedule (read from the environment once)."""
    return Backoff.from_env()


async def next_due(store: Store, mailbox_id: int, backoff: Backoff | None = None) -> float | None:
    """When the next rescan of this mailbox is due (None: none is pending): the mailbox
    worker wakes for it even when the mailbox stays quiet."""
    backoff = backoff or schedule()
    pending = await store.rescans.pending(mailbox_id)
    return min((backoff.due(r) for r in pending), default=None)


class Rescanner:
    """The rescans of one mailbox, run by its sync rounds on the round's backend."""

    def __init__(
        self,
        store: Store,
        mailbox_id: int,
        backend: Backend,
        notify: Notify,
        backoff: Backoff | None = None,
        clock: Clock = time.time,
        *,
        user_id: int = 1,
    ) -> None:
        self.store = store
        self.mailbox_id = mailbox_id
        self.user_id = user_id
        """The mailbox's member: their caps apply, and they are told of changes."""
        self.backend = backend
        self.notify = notify
        self.backoff = backoff or schedule()
        self.clock = clock

    async def run_due(self) -> int:
        """Every rescan due now (at most `PER_ROUND`); returns how many were settled
        (replaced or given up). A temporary error ends the round like any other."""
        now = self.clock()
        due = [
            r
            for r in await self.store.rescans.pending(self.mailbox_id)
            if self.backoff.due(r) <= now
        ]
        settled = 0
        if due:
            settings = await self.store.settings.get(self.user_id)
            for rescan in due[:PER_ROUND]:
                settled += await self._attempt(
                    rescan, settings.attachment_limit_bytes, settings.body_limit_bytes
                )
        return settled

    async def next_due(self) -> float | None:
        return await next_due(self.store, self.mailbox_id, self.backoff)

    async def nudge(self, messages: Iterable[int]) -> None:
        """These messages turned up under a new remote id: try them at once."""
        if await self.store.rescans.nudge(messages, self.clock()):
            log.info("mailbox %s: a new copy of a message waiting for a scan", self.mailbox_id)

    async def nudge_changed(self, folder_id: int, remote_ids: list[str]) -> None:
        """The backend reports these remote ids changed in place (`Changes.changed`)."""
        if remote_ids:
            await self.nudge(await self.store.rescans.messages_at(folder_id, remote_ids))

    async def _attempt(self, rescan: Rescan, attachment_limit: int, body_limit: int) -> int:
        now = self.clock()
        error: str | None = None
        for location in await self.store.rescans.locations(rescan.message, self.mailbox_id):
            folder = Folder(location.folder, cast(FolderRole, location.role))
            try:  # read as a file: a new copy's size is unknown, the real file may be large
                reduced = await read_reduced(
                    self.backend,
                    folder,
                    location.remote_id,
                    self.store.blobs,
                    attachment_limit,
                    body_limit,
                )
            except (PermanentError, CursorInvalid) as exc:  # gone, or its folder is
                error = f"{location.folder}/{location.remote_id}: {exc}"
                continue
            body = await build_body_async(
                reduced.raw,
                self.store.blobs,
                attachment_limit,
                body_limit,
                reduced.skipped,
                forward=rescan.forward,
            )
            if any(a.status == PENDING_SCAN for a in body.attachments):
                error = "the attachments are still the scanner's placeholders"
                continue
            if await self.store.messages.replace_scanned(rescan.message, body, now):
                log.info(
                    "message %s: the real attachments replaced the placeholders", rescan.message
                )
                await self._announce(rescan.message, "attachments_scanned")
            return 1
        next_at = self.backoff.after_attempt(rescan, now)
        if next_at is not None:
            await self.store.rescans.attempted(rescan.message, now, next_at, error)
            return 0
        log.warning(
            "message %s: no real attachment came within %.0f s; marked missing",
            rescan.message,
            self.backoff.give_up_after,
        )
        await self.store.rescans.give_up(rescan.message, now, error)
        await self._announce(rescan.message, "scan_gave_up")
        return 1

    async def _announce(self, message: int, change: str) -> None:
        if not await self.store.messages.visible(message, self.user_id):
            return
        contacts = await self.store.messages.contact_ids(message)
        await self.notify(
            "message.changed", MessageChanged(id=message, contact_ids=contacts, change=change)
        )
