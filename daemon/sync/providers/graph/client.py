"""`GraphClient`: one mailbox's HTTP session with Microsoft Graph (aiohttp).

What it guarantees, whatever the caller does:

- TLS trusts the system store and, beside it, the CA bundles named by
  `SSL_CERT_FILE` / `REQUESTS_CA_BUNDLE` (an inspecting proxy's CA);
- at most `MAX_IN_FLIGHT` (4, Graph's MailboxConcurrency) requests of the
  mailbox are on the wire at once;
- after a 429 or 503 with `Retry-After`, no request of the mailbox is sent
  before that time has passed (the request is then retried, a few times);
- a 401 asks the token source for a fresh token once (`force_refresh`) and
  retries; a second 401 is AuthError;
- a timeout, a dropped connection or a 5xx is TemporaryError; a 404 (and any
  other 4xx) is `GraphHttpError`, a PermanentError carrying Graph's error code;
- `$batch` requests go 20 at a time, and single items that came back 429
  inside the 200 are sent again after their Retry-After.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp

from loggbok.daemon.sync.backend import AuthError, PermanentError, TemporaryError

MAX_IN_FLIGHT = 4
BATCH_SIZE = 20
RETRIES = 6
"""Throttled answers in a row before a request gives up (TemporaryError)."""
DEFAULT_RETRY_AFTER = 5.0
MAX_RETRY_AFTER = 300.0

TokenSource = Callable[[bool], Awaitable[str]]
"""Gives an access token; called with True after Graph refused the last one."""


class GraphHttpError(PermanentError):
    """Graph answered with an error status (not throttling, not auth)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"Graph answered {status} {code}: {message}")
        self.status = status
        self.code = code


def ssl_context() -> ssl.SSLContext:
    """The system store, plus the bundles named by SSL_CERT_FILE / REQUESTS_CA_BUNDLE."""
    context = ssl.create_default_context()
    for name in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"):
        path = os.environ.get(name)
        if path and os.path.isfile(path):
            context.load_verify_locations(cafile=path)
    return context


def retry_after(value: str | None) -> float:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return DEFAULT_RETRY_AFTER
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return DEFAULT_RETRY_AFTER
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def error_of(status: int, body: bytes) -> GraphHttpError:
    code, message = "", body[:200].decode("utf-8", "replace")
    try:
        error = json.loads(body).get("error", {})
        code, message = str(error.get("code", "")), str(error.get("message", message))
    except (ValueError, AttributeError):
        pass
    return GraphHttpError(status, code, message)


@dataclass(frozen=True, slots=True)
class BatchAnswer:
    status: int
    body: Any
    """Parsed JSON, or the bytes of a non-JSON body (base64 on the wire)."""


