"""Adding a Gmail mailbox that signs in with a browser, in the TUI against a real
daemon, Dovecot (XOAUTH2 through introspection) and the local OAuth authority:
the form offers password or xoauth2 for Gmail, saving tests and adds it, the
sign-in dialog shows the address to open (copied to the clipboard, no code)
and closes itself once the browser comes back; the mailbox syncs. The daemon
takes its client from a Google client file (`LOGGBOK_GOOGLE_CLIENT_FILE`)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Input, Label, Select, Static

from loggbok.tui.app import build_app
from loggbok.tui.dialogs.mailbox_form import MailboxForm
from loggbok.tui.dialogs.sign_in import SignInDialog
from loggbok.tui.screens.contacts import ContactsScreen
from loggbok.tui.screens.mailboxes import MailboxesScreen
from tests.conftest import DaemonProcess
from tests.servers.dovecot import DovecotServer
from tests.servers.oauth_authority import (
    CLIENT_ID,
    CLIENT_SECRET,
    OAuthAuthority,
    authority,  # noqa: F401  (a fixture)
    browse,
)

from .conftest import screen_of, until

ME = "maja@firma.example"
SIZE = (160, 48)


@pytest.fixture
def dovecot_oauth(authority: OAuthAuthority) -> Iterator[DovecotServer]:  # noqa: F811
    server = DovecotServer(oauth2_introspection_url=authority.introspection_url)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        server.cleanup()


async def test_add_a_gmail_mailbox_and_sign_in_with_a_browser(
    authority: OAuthAuthority,  # noqa: F811
    dovecot_oauth: DovecotServer,
    workdir: Path,
) -> None:
    user = await asyncio.to_thread(dovecot_oauth.add_user)
    authority.users[ME] = user.name
    client_file = workdir / "client_secret.json"
    client_file.write_text(
        json.dumps(
            {
                "installed": {
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                    "auth_uri": authority.auth_uri,
                    "token_uri": authority.token_uri,
                    "redirect_uris": ["http://localhost"],
                }
            }
        )
    )
    (workdir / "data").mkdir()
    daemon = DaemonProcess(
        workdir / "d.sock", workdir / "data", env={"LOGGBOK_GOOGLE_CLIENT_FILE": str(client_file)}
    )
    await asyncio.to_thread(daemon.start)
    try:
        app = build_app(daemon.socket)
        async with app.run_test(size=SIZE) as pilot:
            await screen_of(app, ContactsScreen)
            await pilot.press("m")
            screen = await screen_of(app, MailboxesScreen)
            await pilot.press("a")
            form = await screen_of(app, MailboxForm)
            form.query_one("#provider", Select).value = "gmail"
            await pilot.pause()
            auth = form.query_one("#auth", Select)
            assert auth.display and {"password", "xoauth2"} <= {str(v) for _, v in auth._options}
            assert "sign in with a browser" in str(form.query_one("#label-auth", Label).render())
            auth.value = "xoauth2"
            form.query_one("#security", Select).value = "none"
            for name, value in (
                ("address", ME),
                ("host", dovecot_oauth.host),
                ("port", str(dovecot_oauth.port)),
                ("username", user.name),
            ):
                form.query_one(f"#{name}", Input).value = value
            await pilot.press("ctrl+s")

            dialog = await screen_of(app, SignInDialog, seconds=30)
            uri = str(dialog.query_one("#sign-in-uri", Static).render())
            assert uri == dialog.prompt.verification_uri
            # copied when the dialog is mounted, a moment after it becomes the screen
            await until(lambda: app.clipboard == uri or None, 30)
            assert uri.startswith(authority.auth_uri)
            assert not dialog.query("#sign-in-code")
            assert "Signed in" in await browse(uri)
            await screen_of(app, MailboxesScreen, seconds=30)
            await until(lambda: screen.mailboxes and screen.mailboxes[0].status == "idle", 30)
            assert screen.mailboxes[0].provider == "gmail"
    finally:
        await asyncio.to_thread(daemon.stop)
