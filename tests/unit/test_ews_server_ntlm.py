"""The EWS test server's NTLM: a connection is authenticated once, and a new
connection never inherits an old one's login.

The server once kept each connection's login under `id(transport)`; CPython
hands a closed transport's address to the next one, so a new connection was
now and then taken for a closed, authenticated one. A password change then went
unnoticed by the daemon's NTLM login check (`test_ews_login_check.py` failed
under load)."""

from __future__ import annotations

import gc

import requests
from requests_ntlm import HttpNtlmAuth

from loggbok.daemon.sync.providers.ews import transport
from tests.servers.ews.server import EwsServer

ME = "maja@firma.example"
PASSWORD = "Vinter-2026"
SOAP = b'<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body/></soap:Envelope>'


def test_new_connections_never_inherit_an_ntlm_login(ews_server: EwsServer) -> None:
    ews_server.add_user(ME, PASSWORD, "maja")
    transport.trust(str(ews_server.ca_path))
    post = {"data": SOAP, "headers": {"Content-Type": "text/xml"}, "timeout": 30}
    for _ in range(12):
        with requests.Session() as signed_in:
            signed_in.mount("https://", transport.EwsAdapter())  # trusts the server's CA
            signed_in.auth = HttpNtlmAuth("FIRMA\\maja", PASSWORD)
            assert signed_in.post(ews_server.ews_url, **post).status_code != 401
        gc.collect()  # the closed connection's transport is freed: its address is free
        with requests.Session() as stranger:
            stranger.mount("https://", transport.EwsAdapter())
            assert stranger.post(ews_server.ews_url, **post).status_code == 401
