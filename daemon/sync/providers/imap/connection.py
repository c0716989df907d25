"""One blocking IMAP connection: imaplib to connect and log in, our reader after.

`ImapConnection` is used from exactly one thread (the backend's fetch thread or
its IDLE thread). imaplib opens the socket, negotiates STARTTLS or implicit
TLS and logs in (LOGIN, AUTHENTICATE PLAIN, AUTHENTICATE XOAUTH2); its
`file` is our `SocketReader`, so after login the same buffered reader serves
our own tagged commands, pipelining and IDLE. The reader can wait on the
socket and on a wake-up socket together, which is how `close()` and
cancellation interrupt a pending IDLE from another thread.

Errors leave this module already mapped onto the backend taxonomy:
`ImapConnectError` (a TemporaryError with a `reason`: dns, refused, tls,
timeout, network, protocol), `AuthError`, and TemporaryError for a dropped
connection. Secrets never appear in messages or logs.
"""

from __future__ import annotations

import base64
import contextlib
import imaplib
import itertools
import logging
import select
import socket
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from loggbok.daemon.sync.backend import AuthError, TemporaryError
from loggbok.daemon.sync.providers.imap.responses import (
    ConnectionClosed,
    ProtocolError,
    Response,
    quote,
    read_response,
    response_codes,
    untagged_kind,
)

log = logging.getLogger(__name__)

Security = Literal["tls", "starttls", "none"]
AuthMethod = Literal["password", "xoauth2"]
ErrorReason = Literal["dns", "refused", "tls", "timeout", "network", "protocol"]

_tags = itertools.count(1)


class ImapConnectError(TemporaryError):
    """Could not reach or talk to the server; `reason` says why, for `mailboxes.test`."""

    def __init__(self, reason: ErrorReason, message: str) -> None:
        super().__init__(message)
        self.reason: ErrorReason = reason


class Interrupted(Exception):
    """The wake-up socket fired while waiting for the server (close or cancel)."""


class CommandFailed(Exception):
    """A tagged NO or BAD."""

    def __init__(self, status: str, text: str) -> None:
        super().__init__(f"{status} {text}")
        self.status = status
        self.text = text


@dataclass(frozen=True, slots=True)
class ServerSettings:
    host: str
    port: int
    security: Security
    username: str
    secret: str = field(repr=False)
    auth: AuthMethod = "password"
    ssl_context: ssl.SSLContext | None = None
    timeout: float = 60.0

    def context(self) -> ssl.SSLContext:
        return self.ssl_context if self.ssl_context is not None else ssl.create_default_context()


_RECV_MAX = 4 * 1024 * 1024
"""Largest single receive into a literal's buffer."""
MAX_LINE = 64 * 1024 * 1024
"""The longest response line read (a UID SEARCH of millions of messages fits)."""
_SET_ASIDE = 64 * 1024 * 1024
"""The most memory set aside for a literal before its bytes arrive: the size a
server announces is not trusted with more than it has sent (the buffer doubles
as the bytes come)."""


class SocketReader:
    """Buffered reads on a socket, with an optional wait on a wake-up socket.

    Replaces imaplib's `file`, so everything imaplib and we read shares one buffer.
    """

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._buf = bytearray()
        self._pos = 0

    def _fill(self) -> None:
        try:
            data = self.sock.recv(262144)
        except TimeoutError:
            raise
        except OSError as exc:
            raise ConnectionClosed(f"connection lost: {exc}") from exc
        if not data:
            raise ConnectionClosed("the server closed the connection")
        if self._pos > 65536 and self._pos * 2 > len(self._buf):
            del self._buf[: self._pos]
            self._pos = 0
        self._buf += data

    def buffered(self) -> int:
        return len(self._buf) - self._pos

    def wait_readable(self, timeout: float, wake: socket.socket | None) -> bool:
        """True when data is waiting (buffered or on the socket); False on timeout.

        Raises Interrupted when `wake` becomes readable first.
        """
        if self.buffered():
            return True
        if isinstance(self.sock, ssl.SSLSocket) and self.sock.pending():
            return True
        watched: list[socket.socket] = [self.sock] + ([wake] if wake is not None else [])
        ready, _, _ = select.select(watched, [], [], max(timeout, 0.0))
        if wake is not None and wake in ready:
            raise Interrupted()
        return bool(ready)

    def readline(self, limit: int = -1) -> bytes:
        while True:
            end = self._buf.find(b"\n", self._pos)
            if end >= 0:
                line = bytes(self._buf[self._pos : end + 1])
                self._pos = end + 1
                return line
            if 0 < limit < self.buffered():
                raise ProtocolError("response line too long")
            try:
                self._fill()
            except ConnectionClosed:
                rest = bytes(self._buf[self._pos :])
                self._pos = len(self._buf)
                return rest

    def read(self, size: int = -1) -> bytes:
        """`size` bytes (fewer only when the connection ends first).

        A literal larger than the buffer (a whole message) is received straight into
        its own buffer, so its bytes are copied once, not through the line buffer.
        """
        if size <= self.buffered():
            with memoryview(self._buf) as view:
                chunk = bytes(view[self._pos : self._pos + size])
            self._pos += len(chunk)
            return chunk
        have = self.buffered()
        out = bytearray(min(size, max(have, _SET_ASIDE)))
        with memoryview(self._buf) as view:
            out[:have] = view[self._pos :]
        self._buf.clear()
        self._pos = 0
        while have < size:
            if have == len(out):
                out.extend(bytes(min(size, 2 * len(out)) - len(out)))
            try:
                with memoryview(out) as view, view[have:] as target:
                    received = self.sock.recv_into(target, min(len(out) - have, _RECV_MAX))
            except TimeoutError:
                raise
            except OSError:
                break
            if not received:
                break
            have += received
        return bytes(out) if have == size else bytes(out[:have])

    def close(self) -> None:
        self._buf.clear()
        self._pos = 0


