"""The daemon's CPU per call and its throughput with 1 and with N client processes.

Starts a `loggbokd` on a built scale store (`bench/scale.py` builds one: pass its
data dir) and, per read, runs each client in a process of its own (so the
client's Python never shares a GIL with another client, and the figures are the
daemon's), every client calling the same read back to back for `--seconds`.
Counts, from `/proc`, the CPU seconds the daemon spent (user + system, and per
thread: the event loop's, the reader threads', the rest) and divides by the
calls answered: milliseconds of daemon CPU per call. Also reads per second, and
the machine's load average before and after (the machine is shared: compare only
runs made back to back).

`--daemon-path DIR` runs the daemon (and the clients) with DIR first on
PYTHONPATH: a tree of symlinks `DIR/loggbok/{daemon,protocol,tui}` to another
checkout measures that code against this one in the same run (`--alternate`
takes turns between the two, read by read).

    .venv/bin/python -m bench.rpc_cpu --data-dir /var/tmp/x/scale [--connections 1,4]
    .venv/bin/python -m bench.rpc_cpu --pg-cache /var/tmp/x/scale-pg   (PostgreSQL)

Never asserts; prints one line per read, connections and code.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.scale_stores import PostgresTarget, SqliteTarget
from tests.conftest import DaemonProcess

_TICK = os.sysconf("SC_CLK_TCK")


def reads(facts: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Method and params of each read (plain JSON: the clients send them as they are)."""
    from bench.scale_corpus import ONE_PCT, RARE

    return {
        "hello": ("daemon.hello", {}),
        "timeline": ("timeline.get", {"contact_id": facts["heavy"]}),
        "search rare": ("messages.search", {"query": RARE}),
        "search 1%": ("messages.search", {"query": ONE_PCT}),
        "contacts.list": ("contacts.list", {"query": "anna"}),
        "contacts.list all": ("contacts.list", {}),
        "unlogged": ("messages.list", {"logged": False}),
    }


def _client(
    path: str, method: str, params: dict[str, Any], start: float, stop: float, out: Any
) -> None:
    """One connection: the read back to back from `start` until `stop` (wall clock),
    a blocking socket and json (the cheapest client: the daemon is what is measured)."""
    sock = socket.socket(socket.AF_UNIX)
    sock.connect(path)
    file = sock.makefile("rb")
    request = {"jsonrpc": "2.0", "method": method, "params": params, "id": 1}
    line = json.dumps(request).encode() + b"\n"
    while time.time() < start:
        time.sleep(0.001)
    calls = 0
    latencies: list[float] = []
    while time.time() < stop:
        t0 = time.perf_counter()
        sock.sendall(line)
        answer = file.readline()
        latencies.append(time.perf_counter() - t0)
        if b'"result"' not in answer:
            raise RuntimeError(answer[:300])
        calls += 1
    out.put((calls, latencies, time.process_time()))
    sock.close()


def _threads(pid: int) -> dict[str, float]:
    """CPU seconds by thread name of the process (threads that ended are in `gone`)."""
    by: dict[str, float] = {}
    total = 0.0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        seconds = (int(fields[11]) + int(fields[12])) / _TICK
        key = "loop" if task.name == str(pid) else name.split("_")[0]
        by[key] = by.get(key, 0.0) + seconds
        total += seconds
    stat = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    whole = (int(stat[11]) + int(stat[12])) / _TICK
    by["gone"] = whole - total
    by["all"] = whole
    return by


