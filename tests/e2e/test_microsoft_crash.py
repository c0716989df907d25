"""SIGKILL of the daemon during a 10,000-message initial sync from Microsoft 365
(Graph) or Exchange (EWS), then a restart: every message ends up stored and logged
exactly once, and the audit finds nothing missing (the delta link or SyncState is
committed with the last batch; the next round lists the folder again and skips what
was stored)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest

from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from tests.conftest import DaemonProcess
from tests.e2e.test_crash_safety import BCC, offer_threads
from tests.support import ews, graph
from tests.support.graph import counts
from tests.support.store_rows import value

THREADS = 2000
REPLIES = 4
ME = "me@firma.example"


class MailServer(Protocol):
    def deliver_many(self, address: str, items: list[tuple[str, bytes]]) -> Any: ...


@dataclass(frozen=True)
class Microsoft:
    """How a test reaches one of the two Microsoft providers."""

    server_fixture: str
    daemon: Callable[..., AbstractContextManager[DaemonProcess]]
    add_mailbox: Callable[[Client, Any, str], Awaitable[int]]


PROVIDERS = {
    "graph": Microsoft("graph_server", graph.graph_daemon, graph.add_signed_in),
    "ews": Microsoft("ews_server", ews.ews_daemon, ews.add_ntlm),
}


@pytest.fixture(params=sorted(PROVIDERS))
def provider(request: pytest.FixtureRequest) -> Iterator[tuple[Microsoft, Any]]:
    chosen = PROVIDERS[request.param]
    yield chosen, request.getfixturevalue(chosen.server_fixture)


def seed(server: MailServer) -> None:
    """Each thread in time order: the offer (Sent, BCC), replies both ways."""
    items = [
        ("inbox" if inbound else "sentitems", raw)
        for inbound, raw in offer_threads(THREADS, REPLIES)
    ]
    server.deliver_many(ME, items)


async def test_sigkill_during_10k_initial_sync(
    provider: tuple[Microsoft, Any], workdir: Path
) -> None:
    microsoft, server = provider
    await asyncio.to_thread(seed, server)
    total = THREADS * (REPLIES + 1)
    with microsoft.daemon(workdir, server, poll="600") as daemon:
        client = await daemon.client()
        await client.call(m.SETTINGS_SET, t.SettingsSetParams(bcc_address=BCC, own_addresses=[ME]))
        mailbox = await microsoft.add_mailbox(client, server, ME)
        while True:  # kill after some batches, not all, have committed
            name, progress = await asyncio.wait_for(client.notifications.get(), 300)
            if name == "sync.progress" and progress.phase == "decide" and progress.done >= 2000:
                assert progress.done < progress.total
                break
        daemon.kill()
        await client.close()
        partial = value(daemon.data_dir, "SELECT count(*) FROM messages")
        assert 0 < partial < total

        daemon.start()
        client = await daemon.client()
        await client.call(m.MAILBOXES_SYNC, t.IdParams(id=mailbox))
        audit = await client.call(m.MAILBOXES_AUDIT, t.IdParams(id=mailbox))
        await client.close()
        found = counts(daemon)
        unparsed = value(
            daemon.data_dir,
            "SELECT count(*) FROM messages WHERE logged = 1 AND body_state != 'parsed'",
        )
    assert (audit.missing, audit.extra) == ([], [])
    assert audit.server_messages == audit.stored_messages == total
    assert found["messages"] == found["message_ids"] == found["logged"] == total
    assert found["entries"] == total and found["duplicate_entries"] == 0
    assert unparsed == 0
