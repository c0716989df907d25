"""A pytest plugin: the session fails when a process it started outlives it.

At its start the session puts a marker in its environment (`LOGGBOK_TEST_SESSION`,
inherited by every process it starts: daemons, their parse workers, Dovecot,
...); at its end it waits a little for them, then lists those still running,
ends them and fails. Only this session's processes are ever looked at.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import uuid
from pathlib import Path

import pytest

from tests.support import processes

GRACE_VARIABLE = "LOGGBOK_TEST_LEFTOVER_GRACE"
"""Seconds the session waits for its processes to end (default 20)."""


def pytest_sessionstart(session: pytest.Session) -> None:
    """Tag this session: every process it starts inherits the marker."""
    os.environ[processes.SESSION_VARIABLE] = uuid.uuid4().hex


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the session when a process it started is still running at its end
    (daemons, parse workers, Dovecot, ...): list them, then end them."""
    marker = processes.this_session()
    if marker is None or not Path("/proc/self/environ").exists():
        return
    pool = sys.modules.get("loggbok.daemon.sync.parse_pool")
    if pool is not None:  # in-process tests may have started this process's own pool
        pool.shutdown()
    me = os.getpid()
    # The multiprocessing resource tracker of this very process ends when it does.
    own_tracker = {
        pid for pid in processes.children(me) if "resource_tracker" in processes.command(pid)
    }
    leftovers = processes.wait_gone(
        [p for p in processes.tagged(marker, exclude=me) if p not in own_tracker],
        float(os.environ.get(GRACE_VARIABLE, "20")),
    )
    if not leftovers:
        return
    lines = [f"  {pid}: {processes.command(pid)}" for pid in leftovers]
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    message = (
        f"{len(leftovers)} process(es) started by this test session still run after it:\n"
        + "\n".join(lines)
    )
    if reporter is not None:
        reporter.write_line(message, red=True, bold=True)
    else:
        print(message, file=sys.stderr)
    for pid in leftovers:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
