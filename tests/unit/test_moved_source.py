"""`moved_source`: which config changes point a mailbox at another server or account
(R13: a replacement) and which do not (the same server read otherwise)."""

from __future__ import annotations

from loggbok.daemon.sync.providers.base import moved_source

IMAP = {"host": "mail.firma.example", "port": 993, "security": "tls", "username": "maja"}


def test_another_host_or_user_is_another_source() -> None:
    assert moved_source(IMAP, IMAP | {"host": "imap.other.example"}) == ["host"]
    assert moved_source(IMAP, IMAP | {"username": "anna", "host": "x"}) == ["host", "username"]
    assert moved_source({"path": "/m/a"}, {"path": "/m/b"}) == ["path"]
    assert moved_source({"ews_url": "https://a/EWS"}, {"ews_url": "https://b/EWS"}) == ["ews_url"]


def test_the_same_server_read_otherwise_is_not() -> None:
    assert moved_source(IMAP, IMAP | {"port": 143, "security": "starttls"}) == []
    assert moved_source(IMAP, IMAP | {"host": "MAIL.Firma.example", "username": "Maja"}) == []
    assert moved_source(IMAP, IMAP | {"password_command": "pass show mail"}) == []
    assert moved_source({"client_id": "c"}, {"client_id": "c", "graph_url": "https://g"}) == []
