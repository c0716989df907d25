"""Refreshing XOAUTH2 access tokens against a real token endpoint on loopback
(aiohttp) through google-auth: what the endpoint answers decides between a
token, "sign in again" (auth) and "try later" (temporary), and an answer of
the wrong shape is a clear error, never a crash inside google-auth."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from loggbok.daemon.oauth import OAuthError, access_token

ANSWERS: dict[str, tuple[int, str, str]] = {
    "good": (200, "application/json", '{"access_token": "fresh", "expires_in": 3600}'),
    "refused": (400, "application/json", '{"error": "invalid_grant"}'),
    "proxy-down": (502, "text/html", "<html><body>Bad Gateway</body></html>"),
    "not-json": (200, "text/plain", "this is not json"),
    "a-list": (200, "application/json", "[]"),
    "odd-expiry": (200, "application/json", '{"access_token": "t", "expires_in": "soon"}'),
}


@pytest.fixture
async def endpoint() -> AsyncIterator[str]:
    async def token(request: web.Request) -> web.Response:
        status, content_type, body = ANSWERS[request.match_info["answer"]]
        return web.Response(status=status, content_type=content_type, text=body)

    app = web.Application()
    app.router.add_post("/{answer}", token)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


def _secret(url: str, **extra: str) -> str:
    return json.dumps(
        {"refresh_token": "r", "token_uri": url, "client_id": "c", "client_secret": "s", **extra}
    )


async def test_a_token_is_refreshed_even_past_an_unreadable_stored_expiry(endpoint: str) -> None:
    token = await asyncio.to_thread(access_token, _secret(f"{endpoint}/good", expiry="garbage"))
    assert token.token == "fresh"
    assert token.updated_secret is not None
    assert json.loads(token.updated_secret)["access_token"] == "fresh"


async def test_a_refused_refresh_token_means_signing_in_again(endpoint: str) -> None:
    with pytest.raises(OAuthError, match="refused the refresh token") as refused:
        await asyncio.to_thread(access_token, _secret(f"{endpoint}/refused"))
    assert not refused.value.temporary


@pytest.mark.parametrize("answer", ["proxy-down", "not-json", "a-list", "odd-expiry"])
async def test_a_failing_or_garbled_endpoint_is_temporary(endpoint: str, answer: str) -> None:
    with pytest.raises(OAuthError) as failed:
        await asyncio.to_thread(access_token, _secret(f"{endpoint}/{answer}"))
    assert failed.value.temporary, failed.value


async def test_a_bare_access_token_is_used_as_it_is() -> None:
    assert (await asyncio.to_thread(access_token, "ya29.bare")).token == "ya29.bare"
