"""The daemon assembled: store, secrets, sync service and RPC server, with a
single-instance guard and an orderly start and stop; under systemd it serves
the socket it was handed and reports readiness, stopping and watchdog pings
(`systemd.py`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import Callable
from pathlib import Path

from loggbok.daemon.config.service import ConfigService
from loggbok.daemon.gc_pauses import settle_after_start
from loggbok.daemon.lockfile import LockHeld, LockUnopenable, hold_exclusive
from loggbok.daemon.rpc import (
    handlers_archive,
    handlers_config,
    handlers_contacts,
    handlers_daemon,
    handlers_mailboxes,
    handlers_messages,
    handlers_team,
    handlers_users,
)
from loggbok.daemon.rpc.context import Context
from loggbok.daemon.rpc.dispatch import build_methods
from loggbok.daemon.rpc.server import RpcServer
from loggbok.daemon.secrets import SecretStore
from loggbok.daemon.store.errors import MemberTaken, NotFound
from loggbok.daemon.store.store import Store
from loggbok.daemon.sync import parse_pool
from loggbok.daemon.sync.engine import announce
from loggbok.daemon.sync.providers.registry import backend_factory
from loggbok.daemon.sync.service import SyncService
from loggbok.daemon.sync.sign_ins import SignIns
from loggbok.daemon.systemd import Notifier
from loggbok.protocol import socket_check
from loggbok.protocol import types as t

log = logging.getLogger(__name__)

CAPABILITIES = [
    "maildir",
    "notifications",
    "explain",
    "manual_log",
    "fts5",
    "batch",
    "config_file",
    "archive",
    "users",
]


class AlreadyRunning(RuntimeError):
    pass


class NotAMember(RuntimeError):
    """`--user` names no member of the store (an admin adds them with users.add)."""


class SocketPathRefused(RuntimeError):
    """The socket path is not safe to listen on (see `prepare_socket_path`)."""


def _socket_answers(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


def prepare_socket_path(path: Path) -> None:
    """Make the private folder; refuse when a daemon answers; clear a stale socket.

    The folder must belong to this user and be private: a folder of our own
    (created here, or named loggbok*) is forced to 0700; any other folder that is
    open to other users, or a folder owned by someone else (another user may have
    made `/tmp/loggbok-<uid>` first), is refused with `SocketPathRefused`, as is a
    path that holds anything but a socket of ours (it is never deleted).
    """
    folder = path.parent
    try:
        if not folder.exists():
            folder.mkdir(parents=True, mode=0o700)
        problem = socket_check.folder_problem(folder)
        if problem and folder.name.startswith("loggbok") and folder.stat().st_uid == os.getuid():
            os.chmod(folder, 0o700)
            problem = socket_check.folder_problem(folder)
    except OSError as exc:
        raise SocketPathRefused(f"cannot listen on {path}: {exc}") from None
    if problem:
        raise SocketPathRefused(f"refusing to listen on {path}: {problem}")
    if path.exists() or path.is_symlink():
        problem = socket_check.socket_problem(path)
        if problem:
            raise SocketPathRefused(f"refusing to listen on {path}: {problem} (left untouched)")
        if _socket_answers(path):
            raise AlreadyRunning(f"another loggbokd is answering on {path}")
        path.unlink()


def _lock(path: Path, held: str) -> int:
    """An exclusive lock on `path` (made 0600), held while the daemon runs;
    AlreadyRunning (`held`) when another process holds it."""
    try:
        return hold_exclusive(path)
    except LockUnopenable as exc:  # another account's lock, a folder not ours
        raise AlreadyRunning(f"{held}? {exc}") from None
    except LockHeld:
        raise AlreadyRunning(held) from None


class Daemon:
    def __init__(
        self,
        socket_path: Path,
        data_dir: Path,
        demo: bool = False,
        *,
        listening: socket.socket | None = None,
        notifier: Notifier | None = None,
        config_path: Path | None = None,
        user: str | None = None,
        database: str | None = None,
    ) -> None:
        self.socket_path = socket_path
        self.database = database
        """The store's URL (`loggbokd --database`); None: $LOGGBOK_DATABASE or SQLite."""
        self.data_dir = data_dir
        self.demo = demo
        self.listening = listening
        """The listening socket systemd passed, if socket-activated."""
        self.notifier = notifier or Notifier({})
        self.config_path = config_path
        """The config file to read and watch (None: none, as in demo mode)."""
        self.user = user
        """The member served (`--user`); None: the store's first user."""
        self.config: ConfigService | None = None
        self._background: set[asyncio.Future[t.ConfigStatus]] = set()
        self._relay: asyncio.Task[None] | None = None
        self._lock_file: int | None = None
        self.store: Store | None = None
        self.sync: SyncService | None = None
        self.server: RpcServer | None = None
        self.sign_ins: SignIns | None = None
        self.viewer = 1
        """The id of the member served, once started."""

    def _lock_data_dir(self) -> None:
        self._lock_file = _lock(
            self.data_dir / "daemon.lock", f"another loggbokd uses {self.data_dir}"
        )

    async def _claim_member(self, store: Store, member: t.User) -> None:
        """One daemon per member and store: a second one would sync the same mailboxes
        (`Database.claim_member`: a lock file beside a SQLite file, an advisory lock on
        PostgreSQL that ends with the holder's connection)."""
        try:
            await store.db.claim_member(member.id)
        except MemberTaken as exc:
            raise AlreadyRunning(
                f"another loggbokd serves {member.email or 'the first user'} on"
                f" {store.db.where}{exc}"
            ) from None

    async def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._lock_data_dir()
        if self.listening is None:
            prepare_socket_path(self.socket_path)
        self.store = await Store.open(self.data_dir, self.database)
        try:
            member = await self.store.users.serve(self.user)
        except NotFound as exc:
            raise NotAMember(exc.message) from None
        await self._claim_member(self.store, member)
        await self.store.db.forget_staged_blobs()  # the data dir is ours (its lock)
        self.viewer = member.id
        log.info(
            "serving %s (user %d, seat %s)",
            member.email or "the first user",
            member.id,
            member.seat,
        )
        if self.demo:
            from loggbok.daemon.demo_setup import seed_demo

            await seed_demo(self.store, self.data_dir, member.id)
        secrets = SecretStore(self.data_dir)
        self.sync = SyncService(self.store, self._notify, backend_factory(secrets), member.id)
        self.sign_ins = SignIns(self.sync, secrets)
        if self.config_path is not None:
            self.config = ConfigService(
                self.config_path, self.store, self.sync, secrets, self._config_changed
            )
        context = Context(
            self.store,
            self.sync,
            secrets,
            self.data_dir,
            list(CAPABILITIES),
            viewer=member.id,
            sign_ins=self.sign_ins,
            config=self.config,
        )
        handlers = {
            **handlers_daemon.HANDLERS,
            **handlers_config.HANDLERS,
            **handlers_archive.HANDLERS,
            **handlers_contacts.HANDLERS,
            **handlers_mailboxes.HANDLERS,
            **handlers_messages.HANDLERS,
            **handlers_users.HANDLERS,
            **handlers_team.HANDLERS,
        }
        self.server = RpcServer(
            self.socket_path, build_methods(handlers), context, listening=self.listening
        )
        parse_pool.warm_up()
        # before any round can begin: a round's objects frozen mid-way would keep their
        # reference cycles for good (`gc_pauses`)
        settle_after_start()
        await self.sync.start()
        if self.config is not None:  # before the socket: no client sees settings it replaces
            await self.config.start()
        await self.server.start()
        self._relay = asyncio.create_task(self._relay_others())
        log.info("loggbokd listening on %s, data in %s", self.socket_path, self.data_dir)

    async def _relay_others(self) -> None:
        """Entries other daemons wrote into the same database (PostgreSQL: one daemon per
        member), announced to this daemon's clients as its own are: only those its
        member may see (`announce` with `viewer`, `records.VISIBLE`)."""
        assert self.store is not None
        store = self.store
        try:
            async for message_ids in store.timeline.published():
                await announce(store, self._notify, message_ids, self.viewer)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("no longer hearing of other daemons' entries")

    async def _notify(self, method: str, params: object) -> None:
        """Push to every client, never of a message hidden from the member served (the
        sync queries already leave such entries out; this is the last gate)."""
        if self.server is None:
            return
        message = (
            params.entry.id
            if isinstance(params, t.TimelineAppended)
            else params.id
            if isinstance(params, t.MessageChanged)
            else None
        )
        if (
            message is not None
            and self.store is not None
            and not await self.store.messages.visible(message, self.viewer)
        ):
            return
        await self.server.notify(method, params)

    async def _config_changed(self, status: t.ConfigStatus) -> None:
        error = status.error
        if error is not None:
            line = f" line {error.line}" if error.line else ""
            self.notifier.status(
                f"config file not applied ({self.config_path}{line}): {error.message}"
            )
        else:
            self.notifier.status(f"listening on {self.socket_path}")
        await self._notify("config.changed", status)

    def _reload_config(self) -> None:
        if self.config is not None:
            task = asyncio.ensure_future(self.config.reload())
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def stop(self) -> None:
        if self._relay is not None:
            self._relay.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._relay
        if self.config is not None:
            await self.config.stop()
        if self.server is not None:
            await self.server.stop()
        if self.sign_ins is not None:
            await self.sign_ins.stop()
        if self.sync is not None:
            await self.sync.stop()
        parse_pool.shutdown()
        if self.store is not None:
            await self.store.close()
        if self._lock_file is not None:
            with contextlib.suppress(OSError):
                os.close(self._lock_file)
        log.info("loggbokd stopped")

    async def serve(self, on_ready: Callable[[], None] | None = None) -> None:
        """Start, run until SIGTERM or SIGINT, stop. The handlers are in place before the
        socket exists, so a signal at any moment after a client could connect ends in an
        orderly stop (a SIGTERM during start is held until start is done). `on_ready` is
        called once the socket answers (the command line says where it listens)."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        loop.add_signal_handler(signal.SIGHUP, self._reload_config)
        watchdog: asyncio.Task[None] | None = None
        try:
            await self.start()
            self.notifier.ready(f"listening on {self.socket_path}")
            if on_ready is not None:
                on_ready()
            if self.notifier.watchdog_seconds is not None:
                watchdog = asyncio.create_task(self._watchdog(self.notifier.watchdog_seconds))
            await stop.wait()
        finally:
            self.notifier.stopping()
            if watchdog is not None:
                watchdog.cancel()
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(sig)
            await self.stop()
            self.notifier.close()

    async def _watchdog(self, interval: float) -> None:
        """WATCHDOG=1 at half the interval systemd asked for, from the event loop
        itself: a loop that stops turning stops the pings, and systemd restarts it."""
        while True:
            self.notifier.watchdog()
            await asyncio.sleep(interval / 2)
