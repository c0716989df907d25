"""`contacts.import` of large files against a real daemon: it streams the file in
batches, reports progress that only moves forward, stops when its client hangs up
(leaving whole contacts behind), and holds little memory whatever the file's size.

Before: the file was read and parsed whole, then written one contact per
transaction with no word to the client, and the import ran on after its client
had gone (100,000 cards: 111 s and the daemon at 194 MB; a fat file held about
four copies of itself).
"""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

from loggbok.daemon.importing import IMPORT_BATCH
from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from tests.conftest import DaemonProcess
from tests.support.contacts_files import write_vcard
from tests.support.store_rows import value


def _progress(client: Client) -> list[t.ContactsImportProgress]:
    seen = []
    while not client.notifications.empty():
        name, params = client.notifications.get_nowait()
        if name == m.CONTACTS_IMPORT_PROGRESS.name:
            seen.append(params)
    return seen


def _counts(data_dir: Path) -> tuple[int, int, int]:
    """(contacts, contacts without an address, addresses), read beside the daemon."""
    one = lambda sql: int(value(data_dir, sql))  # noqa: E731
    return (
        one("SELECT count(*) FROM contacts"),
        one(
            "SELECT count(*) FROM contacts c WHERE NOT EXISTS"
            " (SELECT 1 FROM contact_emails e WHERE e.contact_id = c.id)"
        ),
        one("SELECT count(*) FROM contact_emails"),
    )


def _peak_rss_mb(daemon: DaemonProcess) -> float:
    assert daemon.process is not None
    status = Path(f"/proc/{daemon.process.pid}/status").read_text()
    line = next(x for x in status.splitlines() if x.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


async def test_progress_arrives_after_each_batch_and_only_moves_forward(
    client: Client, workdir: Path
) -> None:
    cards = 5 * IMPORT_BATCH + 300
    vcard = write_vcard(workdir / "contacts.vcf", cards)
    result = await client.call(m.CONTACTS_IMPORT, t.ContactsImportParams(path=str(vcard)))
    assert (result.created, result.updated, result.skipped) == (cards, 0, 0)
    seen = _progress(client)
    assert len(seen) == 6
    assert {p.path for p in seen} == {str(vcard)}
    assert {p.total_bytes for p in seen} == {vcard.stat().st_size}
    for before, after in itertools.pairwise(seen):
        for field in ("done", "bytes_read", "created", "updated", "skipped"):
            assert getattr(after, field) >= getattr(before, field), (field, before, after)
    assert [p.created for p in seen] == [1000, 2000, 3000, 4000, 5000, 5300]
    assert seen[-1].done == cards
    assert seen[-1].bytes_read == seen[-1].total_bytes
    assert 0 < seen[0].bytes_read < seen[-1].bytes_read


async def test_a_client_that_hangs_up_stops_its_import(
    daemon: DaemonProcess, client: Client, workdir: Path
) -> None:
    cards = 20 * IMPORT_BATCH
    vcard = write_vcard(workdir / "contacts.vcf", cards)
    leaving = await daemon.client()
    call = asyncio.ensure_future(
        leaving.call(m.CONTACTS_IMPORT, t.ContactsImportParams(path=str(vcard)))
    )
    while True:  # the first batch is written: hang up
        name, _ = await asyncio.wait_for(leaving.notifications.get(), 60)
        if name == m.CONTACTS_IMPORT_PROGRESS.name:
            break
    await leaving.close()
    call.cancel()
    # The daemon answers the next call only after it has read the hang-up and the
    # import has settled; then the count must not move any more.
    await client.call(m.CONTACTS_LIST, t.ContactsListParams(limit=1))
    stopped = _counts(daemon.data_dir)
    for _ in range(5):
        await asyncio.sleep(0.2)
        assert _counts(daemon.data_dir) == stopped
    contacts, without_address, addresses = stopped
    assert IMPORT_BATCH <= contacts < cards
    assert contacts % IMPORT_BATCH == 0, "a batch was written in part"
    assert (without_address, addresses) == (0, contacts)
    again = await client.call(m.CONTACTS_IMPORT, t.ContactsImportParams(path=str(vcard)))
    assert (again.created, again.skipped) == (cards - contacts, contacts)


async def test_a_client_that_only_stops_sending_still_gets_its_answer(
    daemon: DaemonProcess, workdir: Path
) -> None:
    """`socat` shuts down its sending side after the last request and waits for
    the answer: that is not a hang-up."""
    vcard = write_vcard(workdir / "contacts.vcf", 3 * IMPORT_BATCH)
    reader, writer = await asyncio.open_unix_connection(str(daemon.socket))
    writer.write(
        b'{"jsonrpc":"2.0","id":1,"method":"contacts.import","params":{"path":"'
        + str(vcard).encode()
        + b'"}}\n'
    )
    await writer.drain()
    writer.write_eof()
    lines = [line async for line in reader]
    writer.close()
    assert b'"created":3000' in lines[-1]


async def test_memory_stays_bounded_whatever_the_file_size(
    daemon: DaemonProcess, client: Client, workdir: Path
) -> None:
    """20,000 cards with a 1 KB note each (a 23 MB file): before, the daemon held
    the file about four times over (+190 MB); streamed, a batch at a time."""
    vcard = write_vcard(workdir / "contacts.vcf", 20_000, note_chars=1000)
    assert vcard.stat().st_size > 20_000_000
    before = _peak_rss_mb(daemon)
    result = await client.call(m.CONTACTS_IMPORT, t.ContactsImportParams(path=str(vcard)))
    assert result.created == 20_000
    growth = _peak_rss_mb(daemon) - before
    assert growth < 40, f"the daemon's peak grew by {growth:.0f} MB"
