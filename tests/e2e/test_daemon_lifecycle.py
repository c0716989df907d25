"""Where the daemon is and when it ends, as a user meets it: `loggbokd` in the
foreground says where it listens; `loggbok stop` ends it; quitting the TUI says
whether it keeps running, and the demo's daemon ends with the demo."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from loggbok.protocol.socket_check import listener_pid
from loggbok.tui.cli import after_tui
from tests.conftest import DaemonProcess


def test_foreground_daemon_says_where_it_listens(daemon: DaemonProcess) -> None:
    # The socket answers as soon as it listens; the line follows a moment later.
    line = f"loggbokd: listening on {daemon.socket} (data in {daemon.data_dir.resolve()})"
    deadline = time.monotonic() + 30
    while line not in (said := (daemon.data_dir.parent / "daemon.stderr").read_text()):
        assert time.monotonic() < deadline, said
        time.sleep(0.05)


def test_loggbok_stop_ends_the_daemon(daemon: DaemonProcess) -> None:
    assert daemon.process is not None
    done = subprocess.run(
        [sys.executable, "-m", "loggbok.tui.cli", "--socket", str(daemon.socket), "stop"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=os.environ.copy(),
    )
    assert done.returncode == 0, done.stderr
    assert f"stopped loggbokd (pid {daemon.process.pid})" in done.stderr
    assert daemon.process.wait(30) == 0
    again = subprocess.run(
        [sys.executable, "-m", "loggbok.tui.cli", "--socket", str(daemon.socket), "stop"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert again.returncode == 0 and "no daemon was running" in again.stderr


def test_quitting_says_whether_the_daemon_keeps_running(daemon: DaemonProcess) -> None:
    assert daemon.process is not None
    kept = after_tui(daemon.socket, demo=False)
    assert "keeps running in the background" in kept and "`loggbok stop`" in kept
    assert listener_pid(daemon.socket) == daemon.process.pid
    assert after_tui(daemon.socket, demo=True) == "loggbok: the demo's daemon has stopped."
    assert daemon.process.wait(30) == 0
    assert "not running" in after_tui(daemon.socket, demo=False)


def test_stop_without_a_daemon(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "loggbok.tui.cli", "--socket", str(tmp_path / "none"), "stop"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0 and "no daemon was running" in done.stderr
