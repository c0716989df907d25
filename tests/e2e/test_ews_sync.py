"""EWS mailboxes through a real `loggbokd`, the real exchangelib (NTLM, the
password verified by the server) and the EWS test server: header first (MIME
only of what is logged) and nothing written to the mailbox; an invalid sync
state resynced without a duplicate; ErrorServerBusy's back-off honoured; new
mail pushed by streaming notifications onto the timeline, also after the
stream closed and the subscription expired."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from tests.servers.ews.server import EwsServer
from tests.support.ews import add_ntlm, ews_daemon
from tests.support.graph import counts, seed_offers
from tests.support.mail import make_message

ME = "maja@firma.example"
BCC = "log-1@bcc.loggbok.example"


def reply(n: int, message_id: str) -> bytes:
    return make_message(
        f"kund{n}@kund.example", [ME], f"Re: Offer {n}", message_id,
        in_reply_to=f"<reply{n}@kund.example>",
        references=[f"<offer{n}@firma.example>", f"<reply{n}@kund.example>"],
    )  # fmt: skip


async def start(client: Client, server: EwsServer) -> int:
    await client.call(m.SETTINGS_SET, t.SettingsSetParams(bcc_address=BCC, own_addresses=[ME]))
    mailbox = await add_ntlm(client, server, ME)
    result = await client.call(m.MAILBOXES_SYNC, t.IdParams(id=mailbox))
    assert result.errors == 0
    return mailbox


async def appended(client: Client, message_id: str) -> None:
    async with asyncio.timeout(60):
        while True:
            name, params = await client.notifications.get()
            if name == "timeline.appended" and params.entry.message_id == message_id:
                return


async def test_header_first_and_nothing_written(ews_server: EwsServer, workdir: Path) -> None:
    logged = seed_offers(ews_server, threads=30, strangers=90)
    with ews_daemon(workdir, ews_server) as daemon:
        client = await daemon.client()
        await start(client, ews_server)
        await client.close()
        found = counts(daemon)
    observed = ews_server.state.observed
    assert found["messages"] == 150 and found["logged"] == logged
    # headers of all 150 by GetItem, MIME only of the logged ones
    assert observed.requests["header_items"] >= 150
    assert observed.requests["mime_items"] == logged
    assert observed.writes == []
    assert "maja" in observed.ntlm_verified and observed.auth["basic"] == 0


async def test_an_invalid_sync_state_resyncs_without_duplicates(
    ews_server: EwsServer, workdir: Path
) -> None:
    logged = seed_offers(ews_server, threads=10, strangers=10)
    with ews_daemon(workdir, ews_server, poll="600") as daemon:
        client = await daemon.client()
        mailbox = await start(client, ews_server)
        before = counts(daemon)
        assert before["logged"] == logged
        ews_server.deliver(ME, "inbox", reply(1, "<again@kund.example>"))
        ews_server.invalidate_sync_states(ME)
        await client.call(m.MAILBOXES_SYNC, t.IdParams(id=mailbox))
        audit = await client.call(m.MAILBOXES_AUDIT, t.IdParams(id=mailbox))
        await client.close()
        after = counts(daemon)
    assert after["messages"] == after["message_ids"] == before["messages"] + 1
    assert after["logged"] == logged + 1 and after["duplicate_entries"] == 0
    assert after["entries"] == before["entries"] + 1
    assert (audit.missing, audit.extra) == ([], [])


async def test_server_busy_is_honoured(ews_server: EwsServer, workdir: Path) -> None:
    logged = seed_offers(ews_server, threads=40, strangers=10)
    ews_server.server_busy(3, back_off_ms=800)  # the first three EWS answers: ErrorServerBusy
    with ews_daemon(workdir, ews_server, poll="600") as daemon:
        client = await daemon.client()
        await start(client, ews_server)
        await client.close()
        found = counts(daemon)
    state = ews_server.state
    assert found["logged"] == logged
    assert state.faults.busy == 0
    assert state.observed.early_requests == 0  # nothing sent before BackOffMilliseconds passed


async def _until(check: Callable[[], bool]) -> None:
    """Until `check()` holds (it reads the server's state, on the server's thread)."""
    async with asyncio.timeout(60):
        while not check():  # noqa: ASYNC110 - no event to wait on across the threads
            await asyncio.sleep(0.05)


async def _stream_open(server: EwsServer, streams: int) -> None:
    await _until(lambda: server.control(lambda s: s.observed.streams) >= streams)


async def test_streaming_push_puts_new_mail_on_the_timeline(
    ews_server: EwsServer, workdir: Path
) -> None:
    seed_offers(ews_server, threads=2, strangers=0)
    delays = []
    with ews_daemon(workdir, ews_server, poll="600") as daemon:  # no polling: push only
        client = await daemon.client()
        await start(client, ews_server)
        await _stream_open(ews_server, 1)
        for n, message_id in enumerate(["<push1@kund.example>", "<push2@kund.example>"]):
            delivered = time.monotonic()
            ews_server.deliver(ME, "inbox", reply(n, message_id))
            await appended(client, message_id)
            delays.append(time.monotonic() - delivered)
        # the stream closes (its ConnectionTimeout) and opens again; then the
        # subscription expires and is made again: push keeps working
        streams = ews_server.control(lambda s: s.observed.streams)
        ews_server.set_minute(0.05)  # a 30-minute ConnectionTimeout lasts 1.5 s
        await _stream_open(ews_server, streams + 2)
        subscribes = ews_server.control(lambda s: s.observed.subscribes)
        ews_server.expire_subscriptions()
        await _until(lambda: ews_server.control(lambda s: s.observed.subscribes) > subscribes)
        ews_server.deliver(ME, "inbox", reply(0, "<push3@kund.example>"))
        await appended(client, "<push3@kund.example>")
        await client.close()
    assert ews_server.state.observed.requests["SyncFolderItems"] > 0
    print(f"EWS push: delivery to timeline {', '.join(f'{d:.2f}' for d in delays)} s")