class GraphClient:
    def __init__(
        self,
        graph_url: str,
        token: TokenSource,
        *,
        ssl: ssl.SSLContext | None = None,
        timeout: float = 60.0,
        max_in_flight: int = MAX_IN_FLIGHT,
    ) -> None:
        self.graph_url = graph_url.rstrip("/")
        self._token_source = token
        self._token: str | None = None
        self._ssl = ssl
        self._timeout = timeout
        self._slots = asyncio.Semaphore(max_in_flight)
        self._not_before = 0.0
        self._session: aiohttp.ClientSession | None = None
        self.requests = 0
        """Requests sent (for measurements)."""

    def url(self, path: str) -> str:
        return path if path.startswith("https://") else f"{self.graph_url}/{path.lstrip('/')}"

    async def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                ssl=self._ssl or ssl_context(), limit_per_host=MAX_IN_FLIGHT
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=self._timeout, sock_connect=15),
            )
        return self._session

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    def hold_off(self, seconds: float) -> None:
        """No request of this mailbox before `seconds` from now."""
        self._not_before = max(self._not_before, time.monotonic() + seconds)

    async def _wait_turn(self) -> None:
        """Sleep until the latest Retry-After has passed (a 429 that came while this
        request slept moves the time on: sleep again)."""
        delay = self._not_before - time.monotonic()
        while delay > 0:
            await asyncio.sleep(delay)
            delay = self._not_before - time.monotonic()

    async def _token_now(self, refresh: bool) -> str:
        if self._token is None or refresh:
            self._token = await self._token_source(refresh)
        return self._token

    async def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        body: Any = None,
    ) -> tuple[int, bytes]:
        """One request with throttling, token refresh and the error taxonomy; the
        status (2xx) and body."""
        session = await self._open()
        refreshed = False
        for _ in range(RETRIES):
            token = await self._token_now(False)
            async with self._slots:
                await self._wait_turn()
                self.requests += 1
                try:
                    async with session.request(
                        method,
                        self.url(path),
                        headers={"Authorization": f"Bearer {token}", **(headers or {})},
                        json=body,
                    ) as response:
                        status, data = response.status, await response.read()
                        wait = response.headers.get("Retry-After")
                except TimeoutError as exc:
                    raise TemporaryError(f"Graph did not answer in time: {path}") from exc
                except aiohttp.ClientError as exc:
                    raise TemporaryError(f"cannot reach Graph: {exc}") from exc
                if status in (429, 503):
                    self.hold_off(retry_after(wait))
                    continue
            if status == 401:
                if refreshed:
                    raise AuthError("Graph refused the access token: sign in again")
                refreshed = True
                await self._token_now(True)
                continue
            if 200 <= status < 300:
                return status, data
            if status >= 500:
                raise TemporaryError(f"Graph failed: {error_of(status, data)}")
            raise error_of(status, data)
        raise TemporaryError(f"Graph kept throttling {path}")

    async def get_json(self, path: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
        _, data = await self.request("GET", path, headers=headers)
        try:
            found = json.loads(data)
        except ValueError as exc:
            raise TemporaryError(f"Graph answered {path} with something not JSON") from exc
        if not isinstance(found, dict):
            raise TemporaryError(f"Graph answered {path} with something unexpected")
        return found

    async def get_bytes(self, path: str) -> bytes:
        return (await self.request("GET", path))[1]

    async def batch(self, urls: dict[str, str]) -> dict[str, BatchAnswer]:
        """GET every url (relative to the Graph root) by its key, 20 to a `$batch`;
        items throttled inside a batch are sent again after their Retry-After."""
        answers: dict[str, BatchAnswer] = {}
        keys = list(urls)
        chunks = [keys[i : i + BATCH_SIZE] for i in range(0, len(keys), BATCH_SIZE)]
        results = await asyncio.gather(*(self._batch_chunk(c, urls) for c in chunks))
        for found in results:
            answers.update(found)
        return answers

    async def _batch_chunk(self, keys: list[str], urls: dict[str, str]) -> dict[str, BatchAnswer]:
        answers: dict[str, BatchAnswer] = {}
        todo = list(keys)
        for _ in range(RETRIES):
            if not todo:
                return answers
            ids = {str(n): key for n, key in enumerate(todo)}
            body = {
                "requests": [
                    {"id": n, "method": "GET", "url": "/" + urls[key].lstrip("/")}
                    for n, key in ids.items()
                ]
            }
            _, data = await self.request(
                "POST", "$batch", headers={"Content-Type": "application/json"}, body=body
            )
            try:
                responses = json.loads(data)["responses"]
            except (ValueError, KeyError, TypeError) as exc:
                raise TemporaryError("Graph answered a $batch with something unexpected") from exc
            todo = []
            for item in responses:
                key = ids.get(str(item.get("id")))
                if key is None:
                    continue
                status = int(item.get("status", 500))
                item_headers = {k.lower(): v for k, v in (item.get("headers") or {}).items()}
                if status in (429, 503):
                    self.hold_off(retry_after(item_headers.get("retry-after")))
                    todo.append(key)
                    continue
                if status >= 500:
                    raise TemporaryError(f"Graph failed a $batch item with {status}")
                answers[key] = BatchAnswer(status, _item_body(item.get("body"), item_headers))
            todo += [key for key in ids.values() if key not in answers and key not in todo]
        if todo:
            raise TemporaryError("Graph kept throttling $batch items")
        return answers


def _item_body(body: Any, headers: dict[str, str]) -> Any:
    """A $batch item's body: JSON as it came, anything else base64-decoded."""
    if isinstance(body, str) and "json" not in headers.get("content-type", ""):
        try:
            return base64.b64decode(body, validate=True)
        except ValueError:
            return body.encode()
    return body
