"""One harness per provider: a real mail source the contract suite can fill,
rearrange and break, and the backends and `mailboxes.add` params that read it.

A harness speaks in folder names "INBOX", "Sent" and "Archive". `renumber`
gives a folder's messages new remote ids, as a provider does when its cursor
can no longer be trusted (IMAP: a new UIDVALIDITY; a Maildir re-fetched by
mbsync: new file names). `stalled_backend` is None where a source has no
network to stall.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from pathlib import Path
from typing import Any, Protocol

from loggbok.daemon.sync.backend import Backend, Folder
from loggbok.daemon.sync.providers.imap import ImapBackend
from loggbok.daemon.sync.providers.maildir.backend import MaildirBackend
from loggbok.protocol import types as t
from tests.servers.dovecot import DovecotServer, DovecotUser
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
    def close(self) -> None: ...


def folder_of(backend_folders: list[Folder], name: str) -> Folder:
    wanted = {"INBOX": "inbox", "Sent": "sent"}.get(name)
    for folder in backend_folders:
        if (wanted and folder.role == wanted) or folder.name in (name, "." + name):
            return folder
    raise LookupError(f"no folder {name} among {backend_folders}")


def _message_id_of(raw: bytes) -> str:
    found = re.search(rb"(?im)^message-id:\s*(<[^>]+>)", raw)
    return found.group(1).decode() if found else ""


class MaildirHarness:
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


class ImapHarness:
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
