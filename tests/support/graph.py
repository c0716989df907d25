"""A real `loggbokd` beside the Graph test server: started with the server's CA
and a short poll interval, and Graph mailboxes added and signed in through the
protocol (a device code the server approves)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path

from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from tests.backends.harnesses import GRAPH_CLIENT_ID, wait_for_status
from tests.conftest import DaemonProcess
from tests.servers.ews.server import EwsServer
from tests.servers.graph.server import GraphServer
from tests.support.mail import make_message
from tests.support.store_rows import value

POLL_SECONDS = "0.2"


@contextlib.contextmanager
def graph_daemon(
    workdir: Path, server: GraphServer, poll: str = POLL_SECONDS
) -> Iterator[DaemonProcess]:
    (workdir / "data").mkdir(exist_ok=True)
    daemon = DaemonProcess(
        workdir / "d.sock",
        workdir / "data",
        env={**server.client_env(), "LOGGBOK_GRAPH_POLL_SECONDS": poll},
    )
    daemon.start()
    try:
        yield daemon
    finally:
        if daemon.process is not None:
            daemon.stop()


def graph_params(server: GraphServer, address: str) -> t.GraphAddParams:
    return t.GraphAddParams(
        address=address,
        client_id=GRAPH_CLIENT_ID,
        graph_url=server.graph_url,
        authority=server.authority(),
    )


async def sign_in(client: Client, server: GraphServer, mailbox_id: int, address: str) -> None:
    """Start a sign-in, approve its code as `address`, wait until the mailbox works."""
    prompt = await client.call(m.MAILBOXES_SIGN_IN, t.IdParams(id=mailbox_id))
    await asyncio.to_thread(server.approve, prompt.user_code, address)
    await wait_for_status(client, mailbox_id, ("syncing", "idle"))


async def add_signed_in(client: Client, server: GraphServer, address: str) -> int:
    added = await client.call(m.MAILBOXES_ADD, graph_params(server, address))
    await sign_in(client, server, added.id, address)
    return added.id


def counts(daemon: DaemonProcess) -> dict[str, int]:
    """Messages, distinct Message-IDs, logged, timeline entries, and duplicate entries."""
    one = lambda sql: int(value(daemon.data_dir, sql))  # noqa: E731
    return {
        "messages": one("SELECT count(*) FROM messages"),
        "message_ids": one("SELECT count(DISTINCT message_id) FROM messages"),
        "logged": one("SELECT count(*) FROM messages WHERE logged = 1"),
        "entries": one("SELECT count(*) FROM timeline_entries"),
        "duplicate_entries": one(
            "SELECT count(*) FROM (SELECT message FROM timeline_entries"
            " GROUP BY contact_id, message HAVING count(*) > 1) AS d"
        ),
    }


ME = "maja@firma.example"
BCC = "log-1@bcc.loggbok.example"


def seed_offers(server: GraphServer | EwsServer, threads: int, strangers: int) -> int:
    """`threads` offers sent with the BCC address, each with a reply; `strangers`
    mails from people who are no contacts, in ME's mailbox on a Graph or EWS test server.
    Returns how many are to be logged."""
    items: list[tuple[str, bytes]] = []
    for n in range(threads):
        contact = f"kund{n}@kund.example"
        offer = make_message(ME, [contact], f"Offer {n}", f"<offer{n}@firma.example>", bcc=[BCC])
        reply = make_message(
            contact, [ME], f"Re: Offer {n}", f"<reply{n}@kund.example>",
            in_reply_to=f"<offer{n}@firma.example>", references=[f"<offer{n}@firma.example>"],
        )  # fmt: skip
        items += [("sentitems", offer), ("inbox", reply)]
    for n in range(strangers):
        news = make_message(f"news{n}@list.example", [ME], f"News {n}", f"<news{n}@l.example>")
        items.append(("inbox", news))
    server.deliver_many(ME, items)
    return 2 * threads
