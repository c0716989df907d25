"""R15 and R16 in the TUI, against a real demo daemon: a team mailbox's conversations
(Mailboxes, o; Enter opens one, its messages oldest first) and the Settings screen's
two never-log lists, the team's previewed before it is saved (Cancel saves nothing,
Apply saves and re-decides past mail)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from textual.widgets import DataTable, Input, Label

from loggbok.protocol import methods
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from loggbok.tui.app import build_app
from loggbok.tui.dialogs.past_mail import PastMailPreview
from loggbok.tui.screens.contacts import ContactsScreen
from loggbok.tui.screens.conversations import ConversationScreen, ConversationsScreen
from loggbok.tui.screens.mailboxes import MailboxesScreen
from loggbok.tui.screens.settings import LISTS_PREVIEW_TITLE, SettingsScreen
from loggbok.tui.widgets.plain import PlainTable
from tests.support.mail import days_ago, deliver, make_maildir, make_message

from .conftest import DemoDaemon, screen_of, until, until_async

SIZE = (160, 48)
HELP = "help@desk.example"


def _rows(table: DataTable[object]) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(row)] for row in range(table.row_count)]


async def test_conversations_of_a_team_mailbox(
    demo_daemon: DemoDaemon, script_client: Client
) -> None:
    root = Path(tempfile.mkdtemp(prefix="lbteam-", dir=demo_daemon.data_dir.parent))
    maildir = make_maildir(root / "desk", ".Sent")
    deliver(
        maildir,
        make_message(
            "Ola <ola@shop.example>", [HELP], "Broken zip", "<z1@shop.example>", date=days_ago(3)
        ),
    )
    deliver(
        maildir / ".Sent",
        make_message(
            HELP,
            ["ola@shop.example"],
            "Re: Broken zip",
            "<z2@desk.example>",
            in_reply_to="<z1@shop.example>",
            references=["<z1@shop.example>"],
            date=days_ago(2),
        ),
    )
    deliver(
        maildir,
        make_message(
            "Kim <kim@other.example>", [HELP], "Refund", "<k1@other.example>", date=days_ago(1)
        ),
    )
    added = await script_client.call(
        methods.MAILBOXES_ADD,
        t.MaildirAddParams(address=HELP, path=str(maildir), kind="team"),
    )
    await script_client.call(methods.MAILBOXES_SYNC, t.IdParams(id=added.id))

    app = build_app(demo_daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await until(
            lambda: isinstance(app.screen, ContactsScreen) and app.screen.contacts, seconds=60
        )
        await pilot.press("m")
        boxes = await screen_of(app, MailboxesScreen, seconds=60)
        await until(lambda: len(boxes.mailboxes) == 2, seconds=60)
        table = boxes.query_one("#mailboxes-table", PlainTable)
        row = [b.id for b in boxes.mailboxes].index(added.id)
        assert "team inbox" in _rows(table)[row][4]
        table.move_cursor(row=row)
        await pilot.press("o")
        listed = await screen_of(app, ConversationsScreen, seconds=60)
        await until(lambda: len(listed.conversations) == 2, seconds=60)
        rows = _rows(listed.query_one("#conversations-table", PlainTable))
        assert [r[:3] for r in rows] == [
            ["Refund", "1", "Kim"],
            ["Broken zip", "2", HELP],  # the team's reply is the latest in it
        ]
        listed.query_one("#conversations-table", PlainTable).move_cursor(row=1)
        await pilot.press("enter")
        opened = await screen_of(app, ConversationScreen, seconds=60)
        await until(lambda: opened.detail is not None, seconds=60)
        messages = _rows(opened.query_one("#conversation-messages", PlainTable))
        assert [(r[1], r[2], r[4]) for r in messages] == [
            ("Ola", "←", "Team inbox"),
            (HELP, "→", "Team inbox"),
        ]
        subject = opened.query_one("#conversation-subject", Label)
        assert str(subject.render()) == "Broken zip"
        await pilot.press("escape")
        await screen_of(app, ConversationsScreen, seconds=60)


async def _unlogging_address(client: Client) -> str:
    """A demo contact's address whose listing for everyone would unlog past mail."""
    contacts = await client.call(methods.CONTACTS_LIST, t.ContactsListParams(limit=50))
    for contact in contacts.contacts:
        preview = await client.call(
            methods.MESSAGES_REDECIDE,
            t.MessagesRedecideParams(dry_run=True, team_never_log=contact.emails[:1]),
        )
        if preview.entries_removed:
            return contact.emails[0]
    raise AssertionError("no demo contact has logged mail")


async def test_settings_show_both_never_log_lists_and_preview_the_teams(
    demo_daemon: DemoDaemon, script_client: Client
) -> None:
    await script_client.call(methods.SETTINGS_SET, t.SettingsSetParams(never_log=["@spam.example"]))
    address = await _unlogging_address(script_client)
    expected = await script_client.call(
        methods.MESSAGES_REDECIDE, t.MessagesRedecideParams(dry_run=True, team_never_log=[address])
    )
    app = build_app(demo_daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await until(
            lambda: isinstance(app.screen, ContactsScreen) and app.screen.contacts, seconds=60
        )
        await pilot.press("comma")
        settings = await screen_of(app, SettingsScreen, seconds=60)
        await until(lambda: settings.team is not None, seconds=60)
        own = settings.query_one("#never-log", Input)
        team = settings.query_one("#team-never-log", Input)
        assert own.value == "@spam.example" and team.value == "" and not team.disabled
        label = str(settings.query_one("#label-team_never_log", Label).render())
        assert "for everyone" in label and "team" in label

        # typed, previewed, cancelled: nothing saved
        team.value = address
        await pilot.press("ctrl+s")
        preview = await screen_of(app, PastMailPreview, seconds=60)
        assert preview.preview == expected
        assert str(preview.query_one("#past-mail-title", Label).render()) == LISTS_PREVIEW_TITLE
        await pilot.press("escape")  # Cancel
        await screen_of(app, SettingsScreen, seconds=60)
        assert (await script_client.call(methods.TEAM_SETTINGS_GET)).never_log == []

        # again, applied: saved and past mail decided again
        await pilot.press("ctrl+s")
        await screen_of(app, PastMailPreview, seconds=60)
        await pilot.press("ctrl+s")  # Apply
        await screen_of(app, SettingsScreen, seconds=60)

        async def applied() -> bool:
            now = await script_client.call(methods.TEAM_SETTINGS_GET)
            again = await script_client.call(
                methods.MESSAGES_REDECIDE, t.MessagesRedecideParams(dry_run=True)
            )
            return now.never_log == [address] and again.changed == 0

        await until_async(applied, seconds=30)
        assert (await script_client.call(methods.SETTINGS_GET)).never_log == ["@spam.example"]
