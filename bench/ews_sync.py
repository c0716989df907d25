"""loggbok's Exchange (EWS) sync on the EWS test server, beside Microsoft 365
(Graph) on the Graph test server and the same mailbox on Dovecot over IMAP, in
one run.

Builds the deterministic mailbox of `bench/imap_corpus.py` (N messages, INBOX
and Sent), delivers it in time order into a mailbox of the EWS test server
(`tests/servers/ews/`, the real exchangelib signing in with NTLM on loopback
TLS), of the Graph test server and into a fresh Dovecot user, and measures per
provider, from `mailboxes.add` (EWS) or the sign-in's approval (Graph) until
`mailbox.status_changed` -> `idle`: time to steady state, requests per 1,000
messages and bytes the server sent against the corpus size (from the test
servers' own records; Dovecot: time only). Then, with no polling, replies
delivered one at a time on the EWS server: per reply the time from delivery to
`timeline.appended` on the socket (streaming notifications).

Prints one table and writes `bench/results/ews_sync.json`. Never asserts.

    .venv/bin/python -m bench.ews_sync [--messages 10000] [--push 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.graph_sync import in_time_order, run_graph
from bench.imap_corpus import BCC, ME, Corpus, build_corpus, push_reply
from bench.imap_sync import Recorder, _count, _norm_id, run_loggbok, seed_user
from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from tests.conftest import DaemonProcess
from tests.servers.dovecot import DovecotServer
from tests.servers.ews.server import EwsServer
from tests.support.ews import PASSWORD, ntlm_params

RESULTS = Path(__file__).resolve().parent / "results"
STEADY_TIMEOUT = 1800.0
PUSH_TIMEOUT = 60.0
EWS_FOLDERS = {"inbox": "inbox", "sentitems": "sentitems"}


@dataclass
class EwsRun:
    messages: int = 0
    corpus_bytes: int = 0
    seconds: float | None = None
    requests: dict[str, int] = field(default_factory=dict)
    requests_per_1000: float = 0.0
    bytes_sent: int = 0
    logged: int = 0
    stored: int = 0
    push_ms: list[float] = field(default_factory=list)
    push_missed: int = 0
    error: str = ""


SERVICES = ("GetFolder", "FindFolder", "SyncFolderItems", "GetItem", "Subscribe",
            "GetStreamingEvents", "Unsubscribe")  # fmt: skip


async def run_ews(corpus: Corpus, workdir: Path, push: int) -> EwsRun:
    run = EwsRun(messages=corpus.total, corpus_bytes=corpus.size)
    server = EwsServer().start()
    base = workdir / "ews"
    (base / "data").mkdir(parents=True)
    base.chmod(0o700)
    daemon = DaemonProcess(
        base / "d.sock",
        base / "data",
        env={**server.client_env(), "LOGGBOK_NO_KEYRING": "1", "LOGGBOK_EWS_POLL_SECONDS": "600"},
    )
    try:
        server.add_user(ME, PASSWORD, ME.split("@")[0])
        await asyncio.to_thread(server.deliver_many, ME, in_time_order(corpus))
        daemon.start()
        client = await daemon.client()
        recorder = Recorder()
        client.subscribe(recorder)
        await client.call(m.SETTINGS_SET, t.SettingsSetParams(bcc_address=BCC, own_addresses=[ME]))
        before = dict(server.control(lambda s: dict(s.observed.requests)))
        bytes_before = server.control(lambda s: s.observed.bytes_sent)
        started = time.perf_counter()
        created = await client.call(m.MAILBOXES_ADD, ntlm_params(server, ME))

        def settled() -> tuple[float, t.MailboxStatusChanged] | None:
            for at, status in recorder.statuses:
                if status.id == created.id and status.status in ("idle", "error"):
                    return at, status
            return None

        found = await recorder.wait(settled, STEADY_TIMEOUT)
        if found is None or found[1].status != "idle":
            run.error = f"no steady state: {found}"
            return run
        run.seconds = found[0] - started
        after = server.control(lambda s: dict(s.observed.requests))
        run.requests = {k: after.get(k, 0) - before.get(k, 0) for k in after}
        run.requests_per_1000 = sum(run.requests.get(k, 0) for k in SERVICES) * 1000 / corpus.total
        run.bytes_sent = server.control(lambda s: s.observed.bytes_sent) - bytes_before
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
    parser.add_argument("--no-graph", action="store_true")
    parser.add_argument("--no-imap", action="store_true")
    args = parser.parse_args(argv)
    corpus = build_corpus(args.messages)
    graph = imap = None
    with tempfile.TemporaryDirectory(prefix="lb-bench-") as tmp:
        workdir = Path(tmp)
        ews = asyncio.run(run_ews(corpus, workdir, args.push))
        if not args.no_graph:
            graph = asyncio.run(run_graph(corpus, workdir, push=0, poll=600.0))
        if not args.no_imap:
            with DovecotServer() as dovecot:
                user, _ = seed_user(dovecot, corpus, "ewsbench")
                imap = asyncio.run(
                    run_loggbok(
                        dovecot, user, corpus, "replies_only", workdir, push=0, profile=False
                    )
                )
    median = statistics.median(ews.push_ms) if ews.push_ms else None
    rows = [("messages", f"{corpus.total} ({corpus.size / 1e6:.1f} MB)")]
    rows.append(("", "time to steady state | requests per 1,000 messages | bytes / corpus"))
    rows.append(("EWS (NTLM)", f"{ews.seconds or 0:.2f} s | {ews.requests_per_1000:.1f} | "
                               f"{ews.bytes_sent / corpus.size:.2f}"))  # fmt: skip
    if graph is not None:
        rows.append(("Graph", f"{graph.seconds or 0:.2f} s | {graph.requests_per_1000:.1f} | "
                              f"{graph.bytes_sent / corpus.size:.2f}"))  # fmt: skip
    if imap is not None:
        rows.append(("IMAP (Dovecot)", f"{imap.seconds or 0:.2f} s | n/a | n/a"))
    rows += [
        ("EWS requests by kind", json.dumps(ews.requests, sort_keys=True)),
        ("logged / stored (EWS)", f"{ews.logged}/{ews.stored}"),
        ("EWS delivery -> timeline.appended (streaming)",
         f"median {median:.0f} ms, max {max(ews.push_ms):.0f} ms, missed {ews.push_missed}"
         if median is not None else f"missed {ews.push_missed}"),
    ]  # fmt: skip
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    for run in (ews, graph, imap):
        if run is not None and run.error:
            print("error:", run.error)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ews_sync.json").write_text(
        json.dumps(
            {"ews": asdict(ews), "graph": graph and asdict(graph), "imap": imap and asdict(imap)},
            indent=2,
            default=str,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
