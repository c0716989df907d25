"""The one place providers are registered, and what the rest of the daemon asks
of them: a backend for a mailbox row, a probe and a config for params, the
description clients build their forms from."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import msgspec

from loggbok.daemon.secrets import SecretStore
from loggbok.daemon.store.mailboxes import MailboxRow
from loggbok.daemon.sync.backend import Backend, PermanentError
from loggbok.daemon.sync.providers.base import Provider
from loggbok.daemon.sync.providers.ews.provider import EwsProvider
from loggbok.daemon.sync.providers.graph.provider import GraphProvider
from loggbok.daemon.sync.providers.imap.provider import GmailProvider, ImapProvider
from loggbok.daemon.sync.providers.maildir.provider import MaildirProvider
from loggbok.protocol import types as t
from loggbok.protocol.forms import form_fields

PROVIDERS: dict[str, Provider] = {
    p.name: p
    for p in (MaildirProvider(), ImapProvider(), GmailProvider(), GraphProvider(), EwsProvider())
}

BackendFactory = Callable[[MailboxRow], Awaitable[Backend]]


def provider_of(name: str) -> Provider:
    """The provider registered under `name`; PermanentError for one that is not."""
    found = PROVIDERS.get(name)
    if found is None:
        raise PermanentError(f"provider {name!r} is not supported by this loggbokd")
    return found


def provider_for(params: t.MailboxAddParams) -> Provider:
    return provider_of(msgspec.inspect.type_info(type(params)).tag)  # type: ignore[attr-defined]


def backend_factory(secrets: SecretStore) -> BackendFactory:
    """What the sync service calls to get a (not yet connected) backend for a mailbox."""

    async def make(mailbox: MailboxRow) -> Backend:
        return await provider_of(mailbox.provider).open(mailbox, secrets)

    return make


def describe_providers() -> list[t.ProviderInfo]:
    return [
        t.ProviderInfo(
            name=p.name,
            title=p.title,
            description=(p.params.__doc__ or "").split("\n\n")[0].strip(),
            fields=form_fields(p.params),
            needs_secret=p.needs_secret,
            capabilities=list(p.capabilities),
        )
        for p in PROVIDERS.values()
    ]
