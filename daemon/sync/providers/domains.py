"""R14: which provider an address's domain uses, and whether the chosen one fits.

`check(provider, config, address)` is what `mailboxes.test` and `mailboxes.add`
call beside the provider's own probe. It looks the domain up in DNS (dnspython's
asyncio resolver, never blocking the loop) and, when the connection's family
does not fit the domain's, returns a warning naming the right provider:

- MX ending `.mail.protection.outlook.com` or `.mx.microsoft`: Microsoft 365;
- MX `aspmx.l.google.com`, `altN.aspmx.l.google.com`, `aspmx2..5.googlemail.com`
  or `smtp.google.com`: Google;
- anything else (a filtering gateway such as Proofpoint's `pphosted.com` or
  Mimecast, the domain's own server): the MX says nothing, and
  `autodiscover.{domain}` as a CNAME to `autodiscover.outlook.com` is the only
  other sign taken (Microsoft 365).

Families (`Provider.family`): `microsoft` (Graph, EWS), `google` (Gmail, or
IMAP to Google's own host), `other` (IMAP anywhere else), `local` (a Maildir:
never checked, whatever fetched it). A Microsoft 365 domain over anything but a
`microsoft` provider is told to use Microsoft 365 (graph); a Google domain over
anything but a `google` one to use Gmail.

DNS never stands in the way of connecting: a failure or a timeout gives no
warning (logged at debug). `LOGGBOK_DNS_SERVER=HOST:PORT` sends the lookups to
that server instead of the system's (split-horizon setups, and tests);
`LOGGBOK_DNS_SERVER=none` turns them off (machines without DNS).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import dns.asyncresolver
import dns.exception
import dns.resolver

from loggbok.protocol.types import Provider as ProviderName

if TYPE_CHECKING:
    from loggbok.daemon.sync.providers.base import Provider

log = logging.getLogger(__name__)

ProviderFamily = Literal["microsoft", "google", "other", "local"]

DNS_SERVER_ENV = "LOGGBOK_DNS_SERVER"
LIFETIME = 2.0
"""Seconds a whole lookup may take before it counts as a failure (no warning)."""

WARNING_CODE = "provider_mismatch"

_GOOGLE_MX = frozenset(
    {
        "aspmx.l.google.com",
        *(f"alt{n}.aspmx.l.google.com" for n in range(1, 5)),
        *(f"aspmx{n}.googlemail.com" for n in range(2, 6)),
        "smtp.google.com",
    }
)
_MICROSOFT_MX_SUFFIXES = (".mail.protection.outlook.com", ".mx.microsoft")
_MICROSOFT_AUTODISCOVER = "autodiscover.outlook.com"
GOOGLE_HOST_SUFFIXES = (".gmail.com", ".googlemail.com", ".google.com")
"""IMAP hosts that are Google's own (imap.gmail.com ...)."""

_NAMES: dict[str, str] = {"microsoft": "Microsoft 365", "google": "Google (Gmail)"}
_RIGHT: dict[str, tuple[ProviderName, str]] = {
    "microsoft": ("graph", "use Microsoft 365 (graph)"),
    "google": ("gmail", "use Gmail"),
}


@dataclass(frozen=True, slots=True)
class DomainFamily:
    """What DNS says about a domain: its family, and the record that said so."""

    family: Literal["microsoft", "google"]
    evidence: str
    """"MX aspmx.l.google.com" or "autodiscover.example.com CNAME autodiscover.outlook.com"."""


@dataclass(frozen=True, slots=True)
class Mismatch:
    """A provider that does not fit the domain: the warning and the provider to use."""

    suggested_provider: ProviderName
    message: str
    code: str = WARNING_CODE


def _host(name: str) -> str:
    return name.rstrip(".").lower()


