"""The mailbox form for every provider the daemon registers, without a daemon: it is
built from `mailboxes.providers` (here `describe_providers()`, what the daemon
answers), so each provider's fields, labels and defaults show as declared."""

from __future__ import annotations

from typing import Any

import pytest
from textual.app import App
from textual.widgets import Input, Label, Select, Static

from loggbok.daemon.sync.providers.registry import describe_providers
from loggbok.protocol import types as t
from loggbok.tui.dialogs.mailbox_form import MailboxForm

from .conftest import until

PROVIDERS = describe_providers()


class FormApp(App[None]):
    CSS_PATH = "../../tui/loggbok.tcss"

    def on_mount(self) -> None:
        self.push_screen(MailboxForm(PROVIDERS))


def shown_fields(form: MailboxForm) -> list[str]:
    names = [f.name for p in PROVIDERS for f in p.fields]
    return [n for n in dict.fromkeys(names) if form.query_one(f"#{n}").display]


async def form_of(app: App[Any]) -> MailboxForm:
    return await until(lambda: app.screen if isinstance(app.screen, MailboxForm) else None)


async def test_opens_with_the_first_field_focused() -> None:
    app = FormApp()
    async with app.run_test(size=(100, 40)) as pilot:
        form = await form_of(app)
        await pilot.pause()
        assert app.focused is form.query_one("#provider", Select)
        await pilot.press("tab")
        assert app.focused is form.query_one("#address", Input)


async def test_offers_only_the_providers_the_daemon_registers() -> None:
    app = FormApp()
    async with app.run_test(size=(100, 40)):
        form = await form_of(app)
        offered = [value for _, value in form.query_one("#provider", Select)._options]
    assert offered == [p.name for p in PROVIDERS]


@pytest.mark.parametrize("provider", PROVIDERS, ids=[p.name for p in PROVIDERS])
async def test_each_provider_shows_its_own_fields_with_labels(provider: t.ProviderInfo) -> None:
    app = FormApp()
    async with app.run_test(size=(100, 40)) as pilot:
        form = await form_of(app)
        result = form.query_one("#test-result", Static)
        result.update("Connection failed: an old error")
        form.query_one("#provider", Select).value = provider.name
        await pilot.pause()
        assert set(shown_fields(form)) == {f.name for f in provider.fields}
        for field in provider.fields:
            label = form.query_one(f"#label-{field.name}", Label)
            assert label.display
            words = str(label.render())
            assert words.startswith(field.title)
            if field.kind != "choice":  # a choice's label says what it means instead
                assert words.endswith("(optional)") == (not field.required)
        if provider.name != PROVIDERS[0].name:  # a change of provider clears the old error
            assert str(result.render()) == ""


async def test_security_and_port_follow_each_other() -> None:
    app = FormApp()
    async with app.run_test(size=(100, 40)) as pilot:
        form = await form_of(app)
        form.query_one("#provider", Select).value = "imap"
        await pilot.pause()
        port = form.query_one("#port", Input)
        security = form.query_one("#security", Select)
        assert security.value == "tls"
        assert port.placeholder == "default: 993"
        port.value = "143"
        await pilot.pause()
        assert security.value == "starttls"
        security.value = "tls"
        await pilot.pause()
        assert port.value == "993"
        security.value = "none"
        await pilot.pause()
        assert port.value == "143"
        port.value = "993"
        await pilot.pause()
        assert security.value == "tls"
        port.value = "1993"  # a port of its own: the security stays as chosen
        await pilot.pause()
        security.value = "starttls"
        await pilot.pause()
        assert port.value == "1993"
        form.query_one("#address", Input).value = "me@example.com"
        form.query_one("#host", Input).value = "imap.example.com"
        params = form.params()
        assert isinstance(params, t.ImapAddParams)
        assert (params.port, params.security) == (1993, "starttls")
