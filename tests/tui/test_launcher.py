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

from loggbok.daemon.lockfile import hold_exclusive
from loggbok.tui.launcher import LOG_NAME, PID_NAME, answers, ensure_daemon, spawn


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


async def test_a_start_that_loses_the_folder_waits_for_the_daemon_that_won(
    tmp_path: Path,
) -> None:
    # the other start's daemon took the data folder first but does not listen yet:
    # ours exits ("another loggbokd", status 2) and the call waits for the other one
    # (it raised "loggbokd exited with status 2", seen in a full run under load)
    run = tmp_path / "run"
    run.mkdir(mode=0o700)
    socket_path, data_dir = run / "d.sock", tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    lock = hold_exclusive(data_dir / "daemon.lock")
    waiting = asyncio.create_task(ensure_daemon(socket_path, data_dir))
    deadline = time.monotonic() + 60
    log = data_dir / LOG_NAME
    while not log.exists() or "another loggbokd" not in log.read_text():
        assert time.monotonic() < deadline and not waiting.done()
        await asyncio.sleep(0.1)
    os.close(lock)  # the winner: a daemon started now, with the folder free
    winner = spawn(socket_path, data_dir)
    try:
        assert await asyncio.wait_for(waiting, 120) is False
        assert await answers(socket_path)
    finally:
        winner.terminate()
        await asyncio.to_thread(winner.wait, 30)
