"""Benchmark: a 10,000-entry timeline in the TUI: time to first paint and per page.

It builds a Maildir with N emails the user sent to one contact with the
logging address in Bcc (each one is logged, R2), starts a real `loggbokd` on
it, waits for the sync, then drives the TUI headless through Textual's pilot:
opens the contact's timeline (time to first paint), scrolls to the end page by
page (time per page), and puts one live entry on top of the full list.
It prints numbers and asserts nothing about time.

    python bench/tui_timeline.py [--entries 10000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from functools import partial
from pathlib import Path

import msgspec
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Header, Label

from loggbok.protocol import methods
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from loggbok.tui.screens.timeline import TimelineScreen
from loggbok.tui.widgets.timeline_list import TimelineList

ME = "me@seller.example"
BCC = "log-bench@loggbok.example"
CONTACT = "anna.berg@customer.example"


def build_maildir(root: Path, count: int) -> Path:
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    for i in range(count):
        msg = EmailMessage()
        msg["From"] = f"Me Seller <{ME}>"
        msg["To"] = f"Anna Berg <{CONTACT}>"
        msg["Bcc"] = BCC
        msg["Subject"] = f"Offer {i}: licences for Q{i % 4 + 1}"
        msg["Message-ID"] = f"<bench-{i}@seller.example>"
        msg["Date"] = format_datetime(start + timedelta(hours=3 * i))
        msg.set_content(f"Hi Anna,\n\nhere is offer number {i}.\n\nBest regards\nMe\n")
        (root / "cur" / f"{i:06d}.bench:2,S").write_bytes(msg.as_bytes())
    return root


async def prepare(socket: Path, maildir: Path) -> int:
    async with await Client.connect(socket) as client:
        await client.call(
            methods.SETTINGS_SET, t.SettingsSetParams(bcc_address=BCC, own_addresses=[ME])
        )
        created = await client.call(
            methods.CONTACTS_CREATE, t.ContactCreateParams(email=CONTACT, name="Anna Berg")
        )
        box = await client.call(
            methods.MAILBOXES_ADD,
            t.MaildirAddParams(address=ME, path=str(maildir)),
        )
        started = time.perf_counter()
        await client.call(methods.MAILBOXES_SYNC, t.IdParams(id=box.id))
        print(f"daemon sync of the Maildir: {time.perf_counter() - started:.1f} s")
        return created.id


async def socket_page_times(socket: Path, contact_id: int, page: int) -> list[float]:
    times: list[float] = []
    before: str | None = None
    async with await Client.connect(socket) as client:
        while True:
            started = time.perf_counter()
            result = await client.call(
                methods.TIMELINE_GET,
                t.TimelineGetParams(contact_id=contact_id, limit=page, before=before),
            )
            times.append(time.perf_counter() - started)
            before = result.next
            if before is None:
                return times


async def poll(ready: Callable[[], object], interval: float = 0.001) -> None:
    """Return as soon as `ready()` is truthy, checking every `interval` seconds."""
    while True:
        if ready():
            return
        await asyncio.sleep(interval)


class Baseline(Screen[None]):
    """The cheapest screen with the same frame (header, one label, footer): the peer."""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label("baseline")
        yield Footer()


def _has_entries(screen: TimelineScreen) -> bool:
    return bool(screen.timeline.entries)


def _grew(timeline: TimelineList, shown: int) -> bool:
    return len(timeline.entries) != shown or timeline.exhausted


def _ms(values: list[float]) -> str:
    ms = sorted(x * 1000 for x in values)
    p95 = ms[max(int(len(ms) * 0.95) - 1, 0)]
    return (
        f"median {statistics.median(ms):.1f} ms, p95 {p95:.1f} ms, max {ms[-1]:.1f} ms, "
        f"sum {sum(ms) / 1000:.2f} s"
    )


async def drive_tui(socket: Path, contact_id: int, page: int, rounds: int = 3) -> None:
    from loggbok.tui.app import build_app
    from loggbok.tui.screens.contacts import ContactsScreen

    app = build_app(socket)
    async with app.run_test(size=(160, 48)) as pilot:
        await poll(lambda: isinstance(app.screen, ContactsScreen) and app.screen.contacts)
        await pilot.pause(0.5)
        contact = await app.link.call(methods.CONTACTS_GET, t.IdParams(id=contact_id))

        baseline, data_in, painted = [], [], []
        for _ in range(rounds):
            started = time.perf_counter()
            await app.push_screen(Baseline())
            await pilot.pause()
            baseline.append(time.perf_counter() - started)
            await app.pop_screen()
            await pilot.pause(0.2)
            started = time.perf_counter()
            await app.push_screen(TimelineScreen(contact, page_size=page))
            screen = app.screen
            assert isinstance(screen, TimelineScreen)
            await poll(partial(_has_entries, screen))
            data_in.append(time.perf_counter() - started)
            await pilot.pause()
            painted.append(time.perf_counter() - started)
            if len(painted) < rounds:
                await app.pop_screen()
                await pilot.pause(0.2)
        print(
            f"TUI open timeline, first page of {page} on screen (median of {rounds}): "
            f"entries in {statistics.median(data_in) * 1000:.1f} ms, "
            f"painted {statistics.median(painted) * 1000:.1f} ms; "
            f"baseline screen (header+label+footer) painted "
            f"{statistics.median(baseline) * 1000:.1f} ms"
        )

        screen = app.screen
        assert isinstance(screen, TimelineScreen)
        timeline = screen.timeline
        page_in: list[float] = []
        page_painted: list[float] = []
        while not timeline.exhausted:
            shown = len(timeline.entries)
            started = time.perf_counter()
            timeline.action_last()  # what the End key does: cursor to the last entry
            await poll(partial(_grew, timeline, shown))
            page_in.append(time.perf_counter() - started)
            await pilot.pause()
            page_painted.append(time.perf_counter() - started)
        total = len(timeline.entries)
        print(f"TUI scroll to the end, {len(page_in)} pages to {total} entries:")
        print(f"  next page in:      {_ms(page_in)}")
        print(f"  next page painted: {_ms(page_painted)}")
        print(
            f"  painted, first 5 pages: "
            f"{', '.join(f'{x * 1000:.0f}' for x in page_painted[:5])} ms; "
            f"last 5: {', '.join(f'{x * 1000:.0f}' for x in page_painted[-5:])} ms"
        )

        started = time.perf_counter()
        timeline.action_first()
        await pilot.pause()
        print(
            f"TUI jump to the top of {total} entries: "
            f"{(time.perf_counter() - started) * 1000:.1f} ms"
        )
        started = time.perf_counter()
        timeline.action_cursor_down()
        await pilot.pause()
        print(
            f"TUI cursor down with {total} entries loaded: "
            f"{(time.perf_counter() - started) * 1000:.1f} ms"
        )
        top = timeline.entries[0]
        live = msgspec.structs.replace(top, entry_id=10**9, subject="Live entry")
        started = time.perf_counter()
        app.timeline_appended.publish(t.TimelineAppended(contact_id=contact_id, entry=live))
        await poll(lambda: timeline.entries[0].entry_id == live.entry_id)
        await pilot.pause()
        print(
            f"TUI live entry on top of {total} entries: "
            f"{(time.perf_counter() - started) * 1000:.1f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--page", type=int, default=50)
    parser.add_argument("--keep", type=Path, default=None, help="keep the work dir here")
    parser.add_argument(
        "--socket",
        type=Path,
        default=None,
        help="use a daemon already prepared by --keep, on this socket",
    )
    parser.add_argument("--contact", type=int, default=1, help="with --socket: the contact")
    args = parser.parse_args()
    if args.socket is not None:
        asyncio.run(drive_tui(args.socket, args.contact, args.page))
        return
    root = args.keep or Path(tempfile.mkdtemp(prefix="lbb-"))
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o700)  # the socket's folder must be private
    socket = root / "d.sock"
    started = time.perf_counter()
    maildir = build_maildir(root / "Mail", args.entries)
    print(f"built {args.entries} messages in {time.perf_counter() - started:.1f} s")
    with open(root / "daemon.log", "wb") as log:
        daemon = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "loggbok.daemon.main",
                "--socket",
                str(socket),
                "--data-dir",
                str(root / "data"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ},
        )
    try:
        while not socket.exists():
            if daemon.poll() is not None:
                sys.exit(f"loggbokd exited; see {root / 'daemon.log'}")
            time.sleep(0.05)
        contact_id = asyncio.run(prepare(socket, maildir))
        socket_ms = sorted(
            x * 1000 for x in asyncio.run(socket_page_times(socket, contact_id, args.page))
        )
        print(
            f"daemon timeline.get over the socket ({len(socket_ms)} pages): "
            f"median {statistics.median(socket_ms):.1f} ms, max {socket_ms[-1]:.1f} ms"
        )
        asyncio.run(drive_tui(socket, contact_id, args.page))
    finally:
        daemon.terminate()
        daemon.wait(20)
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
