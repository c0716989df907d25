"""The Maildir provider: a folder on this machine, no secret."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, ClassVar

from loggbok.daemon.secrets import SecretStore
from loggbok.daemon.store.mailboxes import MailboxRow
from loggbok.daemon.sync.backend import Backend, TemporaryError
from loggbok.daemon.sync.providers.base import Provider
from loggbok.daemon.sync.providers.domains import ProviderFamily
from loggbok.daemon.sync.providers.maildir.backend import MaildirBackend, scan_folders
from loggbok.protocol import types as t


class MaildirProvider(Provider):
    name: ClassVar[t.Provider] = "maildir"
    title = "Maildir (mbsync, offlineimap)"
    params = t.MaildirAddParams
    capabilities: ClassVar[tuple[str, ...]] = ("push",)
    family: ClassVar[ProviderFamily] = "local"
    """Files on this machine: whatever fetched them (mbsync, offlineimap) is not ours to judge."""

    def config_of(self, params: t.MaildirAddParams) -> dict[str, Any]:
        return {"path": str(Path(params.path).expanduser().resolve())}

    async def open(self, mailbox: MailboxRow, secrets: SecretStore) -> Backend:
        return MaildirBackend(Path(mailbox.config["path"]))

    async def probe(self, config: dict[str, Any], secret: str | None) -> t.MailboxTestResult:
        path = Path(str(config["path"]))
        try:
            folders = await asyncio.to_thread(scan_folders, path)
        except (OSError, TemporaryError) as exc:
            return t.MailboxTestResult(ok=False, error_kind="not_found", error=str(exc))
        if "INBOX" not in folders:
            return t.MailboxTestResult(
                ok=False,
                error_kind="not_maildir",
                error=f"{config['path']} has no cur/ and new/ folders",
            )
        return t.MailboxTestResult(ok=True, capabilities=sorted(folders))
