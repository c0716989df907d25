"""The Graph provider: Microsoft 365 mailboxes, signed in with a device code.

Config (no secret in it): `client_id`, `tenant`, `authority` and `graph_url`
(national clouds are only other hosts). The secret is msal's token cache, put
in the secret store by `mailboxes.sign_in`; until then the mailbox sits in
`auth_failed` ("sign in to connect"). Knobs from the daemon's environment:
`LOGGBOK_GRAPH_CLIENT_ID` (the app used when `mailboxes.add` names none) and
`LOGGBOK_GRAPH_POLL_SECONDS` (how often Inbox and Sent are polled; 30).
"""

from __future__ import annotations

import os
import ssl
from typing import Any, ClassVar

import aiohttp

from loggbok.daemon.microsoft import DEFAULT_AUTHORITY_HOST
from loggbok.daemon.secrets import SecretStore
from loggbok.daemon.store.mailboxes import MailboxRow
from loggbok.daemon.sync.backend import Backend
from loggbok.daemon.sync.providers.base import Provider, SignInFlow
from loggbok.daemon.sync.providers.domains import ProviderFamily
from loggbok.daemon.sync.providers.graph.backend import POLL_INTERVAL, GraphBackend
from loggbok.daemon.sync.providers.graph.client import GraphClient, ssl_context
from loggbok.daemon.sync.providers.graph.sign_in import (
    DeviceCodeSignIn,
    TokenSource,
    account_of,
)
from loggbok.protocol import types as t
from loggbok.protocol.errors import ErrorCode, RpcError

CLIENT_ID_ENV = "LOGGBOK_GRAPH_CLIENT_ID"
POLL_ENV = "LOGGBOK_GRAPH_POLL_SECONDS"
NO_CLIENT_ID = (
    "a Microsoft 365 mailbox needs an app registration: in the Microsoft Entra admin "
    "center (App registrations > New registration) register an app, allow public client "
    "flows, add the delegated Graph permission Mail.Read, and give its Application "
    f"(client) ID as client_id (or set {CLIENT_ID_ENV} for the daemon)"
)
PROBE_TIMEOUT = 15.0


def poll_interval() -> float:
    try:
        return max(0.05, float(os.environ.get(POLL_ENV, "")))
    except ValueError:
        return POLL_INTERVAL


class GraphProvider(Provider):
    name: ClassVar[t.Provider] = "graph"
    title = "Microsoft 365 (Graph)"
    params: ClassVar[type[Any]] = t.GraphAddParams
    needs_secret = False
    capabilities: ClassVar[tuple[str, ...]] = ("sign_in", "conversation_keys")
    family: ClassVar[ProviderFamily] = "microsoft"

    def config_of(self, params: t.GraphAddParams) -> dict[str, Any]:
        client_id = params.client_id or os.environ.get(CLIENT_ID_ENV, "")
        if not client_id.strip():
            raise RpcError(ErrorCode.BAD_INPUT, "No client id", NO_CLIENT_ID)
        tenant = params.tenant.strip() or "organizations"
        authority = params.authority or f"{DEFAULT_AUTHORITY_HOST}/{tenant}"
        return {
            "client_id": client_id.strip(),
            "tenant": tenant,
            "authority": authority.rstrip("/"),
            "graph_url": params.graph_url.rstrip("/"),
        }

    async def open(self, mailbox: MailboxRow, secrets: SecretStore) -> Backend:
        token = TokenSource(account_of(mailbox), secrets, mailbox.id)
        client = GraphClient(mailbox.config["graph_url"], token)
        return GraphBackend(client, poll_interval=poll_interval())

    async def start_sign_in(self, mailbox: MailboxRow) -> SignInFlow:
        return await DeviceCodeSignIn.start(account_of(mailbox))

    async def probe(self, config: dict[str, Any], secret: str | None) -> t.MailboxTestResult:
        """The authority's OpenID configuration and the Graph host answer (no token yet)."""
        openid = f"{config['authority']}/v2.0/.well-known/openid-configuration"
        timeout = aiohttp.ClientTimeout(total=PROBE_TIMEOUT)
        connector = aiohttp.TCPConnector(ssl=ssl_context())
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
            for what, url in (("sign-in authority", openid), ("Graph", config["graph_url"])):
                failed = await _answers(session, url, expect_ok=url == openid)
                if failed is not None:
                    kind, error = failed
                    return t.MailboxTestResult(
                        ok=False, error_kind=kind, error=f"the {what} at {url}: {error}"
                    )
        return t.MailboxTestResult(
            ok=True,
            capabilities=list(self.capabilities),
            next_step="sign in: the mailbox connects once you enter a code in a browser "
            "(mailboxes.sign_in)",
        )


async def _answers(
    session: aiohttp.ClientSession, url: str, *, expect_ok: bool
) -> tuple[str, str] | None:
    """None when `url` answers (200 where `expect_ok`), else (kind, error)."""
    try:
        async with session.get(url) as response:
            if expect_ok and response.status != 200:
                return "protocol", f"answered {response.status}"
            if expect_ok:
                await response.json(content_type=None)
            return None
    except (aiohttp.ClientConnectorCertificateError, aiohttp.ClientSSLError, ssl.SSLError) as exc:
        return "tls", str(exc)
    except aiohttp.ClientConnectorDNSError as exc:
        return "dns", str(exc)
    except aiohttp.ClientConnectorError as exc:
        return "refused", str(exc)
    except TimeoutError:
        return "timeout", f"no answer in {PROBE_TIMEOUT:.0f} s"
    except ValueError as exc:
        return "protocol", f"not an OpenID configuration ({exc})"
    except aiohttp.ClientError as exc:
        return "network", str(exc)
