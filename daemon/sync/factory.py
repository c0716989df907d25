"""Turn a mailbox row and its stored secret into a backend, and probe a mailbox
before it is saved (`mailboxes.test`, `mailboxes.add`)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from loggbok.daemon.oauth import OAuthError, access_token
from loggbok.daemon.secrets import SecretStore, mailbox_secret_key
from loggbok.daemon.store.mailboxes import MailboxRow
from loggbok.daemon.sync.backend import AuthError, Backend, PermanentError, TemporaryError
from loggbok.daemon.sync.providers.imap import ImapBackend
from loggbok.daemon.sync.providers.imap import probe as imap_probe
from loggbok.daemon.sync.providers.maildir.backend import MaildirBackend, scan_folders
from loggbok.protocol.types import MailboxTestResult

BackendFactory = Callable[[MailboxRow], Awaitable[Backend]]


async def _token(secrets: SecretStore, key: str, secret: str) -> str:
    try:
        token = await asyncio.to_thread(access_token, secret)
    except OAuthError as exc:
        if exc.temporary:
            raise TemporaryError(str(exc)) from exc
        raise AuthError(str(exc)) from exc
    if token.updated_secret is not None:
        await asyncio.to_thread(secrets.set, key, token.updated_secret)
    return token.token


def backend_factory(secrets: SecretStore) -> BackendFactory:
    async def make(mailbox: MailboxRow) -> Backend:
        config = mailbox.config
        if mailbox.provider == "maildir":
            return MaildirBackend(Path(config["path"]))
        if mailbox.provider in ("imap", "gmail"):
            key = mailbox_secret_key(mailbox.id)
            secret = await asyncio.to_thread(secrets.get, key)
            if secret is None:
                raise AuthError("no password or token is stored: reconnect the mailbox")
            if config.get("auth") == "xoauth2":
                secret = await _token(secrets, key, secret)
            return ImapBackend(
                config["host"],
                int(config["port"]),
                config["security"],
                config["username"],
                secret,
                config.get("auth", "password"),
                mailbox.address,
            )
        raise PermanentError(f"provider {mailbox.provider!r} is not supported yet")

    return make


async def probe_mailbox(
    provider: str, config: dict[str, Any], secret: str | None
) -> MailboxTestResult:
    """Check that a mailbox can be read, without saving anything."""
    if provider == "maildir":
        try:
            folders = await asyncio.to_thread(scan_folders, Path(str(config["path"])))
        except (OSError, TemporaryError) as exc:
            return MailboxTestResult(ok=False, error_kind="not_found", error=str(exc))
        if "INBOX" not in folders:
            return MailboxTestResult(
                ok=False,
                error_kind="not_maildir",
                error=f"{config['path']} has no cur/ and new/ folders",
            )
        return MailboxTestResult(ok=True, capabilities=sorted(folders))
    if provider in ("imap", "gmail"):
        if not secret:
            return MailboxTestResult(
                ok=False, error_kind="auth", error="a password (or token) is needed"
            )
        if config.get("auth") == "xoauth2":
            try:
                secret = (await asyncio.to_thread(access_token, secret)).token
            except OAuthError as exc:
                kind = "network" if exc.temporary else "auth"
                return MailboxTestResult(ok=False, error_kind=kind, error=str(exc))
        result = await imap_probe(
            config["host"],
            int(config["port"]),
            config["security"],
            config["username"],
            secret,
            config.get("auth", "password"),
        )
        return MailboxTestResult(
            ok=result.ok,
            capabilities=list(result.capabilities),
            error_kind=result.error_kind,
            error=result.error,
            warnings=[w.message for w in result.warnings],
        )
    return MailboxTestResult(
        ok=False, error_kind="unsupported", error=f"provider {provider!r} is not supported yet"
    )
