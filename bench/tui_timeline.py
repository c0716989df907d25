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
from pathlib import Path

import msgspec

from loggbok.protocol import methods
from loggbok.protocol import types as t
from loggbok.protocol.client import Client

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
            t.MailboxAddParams(provider="maildir", address=ME, path=str(maildir)),
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


async def drive_tui(socket: Path, contact_id: int, page: int) -> None:
    from loggbok.tui.app import build_app
    from loggbok.tui.screens.contacts import ContactsScreen
    from loggbok.tui.screens.timeline import TimelineScreen

    app = build_app(socket)
    async with app.run_test(size=(160, 48)) as pilot:
        await poll(lambda: isinstance(app.screen, ContactsScreen) and app.screen.contacts)
        contact = await app.link.call(methods.CONTACTS_GET, t.IdParams(id=contact_id))
        started = time.perf_counter()
        await app.push_screen(TimelineScreen(contact, page_size=page))
        screen = app.screen
        assert isinstance(screen, TimelineScreen)
        await poll(lambda: screen.timeline.entries)
        await pilot.pause()
        first_paint = time.perf_counter() - started
        print(
            f"TUI time to first paint ({len(screen.timeline.entries)} entries): "
            f"{first_paint * 1000:.1f} ms"
        )

        per_page: list[float] = []
        while not screen.timeline.exhausted:
            shown = len(screen.timeline.entries)
            started = time.perf_counter()
            await pilot.press("end")
            await poll(
                lambda n=shown: len(screen.timeline.entries) != n or screen.timeline.exhausted
            )
            await pilot.pause()
            per_page.append(time.perf_counter() - started)
        total = len(screen.timeline.entries)
        ms = sorted(x * 1000 for x in per_page)
        if ms:
            print(
                f"TUI per page ({len(ms)} pages of {page}, to {total} entries): "
                f"median {statistics.median(ms):.1f} ms, "
                f"p95 {ms[int(len(ms) * 0.95) - 1]:.1f} ms, max {ms[-1]:.1f} ms, "
                f"sum {sum(ms) / 1000:.2f} s"
            )
            print(f"  first 10 pages: {', '.join(f'{x * 1000:.0f}' for x in per_page[:10])} ms")
            print(f"  last 10 pages:  {', '.join(f'{x * 1000:.0f}' for x in per_page[-10:])} ms")

        started = time.perf_counter()
        await pilot.press("home")
        await pilot.pause()
        print(
            f"TUI jump to the top of {total} entries: "
            f"{(time.perf_counter() - started) * 1000:.1f} ms"
        )
        top = screen.timeline.entries[0]
        live = msgspec.structs.replace(top, entry_id=10**9, subject="Live entry")
        started = time.perf_counter()
        app.timeline_appended.publish(t.TimelineAppended(contact_id=contact_id, entry=live))
        await poll(lambda: screen.timeline.entries[0].entry_id == live.entry_id)
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
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="lbb-"))
    root.mkdir(parents=True, exist_ok=True)
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