def family_of_mx(host: str) -> Literal["microsoft", "google"] | None:
    """The family one MX host names, None when it names none (gateways, own servers)."""
    host = _host(host)
    if host.endswith(_MICROSOFT_MX_SUFFIXES):
        return "microsoft"
    if host in _GOOGLE_MX:
        return "google"
    return None


def is_google_host(host: str) -> bool:
    host = _host(host)
    return host in {"gmail.com", "googlemail.com"} or host.endswith(GOOGLE_HOST_SUFFIXES)


def _server(setting: str) -> tuple[str, int]:
    """HOST, HOST:PORT, [V6] or [V6]:PORT (port 53 unless given)."""
    if setting.startswith("["):
        host, _, rest = setting[1:].partition("]")
        return host, int(rest.lstrip(":") or 53)
    if setting.count(":") == 1:
        host, _, port = setting.partition(":")
        return host, int(port)
    return setting, 53


def resolver_from_env() -> dns.asyncresolver.Resolver | None:
    """The resolver the lookups use (see the module docstring), or None for no lookups."""
    setting = os.environ.get(DNS_SERVER_ENV, "").strip()
    if setting.lower() in {"none", "off"}:
        return None
    try:
        if setting:
            host, port = _server(setting)
            resolver = dns.asyncresolver.Resolver(configure=False)
            resolver.nameservers = [host]
            resolver.port = port
        else:
            resolver = dns.asyncresolver.Resolver()
    except (dns.exception.DNSException, OSError, ValueError) as exc:
        log.debug("no DNS resolver (%s): provider check skipped", exc)
        return None
    resolver.lifetime = LIFETIME
    resolver.timeout = LIFETIME / 2
    return resolver


async def _names(resolver: dns.asyncresolver.Resolver, name: str, kind: str) -> list[str]:
    """The names a query answers with (MX exchanges, CNAME targets); [] for none."""
    try:
        answer = await resolver.resolve(name, kind, search=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    found: list[str] = []
    for record in answer:
        target = getattr(record, "exchange", None) or getattr(record, "target", None)
        if target is not None:
            found.append(_host(target.to_text()))
    return found


async def domain_family(domain: str, resolver: dns.asyncresolver.Resolver) -> DomainFamily | None:
    """The family DNS shows for `domain`; None when it shows none or DNS fails."""
    try:
        families = {h: family_of_mx(h) for h in await _names(resolver, domain, "MX")}
        named = {f for f in families.values() if f is not None}
        if len(named) == 1:
            family = named.pop()
            host = next(h for h, f in families.items() if f == family)
            return DomainFamily(family, f"MX {host}")
        autodiscover = f"autodiscover.{domain}"
        for target in await _names(resolver, autodiscover, "CNAME"):
            if target == _MICROSOFT_AUTODISCOVER:
                return DomainFamily("microsoft", f"{autodiscover} CNAME {target}")
    except (dns.exception.DNSException, OSError) as exc:
        log.debug("DNS lookup for %s failed (%s): provider check skipped", domain, exc)
    return None


def mismatch(
    found: DomainFamily, connected: ProviderFamily, provider_title: str, domain: str
) -> Mismatch | None:
    """The warning when a connection of family `connected` does not fit the domain."""
    if connected in ("local", found.family):
        return None
    provider, advice = _RIGHT[found.family]
    return Mismatch(
        provider,
        f"{domain} is a {_NAMES[found.family]} domain ({found.evidence}): {advice}"
        f" rather than {provider_title}.",
    )


async def check(provider: Provider, config: dict[str, Any], address: str) -> Mismatch | None:
    """R14 for a mailbox about to be tested or added; None when it fits or DNS can't tell."""
    connected = provider.family_of(config)
    domain = address.rpartition("@")[2].strip().rstrip(".").lower()
    if connected == "local" or not domain:
        return None
    resolver = resolver_from_env()
    if resolver is None:
        return None
    found = await domain_family(domain, resolver)
    if found is None:
        return None
    return mismatch(found, connected, provider.title, domain)
