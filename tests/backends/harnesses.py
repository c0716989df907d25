"""One harness per provider: a real mail source the contract suite can fill,
rearrange and break, and the backends and `mailboxes.add` params that read it.

A harness speaks in folder names "INBOX", "Sent" and "Archive". `renumber`
gives a folder's messages new remote ids, as a provider does when its cursor
can no longer be trusted (IMAP: a new UIDVALIDITY; a Maildir re-fetched by
mbsync: new file names). `stalled_backend` is None where a source has no
network to stall. `daemon_env` is what a `loggbokd` needs to reach the source
(a CA to trust), `sign_in` what a mailbox needs after `mailboxes.add` before it
syncs (a Graph mailbox's device-code sign-in).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import time
from pathlib import Path
from typing import Any, Protocol

from loggbok.daemon.sync.backend import Backend, Folder
from loggbok.daemon.sync.providers.ews import transport as ews_transport
from loggbok.daemon.sync.providers.ews.backend import EwsBackend
from loggbok.daemon.sync.providers.ews.connection import EwsConnection, EwsSettings
from loggbok.daemon.sync.providers.graph.backend import GraphBackend
from loggbok.daemon.sync.providers.graph.client import GraphClient
from loggbok.daemon.sync.providers.imap import ImapBackend
from loggbok.daemon.sync.providers.maildir.backend import MaildirBackend
from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from tests.servers.dovecot import DovecotServer, DovecotUser
from tests.servers.ews.server import EwsServer
from tests.servers.graph.server import GraphServer
from tests.servers.stall_proxy import StallingProxy
from tests.support.mail import deliver, make_maildir

FOLDERS = ("INBOX", "Sent", "Archive")


class Harness(Protocol):
    name: str

    def deliver(self, folder: str, raw: bytes) -> None: ...
    def move(self, message_id: str, source: str, target: str) -> None: ...
    def renumber(self, folder: str) -> None: ...
    def backend(self) -> Backend: ...
    def stalled_backend(self) -> tuple[Backend, StallingProxy] | None: ...
    def add_params(self, address: str) -> t.MailboxAddParams: ...
    def daemon_env(self) -> dict[str, str]: ...
    async def sign_in(self, client: Client, mailbox_id: int) -> None: ...
    def close(self) -> None: ...


class _NoSignIn:
    """Sources read with what `mailboxes.add` was given."""

    def daemon_env(self) -> dict[str, str]:
        return {}

    async def sign_in(self, client: Client, mailbox_id: int) -> None:
        pass


def folder_of(backend_folders: list[Folder], name: str) -> Folder:
    wanted = {"INBOX": "inbox", "Sent": "sent"}.get(name)
    for folder in backend_folders:
        if (wanted and folder.role == wanted) or folder.name in (name, "." + name):
            return folder
    raise LookupError(f"no folder {name} among {backend_folders}")


def _message_id_of(raw: bytes) -> str:
    found = re.search(rb"(?im)^message-id:\s*(<[^>]+>)", raw)
    return found.group(1).decode() if found else ""


class MaildirHarness(_NoSignIn):
    """A Maildir++ tree: INBOX at the root, `.Sent` and `.Archive` beside it."""

    name = "maildir"

    def __init__(self, root: Path) -> None:
        self.root = make_maildir(root, ".Sent", ".Archive")
        self._made: list[Backend] = []

    def _path(self, folder: str) -> Path:
        return self.root if folder == "INBOX" else self.root / f".{folder}"

    def deliver(self, folder: str, raw: bytes) -> None:
        deliver(self._path(folder), raw)

    def move(self, message_id: str, source: str, target: str) -> None:
        for path in (self._path(source) / "cur").iterdir():
            if _message_id_of(path.read_bytes()) == message_id:
                os.rename(path, self._path(target) / "cur" / path.name)
                return
        raise LookupError(message_id)

    def renumber(self, folder: str) -> None:
        cur = self._path(folder) / "cur"
        for number, path in enumerate(sorted(cur.iterdir())):
            os.rename(path, cur / f"{int(time.time())}.R{number}P{os.getpid()}.renumbered:2,S")

    def backend(self) -> Backend:
        made = MaildirBackend(self.root)
        self._made.append(made)
        return made

    def stalled_backend(self) -> tuple[Backend, StallingProxy] | None:
        return None

    def add_params(self, address: str) -> t.MailboxAddParams:
        return t.MaildirAddParams(address=address, path=str(self.root))

    def close(self) -> None:
        pass


class ImapHarness(_NoSignIn):
    """A fresh user on the real Dovecot, with Sent and Archive folders."""

    name = "imap"

    def __init__(self, dovecot: DovecotServer) -> None:
        self.dovecot = dovecot
        self.user: DovecotUser = dovecot.add_user()
        with contextlib.suppress(RuntimeError):
            dovecot.create_folder(self.user, "Archive")
        self._proxies: list[StallingProxy] = []

    def deliver(self, folder: str, raw: bytes) -> None:
        self.dovecot.append(self.user, folder, raw)

    def move(self, message_id: str, source: str, target: str) -> None:
        imap = self.dovecot.connect(self.user)
        try:
            imap.select(source)
            typ, data = imap.uid("SEARCH", "HEADER", "Message-ID", message_id)  # type: ignore[arg-type]
            uids = data[0].split() if typ == "OK" and data and data[0] else []
            if not uids:
                raise LookupError(message_id)
            typ, _ = imap.uid("MOVE", uids[0].decode(), target)  # type: ignore[arg-type]
            assert typ == "OK"
        finally:
            with contextlib.suppress(Exception):
                imap.logout()

    def renumber(self, folder: str) -> None:
        self.dovecot.change_uidvalidity(self.user, folder)

    def _fields(self, **overrides: Any) -> dict[str, Any]:
        return {
            "host": self.dovecot.host,
            "port": self.dovecot.port,
            "security": "none",
            "username": self.user.name,
            "secret": self.user.password,
            "timeout": 30.0,
        } | overrides

    def backend(self) -> Backend:
        return ImapBackend(**self._fields())

    def stalled_backend(self) -> tuple[Backend, StallingProxy] | None:
        proxy = StallingProxy(self.dovecot.host, self.dovecot.port).__enter__()
        self._proxies.append(proxy)
        return ImapBackend(**self._fields(host=proxy.host, port=proxy.port, timeout=1.0)), proxy

    def add_params(self, address: str) -> t.MailboxAddParams:
        return t.ImapAddParams(
            address=address,
            host=self.dovecot.host,
            port=self.dovecot.port,
            security="none",
            username=self.user.name,
            password=self.user.password,
        )

    def close(self) -> None:
        for proxy in self._proxies:
            proxy.__exit__(None, None, None)


GRAPH_FOLDERS = {"INBOX": "inbox", "Sent": "sentitems", "Archive": "archive"}
GRAPH_CLIENT_ID = "loggbok-test-client"


class GraphHarness:
    """A mailbox on the Graph test server, read by the real aiohttp client with
    tokens the server issued (the backend) or through a device-code sign-in (the
    daemon)."""

    name = "graph"
    address = "maja@firma.example"

    def __init__(self, server: GraphServer) -> None:
        self.server = server
        self._proxies: list[StallingProxy] = []

    def deliver(self, folder: str, raw: bytes) -> None:
        self.server.deliver(self.address, GRAPH_FOLDERS[folder], raw)

    def move(self, message_id: str, source: str, target: str) -> None:
        def change(state: Any) -> None:
            box = state.mailbox(self.address)
            box.move(box.find(message_id, GRAPH_FOLDERS[source]), GRAPH_FOLDERS[target])

        self.server.control(change)

    def renumber(self, folder: str) -> None:
        self.server.control(lambda s: s.mailbox(self.address).renumber(GRAPH_FOLDERS[folder]))

    async def _token(self, force_refresh: bool) -> str:
        issued = await asyncio.to_thread(self.server.token_for, self.address, GRAPH_CLIENT_ID)
        return str(issued["access_token"])

    def _backend(self, graph_url: str, timeout: float) -> GraphBackend:
        client = GraphClient(
            graph_url, self._token, ssl=self.server.client_ssl_context(), timeout=timeout
        )
        return GraphBackend(client, poll_interval=0.2)

    def backend(self) -> Backend:
        return self._backend(self.server.graph_url, 30.0)

    def stalled_backend(self) -> tuple[Backend, StallingProxy] | None:
        proxy = StallingProxy("127.0.0.1", self.server.port).__enter__()
        self._proxies.append(proxy)
        return self._backend(f"https://127.0.0.1:{proxy.port}/v1.0", 1.0), proxy

    def add_params(self, address: str) -> t.MailboxAddParams:
        return t.GraphAddParams(
            address=address,
            client_id=GRAPH_CLIENT_ID,
            graph_url=self.server.graph_url,
            authority=self.server.authority(),
        )

    def daemon_env(self) -> dict[str, str]:
        return {**self.server.client_env(), "LOGGBOK_GRAPH_POLL_SECONDS": "0.2"}

    async def sign_in(self, client: Client, mailbox_id: int) -> None:
        """Sign in with a device code the server approves, then wait until the
        mailbox works."""
        prompt = await client.call(m.MAILBOXES_SIGN_IN, t.IdParams(id=mailbox_id))
        await asyncio.to_thread(self.server.approve, prompt.user_code, self.address)
        await wait_for_status(client, mailbox_id, ("syncing", "idle"))

    def close(self) -> None:
        for proxy in self._proxies:
            proxy.__exit__(None, None, None)


EWS_FOLDERS = {"INBOX": "inbox", "Sent": "sentitems", "Archive": "archive"}


class EwsHarness(_NoSignIn):
    """A mailbox on the EWS test server, read by the real exchangelib signing in
    with NTLM (the server verifies the NTLMv2 response against the password)."""

    name = "ews"
    address = "maja@firma.example"
    username = "FIRMA\\maja"
    password = "Vinter-2026"

    def __init__(self, server: EwsServer) -> None:
        self.server = server
        server.add_user(self.address, self.password, "maja")
        ews_transport.trust(str(server.ca_path))
        self._proxies: list[StallingProxy] = []

    def deliver(self, folder: str, raw: bytes) -> None:
        self.server.deliver(self.address, EWS_FOLDERS[folder], raw)

    def move(self, message_id: str, source: str, target: str) -> None:
        def change(state: Any) -> None:
            box = state.mailbox(self.address)
            box.move(box.find(message_id, EWS_FOLDERS[source]), EWS_FOLDERS[target])

        self.server.control(change)

    def renumber(self, folder: str) -> None:
        self.server.control(lambda s: s.mailbox(self.address).renumber(EWS_FOLDERS[folder]))

    def _backend(self, ews_url: str, timeout: float) -> EwsBackend:
        settings = EwsSettings(self.address, ews_url, self.username, "ntlm", self.password)
        return EwsBackend(EwsConnection(settings, timeout=timeout), poll_interval=0.2)

    def backend(self) -> Backend:
        return self._backend(self.server.ews_url, 30.0)

    def stalled_backend(self) -> tuple[Backend, StallingProxy] | None:
        proxy = StallingProxy("127.0.0.1", self.server.port).__enter__()
        self._proxies.append(proxy)
        url = f"https://127.0.0.1:{proxy.port}/EWS/Exchange.asmx"
        return self._backend(url, 1.0), proxy

    def add_params(self, address: str) -> t.MailboxAddParams:
        return t.EwsAddParams(
            address=address,
            auth="ntlm",
            ews_url=self.server.ews_url,
            username=self.username,
            password=self.password,
        )

    def daemon_env(self) -> dict[str, str]:
        return {**self.server.client_env(), "LOGGBOK_EWS_POLL_SECONDS": "0.2"}

    def close(self) -> None:
        for proxy in self._proxies:
            proxy.__exit__(None, None, None)


async def wait_for_status(
    client: Client, mailbox_id: int, statuses: tuple[str, ...], timeout: float = 60.0
) -> t.MailboxStatusChanged:
    """The next `mailbox.status_changed` of the mailbox with one of `statuses`."""
    async with asyncio.timeout(timeout):
        while True:
            name, params = await client.notifications.get()
            if (
                name == "mailbox.status_changed"
                and params.id == mailbox_id
                and params.status in statuses
            ):
                return params  # type: ignore[no-any-return]
