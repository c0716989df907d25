"""`EwsConnection`: one mailbox's exchangelib account and the thread it runs on.

exchangelib is synchronous (requests), so every call goes to the mailbox's own
single thread (`call`), never the event loop; the streaming listener
(`stream.py`) blocks on a second thread, which is why the account's
`max_connections` is 2 (one session each).

- Endpoint: the explicit `ews_url`, else exchangelib's autodiscover (the
  domain, the `autodiscover.` host, the HTTP redirect, the SRV record; with the
  resolver of `transport.py`); an OAuth2 mailbox without one is Exchange
  Online (`OFFICE365_EWS_URL`).
- Credentials: NTLM and Basic with the password from the secret store; OAuth2
  with an access token from msal (the token cache `mailboxes.sign_in` stored),
  refreshed by msal when exchangelib finds it expired, and once more after a
  401 before the mailbox is `auth_failed`.
- Errors become the backend taxonomy: a refused login is AuthError, a server
  that cannot be reached TemporaryError, ErrorInvalidSyncStateData
  CursorInvalid. ErrorServerBusy is honoured: no request of the mailbox (the
  streaming thread's either) goes out before its BackOffMilliseconds have
  passed, then the call is sent again (a few times, then TemporaryError).
- `check_login`: one cheap authenticated request (GetFolder of the Inbox),
  for the backend to notice a changed password or a revoked consent while a
  stream is open and nothing else is asked. NTLM authenticates a connection,
  not a request (IIS keeps an authenticated connection authenticated after a
  password change), so for NTLM the idle sessions' connections are dropped
  first and the check signs in anew; Basic and Bearer are checked on every
  request.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from exchangelib import (
    BASIC,
    DELEGATE,
    NTLM,
    OAUTH2,
    Account,
    Build,
    Configuration,
    Credentials,
    OAuth2AuthorizationCodeCredentials,
    Version,
)
from exchangelib.autodiscover.discovery import Autodiscovery
from exchangelib.errors import (
    AutoDiscoverError,
    ErrorInvalidSyncStateData,
    ErrorNonExistentMailbox,
    ErrorServerBusy,
    EWSError,
    RateLimitError,
    TransportError,
    UnauthorizedError,
)
from exchangelib.folders import Inbox
from exchangelib.protocol import FailFast, Protocol
from oauthlib.oauth2 import TokenExpiredError  # type: ignore[import-untyped]

from loggbok.daemon.sync.backend import AuthError, CursorInvalid, PermanentError, TemporaryError
from loggbok.daemon.sync.providers.ews import transport
from loggbok.daemon.sync.providers.ews.settings import (
    OFFICE365_EWS_URL as OFFICE365_EWS_URL,
)
from loggbok.daemon.sync.providers.ews.settings import EwsSettings as EwsSettings
from loggbok.daemon.sync.providers.ews.settings import TokenFetch as TokenFetch

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_VERSION = Version(Build(15, 0, 847, 32))
"""Exchange 2013 SP1's schema: everything used here (SyncFolderItems, streaming,
ConversationId) and understood by 2013, 2016, 2019 and Exchange Online;
autodiscover's answer replaces it with the server's own."""
BUSY_RETRIES = 6
DEFAULT_BACK_OFF = 5.0
MAX_BACK_OFF = 300.0


class MsalCredentials(OAuth2AuthorizationCodeCredentials):  # type: ignore[misc]
    """OAuth2 credentials whose token comes from msal: exchangelib calls `refresh`
    when the token it holds has expired."""

    TOKEN_LIFE = 30 * 60

    def __init__(self, fetch: TokenFetch) -> None:
        self._fetch = fetch
        super().__init__(access_token=self._token(False))

    def _token(self, force: bool) -> dict[str, Any]:
        return {
            "access_token": self._fetch(force),
            "token_type": "Bearer",
            "expires_at": time.time() + self.TOKEN_LIFE,
        }

    def refresh(self, session: Any) -> None:
        self.access_token = self._token(False)

    def force_refresh(self) -> None:
        with self.lock:
            self.access_token = self._token(True)

    def __hash__(self) -> int:
        return id(self)


class _Discovery(Autodiscovery):  # type: ignore[misc]
    @property
    def resolver(self) -> Any:
        return transport.resolver()


def discover(settings: EwsSettings, credentials: Any) -> tuple[str, Version | None]:
    """The EWS URL (and the server's version) autodiscover finds for the address."""
    response, _ = _Discovery(email=settings.address, credentials=credentials).discover()
    url = response.ews_url
    if not url:
        raise AutoDiscoverError(f"autodiscover found no EWS URL for {settings.address}")
    return str(url), response.version


class EwsConnection:
    def __init__(self, settings: EwsSettings, *, timeout: float = 120.0) -> None:
        transport.install()
        self.settings = settings
        self.timeout = timeout
        self.account: Account | None = None
        self.ews_url: str | None = settings.ews_url
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix=f"ews-{settings.address}"
        )
        self._not_before = 0.0
        self._lock = threading.Lock()
        self.requests_busy = 0
        """ErrorServerBusy answers seen (for measurements)."""

    # ------------------------------------------------------------ back-off

    def hold_off(self, seconds: float) -> None:
        with self._lock:
            self._not_before = max(self._not_before, time.monotonic() + seconds)

    def wait_left(self) -> float:
        with self._lock:
            return self._not_before - time.monotonic()

    def wait_turn_blocking(self) -> None:
        """On a worker thread: sleep until the back-off has passed."""
        while (left := self.wait_left()) > 0:
            time.sleep(left)

    # ------------------------------------------------------------ account

    def _credentials(self) -> tuple[Any, str]:
        settings = self.settings
        if settings.auth == "oauth2":
            if settings.token is None:
                raise AuthError("no token source for an OAuth2 mailbox")
            return MsalCredentials(settings.token), OAUTH2
        if not settings.secret:
            raise AuthError("no password is stored: reconnect the mailbox")
        return Credentials(settings.username, settings.secret), (
            NTLM if settings.auth == "ntlm" else BASIC
        )

    def _open(self) -> Account:
        credentials, auth_type = self._credentials()
        version = DEFAULT_VERSION
        if not self.ews_url:
            if self.settings.auth == "oauth2":
                self.ews_url = OFFICE365_EWS_URL
            else:
                self.ews_url, found = discover(self.settings, credentials)
                version = found or version
        config = Configuration(
            service_endpoint=self.ews_url,
            credentials=credentials,
            auth_type=auth_type,
            version=version,
            retry_policy=FailFast(),
            max_connections=2,
        )
        account = Account(
            primary_smtp_address=self.settings.address,
            config=config,
            autodiscover=False,
            access_type=DELEGATE,
        )
        account.protocol.TIMEOUT = self.timeout
        return account

    def run(self, fn: Callable[[Account], T]) -> T:
        """Blocking (the mailbox thread): `fn(account)` with the error taxonomy."""
        refreshed = False
        while True:
            if self.account is None:
                self.account = self._open()
            try:
                return fn(self.account)
            except UnauthorizedError as exc:
                credentials = self.account.protocol.credentials
                if refreshed or not isinstance(credentials, MsalCredentials):
                    raise AuthError(f"Exchange refused the login: {exc}") from exc
                refreshed = True
                credentials.force_refresh()
                self.account.protocol.close()

    async def call(self, fn: Callable[[Account], T]) -> T:
        """`fn(account)` on the mailbox's thread, ErrorServerBusy honoured."""
        loop = asyncio.get_running_loop()
        for _ in range(BUSY_RETRIES):
            while (left := self.wait_left()) > 0:  # noqa: ASYNC110 - a deadline, not an event
                await asyncio.sleep(left)
            try:
                return await loop.run_in_executor(self._executor, self._mapped, fn)
            except _Busy as busy:
                self.requests_busy += 1
                self.hold_off(busy.seconds)
        raise TemporaryError("Exchange kept answering ErrorServerBusy")

    async def check_login(self) -> None:
        """One GetFolder of the Inbox; AuthError when Exchange refuses the login now
        (NTLM: on a new connection, so the password is checked again)."""
        ntlm = self.settings.auth == "ntlm"

        def check(account: Account) -> None:
            if ntlm:
                drop_idle_connections(account.protocol)
            Inbox.get_distinguished(root=account.root)

        await self.call(check)

    def _mapped(self, fn: Callable[[Account], T]) -> T:
        try:
            return self.run(fn)
        except ErrorServerBusy as exc:
            if not is_server_busy(exc):
                raise TemporaryError(f"cannot reach Exchange: {exc}") from exc
            back_off = exc.back_off if exc.back_off is not None else DEFAULT_BACK_OFF
            raise _Busy(min(max(float(back_off), 0.0), MAX_BACK_OFF)) from exc
        except BaseException as exc:
            raise translate(exc) from exc

    async def close(self) -> None:
        account, self.account = self.account, None
        if account is not None:
            with contextlib.suppress(Exception):
                await asyncio.get_running_loop().run_in_executor(
                    self._executor, _forget, account.protocol
                )
        self._executor.shutdown(wait=False, cancel_futures=True)


