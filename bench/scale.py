"""Reads at CRM scale, over the socket, next to raw SQLite on the same store.

Builds (once; cached) a store of N logged emails plus N/5 unlogged, 100,000
contacts with six heavy ones and 20 members (`bench/scale_corpus.py`), through
loggbok's own parse/plan/write path (`bench/scale_build.py`). Then starts a
real `loggbokd` on it and measures, with the protocol client, p50/p99 of:

  timeline first page   `timeline.get` of the heaviest contact
  timeline page 200     the same with `before` = the cursor after page 199
  search rare / 1% / 60%  `messages.search` for a word in 1 of 20,011, 1%, 60%
  contacts 4 letters    `contacts.list` with a 4-letter query (several)
  unlogged list         `messages.list {logged: false}`, first page

with 1 connection, then 4 at once (each its own client in a process of its own,
so the clients' Python does not queue behind one GIL; throughput = reads per
second over all four, and with one such client process). Each read is also
timed as one SQL statement on a raw connection to the same database (the peer:
what the database alone takes to answer it; the ratio is the daemon's overhead).
Also: bytes per stored message (the tables and indexes over messages: SQLite's
file and dbstat, PostgreSQL's pg_total_relation_size), the daemon's RSS, its
cold start (process start until the socket answers; a pending migration is run
and timed first).

On SQLite (default) or PostgreSQL (`--store postgres`: a private cluster the
bench starts and stops, `bench/scale_stores.py`), or both one after the other
(`--store both`, then a table side by side).

    .venv/bin/python -m bench.scale [--messages 1000000] [--rounds 1000] [--store both]

`--rounds` calls of each read with one connection (half for `contacts.list` and the
unlogged list, fewer for the costly searches): at 1,000 a p99 is the tenth slowest
call, where at 200 it was the second slowest, and single slow calls of this shared
machine (5-10 ms, whatever the read) made it move by a factor of two from run to run.

Prints a table per store and writes `bench/results/scale.json`. Never asserts.
The built stores are cached (`bench/scale_stores.py`): a rerun measures at
once; the daemon's migrations update the cached copy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench.scale_build import build
from bench.scale_corpus import ONE_PCT, RARE, SIXTY_PCT
from bench.scale_stores import Target, targets
from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from tests.conftest import DaemonProcess

RESULTS = Path(__file__).resolve().parent / "results"
SEED = 20261206
QUERIES = ["anna", "berg", "karl", "lind", "smit", "mari", "hans", "john"]
"""4-letter contacts.list queries: common name parts (hundreds to thousands of hits)."""

Call = Callable[[Client, int], Awaitable[Any]]
WARM = 20
"""Calls of each read before it is timed (caches warm, as on a server in use)."""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _rss_kb(pid: int) -> tuple[int, int, int]:
    """VmRSS, VmHWM and RssAnon: the daemon's SQLite readers map the database file, and
    the mapped pages they touched count in RSS (shared with the OS's cache, given back
    under pressure); RssAnon is the daemon's own memory."""
    status = Path(f"/proc/{pid}/status").read_text()
    fields = {
        k: v.split()[0]
        for k, _, v in (line.partition(":") for line in status.splitlines())
        if v.split()
    }
    return int(fields.get("VmRSS", 0)), int(fields.get("VmHWM", 0)), int(fields.get("RssAnon", 0))


async def timed(client: Client, call: Call, rounds: int) -> list[float]:
    times: list[float] = []
    for i in range(rounds):
        start = time.perf_counter()
        await call(client, i)
        times.append((time.perf_counter() - start) * 1000)
    return times


def _client_process(
    socket: str, call: Call, rounds: int, start_at: float, out: multiprocessing.Queue[Any]
) -> None:
    """One connection in a process of its own: `rounds` calls back to back from
    `start_at` (wall clock); puts (latencies, first start, last end)."""

    async def go() -> tuple[list[float], float, float]:
        client = await Client.connect(socket)
        try:
            await asyncio.sleep(max(0.0, start_at - time.time()))
            began = time.time()
            times = await timed(client, call, rounds)
            return times, began, time.time()
        finally:
            await client.close()

    out.put(asyncio.run(go()))


def concurrent(socket: Path, call: Call, clients: int, rounds: int) -> tuple[list[float], float]:
    """`clients` connections at once, each from a client process of its own (forked:
    `call` need not pickle), so the clients' own Python never queues behind one GIL
    and the bench measures the daemon rather than itself (4 clients in the bench's
    own process made 4 connections look slower than 1). Reads per second over all."""
    ctx = multiprocessing.get_context("fork")
    out: multiprocessing.Queue[Any] = ctx.Queue()
    start_at = time.time() + 0.3
    procs = [
        ctx.Process(target=_client_process, args=(str(socket), call, rounds, start_at, out))
        for _ in range(clients)
    ]
    for proc in procs:
        proc.start()
    parts = [out.get() for _ in procs]
    for proc in procs:
        proc.join()
    times = [x for p in parts for x in p[0]]
    elapsed = max(p[2] for p in parts) - min(p[1] for p in parts)
    return times, len(times) / elapsed