def measure(daemon_pid: int, path: str, method: str, params: dict[str, Any], clients: int,
            seconds: float) -> dict[str, Any]:  # fmt: skip
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    start = time.time() + 0.5
    procs = [
        ctx.Process(target=_client, args=(path, method, params, start, start + seconds, out))
        for _ in range(clients)
    ]
    for p in procs:
        p.start()
    while time.time() < start:
        time.sleep(0.001)
    before = _threads(daemon_pid)
    results = [out.get() for _ in procs]
    after = _threads(daemon_pid)
    for p in procs:
        p.join()
    calls = sum(r[0] for r in results)
    latencies = sorted(x for r in results for x in r[1])
    cpu = {k: (after.get(k, 0.0) - before.get(k, 0.0)) * 1000 / max(1, calls) for k in after}
    return {
        "calls": calls,
        "per_s": calls / seconds,
        "cpu_ms": cpu,
        "p50": latencies[len(latencies) // 2] * 1000,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "client_cpu_ms": sum(r[2] for r in results) * 1000 / max(1, calls),
    }


class Daemon:
    def __init__(self, data_dir: Path, tmp: Path, code: str | None, env: dict[str, str]) -> None:
        self.code = code
        extra = {"PYTHONPATH": code} if code else {}
        (tmp / "data").mkdir(exist_ok=True)
        self.proc = DaemonProcess(tmp / "d.sock", data_dir, env={**extra, **env})
        self.proc.data_dir = data_dir

    def start(self) -> int:
        self.proc.start()
        assert self.proc.process is not None
        return self.proc.process.pid

    def stop(self) -> None:
        self.proc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None, help="a built scale store")
    parser.add_argument(
        "--pg-cache", type=Path, default=None,
        help="a built PostgreSQL scale store instead (`bench.scale --pg-cache`): its cluster"
        " is started for the run and stopped after",
    )  # fmt: skip
    parser.add_argument("--connections", default="1,4")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--reads", default="timeline,search rare,contacts.list")
    parser.add_argument("--daemon-path", default=None, help="PYTHONPATH for the other code")
    parser.add_argument("--alternate", action="store_true", help="this code and the other")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the daemon")
    args = parser.parse_args()
    env = dict(e.split("=", 1) for e in args.env)
    if args.pg_cache is not None:
        pg = PostgresTarget(args.pg_cache, 0)
        pg.cache, pg.root, pg.data_dir = args.pg_cache, args.pg_cache / "pg", args.pg_cache / "data"
        pg.start()
        try:
            env["LOGGBOK_DATABASE"] = pg.database()
            run(args, pg.data_dir, pg.facts(), env)
        finally:
            pg.stop()
        return
    if args.data_dir is None:
        parser.error("--data-dir or --pg-cache is required")
    target = SqliteTarget.__new__(SqliteTarget)
    target.data_dir, target.db = args.data_dir, args.data_dir / "loggbok.sqlite3"
    run(args, args.data_dir, target.facts(), env)


def run(
    args: argparse.Namespace, data_dir: Path, facts: dict[str, Any], env: dict[str, str]
) -> None:
    codes: list[str | None] = [None]
    if args.daemon_path:
        codes = [args.daemon_path, None] if args.alternate else [args.daemon_path]
    wanted = [r.strip() for r in args.reads.split(",")]
    counts = [int(c) for c in args.connections.split(",")]
    all_reads = reads(facts)
    for _ in range(args.rounds):
        for name in wanted:
            method, params = all_reads[name]
            for code in codes:
                with tempfile.TemporaryDirectory(prefix="rpccpu-") as tmp:
                    daemon = Daemon(data_dir, Path(tmp), code, env)
                    pid = daemon.start()
                    try:
                        path = str(daemon.proc.socket)
                        measure(pid, path, method, params, 1, 1.0)  # warm
                        for n in counts:
                            load = os.getloadavg()[0]
                            r = measure(pid, path, method, params, n, args.seconds)
                            cpu = r["cpu_ms"]
                            threads = " ".join(
                                f"{k} {v:.2f}" for k, v in sorted(cpu.items()) if k != "all"
                            )
                            print(
                                f"{name:18} {'other' if code else 'this ':5} x{n}"
                                f" {r['per_s']:6.0f}/s p50 {r['p50']:5.2f} p99 {r['p99']:6.2f}"
                                f" cpu/call {cpu['all']:.2f} ms ({threads})"
                                f" client {r['client_cpu_ms']:.2f} load {load:.1f}",
                                flush=True,
                            )
                    finally:
                        daemon.stop()


if __name__ == "__main__":
    main()
