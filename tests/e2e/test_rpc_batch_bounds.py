"""A batch's answer is bounded: in calls, in bytes, and across all batches at once.

Before: a batch of 1,000 `rpc.discover` (140 KB each) was answered with one
140 MB line, built whole in the daemon's memory (and more than a client's
64 MiB line limit); a 64 MiB line of `[0,0,...]` got one Invalid Request per
item: millions of error answers held at once. Now a batch holds at most
`max_batch` items (past it: one Invalid Request, nothing run); its answers
stop at `batch_answer_bytes` (each call after that is answered -32011 Limit
reached, `data.ran` saying whether it ran), and all batches together hold at
most `answer_buffer_total`. Another client is served meanwhile. Over the real
socket; byte budgets lowered (`LOGGBOK_RPC_*`) to stay quick.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from loggbok.daemon.rpc.limits import Limits
from loggbok.protocol import methods as m
from loggbok.protocol.errors import ErrorCode
from tests.conftest import DaemonProcess

pytestmark = pytest.mark.sqlite_only  # the RPC server alone: the store plays no part

HANG_GUARD = 300.0
"""Only turns a hang into a failure."""
CALLS = 1000
DISCOVER = {"jsonrpc": "2.0", "method": "rpc.discover"}


async def _send(path: Path, line: bytes) -> tuple[bytes, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_unix_connection(str(path), limit=2**30)
    writer.write(line)
    await writer.drain()
    return await asyncio.wait_for(reader.readline(), HANG_GUARD), writer


def _discover_batch(count: int) -> bytes:
    return json.dumps([{**DISCOVER, "id": i} for i in range(count)]).encode() + b"\n"


def _check_cut(answers: list[dict[str, Any]], limit: str, budget: int) -> int:
    """The answers are results up to the budget, then Limit reached; the results' count."""
    assert [a["id"] for a in answers] == list(range(len(answers)))
    results = [a for a in answers if "result" in a]
    refused = answers[len(results) :]
    assert results and refused, "the batch was not cut"
    assert all(a["error"]["code"] == ErrorCode.LIMIT_REACHED for a in refused)
    assert {a["error"]["data"]["limit"] for a in refused} == {limit}
    ran = [a["error"]["data"]["ran"] for a in refused]
    assert ran == sorted(ran, reverse=True)  # the chunk in flight ran; the rest did not
    assert not ran[-1]
    assert len(json.dumps(results, separators=(",", ":"))) <= budget
    return len(results)


async def test_a_batch_of_large_answers_stops_at_its_budget(workdir: Path) -> None:
    budget = 4 * 1024 * 1024  # the default's 32 MiB holds 487 of them: slower, no different
    daemon = _daemon(workdir, LOGGBOK_RPC_BATCH_ANSWER_BYTES=str(budget))
    try:
        client = await daemon.client()
        one = len(json.dumps((await client.call(m.DISCOVER)), separators=(",", ":")))
        reader, writer = await asyncio.open_unix_connection(str(daemon.socket), limit=2**30)
        writer.write(_discover_batch(CALLS))
        await writer.drain()
        batch = asyncio.ensure_future(reader.readline())
        assert (await client.call(m.HELLO)).daemon_version  # served while the batch runs
        line = await asyncio.wait_for(batch, HANG_GUARD)
        assert len(line) < budget + CALLS * 300  # the kept answers and short errors
        fitted = _check_cut(json.loads(line), "batch_answer_bytes", budget)
        assert fitted * one <= budget < (fitted + 1) * (one + 60)  # as many as fit
        writer.close()
        assert (await client.call(m.HELLO)).daemon_version
        await client.close()
    finally:
        daemon.stop()


async def test_too_many_calls_are_one_invalid_request(daemon: DaemonProcess) -> None:
    limit = Limits().max_batch
    hellos = [{"jsonrpc": "2.0", "method": "daemon.hello", "id": i} for i in range(limit + 1)]
    line, writer = await _send(daemon.socket, json.dumps(hellos).encode() + b"\n")
    answer = json.loads(line)
    assert isinstance(answer, dict) and answer["id"] is None
    assert answer["error"]["code"] == ErrorCode.INVALID_REQUEST
    assert str(limit) in answer["error"]["data"]
    writer.close()
    zeros, writer = await _send(daemon.socket, b"[" + b"0," * 200_000 + b"0]\n")
    assert json.loads(zeros)["error"]["code"] == ErrorCode.INVALID_REQUEST  # one, not 200,001
    writer.close()
    line, writer = await _send(daemon.socket, json.dumps(hellos[:limit]).encode() + b"\n")
    assert len(json.loads(line)) == limit  # the limit itself is fine
    writer.close()


def _peak_rss(daemon: DaemonProcess) -> int:
    """The daemon's peak resident memory so far, in bytes (`VmHWM`)."""
    assert daemon.process is not None
    status = Path(f"/proc/{daemon.process.pid}/status").read_text()
    kib = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(kib) * 1024


async def test_a_huge_batch_is_refused_before_it_is_built(daemon: DaemonProcess) -> None:
    """Past the bound, parsing stops: the daemon's peak memory grows by the line it read
    (its read buffer, bytes and text: 3 copies, 6 bytes an item; measured 46 MiB), not by
    the whole list on top (8 bytes an item more: measured 105 MiB before)."""
    items = 8_000_000
    _, writer = await _send(daemon.socket, _discover_batch(3))  # warmed up: a batch ran
    writer.close()
    before = _peak_rss(daemon)
    zeros, writer = await _send(daemon.socket, b"[" + b"0," * items + b"0]\n")
    answer = json.loads(zeros)
    assert answer["error"]["code"] == ErrorCode.INVALID_REQUEST
    assert str(Limits().max_batch) in answer["error"]["data"]
    writer.close()
    grown = _peak_rss(daemon) - before
    print(f"peak RSS grew by {grown / 2**20:.1f} MiB for a {2 * items / 2**20:.1f} MiB line")
    assert grown < 10 * items


async def test_all_batches_together_stop_at_the_shared_budget(workdir: Path) -> None:
    shared = 1024 * 1024
    daemon = _daemon(workdir, LOGGBOK_RPC_ANSWER_BUFFER_TOTAL=str(shared))
    try:
        line, writer = await _send(daemon.socket, _discover_batch(50))
        _check_cut(json.loads(line), "answer_buffer_total", shared)
        writer.close()
        line, writer = await _send(daemon.socket, _discover_batch(3))  # given back once written
        assert all("result" in a for a in json.loads(line))
        writer.close()
    finally:
        daemon.stop()


def _daemon(workdir: Path, **env: str) -> DaemonProcess:
    (workdir / "data").mkdir()
    daemon = DaemonProcess(workdir / "d.sock", workdir / "data", env=env)
    daemon.start()
    return daemon
