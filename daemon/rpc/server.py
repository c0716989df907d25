"""The Unix-socket transport: framing, requests run in bounded shares, push notifications.

Every connection reads one JSON-RPC message (or batch) per line; each line runs
in its own task so a long `mailboxes.sync` does not hold up the next call, and
every write happens under the connection's lock. A line over the limit is
answered with an Invalid Request error and the connection is closed (the rest
of that line cannot be told apart from a new message); so is a connection
whose unfinished line would take the budget all connections share past its
total (`lines.py`).

No client may hold the daemon from the others (`limits.Limits`): a connection
runs at most `per_connection` requests at once and all of them together at
most `total`; a batch runs its items in chunks of `batch_chunk`, each item a
request like any other, and has at most `max_batch` items; its answers are
kept within `batch_answer_bytes` and, all batches together, within
`answer_buffer_total` (`batches.py`); a connection with `lines_per_connection`
lines unanswered is not read further; past `max_connections` clients at once,
one more is told so (-32011, id null) and closed. The store's reader hands out its turns fairly
between connections (`store.fair`), each connection's requests running under
its own `caller`. On stop every request still running is cancelled.

Notifications are encoded once and handed to every connected client without
waiting for any of them: a client that stops reading (a TUI suspended with
Ctrl-Z) must never hold up a sync or the other clients. Answers and
notifications count alike: a client that has left `max_pending_output` bytes
of them unread is disconnected and what it left is freed; clients reconnect
and re-read what they show.

Under socket activation the listening socket comes from systemd
(`daemon/systemd.py`): it is served as it is and left in place at the end
(systemd owns it, and starts the daemon again on the next connection).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import socket
from pathlib import Path
from typing import Any

from loggbok.daemon.rpc.accept import Acceptor, listen_unix
from loggbok.daemon.rpc.batches import BatchAnswer
from loggbok.daemon.rpc.context import Context
from loggbok.daemon.rpc.dispatch import Bound, Parsed, error, parse, run
from loggbok.daemon.rpc.hangup import Hangup, peer_closed
from loggbok.daemon.rpc.limits import Limits, connections_for_fd_limit
from loggbok.daemon.rpc.lines import CHUNK, BudgetExhausted, LineBudget, LineReader, LineTooLong
from loggbok.daemon.store.fair import caller
from loggbok.protocol.errors import ERROR_MESSAGES, ErrorCode
from loggbok.protocol.framing import encode

log = logging.getLogger(__name__)
DRAIN_SECONDS = 30.0
TURN_AWAY_SECONDS = 2.0
"""How long a client turned away may still send before its connection is closed."""
TURNED_AWAY = 16
"""Clients turned away held at once so (more are closed at once)."""
"""How long an answer waits for its client to take it before the next may be written."""


class _Connection:
    def __init__(
        self,
        number: int,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        limits: Limits,
    ) -> None:
        self.number = number
        self.reader = reader
        self.writer = writer
        self.max_pending = limits.max_pending_output
        self.lines = asyncio.Semaphore(limits.lines_per_connection)
        self.requests = asyncio.Semaphore(limits.per_connection)
        self.tasks: set[asyncio.Task[None]] = set()
        self.hangup = Hangup()

    async def write(self, line: bytes) -> None:
        """Queue an answer, then wait (a while) for the client to take it in: a
        client that reads slowly slows its own requests down. `ConnectionError`
        when the client is gone or was disconnected by `push`."""
        if not self.push(line):
            raise ConnectionError("the client is gone")
        await asyncio.wait_for(self.writer.drain(), DRAIN_SECONDS)

    def push(self, line: bytes) -> bool:
        """Queue a whole line without waiting (it cannot land inside another line:
        the transport appends whole writes); False when the client is gone. A client
        that has left more than `max_pending` bytes of answers and notifications
        unread is disconnected at once, and what it left is dropped (closing would
        keep it until the client read it, which it may never do). One line larger
        than the bound still goes to a client that has taken everything else."""
        transport = self.writer.transport
        if transport.is_closing():
            return False
        pending = transport.get_write_buffer_size()
        if pending and pending + len(line) > self.max_pending:
            log.warning(
                "a client left %d bytes of answers and notifications unread: disconnected",
                pending,
            )
            transport.abort()
            return False
        self.writer.write(line)
        return True


class RpcServer:
    def __init__(
        self,
        socket_path: Path,
        methods: dict[str, Bound],
        context: Context,
        limits: Limits | None = None,
        listening: socket.socket | None = None,
    ) -> None:
        self.socket_path = socket_path
        self.methods = methods
        self.context = context
        self.limits = Limits.from_env() if limits is None else limits
        self._total = asyncio.Semaphore(self.limits.total)
        self.line_budget = LineBudget(self.limits.line_buffer_total)
        self.answer_budget = LineBudget(self.limits.answer_buffer_total)
        """Bytes of batch answers held until written, all connections together."""
        self._numbers = itertools.count(1)
        self.listening = listening
        """A socket systemd passed (socket activation), served instead of binding one."""
        self._connections: set[_Connection] = set()
        self._open = 0
        """Connections being served (`_connections` forgets one once a push fails)."""
        self._turned_away = 0
        """Connections turned away, told why and not yet closed (`_turn_away`)."""
        self._acceptor: Acceptor | None = None
        self.max_connections = self.limits.max_connections
        """Clients served at once (0 in `limits`: worked out from the fd limit at start)."""

    async def start(self) -> None:
        if self.listening is not None:
            sock = self.listening
        else:
            old_umask = os.umask(0o177)
            try:
                sock = listen_unix(str(self.socket_path))
            finally:
                os.umask(old_umask)
            os.chmod(self.socket_path, 0o600)
        if not self.limits.max_connections:
            self.max_connections = connections_for_fd_limit()
        self._acceptor = Acceptor(sock, self._accepted)
        self._acceptor.start()

    async def stop(self) -> None:
        """Stop listening, cancel every request still running (a batch of thousands
        stops at its current chunk), close every connection."""
        serving: set[asyncio.Task[None]] = set()
        if self._acceptor is not None:
            await self._acceptor.stop()
            self._acceptor.sock.close()
            serving = self._acceptor.connections
        running: list[asyncio.Task[None]] = []
        for conn in list(self._connections):
            conn.writer.close()
            running.extend(conn.tasks)
            for task in conn.tasks:
                task.cancel()
        if running:
            await asyncio.wait(running, timeout=5)
        if serving:
            await asyncio.wait(serving, timeout=5)
        if self.listening is None:
            with contextlib.suppress(FileNotFoundError):
                self.socket_path.unlink()

    async def notify(self, method: str, params: Any) -> None:
        if not self._connections:
            return
        line = encode({"jsonrpc": "2.0", "method": method, "params": params})
        for conn in list(self._connections):
            if not conn.push(line):
                self._connections.discard(conn)

    async def _accepted(self, sock: socket.socket) -> None:
        """A connection the acceptor took: as streams, served (or turned away)."""
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=CHUNK)
        protocol = asyncio.StreamReaderProtocol(reader)
        try:
            transport, _ = await loop.connect_accepted_socket(lambda: protocol, sock)
        except OSError:
            sock.close()
            return
        await self._serve(reader, asyncio.StreamWriter(transport, protocol, reader, loop))

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._open >= self.max_connections:
            await self._turn_away(reader, writer)
            return
        self._open += 1
        try:
            await self._serve_connection(reader, writer)
        finally:
            self._open -= 1

    async def _turn_away(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One client too many: told so in one line (an error with id null), then closed
        once it has stopped sending (at most `TURN_AWAY_SECONDS`; what it sends is
        dropped). Closed at once, a connection whose request came in unread makes
        Linux reset the client's end: its write fails, and asyncio drops the
        connection before reading the line that says why."""
        limit = self.max_connections
        log.warning("%d clients connected, the most served at once: one more refused", limit)
        data = {
            "limit": "max_connections",
            "value": limit,
            "detail": f"the daemon serves at most {limit} clients at once;"
            " try again once one has gone",
        }
        code = ErrorCode.LIMIT_REACHED
        writer.write(encode(error(code, ERROR_MESSAGES[code], data)))
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writer.drain(), 5)
        if self._turned_away < TURNED_AWAY:
            self._turned_away += 1
            try:
                with contextlib.suppress(Exception):
                    writer.write_eof()
                    async with asyncio.timeout(TURN_AWAY_SECONDS):
                        while await reader.read(1 << 16):
                            pass
            finally:
                self._turned_away -= 1
        writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writer.wait_closed(), 5)

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        conn = _Connection(next(self._numbers), reader, writer, self.limits)
        caller.set(conn.number)  # the reader's turns are shared out by connection
        self._connections.add(conn)
        lines = LineReader(reader, self.line_budget, self.limits.max_line)
        try:
            while True:
                try:
                    line = await lines.readline()
                except (LineTooLong, BudgetExhausted) as exc:
                    lines.release()
                    await conn.write(encode(self._refusal(exc)))
                    break
                if not line:
                    break
                if not line.strip():
                    continue
                await conn.lines.acquire()
                task = asyncio.create_task(self._handle(conn, line))
                conn.tasks.add(task)
                task.add_done_callback(conn.tasks.discard)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            lines.release()
            self._connections.discard(conn)
            if peer_closed(writer.get_extra_info("socket")):
                conn.hangup.cancel()
            if conn.tasks:
                await asyncio.gather(*conn.tasks, return_exceptions=True)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def _refusal(self, exc: Exception) -> dict[str, Any]:
        if isinstance(exc, LineTooLong):
            why = f"line longer than {self.limits.max_line} bytes"
        else:
            why = (
                f"the daemon holds {self.limits.line_buffer_total} bytes of unfinished lines"
                " from all connections: this one is closed"
            )
            log.warning("unfinished lines of all connections reached the budget: one closed")
        return error(ErrorCode.INVALID_REQUEST, "Invalid request", why)

    async def _handle(self, conn: _Connection, line: bytes) -> None:
        conn.hangup.enter()
        try:
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                await conn.write(encode(error(ErrorCode.PARSE_ERROR, "Parse error", "not UTF-8")))
            else:
                await self._answer(conn, parse(text, self.limits.max_batch))
        except (ConnectionError, TimeoutError):
            pass
        except Exception:
            log.exception("failed to answer a request")
        finally:
            conn.lines.release()

    async def _answer(self, conn: _Connection, parsed: Parsed) -> None:
        """Run the line's requests and write their answer (a batch's under its budgets)."""
        if not parsed.batch:
            for _, request in parsed.requests:
                parsed.answers[0] = await self._run(conn, request)
            response = parsed.answer()
            if response is not None:
                await conn.write(encode(response))
            return
        batch = BatchAnswer(len(parsed.answers), self.limits.batch_answer_bytes, self.answer_budget)
        try:
            for slot, known in enumerate(parsed.answers):
                if known is not None:
                    batch.known(slot, known)
            await self._run_batch(conn, parsed.requests, batch)
            line = batch.line()
            if line is not None:
                await conn.write(line)
        finally:
            batch.release()

    async def _run_batch(
        self, conn: _Connection, requests: list[tuple[int, dict[str, Any]]], batch: BatchAnswer
    ) -> None:
        """Run a batch's items in chunks of `batch_chunk`; once its answers reach a budget,
        the calls left are not run (but notifications, which have no answer)."""
        chunk = max(1, self.limits.batch_chunk)
        for start in range(0, len(requests), chunk):
            part = requests[start : start + chunk]
            if batch.reached is not None:
                for slot, request in part:
                    batch.skip(slot, request)
                part = [(slot, request) for slot, request in part if "id" not in request]
            answers = await asyncio.gather(*(self._run(conn, r) for _, r in part))
            for (slot, request), answer in zip(part, answers, strict=True):
                batch.add(slot, request, answer)

    async def _run(self, conn: _Connection, request: dict[str, Any]) -> Any:
        async with conn.requests, self._total:
            return await run(request, self.methods, self.context)
