"""A server that stops answering without closing anything ends in a
TemporaryError once the mailbox's timeout passes, never in a hang: the worker
then reconnects with back-off (`sync/worker.py`).

Dovecot is real; a proxy in front of it (`tests/servers/stall_proxy.py`)
stops passing its bytes on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from loggbok.daemon.sync.backend import Folder, TemporaryError
from tests.imap.conftest import MakeBackend
from tests.servers.dovecot import DovecotServer, DovecotUser, make_message
from tests.servers.stall_proxy import StallingProxy

INBOX = Folder("INBOX", "inbox")
HANG_GUARD = 60.0
"""Only turns a hang into a failure; the backends below time out after 1 s."""


@pytest.fixture
def proxy(dovecot: DovecotServer) -> Iterator[StallingProxy]:
    with StallingProxy(dovecot.host, dovecot.port) as stalling:
        yield stalling


async def test_no_greeting_is_a_timeout(
    proxy: StallingProxy, make_backend: MakeBackend, user: DovecotUser
) -> None:
    proxy.stall()
    backend = make_backend(user, host=proxy.host, port=proxy.port, timeout=1.0)
    with pytest.raises(TemporaryError, match="did not answer in time"):
        await asyncio.wait_for(backend.connect(), HANG_GUARD)


async def test_a_stall_in_the_middle_of_a_fetch_is_a_timeout(
    dovecot: DovecotServer, proxy: StallingProxy, make_backend: MakeBackend, user: DovecotUser
) -> None:
    body = "Lorem ipsum dolor sit amet.\r\n" * 2000  # ~58 KB each, ~12 MB in all
    dovecot.seed_maildir(user, "INBOX", (make_message(n, body=body) for n in range(200)))
    backend = make_backend(user, host=proxy.host, port=proxy.port, timeout=1.0)
    await backend.connect()
    changes = await backend.changes(INBOX, None)
    proxy.stall(after=3_000_000)  # a quarter of the way through the messages
    with pytest.raises(TemporaryError, match="did not answer in time"):
        await asyncio.wait_for(backend.fetch_messages(INBOX, changes.new), HANG_GUARD)
    direct = make_backend(user)
    await direct.connect()
    again = await direct.fetch_messages(INBOX, changes.new[:3])
    assert all(isinstance(raw, bytes) and body[:40].encode() in raw for raw in again.values())
