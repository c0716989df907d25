"""loggbok's Microsoft 365 (Graph) sync on the Graph test server, beside the same
mailbox on Dovecot over IMAP, in one run.

Builds the deterministic mailbox of `bench/imap_corpus.py` (N messages, INBOX
and Sent), delivers it in time order into a mailbox of the Graph test server
(`tests/servers/graph/`, real aiohttp and msal on loopback TLS) and into a fresh
Dovecot user, and measures:

  1. Graph: a fresh `loggbokd`, the mailbox added and signed in (device code,
     approved by the server at once); from the sign-in's approval until
     `mailbox.status_changed` -> `idle`: time to steady state, and from the
     test server's own record: Graph requests (and `$batch` items) per 1,000
     messages, bytes the server sent against the corpus size;
  2. IMAP on Dovecot, `replies_only`, the same way (`bench/imap_sync.py`'s run):
     time to steady state, for the ratio;
  3. push by polling: with the Graph daemon polling every `--poll` seconds
     (`LOGGBOK_GRAPH_POLL_SECONDS`), replies in tracked threads delivered one
     at a time on the server; per reply the time from delivery to
     `timeline.appended` on the socket.

Prints one table and writes `bench/results/graph_sync.json`. Never asserts.

    .venv/bin/python -m bench.graph_sync [--messages 10000] [--push 20] [--poll 1.0]
"""

from __future__ import annotations

import argparse
import asyncio
import email.utils
import json
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.imap_corpus import BCC, ME, Corpus, build_corpus, push_reply
from bench.imap_sync import Recorder, _count, _norm_id, run_loggbok, seed_user
from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from tests.backends.harnesses import GRAPH_CLIENT_ID
from tests.conftest import DaemonProcess
from tests.servers.dovecot import DovecotServer
from tests.servers.graph.server import GraphServer

RESULTS = Path(__file__).resolve().parent / "results"
STEADY_TIMEOUT = 1800.0
PUSH_TIMEOUT = 60.0
GRAPH_KINDS = ("delta", "folders", "message", "value", "batch")


@dataclass
class GraphRun:
    messages: int = 0
    corpus_bytes: int = 0
    seconds: float | None = None
    requests: dict[str, int] = field(default_factory=dict)
    requests_per_1000: float = 0.0
    batch_items_per_1000: float = 0.0
    bytes_sent: int = 0
    logged: int = 0
    stored: int = 0
    max_in_flight: int = 0
    push_ms: list[float] = field(default_factory=list)
    push_missed: int = 0
    poll_seconds: float = 0.0
    error: str = ""


def in_time_order(corpus: Corpus) -> list[tuple[str, bytes]]:
    """Every message with its Graph folder, oldest first (Exchange threads a reply
    into its parent's conversation only when the parent came first)."""

    def date(raw: bytes) -> float:
        head = raw.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
        for line in head.split("\r\n"):
            if line.lower().startswith("date:"):
                return email.utils.parsedate_to_datetime(line[5:].strip()).timestamp()
        return 0.0

    items = [("inbox", r) for r in corpus.inbox] + [("sentitems", r) for r in corpus.sent]
    return sorted(items, key=lambda item: date(item[1]))


