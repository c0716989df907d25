"""Graph mailboxes through a real `loggbokd`, the real aiohttp and msal, and the
Graph test server: header first (a message's MIME is fetched only when it is
logged), an expired delta token resynced without a duplicate, throttling
honoured, and new mail noticed by polling."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from tests.servers.graph.server import GraphServer
from tests.support.graph import add_signed_in, counts, graph_daemon, seed_offers
from tests.support.mail import make_message

ME = "maja@firma.example"
BCC = "log-1@bcc.loggbok.example"
LATER = "<later@kund.example>"


async def start(client: Client, server: GraphServer) -> int:
    await client.call(m.SETTINGS_SET, t.SettingsSetParams(bcc_address=BCC, own_addresses=[ME]))
    mailbox = await add_signed_in(client, server, ME)
    result = await client.call(m.MAILBOXES_SYNC, t.IdParams(id=mailbox))
    assert result.errors == 0
    return mailbox


async def test_header_first_fetches_only_what_is_logged(
    graph_server: GraphServer, workdir: Path
) -> None:
    logged = seed_offers(graph_server, threads=30, strangers=90)
    with graph_daemon(workdir, graph_server) as daemon:
        client = await daemon.client()
        await start(client, graph_server)
        await client.close()
        found = counts(daemon)
    observed = graph_server.state.observed.requests
    assert found["messages"] == 150 and found["logged"] == logged
    # one MIME download per logged message, none for the 90 that are not logged
    assert observed["value"] + observed["batch_value"] == logged
    assert observed["message"] == observed["batch_message"] == 0


@pytest.mark.parametrize("with_410", [False, True], ids=["syncStateNotFound", "410"])
async def test_an_expired_delta_token_resyncs_without_duplicates(
    graph_server: GraphServer, workdir: Path, with_410: bool
) -> None:
    logged = seed_offers(graph_server, threads=10, strangers=10)
    with graph_daemon(workdir, graph_server, poll="600") as daemon:
        client = await daemon.client()
        mailbox = await start(client, graph_server)
        before = counts(daemon)
        assert before["logged"] == logged
        graph_server.deliver(
            ME, "inbox",
            make_message("kund1@kund.example", [ME], "Re: Offer 1", "<again@kund.example>",
                         in_reply_to="<reply1@kund.example>",
                         references=["<offer1@firma.example>", "<reply1@kund.example>"]),
        )  # fmt: skip
        graph_server.expire_delta_tokens(ME, with_410=with_410)
        await client.call(m.MAILBOXES_SYNC, t.IdParams(id=mailbox))
        audit = await client.call(m.MAILBOXES_AUDIT, t.IdParams(id=mailbox))
        await client.close()
        after = counts(daemon)
    assert graph_server.state.observed.requests["delta"] > 0
    assert after["messages"] == after["message_ids"] == before["messages"] + 1
    assert after["logged"] == logged + 1 and after["duplicate_entries"] == 0
    assert after["entries"] == before["entries"] + 1
    assert (audit.missing, audit.extra) == ([], [])


async def test_throttling_is_honoured(graph_server: GraphServer, workdir: Path) -> None:
    logged = seed_offers(graph_server, threads=100, strangers=20)
    graph_server.throttle(2, retry_after=1.0)  # the first two Graph answers: 429, 429
    graph_server.throttle_batch_items(5, retry_after=1.0)  # and 5 items inside $batch
    with graph_daemon(workdir, graph_server, poll="600") as daemon:
        client = await daemon.client()
        await start(client, graph_server)
        await client.close()
        found = counts(daemon)
    state = graph_server.state
    assert found["logged"] == logged
    assert state.faults.throttle == state.faults.throttle_batch_items == 0
    assert state.observed.requests["batch_value"] >= logged
    assert state.observed.early_requests == 0
    assert 1 <= state.observed.max_in_flight[ME] <= 4


async def test_new_mail_is_noticed_by_polling(graph_server: GraphServer, workdir: Path) -> None:
    seed_offers(graph_server, threads=2, strangers=0)
    with graph_daemon(workdir, graph_server) as daemon:
        client = await daemon.client()
        await start(client, graph_server)
        graph_server.deliver(
            ME, "inbox",
            make_message("kund0@kund.example", [ME], "Re: Offer 0", LATER,
                         in_reply_to="<reply0@kund.example>",
                         references=["<offer0@firma.example>", "<reply0@kund.example>"]),
        )  # fmt: skip
        async with asyncio.timeout(60):
            while True:
                name, params = await client.notifications.get()
                if name == "timeline.appended" and params.entry.message_id == LATER:
                    break
        await client.close()
