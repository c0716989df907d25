"""Import contacts from a vCard or CSV file into the store, merging by address.

The file is streamed: `IMPORT_BATCH` cards are parsed at a time on a thread
(`contacts_import.ContactsReader`) and merged in one transaction each
(`store/contact_merge.py`: a card whose address already belongs to a contact
adds its other addresses to that contact, and its name when the contact has
none; a new one becomes a contact with source "import"). After each batch the
caller's `progress` hears how far the import has got. Cancelling the import
(its client hung up, the daemon stops) stops it between two statements: the
batch being written is rolled back, the batches before it stay, so no contact
is ever half written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from loggbok.daemon.contacts_import import ContactsReader
from loggbok.daemon.memory import release_after_bulk
from loggbok.daemon.store.store import Store
from loggbok.protocol.errors import ErrorCode, RpcError
from loggbok.protocol.types import ContactsImportProgress, ImportResult

IMPORT_BATCH = 1000
"""Cards parsed and written per transaction."""

Progress = Callable[[ContactsImportProgress], Awaitable[None]]
T = TypeVar("T")


def _open(path: str) -> ContactsReader:
    file = Path(path).expanduser()
    if not file.is_absolute():
        raise ValueError(
            f"{path}: give an absolute path (the daemon does not share your working directory)"
        )
    return ContactsReader(file)


async def _settled(work: Callable[[], T], discard: Callable[[T], None] | None = None) -> T:
    """`work()` on a thread. When cancelled meanwhile, wait for the thread to finish
    first (it holds the open file), hand what it made to `discard`, then raise."""
    task = asyncio.ensure_future(asyncio.to_thread(work))
    cancelled = False
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            cancelled = True
    result = task.result()
    if cancelled:
        if discard is not None:
            discard(result)
        raise asyncio.CancelledError
    return result


async def import_contacts(
    store: Store, path: str | Path, progress: Progress | None = None
) -> ImportResult:
    try:
        reader = await _settled(lambda: _open(str(path)), ContactsReader.close)
    except (OSError, ValueError) as exc:
        raise RpcError(ErrorCode.BAD_INPUT, "Cannot import contacts", str(exc)) from None
    created = updated = unchanged = done = 0
    try:
        while True:
            cards = await _settled(lambda: reader.take(IMPORT_BATCH))
            counts = await store.contacts.merge_imported(cards)
            created += counts.created
            updated += counts.updated
            unchanged += counts.unchanged
            done += len(cards)
            finished = len(cards) < IMPORT_BATCH
            if progress is not None:
                await progress(
                    ContactsImportProgress(
                        path=str(path),
                        done=done + reader.skipped,
                        total_bytes=reader.total_bytes,
                        bytes_read=reader.bytes_read,
                        created=created,
                        updated=updated,
                        skipped=reader.skipped + unchanged,
                    )
                )
            if finished:
                break
    finally:
        reader.close()
        release_after_bulk(done)
    return ImportResult(
        created=created, updated=updated, skipped=reader.skipped + unchanged, errors=reader.errors
    )
