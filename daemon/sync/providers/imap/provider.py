"""The IMAP and Gmail providers: a server, a user name and a password or an
OAuth token secret (`auth: xoauth2`). Gmail is IMAP with Google's host and the
address as user name unless told otherwise."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from loggbok.daemon.oauth import OAuthError, access_token
from loggbok.daemon.secrets import SecretStore
from loggbok.daemon.store.mailboxes import MailboxRow
from loggbok.daemon.sync.backend import Backend
from loggbok.daemon.sync.providers.base import (
    Provider,
    oauth_access_token,
    stored_secret,
)
from loggbok.daemon.sync.providers.domains import ProviderFamily, is_google_host
from loggbok.daemon.sync.providers.imap.backend import ImapBackend
from loggbok.daemon.sync.providers.imap.probe import probe
from loggbok.protocol import types as t

DEFAULT_PORTS: dict[t.Security, int] = {"tls": 993, "starttls": 143, "none": 143}


class ImapProvider(Provider):
    name: ClassVar[t.Provider] = "imap"
    title = "IMAP"
    params: ClassVar[type[Any]] = t.ImapAddParams
    needs_secret = True
    capabilities: ClassVar[tuple[str, ...]] = ("push", "password", "xoauth2")
    family: ClassVar[ProviderFamily] = "other"

    def config_of(self, params: t.ImapAddParams | t.GmailAddParams) -> dict[str, Any]:
        return {
            "host": params.host,
            "port": params.port or DEFAULT_PORTS[params.security],
            "security": params.security,
            "username": params.username or params.address,
            "auth": params.auth,
        }

    def family_of(self, config: dict[str, Any]) -> ProviderFamily:
        """IMAP to Google's own host (imap.gmail.com) reads Google's mail service."""
        return "google" if is_google_host(str(config.get("host", ""))) else self.family

    def secret_of(self, params: t.ImapAddParams | t.GmailAddParams) -> str | None:
        return params.password

    async def open(self, mailbox: MailboxRow, secrets: SecretStore) -> Backend:
        config = mailbox.config
        secret = await stored_secret(secrets, mailbox)
        if config.get("auth") == "xoauth2":
            secret = await oauth_access_token(secrets, mailbox, secret)
        return ImapBackend(
            config["host"],
            int(config["port"]),
            config["security"],
            config["username"],
            secret,
            config.get("auth", "password"),
            mailbox.address,
        )

    async def probe(self, config: dict[str, Any], secret: str | None) -> t.MailboxTestResult:
        if not secret:
            return t.MailboxTestResult(
                ok=False, error_kind="auth", error="a password (or token) is needed"
            )
        if config.get("auth") == "xoauth2":
            try:
                secret = (await asyncio.to_thread(access_token, secret)).token
            except OAuthError as exc:
                kind = "network" if exc.temporary else "auth"
                return t.MailboxTestResult(ok=False, error_kind=kind, error=str(exc))
        result = await probe(
            config["host"],
            int(config["port"]),
            config["security"],
            config["username"],
            secret,
            config.get("auth", "password"),
        )
        return t.MailboxTestResult(
            ok=result.ok,
            capabilities=list(result.capabilities),
            error_kind=result.error_kind,
            error=result.error,
            warnings=[w.message for w in result.warnings],
        )


class GmailProvider(ImapProvider):
    name: ClassVar[t.Provider] = "gmail"
    title = "Gmail"
    params: ClassVar[type[Any]] = t.GmailAddParams
    family: ClassVar[ProviderFamily] = "google"
    capabilities: ClassVar[tuple[str, ...]] = (
        "push",
        "password",
        "xoauth2",
        "conversation_keys",
    )
