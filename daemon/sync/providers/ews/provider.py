"""The EWS provider: Exchange on-premises (NTLM, Basic) and Exchange Online
(OAuth2 with a device-code sign-in) through Exchange Web Services.

Config (no secret in it): `address` (what autodiscover looks up), `ews_url`
(None: autodiscover), `host` (its host, for `mailboxes.list`), `username`,
`auth`; for OAuth2 also `client_id`, `tenant`, `authority`. The secret is the
password (NTLM, Basic; or a config file's `password_command`) or msal's token
cache, put in the secret store by `mailboxes.sign_in` (OAuth2; until then the
mailbox sits in `auth_failed`, "sign in to connect"). A refused login or
sign-in is AuthError, so the worker shows the mailbox `auth_failed`; a server
that cannot be reached is `disconnected`: the same status path as IMAP and
Graph (R13).

Knobs from the daemon's environment: `LOGGBOK_EWS_CLIENT_ID` (the app used when
an OAuth2 mailbox names none; else `LOGGBOK_GRAPH_CLIENT_ID`),
`LOGGBOK_EWS_POLL_SECONDS` (how often Inbox and Sent are polled while no
stream is open; 60), `LOGGBOK_EWS_CHECK_SECONDS` (how often the login is
checked while waiting, so a changed password or a revoked consent is noticed on
a quiet mailbox with a stream open; 60), `LOGGBOK_EWS_STREAM_MINUTES` (a GetStreamingEvents
connection's length, 1-30; 30), `LOGGBOK_EWS_CONNECT_TO` and
`LOGGBOK_DNS_SERVER` (`transport.py`).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any, ClassVar
from urllib.parse import urlsplit

from loggbok.daemon.microsoft import (
    DEFAULT_AUTHORITY_HOST,
    MicrosoftAccount,
    SignInNeeded,
    SignInUnavailable,
)
from loggbok.daemon.secrets import SecretStore, mailbox_secret_key
from loggbok.daemon.store.mailboxes import MailboxRow
from loggbok.daemon.sync.backend import AuthError, Backend, PermanentError, TemporaryError
from loggbok.daemon.sync.providers.base import SIGN_IN_NEEDED, Provider, SignInFlow, stored_secret
from loggbok.daemon.sync.providers.domains import ProviderFamily
from loggbok.daemon.sync.providers.ews.settings import OFFICE365_EWS_URL, EwsSettings, TokenFetch
from loggbok.daemon.sync.providers.graph.sign_in import DeviceCodeSignIn
from loggbok.protocol import types as t
from loggbok.protocol.errors import ErrorCode, RpcError

CLIENT_ID_ENV = "LOGGBOK_EWS_CLIENT_ID"
GRAPH_CLIENT_ID_ENV = "LOGGBOK_GRAPH_CLIENT_ID"
POLL_ENV = "LOGGBOK_EWS_POLL_SECONDS"
CHECK_ENV = "LOGGBOK_EWS_CHECK_SECONDS"
STREAM_ENV = "LOGGBOK_EWS_STREAM_MINUTES"
PROBE_TIMEOUT = 60.0
NO_CLIENT_ID = (
    "an Exchange Online mailbox signed in with OAuth2 needs an app registration: in the "
    "Microsoft Entra admin center (App registrations > New registration) register an app, "
    "allow public client flows, add the delegated permission EWS.AccessAsUser.All (Office "
    "365 Exchange Online), and give its Application (client) ID as client_id (or set "
    f"{CLIENT_ID_ENV} for the daemon)"
)


def _number(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, ""))
    except ValueError:
        return default


def ews_scopes(ews_url: str | None) -> tuple[str, ...]:
    """EWS.AccessAsUser.All on the EWS host in use (Exchange Online's by default)."""
    parts = urlsplit(ews_url or OFFICE365_EWS_URL)
    return (f"{parts.scheme}://{parts.netloc}/EWS.AccessAsUser.All",)


def account_of(mailbox: MailboxRow) -> MicrosoftAccount:
    config = mailbox.config
    return MicrosoftAccount(
        client_id=str(config["client_id"]),
        authority=str(config["authority"]),
        scopes=ews_scopes(config.get("ews_url")),
        address=mailbox.address,
        aliases=(str(config.get("username") or ""),),
    )


def token_fetch(account: MicrosoftAccount, secrets: SecretStore, mailbox_id: int) -> TokenFetch:
    """Blocking access tokens from the stored msal cache (a rotated cache stored again)."""
    key = mailbox_secret_key(mailbox_id)

    def fetch(force_refresh: bool) -> str:
        secret = secrets.get(key)
        if not secret:
            raise AuthError(SIGN_IN_NEEDED)
        try:
            token, updated = account.access_token(secret, force_refresh=force_refresh)
        except SignInNeeded as exc:
            raise AuthError(f"{exc}: {SIGN_IN_NEEDED}") from exc
        except SignInUnavailable as exc:
            raise TemporaryError(str(exc)) from exc
        if updated is not None:
            secrets.set(key, updated)
        return token

    return fetch


class EwsProvider(Provider):
    name: ClassVar[t.Provider] = "ews"
    title = "Exchange (EWS)"
    params: ClassVar[type[Any]] = t.EwsAddParams
    needs_secret = False
    capabilities: ClassVar[tuple[str, ...]] = ("push", "conversation_keys", "sign_in")
    family: ClassVar[ProviderFamily] = "microsoft"

    def config_of(self, params: t.EwsAddParams) -> dict[str, Any]:
        ews_url = (params.ews_url or "").strip() or None
        if ews_url is not None and not ews_url.lower().startswith("https://"):
            raise RpcError(ErrorCode.BAD_INPUT, "EWS needs HTTPS", "ews_url must be https://...")
        if params.auth != "oauth2" and not params.password:
            raise RpcError(
                ErrorCode.BAD_INPUT, "No password", f"auth {params.auth} needs the password"
            )
        config: dict[str, Any] = {
            "address": params.address,
            "ews_url": ews_url,
            "host": urlsplit(ews_url).hostname if ews_url else None,
            "username": (params.username or "").strip() or params.address,
            "auth": params.auth,
        }
        if params.auth == "oauth2":
            client_id = (
                params.client_id
                or os.environ.get(CLIENT_ID_ENV, "")
                or os.environ.get(GRAPH_CLIENT_ID_ENV, "")
            ).strip()
            if not client_id:
                raise RpcError(ErrorCode.BAD_INPUT, "No client id", NO_CLIENT_ID)
            tenant = params.tenant.strip() or "organizations"
            authority = params.authority or f"{DEFAULT_AUTHORITY_HOST}/{tenant}"
            config |= {"client_id": client_id, "tenant": tenant, "authority": authority.rstrip("/")}
        return config

    def secret_of(self, params: t.EwsAddParams) -> str | None:
        return params.password if params.auth != "oauth2" else None

    def family_of(self, config: dict[str, Any]) -> ProviderFamily:
        return "microsoft"

    def _backend(self, settings: EwsSettings) -> Backend:
        # exchangelib only now, for a mailbox that uses it (`settings.py`)
        from loggbok.daemon.sync.providers.ews.backend import (
            CHECK_INTERVAL,
            POLL_INTERVAL,
            EwsBackend,
        )
        from loggbok.daemon.sync.providers.ews.connection import EwsConnection

        return EwsBackend(
            EwsConnection(settings),
            poll_interval=max(0.05, _number(POLL_ENV, POLL_INTERVAL)),
            check_interval=max(0.05, _number(CHECK_ENV, CHECK_INTERVAL)),
            stream_minutes=int(_number(STREAM_ENV, 30)),
        )

    @staticmethod
    def _settings(config: dict[str, Any], address: str, **more: Any) -> EwsSettings:
        return EwsSettings(
            address=address,
            ews_url=config.get("ews_url"),
            username=str(config.get("username") or address),
            auth=str(config.get("auth", "ntlm")),
            **more,
        )

    async def open(self, mailbox: MailboxRow, secrets: SecretStore) -> Backend:
        config = mailbox.config
        if config.get("auth") == "oauth2":
            fetch = token_fetch(account_of(mailbox), secrets, mailbox.id)
            return self._backend(self._settings(config, mailbox.address, token=fetch))
        secret = await stored_secret(secrets, mailbox)
        return self._backend(self._settings(config, mailbox.address, secret=secret))

    def signs_in_with(self, config: dict[str, Any]) -> bool:
        return config.get("auth") == "oauth2"

    async def start_sign_in(self, mailbox: MailboxRow) -> SignInFlow:
        if not self.signs_in_with(mailbox.config):
            raise PermanentError("this mailbox signs in with a password: mailboxes.reconnect")
        return await DeviceCodeSignIn.start(account_of(mailbox))

    async def probe(self, config: dict[str, Any], secret: str | None) -> t.MailboxTestResult:
        """NTLM / Basic: sign in and list the folders (autodiscover first when no URL
        was given). OAuth2: nothing to try before the sign-in."""
        if config.get("auth") == "oauth2":
            return t.MailboxTestResult(
                ok=True,
                capabilities=list(self.capabilities),
                next_step="sign in: the mailbox connects once you enter a code in a browser "
                "(mailboxes.sign_in)",
            )
        address = str(config.get("address") or config.get("username") or "")
        backend = self._backend(self._settings(config, address, secret=secret))
        try:
            await asyncio.wait_for(backend.connect(), PROBE_TIMEOUT)
        except AuthError as exc:
            return t.MailboxTestResult(ok=False, error_kind="auth", error=str(exc))
        except TimeoutError:
            return t.MailboxTestResult(
                ok=False, error_kind="timeout", error=f"no answer in {PROBE_TIMEOUT:.0f} s"
            )
        except (TemporaryError, PermanentError) as exc:
            kind = "tls" if "certificate" in str(exc).lower() else "network"
            return t.MailboxTestResult(ok=False, error_kind=kind, error=str(exc))
        finally:
            await backend.close()
        return t.MailboxTestResult(ok=True, capabilities=list(self.capabilities))