async def run_graph(corpus: Corpus, workdir: Path, push: int, poll: float) -> GraphRun:
    run = GraphRun(messages=corpus.total, corpus_bytes=corpus.size, poll_seconds=poll)
    server = GraphServer().start()
    base = workdir / "graph"
    base.mkdir(mode=0o700)  # the socket's folder: loggbokd refuses one others can enter
    (base / "data").mkdir()
    daemon = DaemonProcess(
        base / "d.sock",
        base / "data",
        env={
            **server.client_env(),
            "LOGGBOK_NO_KEYRING": "1",
            "LOGGBOK_GRAPH_POLL_SECONDS": str(poll),
        },
    )
    try:
        await asyncio.to_thread(server.deliver_many, ME, in_time_order(corpus))
        daemon.start()
        client = await daemon.client()
        recorder = Recorder()
        client.subscribe(recorder)
        await client.call(m.SETTINGS_SET, t.SettingsSetParams(bcc_address=BCC, own_addresses=[ME]))
        created = await client.call(
            m.MAILBOXES_ADD,
            t.GraphAddParams(
                address=ME,
                client_id=GRAPH_CLIENT_ID,
                graph_url=server.graph_url,
                authority=server.authority(),
            ),
        )
        before = dict(server.control(lambda s: dict(s.observed.requests)))
        bytes_before = server.control(lambda s: s.observed.bytes_sent)
        prompt = await client.call(m.MAILBOXES_SIGN_IN, t.IdParams(id=created.id))
        await asyncio.to_thread(server.approve, prompt.user_code, ME)
        signed_in = time.perf_counter()

        def settled() -> tuple[float, t.MailboxStatusChanged] | None:
            for at, status in recorder.statuses:
                done = status.status in ("idle", "error")
                if status.id == created.id and done and at > signed_in:
                    return at, status
            return None

        found = await recorder.wait(settled, STEADY_TIMEOUT)
        if found is None or found[1].status != "idle":
            run.error = f"no steady state: {found}"
            return run
        run.seconds = found[0] - signed_in
        after = server.control(lambda s: dict(s.observed.requests))
        run.requests = {k: after.get(k, 0) - before.get(k, 0) for k in after}
        graph_requests = sum(run.requests.get(k, 0) for k in GRAPH_KINDS)
        run.requests_per_1000 = graph_requests * 1000 / corpus.total
        run.batch_items_per_1000 = run.requests.get("batch_items", 0) * 1000 / corpus.total
        run.bytes_sent = server.control(lambda s: s.observed.bytes_sent) - bytes_before
        run.max_in_flight = server.control(lambda s: s.observed.max_in_flight[ME])
        counted = _count(daemon.data_dir)
        run.logged, run.stored = counted["logged"], counted["messages_stored"]
        for number, thread in enumerate(corpus.push_threads(push), start=1):
            message_id, raw = push_reply(corpus, thread, number, datetime.now(UTC))
            delivered = time.perf_counter()
            await asyncio.to_thread(server.deliver, ME, "inbox", raw)
            key = _norm_id(message_id)
            at = await recorder.wait(lambda k=key: recorder.appended.get(k), PUSH_TIMEOUT)
            if at is None:
                run.push_missed += 1
            else:
                run.push_ms.append((at - delivered) * 1000)
        await client.close()
        return run
    finally:
        if daemon.process is not None:
            daemon.stop()
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--push", type=int, default=20)
    parser.add_argument("--poll", type=float, default=1.0)
    args = parser.parse_args(argv)
    corpus = build_corpus(args.messages)
    with tempfile.TemporaryDirectory(prefix="lb-bench-") as tmp:
        workdir = Path(tmp)
        graph = asyncio.run(run_graph(corpus, workdir, args.push, args.poll))
        with DovecotServer() as dovecot:
            user, _ = seed_user(dovecot, corpus, "graphbench")
            imap = asyncio.run(
                run_loggbok(dovecot, user, corpus, "replies_only", workdir, push=0, profile=False)
            )
    ratio = graph.seconds / imap.seconds if graph.seconds and imap.seconds else None
    median = statistics.median(graph.push_ms) if graph.push_ms else None
    rows = [
        ("messages", f"{corpus.total} ({corpus.size / 1e6:.1f} MB)"),
        ("Graph: time to steady state", f"{graph.seconds or 0:.2f} s"),
        ("IMAP (Dovecot): time to steady state", f"{imap.seconds or 0:.2f} s"),
        ("Graph / IMAP", f"{ratio:.2f}" if ratio else "n/a"),
        ("Graph requests per 1,000 messages", f"{graph.requests_per_1000:.1f}"),
        ("  of which $batch items per 1,000", f"{graph.batch_items_per_1000:.1f}"),
        ("Graph requests by kind", json.dumps(graph.requests, sort_keys=True)),
        ("bytes from Graph / corpus size", f"{graph.bytes_sent / corpus.size:.2f}"),
        ("logged / stored (Graph; IMAP)", f"{graph.logged}/{graph.stored}; {imap.logged}/"
         f"{imap.messages_stored}"),
        ("most Graph requests in flight", str(graph.max_in_flight)),
        (f"delivery -> timeline.appended, poll {graph.poll_seconds:g} s",
         f"median {median:.0f} ms, max {max(graph.push_ms):.0f} ms, missed {graph.push_missed}"
         if median is not None else f"missed {graph.push_missed}"),
    ]  # fmt: skip
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    if graph.error or imap.error:
        print("errors:", graph.error, imap.error)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "graph_sync.json").write_text(
        json.dumps({"graph": asdict(graph), "imap": asdict(imap)}, indent=2, default=str)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
