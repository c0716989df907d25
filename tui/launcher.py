"""Find a running daemon, start one in the background and wait for its socket, or stop it.

The daemon is started detached (its own session, output to a log file in its
data dir) with the same interpreter, so it outlives the TUI that started it.
`stop_daemon` ends the one listening on a socket (SIGTERM: an orderly stop).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from loggbok.protocol import methods
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from loggbok.protocol.socket_check import UnsafeSocket, listener_pid

DAEMON_MODULE = "loggbok.daemon.main"
"""Run as `python -m DAEMON_MODULE`: the daemon's entry point (nothing of it is imported)."""
LOG_NAME = "loggbokd.out.log"
PID_NAME = "loggbokd.spawned.pid"
"""Written beside the log once the daemon this launcher started answers: its pid (for
scripts). A daemon that lost a start race to another one never gets it."""
ANSWER_SECONDS = 2.0
START_SECONDS = 60.0


class DaemonStartError(RuntimeError):
    """The daemon did not come up; the message names its log file."""


async def answers(socket_path: Path) -> bool:
    """True when a daemon answers `daemon.hello` on the socket; `DaemonStartError` when
    the socket is not the user's own (another user may have put it there)."""
    try:
        async with asyncio.timeout(ANSWER_SECONDS):
            client = await Client.connect(socket_path)
    except UnsafeSocket as exc:
        raise DaemonStartError(str(exc)) from None
    except (OSError, TimeoutError):
        return False
    try:
        async with asyncio.timeout(ANSWER_SECONDS):
            await client.call(methods.HELLO, t.HelloParams(client="loggbok"))
        return True
    except (OSError, TimeoutError, ConnectionError):
        return False
    finally:
        await client.close()


def spawn(socket_path: Path, data_dir: Path, demo: bool = False) -> subprocess.Popen[bytes]:
    """Start `loggbokd` detached, logging to `data_dir/loggbokd.out.log`."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    socket_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    argv = [
        sys.executable,
        "-m",
        DAEMON_MODULE,
        "--socket",
        str(socket_path),
        "--data-dir",
        str(data_dir),
    ]
    if demo:
        argv.append("--demo")
    with open(data_dir / LOG_NAME, "ab") as log:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            close_fds=True,
            env=os.environ.copy(),
        )
    return process


STOP_SECONDS = 30.0
ANOTHER_DAEMON = 2
"""loggbokd's exit status when another daemon already uses its data folder or socket."""


async def stop_daemon(socket_path: Path, seconds: float = STOP_SECONDS) -> int | None:
    """SIGTERM the daemon listening on `socket_path` and wait until its socket is quiet;
    its pid, or None when none listens. `DaemonStartError` when it does not stop."""
    pid = listener_pid(socket_path)
    if pid is None or pid == os.getpid():
        return None
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while listener_pid(socket_path) == pid:
        if loop.time() > deadline:
            raise DaemonStartError(f"loggbokd (pid {pid}) did not stop within {seconds:.0f} s")
        await asyncio.sleep(0.1)
    return pid


async def ensure_daemon(
    socket_path: Path, data_dir: Path, demo: bool = False, start_seconds: float = START_SECONDS
) -> bool:
    """Make sure a daemon answers on the socket; returns True when this call started it."""
    if await answers(socket_path):
        return False
    process = spawn(socket_path, data_dir, demo=demo)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + start_seconds
    while loop.time() < deadline:
        if await answers(socket_path):
            # Two starts at once (the TUI and a script): the one whose daemon listens
            # started it; the other's daemon exits by itself ("another loggbokd").
            if listener_pid(socket_path) in (process.pid, None):
                (data_dir / PID_NAME).write_text(f"{process.pid}\n")
                return True
            # Ours is surplus: end it, or it would take over once that daemon stops.
            process.terminate()
            try:
                await asyncio.to_thread(process.wait, 30)
            except subprocess.TimeoutExpired:
                process.kill()
            return False
        # exited as `ANOTHER_DAEMON` (two starts at once, and the other daemon took the
        # folder first): that one answers once it has started, so wait for it
        if process.poll() is not None and process.returncode != ANOTHER_DAEMON:
            raise DaemonStartError(
                f"loggbokd exited with status {process.returncode}; see {data_dir / LOG_NAME}"
            )
        await asyncio.sleep(0.1)
    raise DaemonStartError(
        f"loggbokd did not answer on {socket_path} within {start_seconds:.0f} s; "
        f"see {data_dir / LOG_NAME}"
    )
