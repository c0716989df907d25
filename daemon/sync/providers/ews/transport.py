"""The HTTP side of exchangelib, set once for the process (`install`):

- TLS trusts the system store and, beside it, the CA bundles named by
  `SSL_CERT_FILE` / `REQUESTS_CA_BUNDLE` (an inspecting proxy's CA, the tests'
  local CA) and any bundle given to `trust` (tests in one process);
- `LOGGBOK_EWS_CONNECT_TO="host:port=addr:port[,...]"` sends connections for
  host:port to addr:port instead, as curl's `--connect-to`: the request, its
  Host header and the certificate check keep the host name (split DNS, a
  test server on loopback);
- autodiscover's DNS lookups (the A record it checks before each URL, the SRV
  record `_autodiscover._tcp.{domain}`) go to `LOGGBOK_DNS_SERVER` when set
  (as the R14 provider check's do), else to the system's resolver.

exchangelib reads `BaseProtocol.HTTP_ADAPTER_CLS` when it makes a session, so
the adapter is the one hook: nothing else in exchangelib is changed.
"""

from __future__ import annotations

import os
import ssl
import threading
from typing import Any
from urllib.parse import urlsplit

import dns.resolver
import requests
from exchangelib.protocol import BaseProtocol
from requests.adapters import HTTPAdapter

CONNECT_TO_ENV = "LOGGBOK_EWS_CONNECT_TO"
DNS_ENV = "LOGGBOK_DNS_SERVER"
_extra: list[str] = []
_lock = threading.Lock()


def trust(ca_path: str) -> None:
    """Trust this CA bundle too (beside the system store and the environment's)."""
    with _lock:
        if ca_path not in _extra:
            _extra.append(ca_path)


def ssl_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    paths = [os.environ.get(n, "") for n in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")]
    for path in [*paths, *_extra]:
        if path and os.path.isfile(path):
            context.load_verify_locations(cafile=path)
    return context


def connect_to() -> dict[tuple[str, int], tuple[str, int]]:
    """The `LOGGBOK_EWS_CONNECT_TO` mapping: (host, port) -> (address, port)."""
    found: dict[tuple[str, int], tuple[str, int]] = {}
    for entry in os.environ.get(CONNECT_TO_ENV, "").split(","):
        source, _, target = entry.strip().partition("=")
        host, _, port = source.rpartition(":")
        address, _, target_port = target.rpartition(":")
        if host and port.isdigit() and address and target_port.isdigit():
            found[(host.lower(), int(port))] = (address, int(target_port))
    return found


class EwsAdapter(HTTPAdapter):
    """requests' adapter with the trust and the connect-to mapping above."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = ssl_context()
        super().init_poolmanager(*args, **kwargs)

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: Any, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert
        )
        host = str(host_params.get("host", "")).lower()
        default = 443 if host_params.get("scheme") == "https" else 80
        target = connect_to().get((host, int(host_params.get("port") or default)))
        if target is not None:
            host_params["host"], host_params["port"] = target
            if host_params.get("scheme") == "https":
                pool_kwargs["server_hostname"] = host
                pool_kwargs["assert_hostname"] = host
        return host_params, pool_kwargs

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        if connect_to() and request.url and "Host" not in request.headers:
            request.headers["Host"] = urlsplit(request.url).netloc
        return super().send(request, *args, **kwargs)


def resolver() -> dns.resolver.Resolver:
    """The resolver autodiscover's lookups use (`LOGGBOK_DNS_SERVER` when set)."""
    setting = os.environ.get(DNS_ENV, "").strip()
    if setting:
        host, _, port = setting.rpartition(":")
        found = dns.resolver.Resolver(configure=False)
        found.nameservers = [host or setting]
        found.port = int(port) if port.isdigit() and host else 53
    else:
        found = dns.resolver.Resolver()
    found.timeout = 4.0
    found.lifetime = 10.0
    return found


def install() -> None:
    BaseProtocol.HTTP_ADAPTER_CLS = EwsAdapter
