"""Is a socket path safe to talk to? The checks both ends make before trusting one.

The fallback socket folder lives in the world-writable temporary directory, so
another local user could create it first and listen there. A path is trusted
only when its folder belongs to this user and is private (no access at all for
group or others), and the socket in it is a socket that belongs to this user.
Once connected, the client also asks the kernel who listens (`SO_PEERCRED`):
a process of another user is refused before a byte is sent.
"""

from __future__ import annotations

import os
import socket
import stat
import struct
from pathlib import Path


class UnsafeSocket(PermissionError):
    """The socket, its folder or the process behind it is not this user's own."""


def folder_problem(folder: Path, uid: int | None = None) -> str | None:
    """Why `folder` may not hold our socket, or None when it may (it must exist)."""
    uid = os.getuid() if uid is None else uid
    info = os.lstat(folder)
    if stat.S_ISLNK(info.st_mode):
        if info.st_uid != uid:
            return (
                f"{folder} is a symbolic link that belongs to uid {info.st_uid}, not to uid {uid}"
            )
        info = os.stat(folder)
    if not stat.S_ISDIR(info.st_mode):
        return f"{folder} is not a folder"
    if info.st_uid != uid:
        return f"the folder {folder} belongs to uid {info.st_uid}, not to uid {uid}"
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        return f"the folder {folder} is open to other users (mode {mode:04o}, must be 0700)"
    return None


def socket_problem(path: Path, uid: int | None = None) -> str | None:
    """Why the existing entry at `path` is not our socket, or None when it is."""
    uid = os.getuid() if uid is None else uid
    info = os.lstat(path)
    if not stat.S_ISSOCK(info.st_mode):
        return f"{path} is not a socket"
    if info.st_uid != uid:
        return f"the socket {path} belongs to uid {info.st_uid}, not to uid {uid}"
    return None


def check_path(path: Path) -> None:
    """Raise `UnsafeSocket` unless `path` and its folder are this user's own and private;
    `FileNotFoundError` when either is missing (nobody listens)."""
    problem = folder_problem(path.parent) or socket_problem(path)
    if problem:
        raise UnsafeSocket(f"refusing to talk to {path}: {problem}")


def _peer_credentials(sock: socket.socket) -> tuple[int, int] | None:
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    raw = sock.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    pid, uid, _gid = struct.unpack("3i", raw)
    return int(pid), int(uid)


def peer_uid(sock: socket.socket) -> int | None:
    """The uid of the process at the other end (None where the OS cannot say)."""
    found = _peer_credentials(sock)
    return None if found is None else found[1]


def listener_pid(path: Path) -> int | None:
    """The pid of the process listening on the Unix socket at `path` (None when nothing
    listens there or the OS cannot say)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return None
        found = _peer_credentials(probe)
    return None if found is None else found[0]


def check_peer(sock: socket.socket, path: Path) -> None:
    """Raise `UnsafeSocket` unless the listening process runs as this user."""
    uid = peer_uid(sock)
    if uid is not None and uid != os.getuid():
        raise UnsafeSocket(
            f"refusing to talk to {path}: the process listening there runs as uid {uid},"
            f" not as uid {os.getuid()}"
        )
