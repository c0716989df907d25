"""Autodiscover for an EWS mailbox without an EWS URL, through exchangelib's own
discovery against the EWS test server: each of its steps finds the server when
the ones before it cannot (the domain itself, the `autodiscover.` host, the
HTTP redirect from http://autodiscover.{domain}/, the SRV record). The names
resolve through a loopback DNS server (`LOGGBOK_DNS_SERVER`) and connect to
the test server through `LOGGBOK_EWS_CONNECT_TO`; TLS checks each host name
against the test CA's certificate."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from exchangelib.autodiscover import clear_cache

from loggbok.daemon.sync.providers.ews import transport
from loggbok.daemon.sync.providers.ews.backend import EwsBackend
from loggbok.daemon.sync.providers.ews.connection import EwsConnection, EwsSettings
from tests.servers.dns import DnsServer
from tests.servers.ews.server import EwsServer

PASSWORD = "Host-2026"
CLOSED = "127.0.0.1:1"
"""Nothing listens there: a step that connects to it fails at once."""


@pytest.fixture(autouse=True)
def _no_cached_endpoints() -> Iterator[None]:
    clear_cache()  # exchangelib keeps found endpoints per domain, also on disk
    yield
    clear_cache()


@pytest.mark.parametrize(
    ("address", "zone", "connect_to"),
    [
        pytest.param(
            "maja@firma.example",
            {"firma.example": {"A": ["127.0.0.1"]}},
            {"firma.example:443": "SERVER"},
            id="the domain",
        ),
        pytest.param(
            "maja@firma.example",
            {"autodiscover.firma.example": {"A": ["127.0.0.1"]}},
            {"autodiscover.firma.example:443": "SERVER"},
            id="autodiscover host",
        ),
        pytest.param(
            "eva@third.example",
            {
                "autodiscover.third.example": {"A": ["127.0.0.1"]},
                "ews.other.example": {"A": ["127.0.0.1"]},
            },
            {
                "autodiscover.third.example:443": CLOSED,
                "autodiscover.third.example:80": "HTTP",
                "ews.other.example:443": "SERVER",
            },
            id="http redirect",
        ),
        pytest.param(
            "eva@other.example",
            {
                "_autodiscover._tcp.other.example": {"SRV": ["0 0 443 ews.other.example."]},
                "ews.other.example": {"A": ["127.0.0.1"]},
            },
            {"ews.other.example:443": "SERVER"},
            id="SRV record",
        ),
    ],
)
async def test_autodiscover_finds_the_ews_url(
    ews_server: EwsServer,
    monkeypatch: pytest.MonkeyPatch,
    address: str,
    zone: dict[str, dict[str, list[str]]],
    connect_to: dict[str, str],
) -> None:
    ews_server.add_user(address, PASSWORD)
    transport.trust(str(ews_server.ca_path))
    targets = {
        "SERVER": f"127.0.0.1:{ews_server.port}",
        "HTTP": f"127.0.0.1:{ews_server.http_port}",
    }
    mapping = ",".join(f"{k}={targets.get(v, v)}" for k, v in connect_to.items())
    with DnsServer(zone) as dns:
        monkeypatch.setenv("LOGGBOK_DNS_SERVER", dns.address)
        monkeypatch.setenv("LOGGBOK_EWS_CONNECT_TO", mapping)
        settings = EwsSettings(address, None, address.split("@")[0], "ntlm", PASSWORD)
        backend = EwsBackend(EwsConnection(settings, timeout=10.0), push=False)
        try:
            await backend.connect()
            folders = {f.role for f in await backend.folders()}
        finally:
            await backend.close()
    assert backend.connection.ews_url == ews_server.ews_url
    assert {"inbox", "sent"} <= folders
    assert ews_server.state.observed.requests["GetUserSettings"] >= 1