async def measure(target: Target, rounds: int, only: list[str] | None = None) -> dict[str, Any]:
    facts = target.facts()
    out: dict[str, Any] = {"store": target.name, "facts": facts, "load": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="lbs-") as tmp:
        socket = Path(tmp) / "d.sock"
        database = target.database()
        daemon = DaemonProcess(
            socket, target.data_dir, args=["--database", database] if database else []
        )
        if target.pending_migrations():
            start = time.perf_counter()
            daemon.start(timeout=3600)
            out["migration_s"] = time.perf_counter() - start
            daemon.stop()
        start = time.perf_counter()
        daemon.start()
        out["cold_start_s"] = time.perf_counter() - start
        assert daemon.process is not None
        pid = daemon.process.pid
        try:
            client = await daemon.client()
            heavy = facts["heavy"]
            page = await client.call(
                m.TIMELINE_GET, t.TimelineGetParams(contact_id=heavy, limit=50)
            )
            depth, cursor = 1, page.next  # cursor: the `before` of page depth + 1
            assert cursor is not None, "the heaviest contact has more than one page"
            while depth < 199:
                page = await client.call(
                    m.TIMELINE_GET, t.TimelineGetParams(contact_id=heavy, limit=50, before=cursor)
                )
                if page.next is None:
                    break
                depth, cursor = depth + 1, page.next
            facts["deep_page"] = depth + 1
            ts, _, eid = cursor.partition(":")
            facts["cursor_ts"], facts["cursor_id"] = float(ts), int(eid)

            calls: dict[str, tuple[Call, int]] = {
                "timeline first page": (
                    lambda c, i: c.call(m.TIMELINE_GET, t.TimelineGetParams(contact_id=heavy)),
                    rounds,
                ),
                "timeline page 200": (
                    lambda c, i: c.call(
                        m.TIMELINE_GET, t.TimelineGetParams(contact_id=heavy, before=cursor)
                    ),
                    rounds,
                ),
                "search rare": (
                    lambda c, i: c.call(m.MESSAGES_SEARCH, t.MessagesSearchParams(query=RARE)),
                    rounds,
                ),
                "search 1%": (
                    lambda c, i: c.call(m.MESSAGES_SEARCH, t.MessagesSearchParams(query=ONE_PCT)),
                    max(20, rounds // 4),
                ),
                "search 60%": (
                    lambda c, i: c.call(m.MESSAGES_SEARCH, t.MessagesSearchParams(query=SIXTY_PCT)),
                    max(10, rounds // 10),
                ),
                "contacts 4 letters": (
                    lambda c, i: c.call(
                        m.CONTACTS_LIST, t.ContactsListParams(query=QUERIES[i % len(QUERIES)])
                    ),
                    max(20, rounds // 2),
                ),
                "unlogged list": (
                    lambda c, i: c.call(m.MESSAGES_LIST, t.MessagesListParams(logged=False)),
                    max(20, rounds // 4),
                ),
            }
            raw = target.raw()
            peers = target.peers()
            reads: dict[str, Any] = {}
            for name, (call, n) in calls.items():
                if only and not any(part in name for part in only):
                    continue
                await timed(client, call, WARM)
                one = await timed(client, call, n)
                four, throughput4 = concurrent(socket, call, 4, max(5, n // 2))
                _, throughput1 = concurrent(socket, call, 1, max(5, n // 2))
                sql, params = peers[name]
                peer = raw.timed(sql, params(facts), max(10, n))
                reads[name] = {
                    "p50": statistics.median(one),
                    "p99": percentile(one, 0.99),
                    "p50_4": statistics.median(four),
                    "p99_4": percentile(four, 0.99),
                    "per_s_1": throughput1,
                    "per_s_4": throughput4,
                    "raw_p50": statistics.median(peer),
                    "ratio": statistics.median(one) / max(1e-6, statistics.median(peer)),
                }
                print(
                    f"  {name}: {reads[name]['p50']:.1f} / {reads[name]['p99']:.1f} ms", flush=True
                )
            raw.close()
            out["reads"] = reads
            out["rss_kb"], out["rss_peak_kb"], out["rss_anon_kb"] = _rss_kb(pid)
            await client.close()
        finally:
            daemon.stop()
    out["load_after"] = os.getloadavg()
    out["size"] = target.sizes(facts["messages"])
    return out


def table(result: dict[str, Any]) -> str:
    facts = result["facts"]
    load = ", ".join(f"{x:.1f}" for x in result["load"])
    lines = [
        f"{result['store']}: {facts['messages']:,} messages ({facts['logged']:,} logged),"
        f" heaviest contact {facts['heavy_entries']:,} entries; load average {load}",
        f"{'read':22} {'p50':>7} {'p99':>7} {'p50x4':>7} {'p99x4':>7} {'/s x1':>7}"
        f" {'/s x4':>7} {'raw p50':>8} {'ratio':>6}",
    ]
    for name, r in result["reads"].items():
        if name == "timeline page 200":
            name = f"timeline page {facts['deep_page']}"
        lines.append(
            f"{name:22} {r['p50']:7.1f} {r['p99']:7.1f} {r['p50_4']:7.1f} {r['p99_4']:7.1f}"
            f" {r['per_s_1']:7.0f} {r['per_s_4']:7.0f} {r['raw_p50']:8.2f} {r['ratio']:6.1f}"
        )
    size = result["size"]
    lines.append(
        f"bytes/message {size['bytes_per_message']:,.0f} ({size['file_bytes'] / 1e9:.2f} GB);"
        f" RSS {result['rss_kb'] / 1024:.0f} MB (peak {result['rss_peak_kb'] / 1024:.0f} MB,"
        f" own {result.get('rss_anon_kb', 0) / 1024:.0f} MB: the rest is the mapped file);"
        f" cold start {result['cold_start_s']:.2f} s"
        + (f"; migration {result['migration_s']:.1f} s" if "migration_s" in result else "")
    )
    for name, pages in size["by_object"].items():
        lines.append(f"  {name:40} {pages / max(1, facts['messages']):8.0f} B/message")
    for name, value in size["payload_per_message"].items():
        lines.append(f"  payload {name:32} {value:8.0f} B/message")
    return "\n".join(lines)


def side_by_side(results: list[dict[str, Any]]) -> str:
    """p50 / p99 (1 connection), p99 and reads/s with 4, per store, one line per read."""
    head = f"{'read':22}" + "".join(
        f" | {r['store'] + ' p50/p99':>17} {'p99x4':>7} {'/s x1':>6} {'/s x4':>6}" for r in results
    )
    lines = [head]
    for name in results[0]["reads"]:
        line = f"{name:22}"
        for r in results:
            x = r["reads"][name]
            line += (
                f" | {x['p50']:8.1f}/{x['p99']:8.1f} {x['p99_4']:7.1f} {x['per_s_1']:6.0f}"
                f" {x['per_s_4']:6.0f}"
            )
        lines.append(line)
    lines.append(
        f"{'bytes/message':22}"
        + "".join(f" | {r['size']['bytes_per_message']:17,.0f} {'':22}" for r in results)
    )
    return "\n".join(lines)


async def run(target: Target, args: argparse.Namespace) -> dict[str, Any]:
    target.start()
    try:
        built = target.cache / "built.json"
        if not built.exists():
            target.reset()
            print(f"building {args.messages:,} logged emails into {target.name} at"
                  f" {target.cache} ...", flush=True)  # fmt: skip
            timings = await build(target.data_dir, args.messages, SEED, database=target.database())
            target.settle()
            timings["load"] = os.getloadavg()
            built.write_text(json.dumps(timings))
            print(f"  built in {timings['messages_s']:.0f} s ({timings['per_second']:.0f}/s)")
        print(f"measuring {target.name} ...", flush=True)
        result = await measure(target, args.rounds, args.reads)
        result["build"] = json.loads(built.read_text())
        return result
    finally:
        target.stop()


async def main_async(args: argparse.Namespace) -> None:
    results = []
    for target in targets(args.store, args.messages, args.cache, args.pg_cache):
        result = await run(target, args)
        print(table(result), flush=True)
        results.append(result)
    if len(results) > 1:
        print(side_by_side(results))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({r["store"]: r for r in results}, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000, help="logged emails")
    parser.add_argument("--rounds", type=int, default=1000, help="calls per read (fewer for slow)")
    parser.add_argument(
        "--store", choices=("sqlite", "postgres", "both"), default="sqlite",
        help="which store to build and measure (both: one after the other, then side by side)",
    )  # fmt: skip
    parser.add_argument("--cache", type=Path, default=None, help="the SQLite store's data dir")
    parser.add_argument(
        "--pg-cache", type=Path, default=None,
        help="the PostgreSQL store's folder (its cluster in pg/, blobs in data/)",
    )  # fmt: skip
    parser.add_argument(
        "--reads", type=lambda text: text.split(","), default=None,
        help="only the reads whose names contain one of these (comma-separated), e.g. timeline",
    )  # fmt: skip
    parser.add_argument("--output", type=Path, default=RESULTS / "scale.json")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
