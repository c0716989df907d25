"""Processes seen through /proc: a test session's own (tagged by an environment
marker its subprocesses inherit), a process's children, and whether one still runs.

Other people run test suites on the same machine at the same time: everything
here is scoped by the marker or by parent id, never by a command's name.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

SESSION_VARIABLE = "LOGGBOK_TEST_SESSION"
_PROC = Path("/proc")


def _pids() -> list[int]:
    return [int(p.name) for p in _PROC.iterdir() if p.name.isdigit()]


def _read(pid: int, name: str) -> bytes | None:
    try:
        return (_PROC / str(pid) / name).read_bytes()
    except OSError:  # gone, or another user's
        return None


def _stat_fields(pid: int) -> list[str] | None:
    raw = _read(pid, "stat")
    if raw is None:
        return None
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    return raw[raw.rfind(b")") + 2 :].decode().split()


def running(pid: int) -> bool:
    """Alive and not a zombie waiting for a parent that does not reap it."""
    fields = _stat_fields(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def command(pid: int) -> str:
    raw = _read(pid, "cmdline") or b""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip() or f"[pid {pid}]"


def children(parent: int) -> list[int]:
    found = []
    for pid in _pids():
        fields = _stat_fields(pid)
        if fields is not None and int(fields[1]) == parent and running(pid):
            found.append(pid)
    return found


def tagged(marker: str, *, exclude: int) -> list[int]:
    """Running processes whose environment carries `SESSION_VARIABLE=marker`."""
    needle = f"{SESSION_VARIABLE}={marker}".encode()
    found = []
    for pid in _pids():
        if pid == exclude:
            continue
        environ = _read(pid, "environ")
        if environ and needle in environ.split(b"\0") and running(pid):
            found.append(pid)
    return found


def wait_gone(pids: list[int], timeout: float) -> list[int]:
    """Wait until none of `pids` runs; those still running after `timeout`."""
    deadline = time.monotonic() + timeout
    left = [p for p in pids if running(p)]
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = [p for p in left if running(p)]
    return left


def this_session() -> str | None:
    return os.environ.get(SESSION_VARIABLE)
