"""Push for IMAP: IDLE on INBOX over a connection of its own, with a poll fallback.

`IdleWatcher` runs on the backend's IDLE thread, never the fetch thread, so
fetching never waits for IDLE. One `wait()`:

  1. re-EXAMINE INBOX and STATUS the other watched folders (Sent); if any has
     a UIDVALIDITY or UIDNEXT the fetch side has not seen yet -> True at once
     (mail that arrived between the last sync and this wait is never missed);
  2. IDLE on INBOX in rounds of at most 29 minutes (and at most the poll
     interval while other folders are watched), returning True on EXISTS,
     RECENT, EXPUNGE, FETCH or VANISHED; between rounds, STATUS again;
  3. without IDLE: NOOP every poll interval instead.

`interrupt()` (any thread) ends a pending wait promptly through a wake-up
socket: cancellation sends DONE and keeps the connection, `close()` also
shuts the socket down. A dropped connection or `* BYE` -> TemporaryError.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

from loggbok.daemon.sync.backend import TemporaryError
from loggbok.daemon.sync.providers.imap.connection import (
    ImapConnection,
    Interrupted,
    ServerSettings,
)
from loggbok.daemon.sync.providers.imap.responses import Response, untagged_kind

MAX_IDLE = 29 * 60.0
"""RFC 2177: re-issue IDLE at least every 29 minutes."""

CHANGE_KINDS = frozenset({"EXISTS", "RECENT", "EXPUNGE", "FETCH", "VANISHED"})

Known = dict[str, tuple[int | None, int | None]]
"""Folder name -> (UIDVALIDITY, UIDNEXT) as the fetch side last saw it."""


def _differs(state: dict[str, int], known: tuple[int | None, int | None] | None) -> bool:
    if known is None:
        return False
    uidvalidity, uidnext = known
    if uidvalidity is not None and state.get("uidvalidity", uidvalidity) != uidvalidity:
        return True
    return uidnext is not None and state.get("uidnext", uidnext) > uidnext


class IdleWatcher:
    """The IDLE connection and its wake-up socket."""

    def __init__(self, settings: ServerSettings, poll_interval: float = 60.0) -> None:
        self.settings = settings
        self.poll_interval = poll_interval
        self.conn: ImapConnection | None = None
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._lock = threading.Lock()
        self._cancelled_upto = 0
        self._closed = False
        self.warnings: list[str] = []

    # called from the event loop thread ---------------------------------------------------

    def interrupt(self, ticket: int) -> None:
        """End the wait with this ticket (or an earlier one), keeping the connection."""
        with self._lock:
            self._cancelled_upto = max(self._cancelled_upto, ticket)
            with contextlib.suppress(OSError):
                self._wake_w.send(b"x")

    def close_soon(self) -> None:
        """End any wait now and for good; the socket is shut down."""
        with self._lock:
            self._closed = True
            with contextlib.suppress(OSError):
                self._wake_w.send(b"x")
        conn = self.conn
        if conn is not None:
            conn.interrupt()

    # called on the IDLE thread ---------------------------------------------------------------

    def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            conn.shutdown()
        self._wake_r.close()
        self._wake_w.close()

    def _cancelled(self, ticket: int) -> bool:
        with self._lock:
            return self._closed or ticket <= self._cancelled_upto

    def _drain(self) -> None:
        with contextlib.suppress(OSError):
            while self._wake_r.recv(4096):
                pass

    def _connection(self) -> ImapConnection:
        if self.conn is None or self.conn.selected is None:
            if self.conn is not None:
                self.conn.shutdown()
            conn = ImapConnection(self.settings)
            self.conn = conn
            conn.open()
            if "IDLE" not in conn.capabilities:
                self.warnings.append(
                    f"{self.settings.host} does not offer IDLE; polling every "
                    f"{self.poll_interval:.0f} s"
                )
        return self.conn

    def wait(
        self, ticket: int, timeout: float, inbox: str, others: list[str], known: Known
    ) -> bool:
        self._drain()
        if self._cancelled(ticket):
            return False
        try:
            return self._wait(ticket, timeout, inbox, others, known)
        except (TemporaryError, Interrupted):
            if self._cancelled(ticket):
                return False
            raise

    def _wait(
        self, ticket: int, timeout: float, inbox: str, others: list[str], known: Known
    ) -> bool:
        deadline = time.monotonic() + timeout
        conn = self._connection()
        if _differs(conn.examine(inbox), known.get(inbox)):
            return True
        if self._others_changed(conn, others, known):
            return True
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._cancelled(ticket):
                return False
            span = min(remaining, MAX_IDLE)
            if others or "IDLE" not in conn.capabilities:
                span = min(span, self.poll_interval)
            if "IDLE" in conn.capabilities:
                changed = self._idle_round(conn, span)
            else:
                changed = self._poll_round(conn, span)
            if changed:
                return True
            if self._cancelled(ticket):
                return False
            if self._others_changed(conn, others, known):
                return True

    def _others_changed(self, conn: ImapConnection, others: list[str], known: Known) -> bool:
        return any(_differs(conn.status(name), known.get(name)) for name in others)

    def _idle_round(self, conn: ImapConnection, span: float) -> bool:
        changed = False

        def note(response: Response) -> None:
            nonlocal changed
            if untagged_kind(response)[0] in CHANGE_KINDS:
                changed = True

        tag = conn.start("IDLE")
        while True:
            response = conn.read()
            if response.first.startswith(b"+"):
                break
            if response.first.startswith(tag + b" "):
                raise TemporaryError(f"IDLE refused: {response.text()}")
            if response.first.startswith(b"* BYE"):
                raise TemporaryError(f"server closed the connection: {response.text()}")
            note(response)
        end = time.monotonic() + span
        interrupted = False
        try:
            while not changed:
                remaining = end - time.monotonic()
                if remaining <= 0 or not conn.wait_readable(remaining, self._wake_r):
                    break
                response = conn.read()
                if response.first.startswith(b"* BYE"):
                    raise TemporaryError(f"server closed the connection: {response.text()}")
                note(response)
        except Interrupted:
            interrupted = True
        with self._lock:
            if self._closed:
                raise TemporaryError("closed")
        conn.send(b"DONE\r\n")
        conn.collect(tag, note)
        return changed and not interrupted

    def _poll_round(self, conn: ImapConnection, span: float) -> bool:
        with contextlib.suppress(Interrupted):
            conn.wait_readable(span, self._wake_r)  # nothing comes unasked: a sleep we can end
        changed = False
        for response in conn.command("NOOP"):
            if untagged_kind(response)[0] in CHANGE_KINDS:
                changed = True
        return changed
