"""R14's table: which family an MX names, which providers fit which domain (Graph and
EWS too, before they exist), and DNS through a real resolver against a loopback
server: an answer, a gateway with and without autodiscover, a server that never
answers (no warning, and within the lookup's lifetime)."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from loggbok.daemon.sync.providers import domains
from loggbok.daemon.sync.providers.base import Provider
from loggbok.daemon.sync.providers.domains import (
    DomainFamily,
    ProviderFamily,
    domain_family,
    family_of_mx,
    mismatch,
)
from loggbok.daemon.sync.providers.registry import PROVIDERS
from tests.servers.dns import DnsServer

M365 = DomainFamily("microsoft", "MX kund-example.mail.protection.outlook.com")
GOOGLE = DomainFamily("google", "MX aspmx.l.google.com")


@pytest.mark.parametrize(
    ("host", "family"),
    [
        ("kund-example.mail.protection.outlook.com.", "microsoft"),
        ("KUND-example.MAIL.protection.outlook.com", "microsoft"),
        ("kund-example.l-v1.mx.microsoft", "microsoft"),
        ("aspmx.l.google.com.", "google"),
        ("alt3.aspmx.l.google.com", "google"),
        ("aspmx4.googlemail.com", "google"),
        ("smtp.google.com", "google"),
        ("mx0a-001.pphosted.com", None),
        ("eu-smtp-inbound-1.mimecast.com", None),
        ("mx.kund.example", None),
        ("outlook.com.evil.example", None),
        ("aspmx.l.google.com.evil.example", None),
    ],
)
def test_family_of_mx(host: str, family: str | None) -> None:
    assert family_of_mx(host) == family


@pytest.mark.parametrize(
    ("found", "connected", "suggested"),
    [
        (M365, "other", "graph"),  # IMAP (to outlook.office365.com or anywhere)
        (M365, "google", "graph"),  # Gmail
        (M365, "microsoft", None),  # Graph, EWS
        (M365, "local", None),  # Maildir
        (GOOGLE, "microsoft", "gmail"),  # Graph, EWS
        (GOOGLE, "other", "gmail"),  # IMAP to a host that is not Google's
        (GOOGLE, "google", None),  # Gmail, or IMAP to imap.gmail.com
        (GOOGLE, "local", None),
    ],
)
def test_what_fits_which_domain(
    found: DomainFamily, connected: ProviderFamily, suggested: str | None
) -> None:
    warning = mismatch(found, connected, "Some provider", "kund.example")
    assert (warning.suggested_provider if warning else None) == suggested
    if warning is not None:
        assert warning.code == "provider_mismatch"
        assert "kund.example" in warning.message and found.evidence in warning.message


def test_families_of_the_registered_providers() -> None:
    assert PROVIDERS["maildir"].family_of({"path": "/x"}) == "local"
    assert PROVIDERS["imap"].family_of({"host": "mail.kund.example"}) == "other"
    assert PROVIDERS["imap"].family_of({"host": "outlook.office365.com"}) == "other"
    assert PROVIDERS["imap"].family_of({"host": "imap.gmail.com"}) == "google"
    assert PROVIDERS["gmail"].family_of({"host": "imap.gmail.com"}) == "google"
    assert PROVIDERS["graph"].family_of({}) == "microsoft"


class _GraphLike(Provider):
    """How a Microsoft provider (Graph, EWS) plugs in: one ClassVar."""

    name: ClassVar[Any] = "graph"
    title = "Microsoft 365"
    params: ClassVar[type[Any]] = dict
    family: ClassVar[ProviderFamily] = "microsoft"

    def config_of(self, params: Any) -> dict[str, Any]:
        return {}

    async def open(self, mailbox: Any, secrets: Any) -> Any:
        raise NotImplementedError

    async def probe(self, config: dict[str, Any], secret: str | None) -> Any:
        raise NotImplementedError


ZONE = {
    "m365.example": {"MX": ["0 m365-example.mail.protection.outlook.com."]},
    "gws.example": {"MX": ["1 aspmx.l.google.com.", "5 alt1.aspmx.l.google.com."]},
    "gated.example": {"MX": ["10 mx0a-1.pphosted.com.", "10 mx0b-1.pphosted.com."]},
    "gated-m365.example": {"MX": ["10 eu-smtp-inbound-1.mimecast.com."]},
    "autodiscover.gated-m365.example": {"CNAME": ["autodiscover.outlook.com."]},
    "nomx.example": {"A": ["192.0.2.1"]},
    "autodiscover.nomx.example": {"CNAME": ["autodiscover.outlook.com."]},
}


async def test_domain_family_through_a_real_resolver(monkeypatch: pytest.MonkeyPatch) -> None:
    with DnsServer(ZONE) as server:
        monkeypatch.setenv("LOGGBOK_DNS_SERVER", server.address)
        resolver = domains.resolver_from_env()
        assert resolver is not None
        found = await domain_family("m365.example", resolver)
        assert found == DomainFamily("microsoft", "MX m365-example.mail.protection.outlook.com")
        found = await domain_family("gws.example", resolver)
        assert found is not None and found.family == "google"
        # A gateway hides the provider; autodiscover is asked and says nothing here.
        assert await domain_family("gated.example", resolver) is None
        assert ("autodiscover.gated.example.", "CNAME") in server.queries
        found = await domain_family("gated-m365.example", resolver)
        assert found == DomainFamily(
            "microsoft", "autodiscover.gated-m365.example CNAME autodiscover.outlook.com"
        )
        found = await domain_family("nomx.example", resolver)
        assert found is not None and found.family == "microsoft"
        assert await domain_family("unknown.example", resolver) is None
        warning = await domains.check(_GraphLike(), {}, "bo@gws.example")
        assert warning is not None and warning.suggested_provider == "gmail"
        assert await domains.check(_GraphLike(), {}, "bo@m365.example") is None
        assert await domains.check(PROVIDERS["maildir"], {}, "bo@gws.example") is None


async def test_a_server_that_never_answers_gives_no_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(domains, "LIFETIME", 0.3)
    with DnsServer(ZONE, silent=True) as server:
        monkeypatch.setenv("LOGGBOK_DNS_SERVER", server.address)
        assert await domains.check(PROVIDERS["imap"], {"host": "x"}, "bo@m365.example") is None
        assert server.queries  # it was asked


async def test_no_lookups_when_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    with DnsServer(ZONE) as server:
        monkeypatch.setenv("LOGGBOK_DNS_SERVER", "none")
        assert await domains.check(PROVIDERS["imap"], {"host": "x"}, "bo@m365.example") is None
        assert server.queries == []


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("127.0.0.1:5353", ("127.0.0.1", 5353)),
        ("10.0.0.53", ("10.0.0.53", 53)),
        ("[::1]:5300", ("::1", 5300)),
        ("::1", ("::1", 53)),
    ],
)
def test_server_setting(setting: str, expected: tuple[str, int]) -> None:
    assert domains._server(setting) == expected
