"""loggbokd under systemd: the listening socket it hands over, and sd_notify.

Socket activation (sd_listen_fds(3)): when `LISTEN_PID` is this process and
`LISTEN_FDS` is 1, file descriptor 3 is the socket to serve. It must be a
listening Unix stream socket bound to the path loggbokd would serve, in a
private folder of this user's, else loggbokd refuses to start (clients would
look for it elsewhere, or refuse it).

Readiness, stopping, status and the watchdog (sd_notify(3)): one datagram of
`KEY=VALUE` lines to the Unix socket named by `$NOTIFY_SOCKET` (a leading `@`
is the abstract namespace). That is the whole documented protocol, so it is
written here rather than taken from a library: python-systemd needs libsystemd's
headers to build, and the pure-Python `sdnotify` package has not changed since 2018.

The variables are removed from the environment once read, as `sd_notify(...,
unset_environment=1)` does, so processes the daemon starts (parse workers, a
mailbox's `password_command`) neither inherit the socket nor ping for it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import stat
from collections.abc import Mapping, MutableMapping
from pathlib import Path

from loggbok.protocol import socket_check

log = logging.getLogger(__name__)

LISTEN_FDS_START = 3


class ActivationError(RuntimeError):
    """systemd handed over something loggbokd cannot serve on."""


def _pop(environ: MutableMapping[str, str], *names: str) -> list[str | None]:
    return [environ.pop(name, None) for name in names]


def inherited_socket(
    expected: Path, environ: MutableMapping[str, str] | None = None
) -> socket.socket | None:
    """The listening socket systemd passed (fd 3), or None when not socket-activated.

    Raises ActivationError when what was passed is not one listening Unix stream
    socket bound to `expected`.
    """
    env = os.environ if environ is None else environ
    pid, fds, _names = _pop(env, "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES")
    if not pid or not fds:
        return None
    try:
        if int(pid) != os.getpid():
            return None
        count = int(fds)
    except ValueError:
        raise ActivationError(f"LISTEN_PID={pid!r} LISTEN_FDS={fds!r} are not numbers") from None
    if count != 1:
        raise ActivationError(f"systemd passed {count} sockets; loggbokd serves exactly one")
    try:
        mode = os.fstat(LISTEN_FDS_START).st_mode
    except OSError as exc:
        raise ActivationError(f"file descriptor {LISTEN_FDS_START} is not open ({exc})") from None
    if not stat.S_ISSOCK(mode):
        raise ActivationError(f"file descriptor {LISTEN_FDS_START} is not a socket")
    sock = socket.socket(fileno=LISTEN_FDS_START)
    try:
        _check(sock, expected)
    except ActivationError:
        sock.detach()
        raise
    os.set_inheritable(sock.fileno(), False)
    sock.setblocking(False)
    return sock


def _check(sock: socket.socket, expected: Path) -> None:
    if sock.family != socket.AF_UNIX or sock.type != socket.SOCK_STREAM:
        raise ActivationError(
            f"the socket from systemd is {sock.family.name}/{sock.type.name};"
            " loggbokd serves a Unix stream socket (ListenStream=%t/loggbok/daemon.sock)"
        )
    if not sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
        raise ActivationError("the socket from systemd is not listening")
    bound = sock.getsockname()
    name = bound.decode(errors="replace") if isinstance(bound, bytes) else str(bound)
    if not name or not _same_path(Path(name), expected):
        raise ActivationError(
            f"the socket from systemd is bound to {name or '(unnamed)'!s}, but loggbokd"
            f" serves {expected}: pass --socket {name or 'PATH'} or fix ListenStream="
        )
    problem = socket_check.folder_problem(expected.parent)
    if problem:  # clients would refuse it (DirectoryMode=0700 makes it right)
        raise ActivationError(f"refusing the socket from systemd: {problem}")


def _same_path(a: Path, b: Path) -> bool:
    if a == b:
        return True
    with contextlib.suppress(OSError):
        return os.path.samefile(a, b)
    return False


class Notifier:
    """sd_notify: a no-op unless `$NOTIFY_SOCKET` was set when it was made."""

    def __init__(self, environ: MutableMapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        address, usec, watchdog_pid = _pop(env, "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")
        self.address: str | None = None
        if address and (address.startswith(("/", "@"))):
            self.address = "\0" + address[1:] if address.startswith("@") else address
        self.watchdog_seconds = _watchdog_seconds(usec, watchdog_pid)
        self._sock: socket.socket | None = None
        self._warned = False

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def send(self, fields: Mapping[str, str]) -> bool:
        """Send `KEY=VALUE` lines in one datagram; False when not sent (never raises)."""
        if self.address is None:
            return False
        message = "\n".join(f"{k}={v.replace(chr(10), ' ')}" for k, v in fields.items())
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
                self._sock.setblocking(False)
            self._sock.sendto(message.encode(), self.address)
        except OSError as exc:
            if not self._warned:
                log.warning("cannot notify systemd on %s (%s)", self.address, exc)
                self._warned = True
            return False
        return True

    def ready(self, status: str) -> bool:
        return self.send({"READY": "1", "STATUS": status, "MAINPID": str(os.getpid())})

    def stopping(self, status: str = "stopping") -> bool:
        return self.send({"STOPPING": "1", "STATUS": status})

    def status(self, status: str) -> bool:
        return self.send({"STATUS": status})

    def watchdog(self) -> bool:
        return self.send({"WATCHDOG": "1"})

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def _watchdog_seconds(usec: str | None, pid: str | None) -> float | None:
    """sd_watchdog_enabled: the watchdog interval, when it applies to this process."""
    if not usec:
        return None
    try:
        if pid and int(pid) != os.getpid():
            return None
        value = int(usec)
    except ValueError:
        return None
    return value / 1_000_000 if value > 0 else None


def journal_stream(environ: Mapping[str, str] | None = None, fd: int = 2) -> bool:
    """True when `fd` (stderr) is the journal stream systemd connected
    (`$JOURNAL_STREAM` is "device:inode" of it, per systemd.exec(5))."""
    value = (os.environ if environ is None else environ).get("JOURNAL_STREAM", "")
    device, _, inode = value.partition(":")
    if not device or not inode:
        return False
    try:
        info = os.fstat(fd)
        return (info.st_dev, info.st_ino) == (int(device), int(inode))
    except (OSError, ValueError):
        return False
