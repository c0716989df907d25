"""Notifications never wait for a client: one that stops reading (a TUI suspended
with Ctrl-Z) is disconnected once it is `max_pending_output` bytes behind, and the
daemon's work and the other clients go on meanwhile. Before, every notification
waited up to 30 s for such a client's socket to drain, sync included.

The real `RpcServer` on a real Unix socket, in-process.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import cast

from loggbok.daemon.rpc.context import Context
from loggbok.daemon.rpc.limits import Limits
from loggbok.daemon.rpc.server import RpcServer

NOTES = 2000
PAYLOAD = "x" * 4000
HANG_GUARD = 30.0
"""Only turns a hang into a failure."""


async def _served(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """One request answered: the server has taken the connection on."""
    writer.write(b'{"jsonrpc": "2.0", "id": 1, "method": "no.such.method"}\n')
    answer = json.loads(await asyncio.wait_for(reader.readline(), HANG_GUARD))
    assert answer["error"]["code"] == -32601


async def test_a_client_that_stops_reading_holds_up_nothing(tmp_path: Path) -> None:
    path = tmp_path / "d.sock"
    server = RpcServer(path, {}, cast(Context, None), Limits(max_pending_output=1024 * 1024))
    await server.start()
    try:
        stuck_reader, stuck_writer = await asyncio.open_unix_connection(str(path))
        live_reader, live_writer = await asyncio.open_unix_connection(str(path), limit=2**20)
        await _served(stuck_reader, stuck_writer)
        await _served(live_reader, live_writer)

        async def read_live() -> list[int]:
            return [json.loads(await live_reader.readline())["params"]["n"] for _ in range(NOTES)]

        live = asyncio.ensure_future(read_live())
        for n in range(NOTES):  # 8 MB: far past the stuck client's socket buffer and backlog
            await asyncio.wait_for(server.notify("test.note", {"n": n, "text": PAYLOAD}), 5)
            await asyncio.sleep(0)
        assert await asyncio.wait_for(live, HANG_GUARD) == list(range(NOTES))
        assert len(server._connections) == 1

        stuck = await asyncio.wait_for(stuck_reader.read(), HANG_GUARD)  # what fit, then EOF
        lines = stuck.split(b"\n")  # the last one cut off where the rest was dropped
        got = [json.loads(line)["params"]["n"] for line in lines[:-1]]
        assert got == list(range(len(got))) and 0 < len(got) < NOTES
        for writer in (stuck_writer, live_writer):
            writer.close()
    finally:
        await server.stop()
