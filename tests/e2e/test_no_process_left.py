"""A SIGKILLed daemon takes its parse workers with it, and a test session that
leaves a process behind fails and names it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import DaemonProcess
from tests.support import leftovers, processes

ROOT = Path(__file__).resolve().parents[2]


def _pool_workers(daemon_pid: int, timeout: float = 60.0) -> list[int]:
    """The daemon's spawned children (its warmed-up parse pool and resource tracker)."""
    deadline = time.monotonic() + timeout
    while True:
        workers = [
            pid for pid in processes.children(daemon_pid) if "spawn_main" in processes.command(pid)
        ]
        if workers or time.monotonic() > deadline:
            return workers
        time.sleep(0.1)


def test_sigkilled_daemon_takes_its_parse_workers_with_it(daemon: DaemonProcess) -> None:
    assert daemon.process is not None
    pid = daemon.process.pid
    workers = _pool_workers(pid)
    assert workers, "the daemon warms up its parse pool at start"
    spawned = processes.children(pid)  # workers and multiprocessing's resource tracker
    daemon.kill()
    left = processes.wait_gone(spawned, timeout=30.0)
    assert left == [], [processes.command(p) for p in left]


LEAKY_TEST = """
import subprocess


def test_leaves_a_process_behind():
    subprocess.Popen(["sleep", "600"])
"""


def test_a_session_that_leaves_a_process_fails_and_names_it(tmp_path: Path) -> None:
    (tmp_path / "test_leaky.py").write_text(LEAKY_TEST)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "tests.support.leftovers",
            "--rootdir",
            str(tmp_path),
            str(tmp_path / "test_leaky.py"),
        ],
        cwd=ROOT,
        env={**os.environ, leftovers.GRACE_VARIABLE: "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    assert "still run after it" in done.stdout
    assert "sleep 600" in done.stdout
