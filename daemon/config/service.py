"""The config file's life in the daemon: read at start, on SIGHUP, on
`config.reload`, and when the file changes (its folder watched through inotify,
as Maildirs are: `sync/providers/maildir/watch.py`, polling where inotify is
unavailable).

Each read is all or nothing: a valid file is applied (`apply.py`), an invalid
one is logged as one line with its line number, kept in `status.error` (the
`config.status` method and the `config.changed` notification carry it) and
changes nothing. A change noticed by the watch is applied only when the file's
bytes differ from the last read; SIGHUP and `config.reload` always apply it, so
the file wins again for the settings it names.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from loggbok.daemon.config.apply import apply
from loggbok.daemon.config.parse import ConfigFile, ConfigInvalid, parse
from loggbok.daemon.secrets import SecretStore
from loggbok.daemon.store.store import Store
from loggbok.daemon.sync.providers.maildir.watch import watch
from loggbok.daemon.sync.service import SyncService
from loggbok.protocol import types as t

log = logging.getLogger(__name__)

SETTLE_SECONDS = 0.2
"""After a change is noticed, wait this long for more (an editor's save is several)."""

Announce = Callable[[t.ConfigStatus], Awaitable[None]]


class ConfigService:
    def __init__(
        self,
        path: Path,
        store: Store,
        sync: SyncService,
        secrets: SecretStore,
        announce: Announce,
    ) -> None:
        self.path = path
        self.store = store
        self.sync = sync
        self.secrets = secrets
        self.announce = announce
        self.status = t.ConfigStatus(path=str(path), exists=False)
        self._digest: str | None = None
        self._lock = asyncio.Lock()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Read the file once, then watch its folder (made, 0700, when missing)."""
        await self.reload()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            log.warning("cannot watch %s (%s): reload with SIGHUP", self.path.parent, exc)
            return
        self._task = asyncio.create_task(self._watch(), name="loggbok-config-watch")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def reload(self, *, only_if_changed: bool = False) -> t.ConfigStatus:
        async with self._lock:
            try:
                data = await asyncio.to_thread(self.path.read_bytes)
            except FileNotFoundError:
                data = None
            except OSError as exc:
                return await self._failed(True, ConfigInvalid(f"cannot read it: {exc}"))
            digest = hashlib.sha256(data).hexdigest() if data is not None else None
            if only_if_changed and digest == self._digest and self.status.error is None:
                return self.status
            try:
                config = parse(data.decode("utf-8")) if data is not None else ConfigFile()
            except UnicodeDecodeError as exc:
                return await self._failed(True, ConfigInvalid(f"not UTF-8 ({exc.reason})"))
            except ConfigInvalid as exc:
                return await self._failed(True, exc)
            try:
                declared = await apply(config, self.store, self.sync, self.secrets)
            except ConfigInvalid as exc:
                return await self._failed(True, exc)
            except Exception as exc:  # the store refused (a full disk, say)
                log.exception("config file %s could not be applied", self.path)
                return await self._failed(True, ConfigInvalid(f"could not be applied: {exc}"))
            self._digest = digest
            self.status = t.ConfigStatus(
                path=str(self.path),
                exists=data is not None,
                loaded_at=datetime.now(UTC).isoformat(timespec="seconds"),
                settings=sorted(config.settings_keys),
                mailboxes=declared,
            )
            if data is not None:
                log.info(
                    "config file %s applied: %d settings, %d mailboxes",
                    self.path,
                    len(config.settings_keys),
                    len(declared),
                )
            await self.announce(self.status)
            return self.status

    async def _failed(self, exists: bool, error: ConfigInvalid) -> t.ConfigStatus:
        """Keep what was applied before; say why this file was not."""
        where = f"{self.path}:{error.line}" if error.line else str(self.path)
        log.error("config file %s: %s; nothing of it was applied", where, error.message)
        self._digest = None
        self.status = t.ConfigStatus(
            path=str(self.path),
            exists=exists,
            error=t.ConfigError(message=error.message, line=error.line),
            loaded_at=self.status.loaded_at,
            settings=self.status.settings,
            mailboxes=self.status.mailboxes,
        )
        await self.announce(self.status)
        return self.status

    async def _watch(self) -> None:
        changed = asyncio.Event()
        watcher = asyncio.create_task(
            watch([self.path.parent], changed, self._stop, force_polling=False)
        )
        try:
            while True:
                await changed.wait()
                await asyncio.sleep(SETTLE_SECONDS)
                changed.clear()
                try:
                    await self.reload(only_if_changed=True)
                except Exception:
                    log.exception("config file %s: reload failed", self.path)
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
