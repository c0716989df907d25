"""The IMAP and Gmail providers: a server, a user name and a password or an
OAuth token secret (`auth: xoauth2`). Gmail is IMAP with Google's host and the
address as user name unless told otherwise.

`auth: xoauth2` without a password signs in with a browser (`sign_in.py`):
the config then holds the OAuth client and endpoints under "oauth" (Google's
endpoints for Gmail), the mailbox waits in auth_failed ("sign in to connect")
until `mailboxes.sign_in` stores the refresh token."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from loggbok.daemon.oauth import OAuthError, access_token
from loggbok.daemon.secrets import SecretStore
from loggbok.daemon.store.mailboxes import MailboxRow
from loggbok.daemon.sync.backend import AuthError, Backend, PermanentError
from loggbok.daemon.sync.providers.base import (
    SIGN_IN_NEEDED,
    Provider,
    SignInFlow,
    oauth_access_token,
    stored_secret,
)
from loggbok.daemon.sync.providers.domains import ProviderFamily, is_google_host
from loggbok.daemon.sync.providers.imap.backend import ImapBackend
from loggbok.daemon.sync.providers.imap.probe import probe
from loggbok.daemon.sync.providers.imap.sign_in import (
    BrowserSignIn,
    client_of,
    oauth_config,
    signs_in,
)
from loggbok.protocol import types as t
from loggbok.protocol.errors import ErrorCode, RpcError

DEFAULT_PORTS: dict[t.Security, int] = {"tls": 993, "starttls": 143, "none": 143}


class ImapProvider(Provider):
    name: ClassVar[t.Provider] = "imap"
    title = "IMAP"
    params: ClassVar[type[Any]] = t.ImapAddParams
    needs_secret = True
    capabilities: ClassVar[tuple[str, ...]] = ("push", "password", "xoauth2")
    family: ClassVar[ProviderFamily] = "other"

    def config_of(self, params: t.ImapAddParams | t.GmailAddParams) -> dict[str, Any]:
        config: dict[str, Any] = {
            "host": params.host,
            "port": params.port or DEFAULT_PORTS[params.security],
            "security": params.security,
            "username": params.username or params.address,
            "auth": params.auth,
        }
        if params.auth == "xoauth2":
            google = self.family == "google" or is_google_host(params.host)
            config["oauth"] = oauth_config(params, google)
            if params.password is None:
                if not self.signs_in_with(config):
                    raise RpcError(
                        ErrorCode.BAD_INPUT,
                        "No sign-in endpoint",
                        "auth xoauth2 without a password signs in: give auth_uri and "
                        "token_uri (Google's are known), or a token secret as password",
                    )
                try:
                    client_of(config)
                except PermanentError as exc:
                    raise RpcError(ErrorCode.BAD_INPUT, "No OAuth client", str(exc)) from None
        return config

    def signs_in_with(self, config: dict[str, Any]) -> bool:
        """`auth: xoauth2` at Google, or with an authorization endpoint of its own."""
        return signs_in(config)

    async def start_sign_in(self, mailbox: MailboxRow) -> SignInFlow:
        return await BrowserSignIn.start(client_of(mailbox.config), mailbox.address)

    def family_of(self, config: dict[str, Any]) -> ProviderFamily:
        """IMAP to Google's own host (imap.gmail.com) reads Google's mail service."""
        return "google" if is_google_host(str(config.get("host", ""))) else self.family

    def secret_of(self, params: t.ImapAddParams | t.GmailAddParams) -> str | None:
        return params.password

    async def open(self, mailbox: MailboxRow, secrets: SecretStore) -> Backend:
        config = mailbox.config
        signs_in = self.signs_in_with(config)
        try:
            secret = await stored_secret(secrets, mailbox)
            if config.get("auth") == "xoauth2":
                secret = await oauth_access_token(secrets, mailbox, secret)
        except AuthError as exc:
            if not signs_in:
                raise
            no_secret = str(exc).startswith("no password")
            raise AuthError(SIGN_IN_NEEDED if no_secret else f"{exc}: {SIGN_IN_NEEDED}") from exc
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
        if not secret and self.signs_in_with(config):
            return t.MailboxTestResult(
                ok=True,
                capabilities=list(self.capabilities),
                next_step="sign in: the mailbox connects once you allow access in a browser "
                "(mailboxes.sign_in)",
            )
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
        "sign_in",
        "conversation_keys",
    )
