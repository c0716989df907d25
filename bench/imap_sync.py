"""loggbok's IMAP sync against a real Dovecot, next to its peers, in one run.

Builds a deterministic, realistic mailbox of N messages (`bench/imap_corpus.py`:
threads with replies in INBOX and Sent, BCC-logged mail, newsletters,
attachments), seeds it into a private Dovecot (`tests/servers/dovecot.py`,
one fresh user per measurement so no run profits from another's Dovecot
cache), and measures:

  1. mbsync (Debian's isync) copying INBOX and Sent into a fresh Maildir;
  2. loggbok, `replies_only`: a fresh `loggbokd`, settings set, then the time
     from the `mailboxes.add` call until `mailbox.status_changed` -> `idle`
     (the initial round is committed and the worker is about to IDLE); the
     `sync.progress` notifications give the phases;
  3. loggbok, `all_with_contacts` with every correspondent a contact (imported
     from a generated vCard first), the same way;
  4. push: with the `replies_only` daemon in steady state, 30 replies in
     tracked threads APPENDed one at a time, ~1 s apart; per APPEND, the time
     from APPEND returning to `timeline.appended` on the socket, and, in the
     same instant from a raw IDLE client on INBOX, to Dovecot's untagged
     `EXISTS` (Dovecot's own notification delay);
  5. two floors (`bench/floors.py`), for proportion: Dovecot alone serving the
     same header fields cold to stdlib imaplib (per round, a fresh user), and
     the CPU seconds whole-message parsing takes for what `all_with_contacts`
     logged, divided by the cores.

Prints one table and writes `bench/results/imap_sync.json`. Never asserts:
a target missed is a number to look at, not a failure. `--profile` also
records the daemon (and its parse workers) with py-spy during both initial
syncs and writes the collapsed stacks and a summary next to the JSON (the
timings of a profiled run are a little slower and are marked so).

    .venv/bin/python -m bench.imap_sync [--messages 10000] [--push 30] [--rounds 3] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import imaplib
import json
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from bench.floors import HeaderFetchFloor, body_parse_cpu, logged_raws, server_header_fetch
from bench.imap_corpus import BCC, ME, Corpus, build_corpus, push_reply
from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from tests.conftest import DaemonProcess
from tests.servers.dovecot import DovecotServer, DovecotUser

T = TypeVar("T")

RESULTS = Path(__file__).resolve().parent / "results"
STEADY_TIMEOUT = 1800.0
PUSH_TIMEOUT = 15.0
SETTLE = 5.0
"""Seconds between daemon start and `mailboxes.add`: its parse pool has warmed up."""
PYSPY_RATE = 250

TARGET_REPLIES_ONLY = 0.1
TARGET_ALL_WITH_CONTACTS = 0.5
TARGET_PUSH_MS = 100.0


# seeding -------------------------------------------------------------------------------


def seed_user(server: DovecotServer, corpus: Corpus, name: str) -> tuple[DovecotUser, float]:
    """A fresh Dovecot user holding the corpus; returns it and the seconds it took."""
    start = time.perf_counter()
    user = server.add_user(name, f"{name}-secret", folders=("Sent", "Drafts", "Trash"))
    server.seed_maildir(user, "INBOX", corpus.inbox)
    server.seed_maildir(user, "Sent", corpus.sent)
    count = server.message_count(user, "INBOX") + server.message_count(user, "Sent")
    if count != corpus.total:
        raise RuntimeError(f"Dovecot indexed {count} messages, the corpus has {corpus.total}")
    return user, time.perf_counter() - start


# mbsync ------------------------------------------------------------------------------------


@dataclass
class MbsyncResult:
    seconds: float | None
    copied: int
    note: str = ""


def run_mbsync(
    server: DovecotServer, user: DovecotUser, workdir: Path, *, fsync: bool = True
) -> MbsyncResult:
    """mbsync's default config (`FSync yes`), or with `FSync no` for the variant row."""
    binary = shutil.which("mbsync")
    if binary is None:
        return MbsyncResult(None, 0, "mbsync not installed (Debian package isync)")
    label = "mbsync" if fsync else "mbsync-nofsync"
    target = workdir / f"{label}-maildir"
    target.mkdir()
    config = workdir / f"{label}rc"
    config.write_text(
        ("" if fsync else "FSync no\n\n")
        + f"IMAPAccount bench\nHost {server.host}\nPort {server.port}\nUser {user.name}\n"
        f"Pass {user.password}\nSSLType None\nAuthMechs LOGIN\n\n"
        "IMAPStore remote\nAccount bench\n\n"
        f"MaildirStore local\nPath {target}/\nInbox {target}/INBOX\n\n"
        "Channel bench\nFar :remote:\nNear :local:\nPatterns INBOX Sent\nCreate Near\n"
        "SyncState *\nSync Pull\n",
        encoding="utf-8",
    )
    start = time.perf_counter()
    done = subprocess.run(
        [binary, "-q", "-c", str(config), "bench"], capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - start
    copied = sum(
        1 for folder in ("INBOX", "Sent") for sub in ("cur", "new")
        for _ in (target / folder / sub).glob("*")
    )  # fmt: skip
    note = "" if done.returncode == 0 else f"mbsync exited {done.returncode}: {done.stderr[-500:]}"
    return MbsyncResult(seconds, copied, note)


# Dovecot's own IDLE delay -------------------------------------------------------------------


class IdleProbe:
    """A plain IMAP client in IDLE on INBOX, noting when each untagged EXISTS arrives."""

    def __init__(self, server: DovecotServer, user: DovecotUser) -> None:
        self.imap = imaplib.IMAP4(server.host, server.port, timeout=60)
        self.imap.login(user.name, user.password)
        _typ, data = self.imap.select("INBOX", readonly=True)
        self.exists = int(data[0] or 0)
        self.events: list[tuple[float, int]] = []
        self._cond = threading.Condition()
        self._stop = False
        self.imap.send(b"B1 IDLE\r\n")
        line = self.imap.readline()
        if not line.startswith(b"+"):
            raise RuntimeError(f"IDLE refused: {line!r}")
        self._thread = threading.Thread(target=self._read, name="idle-probe", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while True:
            try:
                line = self.imap.readline()
            except OSError:
                return
            now = time.perf_counter()
            if not line or line.startswith(b"B1 "):
                return
            parts = line.split()
            if len(parts) >= 3 and parts[0] == b"*" and parts[2].upper() == b"EXISTS":
                with self._cond:
                    self.events.append((now, int(parts[1])))
                    self._cond.notify_all()

    def wait_exists(self, above: int, timeout: float) -> tuple[float, int] | None:
        """The first EXISTS event with a count above `above`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for event in self.events:
                    if event[1] > above:
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.imap.send(b"DONE\r\n")
            self._thread.join(5)
            self.imap.logout()
        with contextlib.suppress(Exception):
            self.imap.shutdown()


class Appender:
    """One logged-in connection that APPENDs, as an MTA's delivery would."""

    def __init__(self, server: DovecotServer, user: DovecotUser) -> None:
        self.imap = imaplib.IMAP4(server.host, server.port, timeout=60)
        self.imap.login(user.name, user.password)

    def append(self, raw: bytes) -> float:
        """APPEND to INBOX; returns perf_counter() when the tagged OK was read."""
        typ, data = self.imap.append("INBOX", None, None, raw)
        done = time.perf_counter()
        if typ != "OK":
            raise RuntimeError(f"APPEND failed: {data!r}")
        return done

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.imap.logout()


# loggbok ----------------------------------------------------------------------------------------


@dataclass
class PushResult:
    loggbok_ms: list[float] = field(default_factory=list)
    dovecot_idle_ms: list[float] = field(default_factory=list)
    missed_loggbok: int = 0
    missed_idle: int = 0


@dataclass
class LoggbokRun:
    mode: str
    seconds: float | None = None
    add_returned: float | None = None
    no_op_round_seconds: float | None = None
    no_op_round_new: int | None = None
    messages_stored: int = 0
    logged: int = 0
    timeline_entries: int = 0
    locations: int = 0
    contacts: int = 0
    attachments_stored: int = 0
    data_dir_mb: float = 0.0
    peak_rss_mb: float = 0.0
    """The daemon's peak resident memory (VmHWM) by steady state; parse workers apart."""
    steady_rss_mb: float = 0.0
    phases: dict[str, Any] = field(default_factory=dict)
    statuses: list[str] = field(default_factory=list)
    push: PushResult | None = None
    profile: dict[str, Any] | None = None
    error: str = ""


def vcard(corpus: Corpus) -> str:
    cards = []
    for person in corpus.people:
        first, _, last = person.name.partition(" ")
        cards.append(
            "BEGIN:VCARD\r\nVERSION:3.0\r\n"
            f"FN:{person.name}\r\nN:{last};{first};;;\r\nORG:{person.company}\r\n"
            f"EMAIL;TYPE=work:{person.email}\r\nEND:VCARD\r\n"
        )
    return "".join(cards)


def _phases(
    add_at: float, steady_at: float, progress: list[tuple[float, t.SyncProgress]]
) -> dict[str, Any]:
    """Turn the `sync.progress` timeline into per-phase seconds (relative to `add`)."""
    out: dict[str, Any] = {}
    headers = [(at, p) for at, p in progress if p.phase == "headers"]
    decide = [(at, p) for at, p in progress if p.phase == "decide"]
    previous = add_at
    if headers:
        out["first_headers_chunk_at"] = headers[0][0] - add_at
    for folder in dict.fromkeys(p.folder for _, p in headers):
        stamps = [at for at, p in headers if p.folder == folder]
        chunks = [b - a for a, b in zip([previous, *stamps[:-1]], stamps, strict=True)]
        out[f"headers[{folder}]"] = {
            "messages": next(p.total for _, p in headers if p.folder == folder),
            "done_at": stamps[-1] - add_at,
            "seconds": stamps[-1] - previous,
            "chunk_ms_median": statistics.median(chunks) * 1000,
            "chunk_ms_max": max(chunks) * 1000,
        }
        previous = stamps[-1]
    if decide:
        stamps = [at for at, _ in decide]
        batches = [b - a for a, b in zip([previous, *stamps[:-1]], stamps, strict=True)]
        out["decide"] = {
            "batches": len(batches),
            "seconds": stamps[-1] - previous,
            "first_batch_ms": batches[0] * 1000,
            "batch_ms_median": statistics.median(batches) * 1000,
            "batch_ms_max": max(batches) * 1000,
        }
        previous = stamps[-1]
    out["after_last_batch_ms"] = (steady_at - previous) * 1000
    return out


def _count(data_dir: Path) -> dict[str, int]:
    db = sqlite3.connect(f"file:{data_dir / 'loggbok.sqlite3'}?mode=ro", uri=True)
    try:
        one = lambda sql: int(db.execute(sql).fetchone()[0])  # noqa: E731
        return {
            "messages_stored": one("SELECT count(*) FROM messages"),
            "logged": one("SELECT count(*) FROM messages WHERE logged = 1"),
            "timeline_entries": one("SELECT count(*) FROM timeline_entries"),
            "locations": one("SELECT count(*) FROM message_locations"),
            "contacts": one("SELECT count(*) FROM contacts"),
            "attachments_stored": one(
                "SELECT count(*) FROM attachments WHERE status NOT IN ('over_limit')"
            ),
        }
    finally:
        db.close()


def _memory_mb(pid: int) -> tuple[float, float]:
    """(VmHWM, VmRSS) of `pid` in MB, from /proc."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return tuple(int(fields[k].split()[0]) / 1024 for k in ("VmHWM", "VmRSS"))  # type: ignore[return-value]


def _dir_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


class Recorder:
    """Every notification with the time it was read off the socket."""

    def __init__(self) -> None:
        self.progress: list[tuple[float, t.SyncProgress]] = []
        self.statuses: list[tuple[float, t.MailboxStatusChanged]] = []
        self.appended: dict[str, float] = {}
        self.changed = asyncio.Event()

    def __call__(self, name: str, params: Any) -> None:
        now = time.perf_counter()
        if name == "sync.progress":
            self.progress.append((now, params))
        elif name == "mailbox.status_changed":
            self.statuses.append((now, params))
        elif name == "timeline.appended":
            self.appended.setdefault(_norm_id(params.entry.message_id), now)
        self.changed.set()

    async def wait(self, predicate: Any, timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            self.changed.clear()
            found = predicate()
            if found is not None:
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), left)


def _norm_id(message_id: str) -> str:
    return message_id.strip().strip("<>").lower()


class PySpy:
    """py-spy recording a running process (and its children) until stopped."""

    def __init__(self, pid: int, output: Path) -> None:
        binary = Path(sys.executable).with_name("py-spy")
        self.output = output
        self.proc = subprocess.Popen(
            [str(binary if binary.exists() else "py-spy"), "record", "--pid", str(pid),
             "--subprocesses", "--threads", "--nonblocking", "--rate", str(PYSPY_RATE),
             "--format", "raw", "--output", str(output)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        time.sleep(0.5)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(30)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def summarise_profile(path: Path, rate: int = PYSPY_RATE, top: int = 30) -> dict[str, Any]:
    """Busy (on-CPU) seconds per thread, and self/inclusive seconds per function.

    py-spy records without `--idle`, so a sample is a thread that was running
    (or runnable) at that instant; C calls (SQLite, zlib, socket reads) count
    against the Python frame that made them.
    """
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        processes = sum(1 for f in frames if f.startswith("process "))
        thread = next((f for f in frames if f.startswith("thread (")), "thread (?): ?")
        code = frames[frames.index(thread) + 1 :] if thread in frames else frames[processes:]
        kind = _thread_kind(thread, child=processes > 1)
        threads[kind] += count
        if not code:
            continue
        self_time[f"{kind}: {_function(code[-1])}"] += count
        for name in dict.fromkeys(_function(f) for f in code):
            inclusive[f"{kind}: {name}"] += count
    seconds = lambda c: round(c / rate, 2)  # noqa: E731
    return {
        "busy_seconds_by_thread": {k: seconds(v) for k, v in threads.most_common()},
        "top_self": [(k, seconds(v)) for k, v in self_time.most_common(top)],
        "top_inclusive": [(k, seconds(v)) for k, v in inclusive.most_common(top * 2)],
    }


def _function(frame: str) -> str:
    """'name (path/to/file.py:123)' -> 'name (to/file.py)'."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    return f"{name} ({'/'.join(where.split('/')[-2:])})"


def _thread_kind(thread: str, *, child: bool) -> str:
    """'thread (123): imap-fetch-127.0.0.1_0' -> 'imap-fetch'; child processes: parse-worker."""
    name = thread.split(": ", 1)[-1]
    if child:
        return "parse-worker-process" if name == "MainThread" else f"parse-worker {name}"
    if name == "MainThread":
        return "event-loop"
    if name.startswith("imap-"):
        return name.split("-127")[0].rsplit("-", 1)[0] if "-127" in name else name
    if "_connection_worker_thread" in name:
        return "aiosqlite"
    if name.startswith("asyncio_"):
        return "asyncio.to_thread"
    return name.rstrip("0123456789-_") or name


async def run_loggbok(
    server: DovecotServer,
    user: DovecotUser,
    corpus: Corpus,
    mode: str,
    workdir: Path,
    *,
    push: int,
    profile: bool,
) -> LoggbokRun:
    run = LoggbokRun(mode)
    base = workdir / f"lb-{mode}"
    base.mkdir(mode=0o700)  # the socket's folder must be private
    (base / "data").mkdir()
    daemon = DaemonProcess(
        base / "d.sock", base / "data", env={"LOGGBOK_NO_KEYRING": "1", "LOGGBOK_MAILDIR_POLL": ""}
    )
    daemon.start()
    client: Client | None = None
    spy: PySpy | None = None
    try:
        client = await daemon.client()
        recorder = Recorder()
        client.subscribe(recorder)
        await client.call(
            m.SETTINGS_SET,
            t.SettingsSetParams(bcc_address=BCC, own_addresses=[ME], logging_mode=mode),  # type: ignore[arg-type]
        )
        if mode == "all_with_contacts":
            cards = base / "contacts.vcf"
            cards.write_text(vcard(corpus), encoding="utf-8")
            result = await client.call(m.CONTACTS_IMPORT, t.ContactsImportParams(path=str(cards)))
            if result.created != len(corpus.people):
                run.error += f"contacts.import created {result.created} of {len(corpus.people)}. "
        await asyncio.sleep(SETTLE)
        if profile:
            assert daemon.process is not None
            spy = PySpy(daemon.process.pid, RESULTS / f"imap_sync_profile_{mode}.txt")
        add_at = time.perf_counter()
        created = await client.call(
            m.MAILBOXES_ADD,
            t.ImapAddParams(
                host=server.host, port=server.port, security="none",
                username=user.name, password=user.password, address=ME,
            ),
        )  # fmt: skip
        run.add_returned = time.perf_counter() - add_at

        def settled() -> tuple[float, t.MailboxStatusChanged] | None:
            for at, status in recorder.statuses:
                if status.id == created.id and status.status in ("idle", "auth_failed", "error"):
                    return at, status
            return None

        found = await recorder.wait(settled, STEADY_TIMEOUT)
        if spy is not None:
            spy.stop()
        run.statuses = [f"{s.status} {s.detail}".strip() for _, s in recorder.statuses]
        if found is None:
            run.error += "no steady state in time. "
            return run
        steady_at, status = found
        if status.status != "idle":
            run.error += f"mailbox went {status.status}: {status.detail}. "
            return run
        run.seconds = steady_at - add_at
        run.phases = _phases(add_at, steady_at, recorder.progress)
        again = time.perf_counter()
        second = await client.call(m.MAILBOXES_SYNC, t.IdParams(id=created.id))
        run.no_op_round_seconds = time.perf_counter() - again
        run.no_op_round_new = second.new
        for key, value in _count(daemon.data_dir).items():
            setattr(run, key, value)
        run.data_dir_mb = _dir_mb(daemon.data_dir)
        assert daemon.process is not None
        run.peak_rss_mb, run.steady_rss_mb = _memory_mb(daemon.process.pid)
        if spy is not None:
            run.profile = summarise_profile(spy.output)
        if push:
            await asyncio.sleep(1.0)  # the worker re-enters IDLE
            if profile:
                assert daemon.process is not None
                spy = PySpy(daemon.process.pid, RESULTS / f"imap_sync_profile_{mode}_push.txt")
            run.push = await measure_push(server, user, corpus, recorder, push)
            if spy is not None:
                spy.stop()
                assert run.profile is not None
                run.profile["push"] = summarise_profile(spy.output)
        return run
    finally:
        if spy is not None:
            spy.stop()
        if client is not None:
            await client.close()
        if daemon.process is not None:
            daemon.stop()


async def measure_push(
    server: DovecotServer, user: DovecotUser, corpus: Corpus, recorder: Recorder, count: int
) -> PushResult:
    result = PushResult()
    threads = corpus.push_threads(count)
    probe = await asyncio.to_thread(IdleProbe, server, user)
    appender = await asyncio.to_thread(Appender, server, user)
    try:
        exists = probe.exists
        for number, thread in enumerate(threads, start=1):
            started = time.perf_counter()
            message_id, raw = push_reply(corpus, thread, number, datetime.now(UTC))
            appended_at = await asyncio.to_thread(appender.append, raw)
            key = _norm_id(message_id)
            event = await asyncio.to_thread(probe.wait_exists, exists, PUSH_TIMEOUT)
            if event is None:
                result.missed_idle += 1
            else:
                result.dovecot_idle_ms.append((event[0] - appended_at) * 1000)
                exists = event[1]
            logged_at = await recorder.wait(lambda k=key: recorder.appended.get(k), PUSH_TIMEOUT)
            if logged_at is None:
                result.missed_loggbok += 1
            else:
                result.loggbok_ms.append((logged_at - appended_at) * 1000)
            await asyncio.sleep(max(0.0, started + 1.0 - time.perf_counter()))
    finally:
        await asyncio.to_thread(appender.close)
        await asyncio.to_thread(probe.close)
    return result


# report -------------------------------------------------------------------------------------


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _median_of(items: list[T], key: Callable[[T], float | None]) -> T:
    """The item whose key is the median (the lower middle for an even count; an item
    without a key counts as slowest), so what is shown belongs to one real run."""
    ordered = sorted(items, key=lambda item: (key(item) is None, key(item) or 0.0))
    return ordered[(len(ordered) - 1) // 2]


def _fmt(value: float | None, unit: str = "s", digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f} {unit}"


@dataclass
class Floors:
    header_fetch: HeaderFetchFloor | None = None
    parse_cpu_seconds: float | None = None
    parsed_messages: int = 0


def table(
    mbsync: MbsyncResult,
    nofsync: MbsyncResult,
    runs: dict[str, LoggbokRun],
    n: int,
    floors: Floors,
) -> tuple[str, dict[str, Any]]:
    rows: list[tuple[str, str, str, str]] = []
    summary: dict[str, Any] = {"mbsync_seconds": mbsync.seconds}
    base = mbsync.seconds
    rows.append(("mbsync copy INBOX+Sent", _fmt(base), f"{mbsync.copied} msgs (default config)",
                 mbsync.note[:40]))  # fmt: skip
    rows.append(("  same, FSync no (warm, info)", _fmt(nofsync.seconds),
                 f"{nofsync.copied} msgs", nofsync.note[:40]))  # fmt: skip
    for mode, target in (
        ("replies_only", TARGET_REPLIES_ONLY), ("all_with_contacts", TARGET_ALL_WITH_CONTACTS)
    ):  # fmt: skip
        run = runs.get(mode)
        if run is None:
            continue
        ratio = run.seconds / base if run.seconds is not None and base else None
        summary[f"{mode}_seconds"] = run.seconds
        summary[f"{mode}_ratio"] = ratio
        verdict = "" if ratio is None else ("met" if ratio <= target else "MISSED")
        rows.append(
            (
                f"loggbok {mode} to steady state",
                _fmt(run.seconds),
                f"ratio {_fmt(ratio, '', 3)} (target <= {target})",
                verdict,
            )
        )
        rows.append(
            (
                "  stored / logged / timeline",
                f"{run.messages_stored}",
                f"{run.logged} logged, {run.timeline_entries} entries",
                "" if run.messages_stored == n else f"EXPECTED {n}",
            )
        )
    rows += floor_rows(floors, base, summary)
    run = runs.get("replies_only")
    if run is not None and run.push is not None:
        push = run.push
        lb = statistics.median(push.loggbok_ms) if push.loggbok_ms else None
        idle = statistics.median(push.dovecot_idle_ms) if push.dovecot_idle_ms else None
        diff = lb - idle if lb is not None and idle is not None else None
        summary.update(push_median_ms=lb, idle_median_ms=idle, push_difference_ms=diff)
        rows.append(
            (
                "APPEND -> timeline.appended",
                _fmt(lb, "ms", 0),
                f"p90 {_fmt(_pct(push.loggbok_ms, 0.9), 'ms', 0)}, n={len(push.loggbok_ms)}",
                f"missed {push.missed_loggbok}" if push.missed_loggbok else "",
            )
        )
        rows.append(
            (
                "APPEND -> Dovecot IDLE EXISTS",
                _fmt(idle, "ms", 0),
                f"p90 {_fmt(_pct(push.dovecot_idle_ms, 0.9), 'ms', 0)}, "
                f"n={len(push.dovecot_idle_ms)}",
                f"missed {push.missed_idle}" if push.missed_idle else "",
            )
        )
        verdict = "" if diff is None else ("met" if diff <= TARGET_PUSH_MS else "MISSED")
        rows.append(
            ("  difference (medians)", _fmt(diff, "ms", 0), f"target <= {TARGET_PUSH_MS:.0f} ms",
             verdict)
        )  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
             for r in rows]  # fmt: skip
    return "\n".join(lines), summary


def floor_rows(
    floors: Floors, base: float | None, summary: dict[str, Any]
) -> list[tuple[str, str, str, str]]:
    """The floors as table rows, each with its share of mbsync's time."""

    def share(seconds: float | None) -> str:
        return f"ratio {_fmt(seconds / base, '', 3)} of mbsync" if seconds and base else ""

    rows = []
    fetch = floors.header_fetch
    if fetch is not None:
        summary["floor_header_fetch_seconds"] = fetch.seconds
        label = "  floor: Dovecot alone, cold header FETCH" + (
            " + PREVIEW" if fetch.preview else ""
        )
        rows.append((label, _fmt(fetch.seconds), share(fetch.seconds), f"{fetch.messages} msgs"))
    if floors.parse_cpu_seconds is not None:
        cores = os.cpu_count() or 1
        wall = floors.parse_cpu_seconds / cores
        summary["floor_parse_cpu_seconds"] = floors.parse_cpu_seconds
        rows.append(
            (
                f"  floor: parse {floors.parsed_messages} logged, / {cores} cores",
                _fmt(wall),
                share(wall),
                f"{floors.parse_cpu_seconds:.2f} CPU-s",
            )
        )
    return rows


def print_phases(run: LoggbokRun) -> None:
    print(f"\nloggbok {run.mode}: phases (seconds from the mailboxes.add call)")
    print(f"  mailboxes.add returned (probe + save): {_fmt(run.add_returned)}")
    for key, value in run.phases.items():
        if isinstance(value, dict):
            details = ", ".join(
                f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}" for k, v in value.items()
            )
            print(f"  {key}: {details}")
        else:
            print(f"  {key}: {value:.2f}")
    print(
        f"  no-op second round: {_fmt(run.no_op_round_seconds)} ({run.no_op_round_new} new); "
        f"data dir {run.data_dir_mb:.0f} MB; statuses {' -> '.join(run.statuses)}\n"
        f"  daemon memory: peak {run.peak_rss_mb:.0f} MB, at steady state"
        f" {run.steady_rss_mb:.0f} MB (parse workers not counted)"
    )
    if run.profile:
        print("  py-spy busy seconds by thread:", run.profile["busy_seconds_by_thread"])
        for name, seconds in run.profile["top_self"][:12]:
            print(f"    {seconds:7.2f} s self  {name}")


def measure_parse_floor(corpus: Corpus, workdir: Path) -> Floors:
    """The parse floor for what this round's `all_with_contacts` run logged."""
    database = workdir / "lb-all_with_contacts" / "data" / "loggbok.sqlite3"
    if not database.exists():
        return Floors()
    raws = logged_raws(corpus.inbox + corpus.sent, database)
    defaults = t.Settings()
    cpu = body_parse_cpu(raws, defaults.attachment_limit_bytes, defaults.body_limit_bytes)
    print(f"  floor, parsing {len(raws)} logged messages: {cpu:.2f} CPU-s", flush=True)
    return Floors(parse_cpu_seconds=cpu, parsed_messages=len(raws))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--push", type=int, default=30, help="replies APPENDed for push latency")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--profile", action="store_true", help="record the daemon with py-spy")
    parser.add_argument("--output", type=Path, default=RESULTS / "imap_sync.json")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="measure mbsync and both loggbok modes this many times (fresh users each) and"
        " compare medians: mbsync's fsync-bound time moves 2-5x with the shared disk",
    )
    args = parser.parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    corpus = build_corpus(args.messages, args.seed)
    print(
        f"corpus: {corpus.total} messages ({len(corpus.inbox)} INBOX, {len(corpus.sent)} Sent, "
        f"{corpus.bcc} with the BCC address, {corpus.newsletters} newsletters, "
        f"{corpus.attachments} with attachments, {corpus.subject_changes} changed subjects), "
        f"{len(corpus.threads)} threads, {len(corpus.people)} correspondents at "
        f"{corpus.companies} companies, {corpus.size / 1e6:.0f} MB; built in "
        f"{time.perf_counter() - t0:.1f} s",
        flush=True,
    )
    runs: dict[str, LoggbokRun] = {}
    seeding: dict[str, float] = {}
    peers: list[MbsyncResult] = []
    rounds: dict[str, list[LoggbokRun]] = {"replies_only": [], "all_with_contacts": []}
    header_floors: list[HeaderFetchFloor] = []
    floors = Floors()
    with DovecotServer() as server, tempfile.TemporaryDirectory(prefix="lb-bench-") as tmp:
        for number in range(1, max(1, args.rounds) + 1):
            workdir = Path(tmp) / f"round{number}"
            workdir.mkdir()
            print(f"round {number} of {args.rounds}", flush=True)
            user, seeding[f"mbsync{number}"] = seed_user(server, corpus, f"peer{number}")
            peer = run_mbsync(server, user, workdir)
            peers.append(peer)
            print(f"  mbsync: {_fmt(peer.seconds)}, {peer.copied} messages {peer.note}", flush=True)
            if number == 1:
                nofsync = run_mbsync(server, user, workdir, fsync=False)
                print(f"  mbsync, FSync no: {_fmt(nofsync.seconds)}, {nofsync.copied} messages")
            for mode in ("replies_only", "all_with_contacts"):
                name = f"{mode.replace('_', '')}{number}"
                user, seeding[name] = seed_user(server, corpus, name)
                run = asyncio.run(
                    run_loggbok(
                        server, user, corpus, mode, workdir,
                        push=args.push if mode == "replies_only" and number == 1 else 0,
                        profile=args.profile,
                    )
                )  # fmt: skip
                rounds[mode].append(run)
                print(
                    f"  loggbok {mode}: {_fmt(run.seconds)}, {run.messages_stored} stored, "
                    f"{run.logged} logged {run.error}",
                    flush=True,
                )
                if run.error:
                    stderr = workdir / f"lb-{mode}" / "daemon.stderr"
                    with contextlib.suppress(OSError):
                        print(stderr.read_text()[-3000:])
            user, seeding[f"floor{number}"] = seed_user(server, corpus, f"floor{number}")
            header_floors.append(
                server_header_fetch(server.host, server.port, user.name, user.password)
            )
            print(f"  floor, Dovecot alone cold header FETCH: {_fmt(header_floors[-1].seconds)}")
            if number == 1:
                floors = measure_parse_floor(corpus, workdir)
        floors.header_fetch = _median_of(header_floors, lambda f: f.seconds)
    mbsync = _median_of(peers, lambda r: r.seconds)
    runs = {mode: _median_of(found, lambda r: r.seconds) for mode, found in rounds.items()}
    push_run = rounds["replies_only"][0]
    if runs["replies_only"] is not push_run:
        runs["replies_only"] = replace(runs["replies_only"], push=push_run.push)
    rendered, summary = table(mbsync, nofsync, runs, corpus.total, floors)
    summary["rounds"] = {
        "mbsync_seconds": [r.seconds for r in peers],
        **{f"{mode}_seconds": [r.seconds for r in found] for mode, found in rounds.items()},
    }
    for run in runs.values():
        print_phases(run)
    print(
        f"\nIMAP sync, {corpus.total} messages ({corpus.size / 1e6:.0f} MB), median of "
        f"{args.rounds} round(s), each on fresh Dovecot users:"
    )
    print(rendered)
    for key, values in summary["rounds"].items():
        print(f"  {key} per round: {', '.join(_fmt(v) for v in values)}")
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "dovecot": ".".join(map(str, server.version)),
        },
        "profiled": args.profile,
        "corpus": {
            "messages": corpus.total,
            "inbox": len(corpus.inbox),
            "sent": len(corpus.sent),
            "bcc": corpus.bcc,
            "newsletters": corpus.newsletters,
            "attachments": corpus.attachments,
            "threads": len(corpus.threads),
            "correspondents": len(corpus.people),
            "bytes": corpus.size,
            "seed": args.seed,
        },
        "seeding_seconds": seeding,
        "mbsync": asdict(mbsync),
        "mbsync_fsync_no": asdict(nofsync),
        "loggbok": {mode: asdict(run) for mode, run in runs.items()},
        "loggbok_rounds": {mode: [asdict(r) for r in found] for mode, found in rounds.items()},
        "summary": summary,
        "targets": {
            "replies_only_ratio": TARGET_REPLIES_ONLY,
            "all_with_contacts_ratio": TARGET_ALL_WITH_CONTACTS,
            "push_difference_ms": TARGET_PUSH_MS,
        },
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    print(f"\nwritten {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