def _forget(protocol: Protocol) -> None:
    """Close the protocol's idle sessions; drop it from exchangelib's protocol cache
    when its credentials are this connection's own (OAuth2: one per connection),
    which would otherwise keep every closed mailbox connection."""
    protocol.close()
    if isinstance(protocol.credentials, MsalCredentials):
        with Protocol._protocol_cache_lock:
            Protocol._protocol_cache.pop(Protocol._cache_key(protocol.config), None)


def drop_idle_connections(protocol: Protocol) -> None:
    """Close the connections of the protocol's idle sessions (they stay in its pool,
    so the pool's size is untouched; a session opens a new connection at its next
    request). A session another thread holds (the stream's) is left alone."""
    pool = protocol._session_pool
    idle = []
    with contextlib.suppress(queue.Empty):
        while True:
            idle.append(pool.get(block=False))
    for session in idle:
        with contextlib.suppress(Exception):
            session.close()  # requests: the adapters' pools are cleared, the session lives on
        pool.put(session, block=False)


def is_server_busy(exc: ErrorServerBusy) -> bool:
    """The server's own ErrorServerBusy (with its BackOffMilliseconds), not one
    exchangelib makes of a timeout or a dropped connection ("Reraised from ...",
    "Caused by ...") when its retry policy fails fast."""
    text = str(exc.args[0] if exc.args else "")
    return not text.startswith(("Reraised from", "Caused by"))


class _Busy(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"ErrorServerBusy: back off {seconds:.1f} s")
        self.seconds = seconds


def translate(exc: BaseException) -> BaseException:
    """An exchangelib / requests error as the backend taxonomy (others as they are)."""
    if isinstance(exc, AuthError | TemporaryError | PermanentError | CursorInvalid):
        return exc
    if isinstance(exc, ErrorInvalidSyncStateData):
        return CursorInvalid(f"the sync state is no longer valid: {exc}")
    if isinstance(exc, UnauthorizedError | TokenExpiredError):
        return AuthError(f"Exchange refused the login: {exc}")
    if isinstance(exc, ErrorNonExistentMailbox):
        return AuthError(f"no such mailbox: {exc}")
    if isinstance(exc, AutoDiscoverError):
        return TemporaryError(
            f"autodiscover failed ({exc}): give the EWS URL (ews_url) if it keeps failing"
        )
    if isinstance(exc, RateLimitError | TransportError | requests.RequestException | OSError):
        return TemporaryError(f"cannot reach Exchange: {exc}")
    if isinstance(exc, EWSError):
        return TemporaryError(f"Exchange failed: {type(exc).__name__}: {exc}")
    return exc
