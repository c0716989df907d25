"""Fixtures for the TUI tests: a real `loggbokd --demo` on a temporary socket and data dir.

The daemon runs as a subprocess, as a user's would; the demo's clock is pinned
(`LOGGBOK_DEMO_NOW`) and the test process's time zone is UTC so dates render
the same on every run.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from textual.app import App
from textual.screen import Screen

from loggbok.protocol import methods
from loggbok.protocol import types as t
from loggbok.protocol.client import Client

DEMO_NOW = "2025-03-14T12:00:00+00:00"
START_SECONDS = 180.0
T = TypeVar("T")
S = TypeVar("S", bound=Screen[Any])


@dataclass
class DemoDaemon:
    socket: Path
    data_dir: Path
    process: subprocess.Popen[bytes]
    log: Path

    async def client(self) -> Client:
        return await Client.connect(self.socket)


def _answers(socket: Path) -> bool:
    async def hello() -> bool:
        try:
            async with asyncio.timeout(2), await Client.connect(socket) as client:
                await client.call(methods.HELLO, t.HelloParams(client="tests"))
                boxes = await client.call(methods.MAILBOXES_LIST)
                return bool(boxes.mailboxes) and all(
                    b.status == "idle" and b.last_sync for b in boxes.mailboxes
                )
        except (OSError, TimeoutError, ConnectionError):
            return False

    return asyncio.run(hello())


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Render dates in UTC so snapshots do not depend on the machine's zone."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def demo_daemon() -> Iterator[DemoDaemon]:
    """`loggbokd --demo` on a fresh short temp dir, started and synced."""
    root = Path(tempfile.mkdtemp(prefix="lbt-"))
    socket, data_dir, log = root / "d.sock", root / "data", root / "daemon.log"
    env = {**os.environ, "LOGGBOK_DEMO_NOW": DEMO_NOW, "TZ": "UTC"}
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "loggbok.daemon.main",
                "--socket",
                str(socket),
                "--data-dir",
                str(data_dir),
                "--demo",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    deadline = time.monotonic() + START_SECONDS
    try:
        while not (socket.exists() and _answers(socket)):
            if process.poll() is not None:
                raise RuntimeError(f"loggbokd exited {process.returncode}:\n{log.read_text()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the demo daemon was not ready:\n{log.read_text()}")
            time.sleep(0.1)
        yield DemoDaemon(socket, data_dir, process, log)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
async def script_client(demo_daemon: DemoDaemon) -> AsyncIterator[Client]:
    """A second connection to the demo daemon, as a script would make."""
    conn = await demo_daemon.client()
    yield conn
    await conn.close()


async def until(probe: Callable[[], T | None], seconds: float = 15.0, interval: float = 0.05) -> T:
    """Poll `probe` until it returns something truthy; returns that."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        value = probe()
        if value:
            return value
        if loop.time() > deadline:
            raise TimeoutError(f"condition not met within {seconds} s")
        await asyncio.sleep(interval)


async def until_async(
    probe: Callable[[], Awaitable[T | None]], seconds: float = 15.0, interval: float = 0.05
) -> T:
    """`until` for an async probe (one that asks the daemon)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        value = await probe()
        if value:
            return value
        if loop.time() > deadline:
            raise TimeoutError(f"condition not met within {seconds} s")
        await asyncio.sleep(interval)


async def screen_of(app: App[Any], kind: type[S], seconds: float = 15.0) -> S:
    """Wait until the app's current screen is a `kind` and mounted (its composed
    widgets are mounted by then: Textual dispatches Compose before Mount), so a
    test may query them at once; returns it."""

    def probe() -> S | None:
        screen = app.screen
        return screen if isinstance(screen, kind) and screen.is_mounted else None

    return await until(probe, seconds)
