"""R14 over the real socket: a real loggbokd whose DNS lookups go to a loopback DNS
server, probing a real Dovecot. A Microsoft 365 domain over IMAP is told to use
Microsoft 365 (graph); a Google domain over IMAP to a host that is not Google's
to use Gmail; DNS down (nothing listening, or a server that never answers)
warns of nothing and connects. A Google domain connected as Microsoft 365 (Graph,
against its test server) is told to use Gmail."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from tests.conftest import DaemonProcess
from tests.servers.dns import DnsServer
from tests.servers.dovecot import DovecotServer, DovecotUser
from tests.servers.ews.server import EwsServer
from tests.servers.graph.server import GraphServer
from tests.support.ews import PASSWORD, ntlm_params
from tests.support.graph import graph_params

ZONE = {
    "m365.example": {"MX": ["0 m365-example.mail.protection.outlook.com."]},
    "gws.example": {"MX": ["1 smtp.google.com."]},
    "own.example": {"MX": ["10 mx.own.example."]},
}


@pytest.fixture
def dns_server() -> Iterator[DnsServer]:
    with DnsServer(ZONE) as server:
        yield server


@contextlib.asynccontextmanager
async def _daemon(
    workdir: Path, dns_setting: str, env: dict[str, str] | None = None
) -> AsyncIterator[Client]:
    (workdir / "data").mkdir()
    daemon = DaemonProcess(
        workdir / "d.sock",
        workdir / "data",
        env={**(env or {}), "LOGGBOK_DNS_SERVER": dns_setting},
    )
    daemon.start()
    client = await daemon.client()
    try:
        yield client
    finally:
        await client.close()
        daemon.stop()


@pytest.fixture
async def client_with_dns(workdir: Path, dns_server: DnsServer) -> AsyncIterator[Client]:
    async with _daemon(workdir, dns_server.address) as client:
        yield client


def _imap(server: DovecotServer, user: DovecotUser, address: str) -> t.ImapAddParams:
    return t.ImapAddParams(
        host=server.host,
        port=server.port,
        security="none",
        username=user.name,
        password=user.password,
        address=address,
    )


async def test_an_m365_domain_over_imap_is_told_to_use_graph(
    client_with_dns: Client, dovecot: DovecotServer
) -> None:
    user = dovecot.add_user(password="pw")
    result = await client_with_dns.call(m.MAILBOXES_TEST, _imap(dovecot, user, "bo@m365.example"))
    assert result.ok, result.error  # the IMAP login itself works
    assert result.warning_codes == ["provider_mismatch"]
    assert result.suggested_provider == "graph"
    (warning,) = [w for w in result.warnings if "m365.example" in w]
    assert "use Microsoft 365 (graph)" in warning
    assert "m365-example.mail.protection.outlook.com" in warning
    added = await client_with_dns.call(m.MAILBOXES_ADD, _imap(dovecot, user, "bo@m365.example"))
    assert added.warning_codes == ["provider_mismatch"] and added.suggested_provider == "graph"
    listed = await client_with_dns.call(m.MAILBOXES_LIST)
    assert [mb.id for mb in listed.mailboxes] == [added.id]  # a warning, never a refusal


async def test_a_google_domain_over_imap_elsewhere_is_told_to_use_gmail(
    client_with_dns: Client, dovecot: DovecotServer
) -> None:
    user = dovecot.add_user(password="pw")
    result = await client_with_dns.call(m.MAILBOXES_TEST, _imap(dovecot, user, "bo@gws.example"))
    assert result.ok and result.warning_codes == ["provider_mismatch"]
    assert result.suggested_provider == "gmail"
    assert any("use Gmail" in w and "MX smtp.google.com" in w for w in result.warnings)
    # A domain whose MX names no provider: nothing to say.
    result = await client_with_dns.call(m.MAILBOXES_TEST, _imap(dovecot, user, "bo@own.example"))
    assert result.ok and result.warning_codes == [] and result.suggested_provider is None
    assert not any("own.example" in w for w in result.warnings)


async def test_a_failing_login_still_names_the_right_provider(
    client_with_dns: Client, dovecot: DovecotServer
) -> None:
    user = dovecot.add_user(password="pw")
    wrong = DovecotUser(user.name, "not the password")
    result = await client_with_dns.call(m.MAILBOXES_TEST, _imap(dovecot, wrong, "bo@m365.example"))
    assert not result.ok and result.error_kind == "auth"
    assert result.suggested_provider == "graph"


async def test_a_google_domain_over_graph_is_told_to_use_gmail(
    workdir: Path, dns_server: DnsServer, graph_server: GraphServer
) -> None:
    async with _daemon(workdir, dns_server.address, graph_server.client_env()) as client:
        result = await client.call(m.MAILBOXES_TEST, graph_params(graph_server, "bo@gws.example"))
        assert result.warning_codes == ["provider_mismatch"]
        assert result.suggested_provider == "gmail"
        result = await client.call(m.MAILBOXES_TEST, graph_params(graph_server, "bo@m365.example"))
        assert result.warning_codes == [] and result.suggested_provider is None


def _closed_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("down", ["nothing listening", "never answers"])
async def test_dns_down_warns_of_nothing_and_connects(
    workdir: Path, dovecot: DovecotServer, down: str
) -> None:
    silent = DnsServer(ZONE, silent=True)
    address = silent.address if down == "never answers" else f"127.0.0.1:{_closed_udp_port()}"
    with silent:
        async with _daemon(workdir, address) as client:
            user = dovecot.add_user(password="pw")
            params = _imap(dovecot, user, "bo@m365.example")
            if down == "never answers":
                result = await client.call(m.MAILBOXES_TEST, params)
                assert result.ok and result.warning_codes == []
                assert result.suggested_provider is None
                assert silent.queries  # the daemon did ask
                return
            added = await client.call(m.MAILBOXES_ADD, params)
            assert added.warning_codes == [] and added.suggested_provider is None
            await client.call(m.MAILBOXES_SYNC, t.IdParams(id=added.id))


async def test_ews_fits_microsoft_and_own_domains_and_not_google_ones(
    workdir: Path, dns_server: DnsServer, ews_server: EwsServer
) -> None:
    for address in ("bo@gws.example", "bo@m365.example", "bo@own.example"):
        ews_server.add_user(address, PASSWORD, address.replace("@", "."))
    async with _daemon(workdir, dns_server.address, ews_server.client_env()) as client:

        async def test(address: str) -> t.MailboxTestResult:
            params = ntlm_params(ews_server, address)
            params.username = address.replace("@", ".")
            return await client.call(m.MAILBOXES_TEST, params)

        result = await test("bo@gws.example")
        assert result.ok and result.warning_codes == ["provider_mismatch"]
        assert result.suggested_provider == "gmail"
        for fits in ("bo@m365.example", "bo@own.example"):  # Exchange Online, on-premises
            result = await test(fits)
            assert result.ok and result.warning_codes == [] and result.suggested_provider is None
