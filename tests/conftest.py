"""Shared fixtures: a real `loggbokd` on a temporary socket and data dir, and a
protocol client connected to it. `tests.support.leftovers` checks that the
session leaves no process of its own behind."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from loggbok.protocol.client import Client

pytest_plugins = [
    "tests.servers.dovecot",
    "tests.servers.graph.server",
    "tests.servers.ews.server",
    "tests.servers.postgres",
    "tests.support.leftovers",
]


def _answers(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


@dataclass
class DaemonProcess:
    socket: Path
    data_dir: Path
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> None:
        command = [
            sys.executable,
            "-m",
            "loggbok.daemon.main",
            "--socket",
            str(self.socket),
            "--data-dir",
            str(self.data_dir),
            *self.args,
        ]
        self.process = subprocess.Popen(
            command,
            # No DNS lookups (R14) unless a test points the daemon at its own server; the
            # config file is the test's own (none unless it writes one), never the user's.
            env={
                "LOGGBOK_DNS_SERVER": "none",
                **os.environ,
                "XDG_CONFIG_HOME": str(self.data_dir.parent / "config"),
                **self.env,
            },
            stdout=subprocess.DEVNULL,
            stderr=open(self.data_dir.parent / "daemon.stderr", "ab"),  # noqa: SIM115
        )
        deadline = time.monotonic() + timeout
        while not _answers(self.socket):
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"loggbokd exited with {self.process.returncode}: "
                    + (self.data_dir.parent / "daemon.stderr").read_text()
                )
            if time.monotonic() > deadline:
                raise TimeoutError("loggbokd did not create its socket")
            time.sleep(0.02)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        code = self.process.wait(timeout)
        self.process = None
        return code

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    async def client(self) -> Client:
        return await Client.connect(self.socket)


STORES = [s for s in os.environ.get("LOGGBOK_TEST_STORES", "sqlite,postgres").split(",") if s]
"""The stores the tests that open one run on (`LOGGBOK_TEST_STORES=sqlite` for one)."""
_STORE_WORDS = ("Store.open(", "DaemonProcess(", "synced_daemon(")


def _opens_store(metafunc: pytest.Metafunc) -> bool:
    """A test that opens a store or starts a daemon (directly or by a fixture); pure
    parsing and TUI tests (tests/tui, whose daemons use the default store) are not doubled."""
    if metafunc.definition.get_closest_marker("sqlite_only"):
        return False
    if Path(str(metafunc.definition.fspath)).parent.name == "tui":
        return False  # the TUI is a protocol client: what it shows does not depend on the store
    source = Path(str(metafunc.definition.fspath)).read_text()
    if "sqlite3" in source:
        return False  # it reads the SQLite file itself (not yet through the store)
    if {"daemon", "client"} & set(metafunc.fixturenames):
        return True
    return any(word in source for word in _STORE_WORDS)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "store_backend" in metafunc.fixturenames:
        if metafunc.definition.get_closest_marker("postgres_only"):
            stores = [s for s in STORES if s == "postgres"]
        elif _opens_store(metafunc):
            stores = STORES
        else:
            return  # one store, the default: no parameter, so test ids stay as they were
        metafunc.parametrize("store_backend", stores, indirect=True)


@pytest.fixture(autouse=True)
def store_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The store this test runs on: with `postgres`, a fresh database of the session's
    cluster, named by `$LOGGBOK_DATABASE` (read by `Store.open` and by every daemon the
    test starts)."""
    kind: str = getattr(request, "param", "sqlite")
    if kind == "postgres":
        monkeypatch.setenv("LOGGBOK_DATABASE", request.getfixturevalue("pg_url"))
    else:
        monkeypatch.delenv("LOGGBOK_DATABASE", raising=False)
    return kind


@pytest.fixture(scope="session", autouse=True)
def _own_config_home() -> Iterator[None]:
    """Daemons started by any test read a config file of the session's own (none),
    never the user's `~/.config/loggbok/config.toml`."""
    home = Path(tempfile.mkdtemp(prefix="lb-config-"))
    old = os.environ.get("XDG_CONFIG_HOME")
    os.environ["XDG_CONFIG_HOME"] = str(home)
    yield
    if old is None:
        os.environ.pop("XDG_CONFIG_HOME", None)
    else:
        os.environ["XDG_CONFIG_HOME"] = old
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def workdir() -> Iterator[Path]:
    """A short temporary folder (Unix socket paths must stay under 108 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="lb-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def daemon(workdir: Path) -> Iterator[DaemonProcess]:
    (workdir / "data").mkdir()
    proc = DaemonProcess(
        workdir / "d.sock",
        workdir / "data",
        env={"LOGGBOK_MAILDIR_POLL": os.environ.get("LOGGBOK_MAILDIR_POLL", "")},
    )
    proc.start()
    yield proc
    if proc.process is not None:
        proc.stop()


@pytest.fixture
async def client(daemon: DaemonProcess) -> AsyncIterator[Client]:
    conn = await daemon.client()
    yield conn
    await conn.close()
