"""`contacts.import` of a large generated vCard: time and the daemon's peak memory.

Starts a fresh `loggbokd` on a temporary data dir, writes an N-card vCard
(`tests/support/contacts_files.py`, ~85 bytes a card), calls `contacts.import`
over the socket and prints the wall time, the daemon's peak resident memory
(VmHWM, from /proc) before and after the import, and the counts. Never asserts.

    .venv/bin/python -m bench.contacts_import [--contacts 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
from pathlib import Path

from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from tests.conftest import DaemonProcess
from tests.support.contacts_files import write_vcard


def _peak_mb(pid: int) -> float:
    """VmHWM of `pid` in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def _run(daemon: DaemonProcess, vcard: Path) -> None:
    assert daemon.process is not None
    pid = daemon.process.pid
    async with await Client.connect(daemon.socket) as client:
        await client.call(m.HELLO, t.HelloParams(client="bench"))
        before = _peak_mb(pid)
        started = time.perf_counter()
        result = await client.call(m.CONTACTS_IMPORT, t.ContactsImportParams(path=str(vcard)))
        elapsed = time.perf_counter() - started
        progress = sum(1 for name, _ in _drain(client) if name == "contacts.import_progress")
    print(f"import: {elapsed:.1f} s")
    print(f"daemon peak RSS: {before:.0f} MB before, {_peak_mb(pid):.0f} MB after")
    print(
        f"created {result.created}, updated {result.updated}, skipped {result.skipped},"
        f" errors {len(result.errors)}, progress notifications {progress}"
    )


def _drain(client: Client) -> list[tuple[str, object]]:
    items = []
    while not client.notifications.empty():
        items.append(client.notifications.get_nowait())
    return items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="lbb-"))
    try:
        vcard = write_vcard(root / "contacts.vcf", args.contacts)
        print(f"file: {args.contacts:,} cards, {vcard.stat().st_size / 1e6:.1f} MB")
        (root / "data").mkdir()
        daemon = DaemonProcess(root / "d.sock", root / "data")
        daemon.start()
        try:
            asyncio.run(_run(daemon, vcard))
        finally:
            daemon.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