KEEPALIVE = (("TCP_KEEPIDLE", 60), ("TCP_KEEPINTVL", 15), ("TCP_KEEPCNT", 4))
"""Seconds of silence before the first probe, seconds between probes, probes."""


def keep_alive(sock: socket.socket) -> None:
    """TCP keepalive on an IMAP socket. A connection that sits in IDLE for many
    minutes keeps its NAT and firewall state alive, and a peer that is gone without
    a word (a laptop woken on another network, a server powered off) is noticed in
    about two minutes, not at the next IDLE re-issue 29 minutes on."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for name, value in KEEPALIVE:
        option = getattr(socket, name, None)
        if option is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, option, value)


class _IMAP4(imaplib.IMAP4):
    def open(self, host: str = "", port: int = 143, timeout: float | None = None) -> None:
        super().open(host, port, timeout)
        keep_alive(self.sock)
        self.file = SocketReader(self.sock)  # type: ignore[assignment]

    def starttls(self, ssl_context: ssl.SSLContext | None = None) -> Any:
        result = super().starttls(ssl_context)
        self.file = SocketReader(self.sock)  # type: ignore[assignment]
        return result


class _IMAP4_SSL(imaplib.IMAP4_SSL):
    def open(self, host: str = "", port: int | None = 993, timeout: float | None = None) -> None:
        super().open(host, port, timeout)
        keep_alive(self.sock)
        self.file = SocketReader(self.sock)  # type: ignore[assignment]


def map_os_error(exc: BaseException, host: str, port: int) -> ImapConnectError:
    where = f"{host}:{port}"
    if isinstance(exc, socket.gaierror):
        return ImapConnectError("dns", f"cannot resolve {host}: {exc.strerror or exc}")
    if isinstance(exc, ConnectionRefusedError):
        return ImapConnectError("refused", f"connection to {where} refused")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return ImapConnectError(
            "tls", f"TLS certificate of {where} not trusted: {exc.verify_message or exc}"
        )
    if isinstance(exc, ssl.SSLError):
        return ImapConnectError("tls", f"TLS with {where} failed: {exc.reason or exc}")
    if isinstance(exc, TimeoutError):
        return ImapConnectError("timeout", f"{where} did not answer in time")
    if isinstance(exc, ConnectionClosed | imaplib.IMAP4.abort | EOFError):
        return ImapConnectError("network", f"connection to {where} lost: {exc}")
    if isinstance(exc, OSError):
        return ImapConnectError("network", f"cannot reach {where}: {exc.strerror or exc}")
    return ImapConnectError("protocol", f"unexpected reply from {where}: {exc}")


class ImapConnection:
    """A logged-in connection. Blocking; one thread at a time."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self.capabilities: frozenset[str] = frozenset()
        self.enabled: frozenset[str] = frozenset()
        self.selected: str | None = None
        self._imap: imaplib.IMAP4 | None = None
        self._reader: SocketReader | None = None
        self._broken = False

    # connecting -------------------------------------------------------------------

    def open(self) -> None:
        """Connect, secure, log in, read capabilities and enable CONDSTORE/QRESYNC."""
        s = self.settings
        try:
            if s.security == "tls":
                imap: imaplib.IMAP4 = _IMAP4_SSL(
                    s.host, s.port, ssl_context=s.context(), timeout=s.timeout
                )
            else:
                imap = _IMAP4(s.host, s.port, timeout=s.timeout)
            self._imap = imap
            if s.security == "starttls":
                if "STARTTLS" not in imap.capabilities:
                    raise ImapConnectError("tls", f"{s.host} does not offer STARTTLS")
                imap.starttls(s.context())
        except ImapConnectError:
            self.shutdown()
            raise
        except (OSError, imaplib.IMAP4.error, ConnectionClosed, EOFError) as exc:
            self.shutdown()
            raise map_os_error(exc, s.host, s.port) from None
        self._reader = imap.file  # type: ignore[assignment]
        try:
            self._login(imap)
            self.capabilities = self._capability()
            wanted: list[str] = [c for c in ("QRESYNC", "CONDSTORE") if c in self.capabilities]
            if wanted and "ENABLE" in self.capabilities:
                self.enabled = self._enable(wanted[:1])
        except BaseException:
            self.shutdown()
            raise

    def _login(self, imap: imaplib.IMAP4) -> None:
        s = self.settings
        caps = set(imap.capabilities)
        try:
            if s.auth == "xoauth2":
                token = f"user={s.username}\x01auth=Bearer {s.secret}\x01\x01".encode()
                calls = itertools.count()
                imap.authenticate("XOAUTH2", lambda _challenge: token if next(calls) == 0 else b"")
            elif "LOGINDISABLED" in caps:
                raise AuthError(
                    f"{s.host} refuses to log in without TLS; use security tls or starttls"
                )
            elif "AUTH=PLAIN" in caps:
                plain = b"\0" + s.username.encode() + b"\0" + s.secret.encode()
                imap.authenticate("PLAIN", lambda _challenge: plain)
            else:
                imap.login(s.username, s.secret)
        except imaplib.IMAP4.abort as exc:
            raise map_os_error(exc, s.host, s.port) from None
        except imaplib.IMAP4.error as exc:
            text = str(exc)
            if "UNAVAILABLE" in text.upper() or "SERVERBUG" in text.upper():
                raise ImapConnectError("protocol", f"{s.host} cannot log in now: {text}") from None
            raise AuthError(f"{s.host} refused the login for {s.username}: {text}") from None
        except (OSError, ConnectionClosed) as exc:
            raise map_os_error(exc, s.host, s.port) from None

    def _capability(self) -> frozenset[str]:
        caps: set[str] = set()
        for response in self.command("CAPABILITY"):
            if response.first[:13].upper() == b"* CAPABILITY ":
                caps.update(response.first[13:].decode("ascii", "replace").upper().split())
        return frozenset(caps)

    def _enable(self, names: list[str]) -> frozenset[str]:
        enabled: set[str] = set()
        try:
            responses = self.command("ENABLE " + " ".join(names))
        except CommandFailed:
            return frozenset()
        for response in responses:
            if response.first[:10].upper() == b"* ENABLED ":
                enabled.update(response.first[10:].decode("ascii", "replace").upper().split())
        if "QRESYNC" in enabled:
            enabled.add("CONDSTORE")
        return frozenset(enabled)

    # commands ---------------------------------------------------------------------------

    def _require(self) -> tuple[imaplib.IMAP4, SocketReader]:
        if self._imap is None or self._reader is None or self._broken:
            raise TemporaryError(f"not connected to {self.settings.host}")
        return self._imap, self._reader

    def send(self, data: bytes) -> None:
        imap, _ = self._require()
        try:
            imap.send(data)
        except OSError as exc:
            self._broken = True
            raise map_os_error(exc, self.settings.host, self.settings.port) from None

    def read(self) -> Response:
        _, reader = self._require()
        try:
            return read_response(lambda: reader.readline(MAX_LINE), reader.read)
        except (OSError, ConnectionClosed, ProtocolError) as exc:
            self._broken = True
            raise map_os_error(exc, self.settings.host, self.settings.port) from None

    def start(self, command: str) -> bytes:
        """Send a command without waiting for its answer; returns its tag."""
        tag = f"lb{next(_tags)}".encode()
        self.send(tag + b" " + command.encode("ascii") + b"\r\n")
        return tag

    def collect(
        self, tag: bytes, on_untagged: Callable[[Response], None] | None = None
    ) -> list[Response]:
        """Read until `tag`'s completion; untagged responses go to `on_untagged` or the list."""
        untagged: list[Response] = []
        while True:
            response = self.read()
            first = response.first
            if first.startswith(tag + b" "):
                status, _, text = first[len(tag) + 1 :].partition(b" ")
                word = status.decode("ascii", "replace").upper()
                if word != "OK":
                    raise CommandFailed(word, text.decode("utf-8", "replace"))
                untagged.append(response)  # the tagged line itself comes last
                return untagged
            if first.startswith(b"* BYE"):
                self._broken = True
                raise ImapConnectError(
                    "network", f"{self.settings.host} closed the connection: {response.text()}"
                )
            if on_untagged is not None and first.startswith(b"*"):
                on_untagged(response)
            else:
                untagged.append(response)

    def command(self, command: str) -> list[Response]:
        return self.collect(self.start(command))

    def pipeline(self, commands: Iterable[str], on_untagged: Callable[[Response], None]) -> None:
        """Send all commands at once, then read all their answers in order."""
        tags = [self.start(c) for c in commands]
        failure: CommandFailed | None = None
        for tag in tags:
            try:
                self.collect(tag, on_untagged)
            except CommandFailed as exc:
                failure = failure or exc
        if failure is not None:
            raise failure

    # mailbox state ------------------------------------------------------------------------

    def examine(self, name: str) -> dict[str, int]:
        """EXAMINE (read-only) a folder; returns UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ, EXISTS."""
        from loggbok.daemon.sync.providers.imap.folders import encode_mutf7

        self.selected = None
        suffix = " (CONDSTORE)" if "CONDSTORE" in self.capabilities and not self.enabled else ""
        responses = self.command(f"EXAMINE {quote(encode_mutf7(name))}{suffix}")
        state: dict[str, int] = {}
        for response in responses:
            kind, number = untagged_kind(response)
            if kind == "EXISTS" and number is not None:
                state["exists"] = number
            for code, value in response_codes(response.first).items():
                if code in ("UIDVALIDITY", "UIDNEXT", "HIGHESTMODSEQ") and value.isdigit():
                    state[code.lower()] = int(value)
        self.selected = name
        return state

    def status(self, name: str) -> dict[str, int]:
        """STATUS of a folder that is not selected: UIDVALIDITY, UIDNEXT (HIGHESTMODSEQ)."""
        from loggbok.daemon.sync.providers.imap.folders import encode_mutf7
        from loggbok.daemon.sync.providers.imap.responses import parse_values

        items = "UIDVALIDITY UIDNEXT MESSAGES"
        if "CONDSTORE" in self.capabilities:
            items += " HIGHESTMODSEQ"
        state: dict[str, int] = {}
        for response in self.command(f"STATUS {quote(encode_mutf7(name))} ({items})"):
            if response.first[:9].upper() != b"* STATUS ":
                continue
            values = parse_values(response.parts, 9)
            if len(values) >= 2 and isinstance(values[-1], list):
                pairs = values[-1]
                for i in range(0, len(pairs) - 1, 2):
                    key, value = pairs[i], pairs[i + 1]
                    if isinstance(key, str) and isinstance(value, str) and value.isdigit():
                        state[key.lower()] = int(value)
        return state

    # IDLE -----------------------------------------------------------------------------------

    def wait_readable(self, timeout: float, wake: socket.socket | None) -> bool:
        _, reader = self._require()
        try:
            return reader.wait_readable(timeout, wake)
        except OSError as exc:
            self._broken = True
            raise map_os_error(exc, self.settings.host, self.settings.port) from None

    # closing ------------------------------------------------------------------------------

    def logout(self) -> None:
        if self._imap is not None and not self._broken:
            with contextlib.suppress(Exception):
                self._imap.sock.settimeout(5.0)
                self.command("LOGOUT")
        self.shutdown()

    def interrupt(self) -> None:
        """From any thread: break whatever this connection's thread is waiting for."""
        self._broken = True
        imap = self._imap
        if imap is not None:
            with contextlib.suppress(OSError, AttributeError):
                imap.sock.shutdown(socket.SHUT_RDWR)

    def shutdown(self) -> None:
        imap, self._imap = self._imap, None
        self._reader = None
        self._broken = True
        if imap is not None:
            with contextlib.suppress(OSError, AttributeError):
                imap.sock.close()


def xoauth2_string(username: str, token: str) -> str:
    """The SASL XOAUTH2 initial response, base64 (for tests and diagnostics)."""
    return base64.b64encode(f"user={username}\x01auth=Bearer {token}\x01\x01".encode()).decode()
