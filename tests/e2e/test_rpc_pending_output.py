"""A client that asks and never reads is disconnected, and what it left is freed.

Unsent answers stayed buffered for ever (four large requests held 933 MB after
their timeouts) and only notifications had a bound. Now answers and
notifications count alike: a client that leaves more than the bound unread is
disconnected at once and its buffer dropped; the other clients go on. A real
daemon with a 1 MiB bound (`LOGGBOK_RPC_MAX_PENDING_OUTPUT`) and a client that
asks for `rpc.discover` (52 KB each) 4,000 times, 200 MB of answers, and reads
none of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from pathlib import Path

from loggbok.protocol import methods as m
from tests.conftest import DaemonProcess

REQUESTS = 4000
HANG_GUARD = 60.0
"""Only turns a hang into a failure."""


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def _disconnects(data: Path) -> int:
    lines = (data / "loggbokd.log").read_text(encoding="utf-8").splitlines()
    return sum("unread: disconnected" in json.loads(x)["message"] for x in lines)


async def test_a_client_that_never_reads_its_answers_is_disconnected(workdir: Path) -> None:
    (workdir / "data").mkdir()
    daemon = DaemonProcess(
        workdir / "d.sock", workdir / "data", env={"LOGGBOK_RPC_MAX_PENDING_OUTPUT": "1048576"}
    )
    daemon.start()
    try:
        assert daemon.process is not None
        other = await daemon.client()
        await other.call(m.DISCOVER)
        before = _rss(daemon.process.pid)

        greedy = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        greedy.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        greedy.connect(str(daemon.socket))
        request = b'{"jsonrpc": "2.0", "id": 1, "method": "rpc.discover"}\n'
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # cut off meanwhile
            await asyncio.to_thread(greedy.sendall, request * REQUESTS)
        async with asyncio.timeout(HANG_GUARD):
            while True:
                if _disconnects(workdir / "data"):
                    break
                await asyncio.sleep(0.05)
        assert _rss(daemon.process.pid) < before + 64 * 1024 * 1024

        assert (await other.call(m.HELLO)).daemon_version  # the others are served on
        assert len((await other.call(m.DISCOVER))["methods"]) == len(m.METHODS)
        greedy.settimeout(HANG_GUARD)
        received = 0
        try:
            while chunk := await asyncio.to_thread(greedy.recv, 1 << 20):
                received += len(chunk)
        except ConnectionResetError:
            pass
        assert received < 4 * 1024 * 1024  # what was in the socket when it was cut off
        greedy.close()
        await other.close()
    finally:
        daemon.stop()
