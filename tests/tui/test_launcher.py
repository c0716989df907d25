"""The launcher (`tui/launcher.py`): two starts at once (the TUI and a script, or
two terminals) end with one daemon, both callers using it, and the pid file
naming the daemon that runs (it named the loser, so scripts stopped the wrong
process and left the real daemon running)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from pathlib import Path

from loggbok.tui.launcher import PID_NAME, answers, ensure_daemon


def _alive(pid: int) -> bool:
    """Running (a child of this test that has ended is reaped, not left a zombie)."""
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_two_starts_at_once_leave_one_daemon_and_its_pid(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir(mode=0o700)
    socket_path, data_dir = run / "d.sock", tmp_path / "data"
    started = await asyncio.gather(
        ensure_daemon(socket_path, data_dir), ensure_daemon(socket_path, data_dir)
    )
    pid = int((data_dir / PID_NAME).read_text())
    try:
        assert sorted(started) == [False, True]
        assert await answers(socket_path)
        assert _alive(pid)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if not _alive(pid):
                break
            await asyncio.sleep(0.05)
