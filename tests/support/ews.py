"""A real `loggbokd` beside the EWS test server: started with the server's CA
and a short poll interval, and EWS mailboxes added through the protocol (NTLM
with a password, or OAuth2 signed in with a device code the server approves)."""

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

POLL_SECONDS = "0.2"
PASSWORD = "Vinter-2026"


@contextlib.contextmanager
def ews_daemon(
    workdir: Path, server: EwsServer, poll: str = POLL_SECONDS, **env: str
) -> Iterator[DaemonProcess]:
    (workdir / "data").mkdir(exist_ok=True)
    daemon = DaemonProcess(
        workdir / "d.sock",
        workdir / "data",
        env={**server.client_env(), "LOGGBOK_EWS_POLL_SECONDS": poll, **env},
    )
    daemon.start()
    try:
        yield daemon
    finally:
        if daemon.process is not None:
            daemon.stop()


def ntlm_params(server: EwsServer, address: str, password: str = PASSWORD) -> t.EwsAddParams:
    return t.EwsAddParams(
        address=address,
        auth="ntlm",
        ews_url=server.ews_url,
        username="FIRMA\\" + address.split("@")[0],
        password=password,
    )


async def add_ntlm(client: Client, server: EwsServer, address: str) -> int:
    """A user with a password on the server, and its mailbox added over NTLM."""
    await asyncio.to_thread(server.add_user, address, PASSWORD, address.split("@")[0])
    added = await client.call(m.MAILBOXES_ADD, ntlm_params(server, address))
    return added.id


def oauth2_params(server: EwsServer, address: str) -> t.EwsAddParams:
    return t.EwsAddParams(
        address=address,
        auth="oauth2",
        ews_url=server.ews_url,
        client_id=GRAPH_CLIENT_ID,
        authority=server.authority(),
    )


async def add_signed_in(client: Client, server: EwsServer, address: str) -> int:
    added = await client.call(m.MAILBOXES_ADD, oauth2_params(server, address))
    prompt = await client.call(m.MAILBOXES_SIGN_IN, t.IdParams(id=added.id))
    await asyncio.to_thread(server.approve, prompt.user_code, address)
    await wait_for_status(client, added.id, ("syncing", "idle"))
    return added.id
