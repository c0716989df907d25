"""Push for IMAP: IDLE on INBOX over a connection of its own, with a poll fallback.

`IdleWatcher` runs on the backend's IDLE thread, never the fetch thread, so
fetching never waits for IDLE. One `wait()`:

  1. re-EXAMINE INBOX and STATUS the other watched folders (every synced
     folder but the two IDLE watches); if any has a UIDVALIDITY or UIDNEXT the
     fetch side has not seen yet, or (when given the folder names the fetch side
     last listed) LIST shows a folder come or gone -> True at once (mail that
     arrived between the last sync and this wait is never missed); with
     LIST-STATUS (RFC 5819) one command does both;
  2. IDLE on INBOX in rounds of at most 29 minutes (and at most the poll
     interval while other folders or the folder list are watched), returning
     True on EXISTS, RECENT, EXPUNGE, FETCH or VANISHED; between rounds, check
     the others again;
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
from loggbok.daemon.sync.providers.imap.responses import Response, parse_values, untagged_kind

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
        self,
        ticket: int,
        timeout: float,
        inbox: str,
        others: list[str],
        known: Known,
        listed: frozenset[str] | None = None,
    ) -> bool:
        self._drain()
        if self._cancelled(ticket):
            return False
        try:
            return self._wait(ticket, timeout, inbox, others, known, listed)
        except (TemporaryError, Interrupted):
            if self._cancelled(ticket):
                return False
            raise

    def _wait(
        self,
        ticket: int,
        timeout: float,
        inbox: str,
        others: list[str],
        known: Known,
        listed: frozenset[str] | None,
    ) -> bool:
        deadline = time.monotonic() + timeout
        conn = self._connection()
        if _differs(conn.examine(inbox), known.get(inbox)):
            return True
        if self._others_changed(conn, others, known, listed):
            return True
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._cancelled(ticket):
                return False
            span = min(remaining, MAX_IDLE)
            if others or listed is not None or "IDLE" not in conn.capabilities:
                span = min(span, self.poll_interval)
            if "IDLE" in conn.capabilities:
                changed = self._idle_round(conn, span)
            else:
                changed = self._poll_round(conn, span)
            if changed:
                return True
            if self._cancelled(ticket):
                return False
            if self._others_changed(conn, others, known, listed):
                return True

    def _others_changed(
        self, conn: ImapConnection, others: list[str], known: Known, listed: frozenset[str] | None
    ) -> bool:
        if listed is not None and "LIST-STATUS" in conn.capabilities:
            names, states = _list_status(conn)
            if names != listed:
                return True
            return any(_differs(states.get(name, {}), known.get(name)) for name in others)
        if any(_differs(conn.status(name), known.get(name)) for name in others):
            return True
        return listed is not None and _list_names(conn) != listed

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


def _list_names(conn: ImapConnection) -> frozenset[str]:
    """The folder names LIST shows, as the fetch side lists them (`assign_roles`)."""
    return _list_status(conn, with_status=False)[0]


def _list_status(
    conn: ImapConnection, *, with_status: bool = True
) -> tuple[frozenset[str], dict[str, dict[str, int]]]:
    """LIST (with STATUS of every folder where LIST-STATUS is offered): the names and
    each folder's UIDVALIDITY and UIDNEXT."""
    from loggbok.daemon.sync.providers.imap.folders import assign_roles, decode_mutf7, parse_list

    command = 'LIST "" "*"'
    if with_status:
        command += " RETURN (STATUS (UIDVALIDITY UIDNEXT))"
    listed = []
    states: dict[str, dict[str, int]] = {}
    for response in conn.command(command):
        folder = parse_list(response)
        if folder is not None:
            listed.append(folder)
            continue
        if response.first[:9].upper() != b"* STATUS ":
            continue
        values = parse_values(response.parts, 9)
        if len(values) < 2 or not isinstance(values[-1], list):
            continue
        raw = values[0]
        name = decode_mutf7(raw) if isinstance(raw, str | bytes) else ""
        name = "INBOX" if name.upper() == "INBOX" else name
        pairs = values[-1]
        state: dict[str, int] = {}
        for key, value in zip(pairs[::2], pairs[1::2], strict=False):
            if isinstance(key, str) and isinstance(value, str) and value.isdigit():
                state[key.lower()] = int(value)
        states[name] = state
    return frozenset(f.name for f in assign_roles(listed)), states
