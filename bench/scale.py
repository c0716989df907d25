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

with 1 connection, then 4 at once (each its own client; throughput = reads per
second over all four). Each read is also timed as one SQL statement on a raw
`sqlite3` connection to the same file (the peer: what the database alone takes
to answer it; the ratio is the daemon's overhead). Also: bytes per stored
message (file size over messages, and the tables and indexes that make it up,
from SQLite's dbstat), the daemon's RSS, its cold start (process start until
the socket answers; a pending migration is run and timed first).

    .venv/bin/python -m bench.scale [--messages 1000000] [--rounds 200]

Prints a table and writes `bench/results/scale.json`. Never asserts. The built
store is kept in `--cache` (default `~/.cache/loggbok-bench/scale-N`): a
rerun measures at once; the daemon's migrations update the cached copy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench.scale_build import build
from bench.scale_corpus import ONE_PCT, RARE, SIXTY_PCT
from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from tests.conftest import DaemonProcess

RESULTS = Path(__file__).resolve().parent / "results"
SEED = 20261206
QUERIES = ["anna", "berg", "karl", "lind", "smit", "mari", "hans", "john"]
"""4-letter contacts.list queries: common name parts (hundreds to thousands of hits)."""

Call = Callable[[Client, int], Awaitable[Any]]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _rss_kb(pid: int) -> tuple[int, int]:
    status = Path(f"/proc/{pid}/status").read_text()
    fields = {
        k: v.split()[0]
        for k, _, v in (line.partition(":") for line in status.splitlines())
        if v.split()
    }
    return int(fields.get("VmRSS", 0)), int(fields.get("VmHWM", 0))


class Bench:
    def __init__(self, data_dir: Path, rounds: int) -> None:
        self.data_dir = data_dir
        self.rounds = rounds
        self.db = data_dir / "loggbok.sqlite3"
        self.results: dict[str, Any] = {}

    def facts(self) -> dict[str, Any]:
        con = sqlite3.connect(self.db)
        try:
            heavy = con.execute(
                "SELECT contact_id, count(*) c FROM timeline_entries GROUP BY contact_id"
                " ORDER BY c DESC LIMIT 1"
            ).fetchone()
            counts = con.execute("SELECT count(*), sum(logged) FROM messages").fetchone()
        finally:
            con.close()
        return {"heavy": heavy[0], "heavy_entries": heavy[1], "messages": counts[0],
                "logged": counts[1]}  # fmt: skip

    def sizes(self, messages: int) -> dict[str, Any]:
        total = sum(p.stat().st_size for p in self.data_dir.glob("loggbok.sqlite3*"))
        con = sqlite3.connect(self.db)
        try:
            rows = con.execute(
                "SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC"
            ).fetchall()
            raw = con.execute(
                "SELECT sum(length(raw_headers)), sum(length(coalesce(body_text, ''))),"
                " sum(length(coalesce(new_text, ''))), sum(length(snippet)),"
                " sum(length(recipients)) FROM messages"
            ).fetchone()
        except sqlite3.Error:
            rows, raw = [], None
        finally:
            con.close()
        return {
            "file_bytes": total,
            "bytes_per_message": total / max(1, messages),
            "by_object": {name: size for name, size in rows[:14]},
            "payload_per_message": (
                {
                    "raw_headers": raw[0] / messages,
                    "body_text": raw[1] / messages,
                    "new_text": raw[2] / messages,
                    "snippet": raw[3] / messages,
                    "recipients": raw[4] / messages,
                }
                if raw
                else {}
            ),
        }

    async def timed(self, client: Client, call: Call, rounds: int) -> list[float]:
        times: list[float] = []
        for i in range(rounds):
            start = time.perf_counter()
            await call(client, i)
            times.append((time.perf_counter() - start) * 1000)
        return times

    async def concurrent(
        self, clients: list[Client], call: Call, rounds: int
    ) -> tuple[list[float], float]:
        start = time.perf_counter()
        parts = await asyncio.gather(*(self.timed(c, call, rounds) for c in clients))
        elapsed = time.perf_counter() - start
        times = [x for p in parts for x in p]
        return times, len(times) / elapsed


def raw_timed(con: sqlite3.Connection, sql: str, params: Any, rounds: int) -> list[float]:
    times: list[float] = []
    for _ in range(rounds):
        start = time.perf_counter()
        con.execute(sql, params).fetchall()
        times.append((time.perf_counter() - start) * 1000)
    return times


PEERS: dict[str, tuple[str, Callable[[dict[str, Any]], Any]]] = {
    # the one statement that answers each read, on a raw connection (no visibility, no
    # attachments, no contact ids: the database's floor for the read)
    "timeline first page": (
        "SELECT m.id, m.subject, m.from_email, m.date, m.snippet FROM timeline_entries e"
        " JOIN messages m ON m.id = e.message WHERE e.contact_id = ?"
        " ORDER BY e.date_ts DESC, e.id DESC LIMIT 51",
        lambda f: (f["heavy"],),
    ),
    "timeline page 200": (
        "SELECT m.id, m.subject, m.from_email, m.date, m.snippet FROM timeline_entries e"
        " JOIN messages m ON m.id = e.message WHERE e.contact_id = ? AND"
        " (e.date_ts < ? OR (e.date_ts = ? AND e.id < ?)) ORDER BY e.date_ts DESC, e.id DESC"
        " LIMIT 51",
        lambda f: (f["heavy"], f["cursor_ts"], f["cursor_ts"], f["cursor_id"]),
    ),
    "search rare": (
        "SELECT rowid FROM message_fts WHERE message_fts MATCH ? ORDER BY rowid DESC LIMIT 50",
        lambda f: (RARE,),
    ),
    "search 1%": (
        "SELECT rowid FROM message_fts WHERE message_fts MATCH ? ORDER BY rowid DESC LIMIT 50",
        lambda f: (ONE_PCT,),
    ),
    "search 60%": (
        "SELECT rowid FROM message_fts WHERE message_fts MATCH ? ORDER BY rowid DESC LIMIT 50",
        lambda f: (SIXTY_PCT,),
    ),
    "contacts 4 letters": (
        "SELECT id, name FROM contacts ORDER BY last_activity DESC LIMIT 51",
        lambda f: (),
    ),
    "unlogged list": (
        "SELECT id, subject, from_email, date FROM messages WHERE logged = 0"
        " ORDER BY date_ts DESC, id DESC LIMIT 51",
        lambda f: (),
    ),
}


async def measure(data_dir: Path, rounds: int) -> dict[str, Any]:
    bench = Bench(data_dir, rounds)
    facts = bench.facts()
    out: dict[str, Any] = {"facts": facts}
    with tempfile.TemporaryDirectory(prefix="lbs-") as tmp:
        socket = Path(tmp) / "d.sock"
        daemon = DaemonProcess(socket, data_dir)
        con = sqlite3.connect(bench.db)
        pending = con.execute("PRAGMA user_version").fetchone()[0]
        con.close()
        from loggbok.daemon.store.migrations import MIGRATIONS

        if pending < len(MIGRATIONS):
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
            raw = sqlite3.connect(f"file:{bench.db}?mode=ro", uri=True)
            clients = [client, *[await daemon.client() for _ in range(3)]]
            reads: dict[str, Any] = {}
            for name, (call, n) in calls.items():
                await bench.timed(client, call, 3)  # warm
                one = await bench.timed(client, call, n)
                four, throughput4 = await bench.concurrent(clients, call, max(5, n // 2))
                _, throughput1 = await bench.concurrent([client], call, max(5, n // 2))
                sql, params = PEERS[name]
                peer = raw_timed(raw, sql, params(facts), max(10, n))
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
            out["rss_kb"], out["rss_peak_kb"] = _rss_kb(pid)
            for c in clients:
                await c.close()
        finally:
            daemon.stop()
    out["size"] = bench.sizes(facts["messages"])
    return out


def table(result: dict[str, Any]) -> str:
    lines = [
        f"store: {result['facts']['messages']:,} messages ({result['facts']['logged']:,} logged),"
        f" heaviest contact {result['facts']['heavy_entries']:,} entries",
        f"{'read':22} {'p50':>7} {'p99':>7} {'p50x4':>7} {'p99x4':>7} {'/s x1':>7}"
        f" {'/s x4':>7} {'raw p50':>8} {'ratio':>6}",
    ]
    for name, r in result["reads"].items():
        if name == "timeline page 200":
            name = f"timeline page {result['facts']['deep_page']}"
        lines.append(
            f"{name:22} {r['p50']:7.1f} {r['p99']:7.1f} {r['p50_4']:7.1f} {r['p99_4']:7.1f}"
            f" {r['per_s_1']:7.0f} {r['per_s_4']:7.0f} {r['raw_p50']:8.2f} {r['ratio']:6.1f}"
        )
    size = result["size"]
    lines.append(
        f"bytes/message {size['bytes_per_message']:,.0f} ({size['file_bytes'] / 1e9:.2f} GB);"
        f" RSS {result['rss_kb'] / 1024:.0f} MB (peak {result['rss_peak_kb'] / 1024:.0f} MB);"
        f" cold start {result['cold_start_s']:.2f} s"
        + (f"; migration {result['migration_s']:.1f} s" if "migration_s" in result else "")
    )
    for name, pages in size["by_object"].items():
        lines.append(f"  {name:32} {pages / max(1, result['facts']['messages']):8.0f} B/message")
    for name, value in size["payload_per_message"].items():
        lines.append(f"  payload {name:24} {value:8.0f} B/message")
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> None:
    cache: Path = args.cache or Path.home() / ".cache" / "loggbok-bench" / f"scale-{args.messages}"
    built = cache / "built.json"
    if not built.exists():
        if cache.exists():  # noqa: ASYNC240
            shutil.rmtree(cache)
        print(f"building {args.messages:,} logged emails into {cache} ...", flush=True)
        timings = await build(cache, args.messages, SEED)
        built.write_text(json.dumps(timings))
        print(f"  built in {timings['messages_s']:.0f} s ({timings['per_second']:.0f}/s)")
    result = await measure(cache, args.rounds)
    result["build"] = json.loads(built.read_text())
    print(table(result))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000, help="logged emails")
    parser.add_argument("--rounds", type=int, default=200, help="calls per read (fewer for slow)")
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--output", type=Path, default=RESULTS / "scale.json")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
