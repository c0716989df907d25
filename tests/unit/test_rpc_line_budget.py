"""Unfinished request lines are bounded across connections, not only per line.

Each connection could hold a 64 MiB partial line (and its stream reader read
ahead as much again): sixty connections held 3.7 GB. Now every byte of an
unfinished line is charged to one budget all connections share; the connection
that would take it past its total gets an Invalid Request and is closed, and
what it held is given back. The real `RpcServer` on a real Unix socket,
in-process, with a 1 MiB line limit and a 2.5 MiB budget so the test is quick.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import cast

from loggbok.daemon.rpc.context import Context
from loggbok.daemon.rpc.limits import Limits
from loggbok.daemon.rpc.server import RpcServer

MIB = 1024 * 1024
PART = b"x" * (900 * 1024)
HANG_GUARD = 30.0
"""Only turns a hang into a failure."""


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(HANG_GUARD):
        while True:
            if condition():
                return
            await asyncio.sleep(0.01)


async def _closed(reader: asyncio.StreamReader) -> bool:
    """True once the server has closed the connection (reset, when it left input unread)."""
    try:
        return await asyncio.wait_for(reader.read(), HANG_GUARD) == b""
    except ConnectionResetError:
        return True


async def test_the_connection_that_passes_the_shared_budget_is_closed(tmp_path: Path) -> None:
    limits = Limits(max_line=MIB, line_buffer_total=2 * MIB + MIB // 2)
    server = RpcServer(tmp_path / "d.sock", {}, cast(Context, None), limits)
    await server.start()
    try:
        held = []
        for n in range(2):
            reader, writer = await asyncio.open_unix_connection(str(server.socket_path))
            writer.write(PART)
            await _until(lambda n=n: server.line_budget.held >= (n + 1) * len(PART))
            held.append((reader, writer))
        third_reader, third_writer = await asyncio.open_unix_connection(str(server.socket_path))
        third_writer.write(PART)  # 2.7 MiB in all: past the budget
        refused = json.loads(await asyncio.wait_for(third_reader.readline(), HANG_GUARD))
        assert refused["error"]["code"] == -32600
        assert "unfinished lines from all connections" in refused["error"]["data"]
        assert await _closed(third_reader)
        assert server.line_budget.held <= limits.line_buffer_total
        await _until(lambda: server.line_budget.held == 2 * len(PART))

        reader, writer = held[0]  # the first one finishes its line: it is answered
        writer.write(b"\n")
        answer = json.loads(await asyncio.wait_for(reader.readline(), HANG_GUARD))
        assert answer["error"]["code"] == -32700  # 900 KiB of x is no JSON, but it was read
        await _until(lambda: server.line_budget.held == len(PART))
        for _, writer in held:
            writer.close()
        await _until(lambda: server.line_budget.held == 0)

        reader, writer = await asyncio.open_unix_connection(str(server.socket_path))
        writer.write(b'{"jsonrpc": "2.0", "id": 1, "method": "no.such.method"}\n')
        answer = json.loads(await asyncio.wait_for(reader.readline(), HANG_GUARD))
        assert answer["error"]["code"] == -32601
        writer.write(b"y" * (MIB + 10))  # one line over the line limit: closed too
        too_long = json.loads(await asyncio.wait_for(reader.readline(), HANG_GUARD))
        assert "line longer than" in too_long["error"]["data"]
        writer.close()
        await _until(lambda: server.line_budget.held == 0)
    finally:
        await server.stop()
