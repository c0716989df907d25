"""loggbokd as systemd runs it: a socket handed over by Debian's
`systemd-socket-activate` (as the user manager would, LISTEN_FDS on fd 3; the
first client's connection starts the daemon), readiness, stopping and watchdog
pings on a NOTIFY_SOCKET the test binds, and journald-style log lines."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from loggbok.daemon.systemd import ActivationError, Notifier, inherited_socket
from loggbok.protocol import methods as m
from loggbok.protocol.client import Client
from tests.conftest import DaemonProcess
from tests.support import processes

ACTIVATE = shutil.which("systemd-socket-activate")
needs_activate = pytest.mark.skipif(
    ACTIVATE is None, reason="systemd-socket-activate missing (Debian package systemd)"
)


class NotifySocket:
    """A datagram socket standing in for systemd's notify socket."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.2)
        self.messages: list[dict[str, str]] = []

    def wait_for(self, key: str, timeout: float = 60.0, count: int = 1) -> list[dict[str, str]]:
        deadline = time.monotonic() + timeout
        while sum(key in m for m in self.messages) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {key} from loggbokd; got {self.messages}")
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            self.messages.append(dict(line.split("=", 1) for line in data.decode().splitlines()))
        return [m for m in self.messages if key in m]

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def notify(workdir: Path) -> Iterator[NotifySocket]:
    sock = NotifySocket(workdir / "notify")
    yield sock
    sock.close()


def _activated(
    workdir: Path, listen: Path, serve: Path, env: dict[str, str]
) -> subprocess.Popen[bytes]:
    assert ACTIVATE is not None
    (workdir / "data").mkdir(exist_ok=True)
    passed = {
        processes.SESSION_VARIABLE: os.environ.get(processes.SESSION_VARIABLE, ""),
        "XDG_CONFIG_HOME": str(workdir / "config"),
        "LOGGBOK_NO_KEYRING": "1",
        **env,
    }
    argv = [ACTIVATE, "-l", str(listen), "--fdname=loggbok"]
    argv += [f"-E{k}={v}" for k, v in passed.items()]
    argv += [sys.executable, "-m", "loggbok.daemon.main", "--socket", str(serve)]
    argv += ["--data-dir", str(workdir / "data")]
    process = subprocess.Popen(
        argv,
        stdout=subprocess.DEVNULL,
        stderr=open(workdir / "stderr", "wb"),  # noqa: SIM115
    )
    deadline = time.monotonic() + 30
    while b"Listening on" not in (workdir / "stderr").read_bytes():
        assert process.poll() is None, (workdir / "stderr").read_text()
        assert time.monotonic() < deadline, "systemd-socket-activate did not listen"
        time.sleep(0.02)
    return process


def _end(process: subprocess.Popen[bytes]) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    return process.wait(30)


@needs_activate
async def test_the_first_connection_starts_loggbokd_and_is_answered(
    workdir: Path, notify: NotifySocket
) -> None:
    sock = workdir / "d.sock"
    process = _activated(
        workdir, sock, sock, {"NOTIFY_SOCKET": str(notify.path), "WATCHDOG_USEC": "200000"}
    )
    try:
        assert processes.command(process.pid).startswith(ACTIVATE)  # no daemon yet
        client = await asyncio.wait_for(Client.connect(sock), 30)
        hello = await asyncio.wait_for(client.call(m.HELLO), 60)
        assert hello.daemon_version
        assert processes.command(process.pid).startswith(sys.executable)
        ready = notify.wait_for("READY")
        assert ready[0]["READY"] == "1" and str(sock) in ready[0]["STATUS"]
        assert ready[0]["MAINPID"] == str(process.pid)
        notify.wait_for("WATCHDOG", count=3)
        process.send_signal(signal.SIGTERM)
        notify.wait_for("STOPPING")
        assert process.wait(30) == 0
        await asyncio.wait_for(client.closed.wait(), 10)
        await client.close()
        assert sock.exists(), "the socket is systemd's: loggbokd leaves it in place"
    finally:
        _end(process)


@needs_activate
async def test_a_socket_for_another_path_is_refused(workdir: Path) -> None:
    process = _activated(workdir, workdir / "a.sock", workdir / "b.sock", {})
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as first:
            first.connect(str(workdir / "a.sock"))
            assert await asyncio.to_thread(process.wait, 60) == 1
        stderr = (workdir / "stderr").read_text()
        assert "bound to" in stderr and str(workdir / "b.sock") in stderr
        assert not (workdir / "b.sock").exists()
    finally:
        _end(process)


async def test_logs_go_to_the_journal_with_priorities(workdir: Path) -> None:
    stderr = workdir / "daemon.stderr"
    stderr.touch()
    info = os.stat(stderr)
    (workdir / "data").mkdir()
    daemon = DaemonProcess(
        workdir / "d.sock",
        workdir / "data",
        env={"JOURNAL_STREAM": f"{info.st_dev}:{info.st_ino}"},
    )
    daemon.start()
    assert daemon.stop() == 0
    lines = stderr.read_text().splitlines()
    assert any(line.startswith("<6>") and "listening on" in line for line in lines), lines
    assert all(line[:3] in {"<2>", "<3>", "<4>", "<6>", "<7>"} for line in lines), lines
    assert not (workdir / "data" / "loggbokd.log").exists()


def test_notifier_speaks_to_an_abstract_socket() -> None:
    name = f"loggbok-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as receiver:
        receiver.bind("\0" + name)
        env = {"NOTIFY_SOCKET": "@" + name, "WATCHDOG_USEC": "5000000", "WATCHDOG_PID": "1"}
        notifier = Notifier(env)
        assert env == {}, "the variables are taken out of the environment"
        assert notifier.watchdog_seconds is None, "the watchdog was meant for another pid"
        assert notifier.status("syncing\nmore")
        assert receiver.recv(100) == b"STATUS=syncing more"
        notifier.close()
    assert not Notifier({}).ready("x")


def test_no_activation_unless_meant_for_this_process(workdir: Path) -> None:
    env = {"LISTEN_PID": "1", "LISTEN_FDS": "1", "LISTEN_FDNAMES": "x"}
    assert inherited_socket(workdir / "d.sock", env) is None
    assert env == {}, "the variables are taken out of the environment"
    with pytest.raises(ActivationError, match="exactly one"):
        inherited_socket(workdir / "d.sock", {"LISTEN_PID": str(os.getpid()), "LISTEN_FDS": "2"})
