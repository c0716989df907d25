"""The contract every provider implements, and the secret lookups they share.

A provider is stateless: one instance serves every mailbox of its kind. The
config it stores is a plain JSON object in `mailboxes.config` (never a secret:
those live in the secret store under `mailbox_secret_key(id)`).
"""

from __future__ import annotations

import abc
import asyncio
from typing import Any, ClassVar

from loggbok.daemon.oauth import OAuthError, access_token
from loggbok.daemon.password_command import run_password_command
from loggbok.daemon.secrets import SecretStore, mailbox_secret_key
from loggbok.daemon.store.mailboxes import MailboxRow
from loggbok.daemon.sync.backend import AuthError, Backend, TemporaryError
from loggbok.daemon.sync.providers.domains import ProviderFamily
from loggbok.protocol import types as t

SIGN_IN_NEEDED = "sign in to connect"
"""The status detail of a mailbox whose provider signs in and that has not yet."""

SOURCE_KEYS = ("host", "path", "username", "ews_url", "graph_url")
"""The config keys that say which server (or directory) and which account a mailbox
reads: a new value of one is another mailbox behind the same row (R13)."""


def moved_source(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """The `SOURCE_KEYS` whose value differs between two configs of one mailbox (host
    names and user names compared without case), in `SOURCE_KEYS` order. A key the
    old config lacks (stored by an older version) says nothing moved."""

    def value(config: dict[str, Any], key: str) -> str:
        found = config.get(key)
        text = "" if found is None else str(found)
        return text if key == "path" else text.casefold()

    return [key for key in SOURCE_KEYS if key in old and value(old, key) != value(new, key)]


class Provider(abc.ABC):
    """One kind of mail source. See the package docstring for what it brings."""

    name: ClassVar[t.Provider]
    title: ClassVar[str]
    params: ClassVar[type[Any]]
    """Its variant of `t.MailboxAddParams`."""
    needs_secret: ClassVar[bool] = False
    capabilities: ClassVar[tuple[str, ...]] = ()
    family: ClassVar[ProviderFamily] = "other"
    """Whose mail service it reads (R14, `domains.py`): `microsoft` (Graph, EWS),
    `google`, `other`, or `local` (never checked against the address's domain)."""

    @abc.abstractmethod
    def config_of(self, params: Any) -> dict[str, Any]:
        """The config to store for these params (no secret in it)."""

    def secret_of(self, params: Any) -> str | None:
        """The secret that came with the params (a password), to go to the secret store."""
        return None

    def family_of(self, config: dict[str, Any]) -> ProviderFamily:
        """The family of a connection with this config (IMAP to Google's own host is
        `google`); the class's `family` unless the config tells more."""
        return self.family

    @abc.abstractmethod
    async def open(self, mailbox: MailboxRow, secrets: SecretStore) -> Backend:
        """A backend for the mailbox, not yet connected; AuthError when no secret is stored."""

    @abc.abstractmethod
    async def probe(self, config: dict[str, Any], secret: str | None) -> t.MailboxTestResult:
        """Can this mailbox be read? Never raises for trouble on the far side."""

    @property
    def signs_in(self) -> bool:
        """Every mailbox of this provider is connected by `mailboxes.sign_in` (a
        browser), not by a secret in the params."""
        return "sign_in" in self.capabilities and not self.needs_secret

    def signs_in_with(self, config: dict[str, Any]) -> bool:
        """A mailbox with this config is connected by `mailboxes.sign_in` (providers
        that take a password or a sign-in tell by the config)."""
        return self.signs_in

    async def start_sign_in(self, mailbox: MailboxRow) -> SignInFlow:
        """Start signing the mailbox in (providers with the "sign_in" capability):
        TemporaryError when the sign-in service cannot be reached."""
        raise NotImplementedError(f"{self.name} has no sign-in")


class SignInFlow(abc.ABC):
    """A sign-in under way: `prompt` for the user, `wait` for the secret to store."""

    prompt: t.SignInPrompt

    @abc.abstractmethod
    async def wait(self) -> str:
        """The secret once the user is done; AuthError when refused or expired,
        TemporaryError when the service failed."""

    @abc.abstractmethod
    def cancel(self) -> None:
        """Make `wait` give up soon (a newer sign-in replaces this one)."""


async def stored_secret(secrets: SecretStore, mailbox: MailboxRow) -> str:
    """The mailbox's password or token secret, or AuthError asking for a reconnect.

    A mailbox from the config file with a `password_command` gets it from that
    command, run now (`password_command.py`); others from the secret store."""
    command = mailbox.config.get("password_command")
    if isinstance(command, str) and command:
        return await run_password_command(command)
    secret = await asyncio.to_thread(secrets.get, mailbox_secret_key(mailbox.id))
    if secret is None:
        raise AuthError("no password or token is stored: reconnect the mailbox")
    return secret


async def oauth_access_token(secrets: SecretStore, mailbox: MailboxRow, secret: str) -> str:
    """A fresh access token from a stored OAuth secret; a rotated refresh token is
    stored again. A refused token is AuthError, a failing token endpoint temporary."""
    try:
        token = await asyncio.to_thread(access_token, secret)
    except OAuthError as exc:
        if exc.temporary:
            raise TemporaryError(str(exc)) from exc
        raise AuthError(str(exc)) from exc
    if token.updated_secret is not None:
        key = mailbox_secret_key(mailbox.id)
        await asyncio.to_thread(secrets.set, key, token.updated_secret)
    return token.token
