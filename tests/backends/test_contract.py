"""The backend contract (`daemon/sync/backend.py`), the same for every provider:

- every message is listed and its headers fetched exactly once;
- a cursor continues where the last listing ended;
- a cursor that no longer applies is refused (CursorInvalid) or answered with
  a full listing, and a resync gives the same messages again, each once;
- a moved message is found in its new folder under the same Message-ID;
- `wait_for_changes` wakes when new mail arrives;
- a server that stops answering ends in a TemporaryError (the worker retries).

`test_contract_daemon.py` holds what the engine makes of these through a real
daemon: a resync duplicates nothing, a move deletes nothing.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import pytest

from loggbok.daemon.mime.headers import parse_headers
from loggbok.daemon.sync.backend import Backend, CursorInvalid, Folder, TemporaryError
from tests.backends.harnesses import Harness, folder_of
from tests.support.mail import make_message

HANG_GUARD = 60.0
"""Turns a hang into a failure; never a measure of speed."""


def message(n: int, **fields: str) -> bytes:
    return make_message(
        fields.get("sender", "kund@example.com"),
        [fields.get("to", "me@firma.example")],
        f"Contract {n}",
        f"<contract-{n}@loggbok.test>",
    )


@pytest.fixture
async def connected(harness: Harness) -> AsyncIterator[Backend]:
    backend = harness.backend()
    await asyncio.wait_for(backend.connect(), HANG_GUARD)
    yield backend
    await backend.close()


async def message_ids(backend: Backend, folder: Folder, remote_ids: list[str]) -> list[str]:
    items = await backend.fetch_headers(folder, remote_ids)
    return [parse_headers(item.raw_header).message_id for item in items]


async def test_every_message_is_listed_and_fetched_once(harness: Harness) -> None:
    for n in range(3):
        harness.deliver("INBOX", message(n))
    for n in range(3, 5):
        harness.deliver("Sent", message(n, sender="me@firma.example", to="kund@example.com"))
    backend = harness.backend()
    await backend.connect()
    try:
        folders = await backend.folders()
        for name, expected in (("INBOX", range(3)), ("Sent", range(3, 5))):
            folder = folder_of(folders, name)
            changes = await backend.changes(folder, None)
            assert len(changes.new) == len(set(changes.new))
            ids = await message_ids(backend, folder, changes.new)
            assert Counter(ids) == Counter(f"<contract-{n}@loggbok.test>" for n in expected)
            whole = await backend.fetch_messages(folder, changes.new)
            assert all(isinstance(raw, bytes) and b"Contract" in raw for raw in whole.values())
    finally:
        await backend.close()


async def test_a_cursor_continues_where_the_listing_ended(
    harness: Harness, connected: Backend
) -> None:
    harness.deliver("INBOX", message(1))
    inbox = folder_of(await connected.folders(), "INBOX")
    first = await connected.changes(inbox, None)
    harness.deliver("INBOX", message(2))
    later = await connected.changes(inbox, first.cursor)
    fresh = [r for r in later.new if r not in first.new]
    assert await message_ids(connected, inbox, fresh) == ["<contract-2@loggbok.test>"]


async def test_an_invalid_cursor_resyncs_the_same_messages_once(harness: Harness) -> None:
    for n in range(4):
        harness.deliver("INBOX", message(n))
    backend = harness.backend()
    await backend.connect()
    try:
        inbox = folder_of(await backend.folders(), "INBOX")
        before = await backend.changes(inbox, None)
    finally:
        await backend.close()
    harness.renumber("INBOX")
    backend = harness.backend()
    await backend.connect()
    try:
        inbox = folder_of(await backend.folders(), "INBOX")
        try:
            again = await backend.changes(inbox, before.cursor)
        except CursorInvalid:
            again = await backend.changes(inbox, None)
        ids = await message_ids(backend, inbox, again.new)
    finally:
        await backend.close()
    assert Counter(ids) == Counter(f"<contract-{n}@loggbok.test>" for n in range(4))


async def test_a_resync_on_the_same_connection_starts_from_nothing(
    harness: Harness, connected: Backend
) -> None:
    """What the engine does when a cursor stops applying: the same backend asked again
    with no cursor lists every message (EWS: exchangelib took a missing state for the
    folder's last one, the invalid one, and the resync failed as well)."""
    for n in range(3):
        harness.deliver("INBOX", message(n))
    inbox = folder_of(await connected.folders(), "INBOX")
    before = await connected.changes(inbox, None)
    harness.renumber("INBOX")
    try:
        await connected.changes(inbox, before.cursor)
    except CursorInvalid:
        pass
    except TemporaryError:  # the server ended the session (Dovecot after a new UIDVALIDITY)
        pytest.skip("the server closed the connection: a new one resyncs (the test above)")
    again = await connected.changes(inbox, None)
    ids = await message_ids(connected, inbox, again.new)
    assert Counter(ids) == Counter(f"<contract-{n}@loggbok.test>" for n in range(3))


async def test_a_moved_message_is_found_in_its_new_folder(
    harness: Harness, connected: Backend
) -> None:
    harness.deliver("INBOX", message(1))
    harness.deliver("INBOX", message(2))
    folders = await connected.folders()
    inbox, archive = folder_of(folders, "INBOX"), folder_of(folders, "Archive")
    first = await connected.changes(inbox, None)
    archived = await connected.changes(archive, None)
    harness.move("<contract-1@loggbok.test>", "INBOX", "Archive")
    folders = await connected.folders()
    inbox, archive = folder_of(folders, "INBOX"), folder_of(folders, "Archive")
    left = await connected.changes(inbox, first.cursor)
    still_there = [r for r in first.new if r not in left.vanished]
    if left.new:  # a source that lists everything (Maildir) shows what is there now
        still_there = left.new
    assert await message_ids(connected, inbox, still_there) == ["<contract-2@loggbok.test>"]
    arrived = await connected.changes(archive, archived.cursor)
    assert await message_ids(connected, archive, arrived.new) == ["<contract-1@loggbok.test>"]


async def test_wait_for_changes_wakes_on_new_mail(harness: Harness, connected: Backend) -> None:
    folders = await connected.folders()
    for name in ("INBOX", "Sent"):
        await connected.changes(folder_of(folders, name), None)
    waiting = asyncio.create_task(connected.wait_for_changes(HANG_GUARD))
    await asyncio.sleep(0.5)  # let the wait start (IDLE sent, watch armed)
    harness.deliver("INBOX", message(9))
    assert await asyncio.wait_for(waiting, HANG_GUARD + 5) is True


async def test_a_server_that_stops_answering_is_a_temporary_error(harness: Harness) -> None:
    stalled = harness.stalled_backend()
    if stalled is None:
        pytest.skip(f"{harness.name} reads local files: there is no server to stall")
    backend, proxy = stalled
    proxy.stall()
    try:
        with pytest.raises(TemporaryError):
            await asyncio.wait_for(backend.connect(), HANG_GUARD)
    finally:
        await backend.close()
