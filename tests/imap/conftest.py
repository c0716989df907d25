"""Fixtures for the IMAP tests: the real Dovecot servers, fresh users and backends."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from loggbok.daemon.sync.providers.imap import ImapBackend
from tests.servers.dovecot import DovecotServer, DovecotUser, dovecot, dovecot_tls

__all__ = ["dovecot", "dovecot_tls"]

MakeBackend = Callable[..., ImapBackend]


@pytest.fixture
def user(dovecot: DovecotServer) -> DovecotUser:
    """A fresh user with INBOX and the SPECIAL-USE folders."""
    return dovecot.add_user()


@pytest.fixture
async def make_backend(dovecot: DovecotServer) -> AsyncIterator[MakeBackend]:
    """Backends for the plaintext Dovecot (any field overridable), closed after the test."""
    made: list[ImapBackend] = []

    def make(user: DovecotUser, **overrides: Any) -> ImapBackend:
        fields: dict[str, Any] = {
            "host": dovecot.host,
            "port": dovecot.port,
            "security": "none",
            "username": user.name,
            "secret": user.password,
            "timeout": 30.0,
        }
        fields.update(overrides)
        backend = ImapBackend(**fields)
        made.append(backend)
        return backend

    yield make
    for backend in made:
        await backend.close()
