"""At the file-descriptor limit the log stays small and the daemon serves on.

asyncio logs every failed accept (100 per wake-up, each with a traceback) and
the log went through all its 40 MB in seconds. A daemon started with 64 file
descriptors gets more connections than it can take; its log holds at most a
burst of each message (and a summary line later), and once the connections go
it answers again.
"""

from __future__ import annotations

import asyncio
import json
import resource
import signal
import socket
import subprocess
import sys
from collections import Counter
from pathlib import Path

from loggbok.daemon.logs import BURST
from loggbok.protocol import methods as m
from loggbok.protocol.client import Client

HANG_GUARD = 60.0
"""Only turns a hang into a failure."""
FLOOD_SECONDS = 3.0
"""How long the connections are kept open: the old daemon wrote thousands of lines in it."""


def _low_fd_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))


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


async def test_the_log_stays_small_at_the_fd_limit(workdir: Path) -> None:
    data = workdir / "data"
    data.mkdir(mode=0o700)
    path = workdir / "d.sock"
    process = subprocess.Popen(  # noqa: ASYNC220 - started once, waited for below
        [sys.executable, "-m", "loggbok.daemon.main", "--socket", str(path),
         "--data-dir", str(data)],
        preexec_fn=_low_fd_limit,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        async with asyncio.timeout(HANG_GUARD):
            while True:
                if path.exists() and any("listening" in x["message"] for x in _log_lines(data)):
                    break
                await asyncio.sleep(0.05)
        held = await asyncio.to_thread(_connect_many, path, 300)
        async with asyncio.timeout(HANG_GUARD):
            while True:
                if any("out of system resource" in x["message"] for x in _log_lines(data)):
                    break
                await asyncio.sleep(0.05)
        await asyncio.sleep(FLOOD_SECONDS)
        lines = _log_lines(data)
        by_message = Counter(x["message"].split("\n", 1)[0] for x in lines)
        assert by_message["socket.accept() out of system resource"] <= 2 * BURST + 1
        assert max(by_message.values()) <= 2 * BURST + 1, by_message.most_common(3)
        assert not (data / "loggbokd.log.1").exists()
        assert (data / "loggbokd.log").stat().st_size < 1024 * 1024
        for sock in held:
            sock.close()
        async with asyncio.timeout(HANG_GUARD):
            while True:  # the retry timer takes the socket up again within a second or so
                try:
                    client = await Client.connect(path)
                    break
                except OSError:
                    await asyncio.sleep(0.2)
            assert (await client.call(m.HELLO)).daemon_version
            await client.close()
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(process.wait, HANG_GUARD)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait)
    assert (data / "loggbokd.log").stat().st_size < 1024 * 1024
