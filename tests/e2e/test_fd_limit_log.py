"""At the file-descriptor limit the daemon serves on, without a flood or a busy loop.

asyncio logs every failed accept (100 per wake-up, each with a traceback) and
the log went through all its 40 MB in seconds. A daemon started with 64 file
descriptors and no bound on clients gets more connections than it can take;
its log holds at most a burst of each message (and a summary line later), it
spends next to no CPU meanwhile (it pauses accepting until a connection closes
or a second passes), and once the connections go it answers again. Before, asyncio's
accept loop failed some 3,300 accepts a second there.

With its default bound on clients (half the descriptors left, at most 256) the
same daemon never gets there: the client one too many is told so (-32011
Limit reached, `limit: max_connections`) and closed; before, it waited in the
listening backlog for ever, with no answer.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from loggbok.daemon.logs import BURST
from loggbok.protocol import methods as m
from loggbok.protocol.client import Client
from loggbok.protocol.errors import ErrorCode, Refused

HANG_GUARD = 60.0
"""Only turns a hang into a failure."""
FLOOD_SECONDS = 3.0
"""How long the connections are kept open: the old daemon wrote thousands of lines in it."""
BUSY = 0.5
"""Share of one core the daemon may use while it holds its connections: a busy loop
takes all of it; the real figure is under 0.01 (a generous bound on a loaded machine)."""


def _low_fd_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of process `pid` so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _cpu_share(pid: int, seconds: float) -> float:
    """Share of one core `pid` used over about `seconds`."""
    start, began = _cpu_seconds(pid), time.monotonic()
    await asyncio.sleep(seconds)
    return (_cpu_seconds(pid) - start) / (time.monotonic() - began)


def _log_lines(data: Path) -> list[dict[str, str]]:
    path = data / "loggbokd.log"
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def _connect_many(path: Path, count: int) -> list[socket.socket]:
    """Up to `count` connections; stops once three in a row fail (the daemon takes no
    more and its backlog is full)."""
    held: list[socket.socket] = []
    failed = 0
    while len(held) < count and failed < 3:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(2.0)
        try:
            sock.connect(str(path))
        except OSError:
            sock.close()
            failed += 1
            continue
        failed = 0
        held.append(sock)
    return held


def _start(workdir: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """A daemon limited to 64 file descriptors."""
    data = workdir / "data"
    data.mkdir(mode=0o700)
    return subprocess.Popen(
        [sys.executable, "-m", "loggbok.daemon.main", "--socket", str(workdir / "d.sock"),
         "--data-dir", str(data)],
        preexec_fn=_low_fd_limit,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "LOGGBOK_DNS_SERVER": "none", **env},
    )  # fmt: skip


async def _listening(path: Path, data: Path) -> None:
    async with asyncio.timeout(HANG_GUARD):
        while True:
            if path.exists() and any("listening" in x["message"] for x in _log_lines(data)):  # noqa: ASYNC240
                break
            await asyncio.sleep(0.05)


async def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        await asyncio.to_thread(process.wait, HANG_GUARD)
    except subprocess.TimeoutExpired:
        process.kill()
        await asyncio.to_thread(process.wait)


async def _served(path: Path) -> bool:
    async with asyncio.timeout(HANG_GUARD):
        while True:  # the retry timer takes the socket up again within a second or so
            try:
                client = await Client.connect(path)
                break
            except OSError:
                await asyncio.sleep(0.2)
        hello = await client.call(m.HELLO)
        await client.close()
    return bool(hello.daemon_version)


def _hello_until_refused(path: Path, most: int) -> tuple[list[socket.socket], dict[str, Any]]:
    """Connections that each had a `daemon.hello` answered, until one is refused: the
    held ones and the refusal."""
    held: list[socket.socket] = []
    while len(held) < most:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(HANG_GUARD)
        sock.connect(str(path))
        sock.sendall(b'{"jsonrpc":"2.0","id":1,"method":"daemon.hello"}\n')
        answer = json.loads(sock.makefile("rb").readline())
        if "error" in answer:
            sock.close()
            return held, answer
        held.append(sock)
    raise AssertionError(f"{most} clients served: no bound")


async def test_the_client_one_too_many_is_told_so(workdir: Path) -> None:
    process = _start(workdir, {})
    path, data = workdir / "d.sock", workdir / "data"
    try:
        await _listening(path, data)
        held, refusal = await asyncio.to_thread(_hello_until_refused, path, 300)
        assert 1 <= len(held) <= 32  # half the file descriptors the daemon had left
        assert refusal["id"] is None
        assert refusal["error"]["code"] == ErrorCode.LIMIT_REACHED
        assert refusal["error"]["data"]["limit"] == "max_connections"
        with pytest.raises(Refused) as refused:  # the protocol client says why
            client = await Client.connect(path)
            try:
                await client.call(m.HELLO)
            finally:
                await client.close()
        assert refused.value.code == ErrorCode.LIMIT_REACHED
        assert await _cpu_share(process.pid, 2.0) < BUSY
        assert process.poll() is None
        for sock in held:
            sock.close()
        assert await _served(path)
    finally:
        await _stop(process)


async def test_the_log_stays_small_at_the_fd_limit(workdir: Path) -> None:
    process = _start(workdir, {"LOGGBOK_RPC_MAX_CONNECTIONS": "1000"})  # no bound below it
    path, data = workdir / "d.sock", workdir / "data"
    try:
        await _listening(path, data)
        held = await asyncio.to_thread(_connect_many, path, 300)
        async with asyncio.timeout(HANG_GUARD):
            while True:
                if any("cannot accept clients" in x["message"] for x in _log_lines(data)):
                    break
                await asyncio.sleep(0.05)
        busy = await _cpu_share(process.pid, FLOOD_SECONDS)
        lines = _log_lines(data)
        by_message = Counter(x["message"].split("\n", 1)[0] for x in lines)
        assert by_message["socket.accept() out of system resource"] == 0  # asyncio's own
        assert sum("cannot accept clients" in m for m in by_message) == 1  # said once
        assert max(by_message.values()) <= 2 * BURST + 1, by_message.most_common(3)
        assert not (data / "loggbokd.log.1").exists()
        assert (data / "loggbokd.log").stat().st_size < 1024 * 1024
        assert busy < BUSY
        assert process.poll() is None
        for sock in held:
            sock.close()
        assert await _served(path)
    finally:
        await _stop(process)
    assert (data / "loggbokd.log").stat().st_size < 1024 * 1024
