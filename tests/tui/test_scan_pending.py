"""R11 in the message view: an attachment a scanner's placeholder stands in for
shows "scan pending", and the view reads the message again by itself when the
real file comes in (`message.changed`), against the real demo daemon and its
Maildir."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import OptionList, Static

from loggbok.protocol import methods
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from loggbok.protocol.errors import RpcError
from loggbok.tui.app import build_app
from loggbok.tui.screens.contacts import ContactsScreen
from loggbok.tui.screens.message import MessageScreen
from tests.support.mail import deliver
from tests.support.placeholders import dynamic_delivery

from .conftest import DemoDaemon, screen_of, until, until_async

SIZE = (160, 48)
MESSAGE_ID = "<tui-dynamic-delivery@kund.example>"


async def test_scan_pending_until_the_real_file_comes(
    demo_daemon: DemoDaemon, script_client: Client
) -> None:
    box = (await script_client.call(methods.MAILBOXES_LIST)).mailboxes[0]
    assert box.path is not None
    contact = (
        await script_client.call(methods.CONTACTS_LIST, t.ContactsListParams(limit=1))
    ).contacts[0]

    def copy(scanned: bool) -> bytes:
        return dynamic_delivery(
            MESSAGE_ID, scanned=scanned, sender=contact.emails[0], to=box.address
        )

    placeholder = deliver(Path(box.path), copy(False), new=True)

    async def stored() -> t.Message | None:
        try:
            ref = t.MessageRefParams(message_id=MESSAGE_ID)
            return await script_client.call(methods.MESSAGES_GET, ref)
        except RpcError:
            return None

    message = await until_async(stored)
    await script_client.call(
        methods.MESSAGES_LOG, t.MessagesLogParams(id=message.id, contact_ids=[contact.id])
    )
    app = build_app(demo_daemon.socket)
    async with app.run_test(size=SIZE):
        await until(lambda: isinstance(app.screen, ContactsScreen) and app.screen.contacts)
        await app.push_screen(MessageScreen(message.id, tab="attachments"))
        screen = await screen_of(app, MessageScreen)
        listing = screen.query_one("#attachments-list", OptionList)

        def shown() -> str:
            if listing.option_count != 1:
                return ""
            return str(listing.get_option_at_index(0).prompt)

        await until(lambda: shown().endswith("— scan pending"))
        assert "ATP Scan In Progress.eml" in shown()
        heading = screen.query_one("#message-heading", Static)
        assert "1 scan pending" in str(heading.render())

        placeholder.unlink()
        deliver(Path(box.path), copy(True), new=True)
        await until(lambda: shown().startswith("contract.pdf") and "scan pending" not in shown())
        assert "scan pending" not in str(heading.render())
