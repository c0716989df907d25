"""The provider registry: every `mailboxes.add` variant has a provider and every
provider a variant; the forms clients build come from the params structs; a
provider the daemon does not have is Unsupported, a field of another provider
Invalid params, over the real socket."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from loggbok.daemon.sync.providers.registry import PROVIDERS, describe_providers
from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from loggbok.protocol.errors import ErrorCode, RpcError
from loggbok.protocol.forms import form_fields
from tests.support.mail import make_maildir


def test_every_variant_has_one_provider_and_back() -> None:
    tags = {msgspec.inspect.type_info(v).tag for v in t.MAILBOX_ADD_VARIANTS}  # type: ignore[attr-defined]
    assert tags == set(PROVIDERS)
    for name, provider in PROVIDERS.items():
        assert msgspec.inspect.type_info(provider.params).tag == name  # type: ignore[attr-defined]


def test_form_fields_follow_the_params_struct() -> None:
    fields = {f.name: f for f in form_fields(t.ImapAddParams)}
    assert list(fields)[:2] == ["address", "host"]
    assert fields["host"].required and fields["host"].title == "IMAP host"
    assert fields["password"].kind == "secret" and not fields["password"].required
    assert fields["port"].kind == "integer"
    assert fields["security"].kind == "choice" and fields["security"].default == "tls"
    assert set(fields["security"].choices) == {"tls", "starttls", "none"}
    gmail = {f.name: f for f in form_fields(t.GmailAddParams)}
    assert gmail["host"].default == "imap.gmail.com" and not gmail["host"].required


def test_providers_are_described_with_their_capabilities() -> None:
    described = {p.name: p for p in describe_providers()}
    assert described["maildir"].needs_secret is False
    assert described["imap"].needs_secret is True
    assert [f.name for f in described["maildir"].fields] == ["address", "path", "kind"]
    for provider in described.values():  # R15: every provider's form asks for the kind, last
        kind = provider.fields[-1]
        assert kind.name == "kind" and kind.kind == "choice" and kind.default == "personal"
        assert kind.choices == ["personal", "team"]


async def test_mailbox_params_by_provider_over_the_socket(client: Client, tmp_path: Path) -> None:
    listed = await client.call(m.MAILBOXES_PROVIDERS)
    assert {p.name for p in listed.providers} == set(PROVIDERS)

    with pytest.raises(RpcError) as no_auth:  # EWS: `auth` is required
        await client.call_raw("mailboxes.test", {"provider": "ews", "address": "a@b.example"})
    assert no_auth.value.code == ErrorCode.INVALID_PARAMS
    assert "auth" in str(no_auth.value.data)

    with pytest.raises(RpcError) as no_password:
        await client.call_raw(
            "mailboxes.test", {"provider": "ews", "address": "a@b.example", "auth": "ntlm"}
        )
    assert no_password.value.code == ErrorCode.BAD_INPUT

    with pytest.raises(RpcError) as no_app:  # no client id given, none set for the daemon
        await client.call_raw("mailboxes.test", {"provider": "graph", "address": "a@b.example"})
    assert no_app.value.code == ErrorCode.BAD_INPUT
    assert "App registrations" in str(no_app.value.data)
    assert "LOGGBOK_GRAPH_CLIENT_ID" in str(no_app.value.data)

    with pytest.raises(RpcError) as foreign:
        await client.call_raw(
            "mailboxes.test", {"provider": "imap", "address": "a@b.example", "path": "/x"}
        )
    assert foreign.value.code == ErrorCode.INVALID_PARAMS
    assert "path" in str(foreign.value.data)

    box = make_maildir(tmp_path / "box")
    result = await client.call_raw(
        "mailboxes.test", {"provider": "maildir", "address": "a@b.example", "path": str(box)}
    )
    assert result["ok"] is True
