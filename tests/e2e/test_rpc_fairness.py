"""One client's heavy reads do not starve the others, and SIGTERM stops a busy daemon.

A batch of 4,000 `contacts.list` on one line took 44 s (10,000: over 8 minutes,
the cost grew faster than the work) and every other client's read waited behind
all of it; SIGTERM then did not stop the daemon for minutes. Now a batch runs in
bounded chunks, each connection has a bounded share of running requests, and the
reader's turns go round-robin between connections: another client's calls are
each answered after at most a chunk's worth of reads. No timings are asserted:
only which answer comes first.
"""

from __future__ import annotations

import asyncio
import json

from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from tests.conftest import DaemonProcess

BATCH = 4000
CALLS = 20
"""Calls the other client makes one after the other while the batch runs."""
HANG_GUARD = 300.0
"""Only turns a hang into a failure."""


async def _contacts(client: Client, count: int = 20) -> None:
    for i in range(count):
        await client.call(m.CONTACTS_CREATE, t.ContactCreateParams(email=f"p{i}@kund.example"))


def _batch_line(size: int) -> bytes:
    batch = [
        {"jsonrpc": "2.0", "id": i, "method": "contacts.list", "params": {"limit": 50}}
        for i in range(size)
    ]
    return json.dumps(batch).encode() + b"\n"


async def _open(daemon: DaemonProcess) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_unix_connection(str(daemon.socket), limit=2**28)


async def _sequential_calls(client: Client, calls: int) -> int:
    for _ in range(calls):
        assert (await client.call(m.CONTACTS_GET, t.IdParams(id=1))).emails
    return calls


async def test_a_big_batch_does_not_starve_another_client(
    daemon: DaemonProcess, client: Client
) -> None:
    await _contacts(client)
    reader, writer = await _open(daemon)
    writer.write(_batch_line(BATCH))
    await writer.drain()
    batch = asyncio.ensure_future(reader.readline())
    other = asyncio.ensure_future(_sequential_calls(client, CALLS))
    done, _ = await asyncio.wait({batch, other}, timeout=HANG_GUARD, return_when="FIRST_COMPLETED")
    assert other in done and batch not in done, "the other client waited behind the batch"
    answers = json.loads(await asyncio.wait_for(batch, HANG_GUARD))
    assert sorted(a["id"] for a in answers) == list(range(BATCH))
    assert all(len(a["result"]["contacts"]) == 20 for a in answers)
    writer.close()


async def test_pipelined_requests_do_not_starve_another_client(
    daemon: DaemonProcess, client: Client
) -> None:
    await _contacts(client)
    reader, writer = await _open(daemon)
    lines = b"".join(
        json.dumps({"jsonrpc": "2.0", "id": i, "method": "contacts.list"}).encode() + b"\n"
        for i in range(BATCH)
    )
    writer.write(lines)

    async def read_all() -> set[int]:
        return {json.loads(await reader.readline())["id"] for _ in range(BATCH)}

    pipelined = asyncio.ensure_future(read_all())
    other = asyncio.ensure_future(_sequential_calls(client, CALLS))
    done, _ = await asyncio.wait(
        {pipelined, other}, timeout=HANG_GUARD, return_when="FIRST_COMPLETED"
    )
    assert other in done and pipelined not in done
    assert await asyncio.wait_for(pipelined, HANG_GUARD) == set(range(BATCH))
    await writer.drain()
    writer.close()


async def test_sigterm_stops_a_daemon_busy_with_a_batch(daemon: DaemonProcess) -> None:
    client = await daemon.client()
    await _contacts(client)
    reader, writer = await _open(daemon)
    writer.write(_batch_line(2 * BATCH))
    await writer.drain()
    batch = asyncio.ensure_future(reader.readline())
    assert await _sequential_calls(client, 3) == 3  # served while the batch runs
    assert not batch.done()
    assert daemon.process is not None
    code = await asyncio.to_thread(daemon.stop, timeout=60)
    assert code == 0
    assert await asyncio.wait_for(batch, HANG_GUARD) == b""  # cut off, never answered
    await client.close()
    writer.close()
