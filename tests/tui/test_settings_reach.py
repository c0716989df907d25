"""Everything within reach, against a real daemon with a config file: the Settings
screen sets every setting (own addresses, default visibility, body and
attachment caps and excluded folders among them) and marks those the config
file sets; a refused config file shows its error and line; the Mailboxes
screen runs the audit and shows its findings; a mailbox from the config file
says so."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, Label, RadioButton

from loggbok.protocol import methods
from loggbok.protocol import types as t
from loggbok.tui.app import build_app
from loggbok.tui.dialogs.audit import AuditDialog
from loggbok.tui.screens.contacts import ContactsScreen
from loggbok.tui.screens.mailboxes import MailboxesScreen
from loggbok.tui.screens.settings import SettingsScreen
from loggbok.tui.widgets.plain import PlainTable
from tests.conftest import DaemonProcess
from tests.support.mail import deliver, make_maildir, make_message

from .conftest import screen_of, until, until_async

SIZE = (160, 60)
ME = "me@firma.example"


async def test_every_setting_and_the_audit_are_within_reach(workdir: Path) -> None:
    maildir = make_maildir(workdir / "mail", ".Sent")
    deliver(maildir, make_message("anna@kund.example", [ME], "Hej", "<h1@kund.example>"))
    config = workdir / "config" / "loggbok" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(
        f'[settings]\nown_addresses = ["{ME}"]\n\n[[mailboxes]]\nprovider = "maildir"\n'
        f'address = "{ME}"\npath = "{maildir}"\n'
    )
    (workdir / "data").mkdir()
    daemon = DaemonProcess(workdir / "d.sock", workdir / "data")
    daemon.start()
    script = await daemon.client()
    try:
        app = build_app(daemon.socket)
        async with app.run_test(size=SIZE) as pilot:
            await screen_of(app, ContactsScreen)
            await pilot.press("comma")
            screen = await screen_of(app, SettingsScreen)
            own = screen.query_one("#own-addresses", Input)
            await until(lambda: own.value == ME)
            await until(lambda: screen.config is not None)
            label = screen.query_one("#label-own_addresses", Label)
            assert "set by config.toml" in str(label.render())
            assert "set by config.toml" not in str(screen.query_one("#label-never_log").render())
            assert "own_addresses" in str(screen.query_one("#config-note", Label).render())

            own.value = f"{ME}, me@privat.example"
            screen.query_one("#visibility-owner", RadioButton).value = True
            screen.query_one("#body-cap", Input).value = "1"
            screen.query_one("#attachment-cap", Input).value = "10"
            screen.query_one("#never-log", Input).value = "@lawfirm.example"
            screen.query_one("#excluded-folders", Input).value = "Newsletters, Lists/*"
            screen.query_one("#bcc-address", Input).value = "log-9@bcc.loggbok.example"
            screen.query_one("#all_with_contacts", RadioButton).value = True
            await pilot.press("ctrl+s")

            async def saved() -> t.Settings | None:
                now = await script.call(methods.SETTINGS_GET)
                return now if now.default_visibility == "owner" else None

            now = await until_async(saved)
            assert now.own_addresses == sorted([ME, "me@privat.example"])
            assert now.body_limit_bytes == 1024 * 1024
            assert now.attachment_limit_bytes == 10 * 1024 * 1024
            assert now.never_log == ["@lawfirm.example"]
            assert sorted(now.excluded_folders) == ["Lists/*", "Newsletters"]
            assert now.bcc_address == "log-9@bcc.loggbok.example"
            assert now.logging_mode == "all_with_contacts"

            screen.query_one("#body-cap", Input).value = "lots"
            await pilot.press("ctrl+s")
            error = screen.query_one("#settings-error", Label)
            await until(lambda: "body cap must be a number" in str(error.render()))

            config.write_text("[settings]\nown_addresses = [\n")
            note = screen.query_one("#config-note", Label)
            await until(lambda: "line 2" in str(note.render()), seconds=60)
            assert note.has_class("error")

            await pilot.press("m")
            boxes = await screen_of(app, MailboxesScreen)
            await until(lambda: boxes.mailboxes)
            table = boxes.query_one("#mailboxes-table", PlainTable)
            assert "(config.toml)" in str(table.get_row_at(0)[-1])
            await pilot.press("x")
            audit = await screen_of(app, AuditDialog, seconds=60)
            summary = str(audit.query_one("#audit-summary", Label).render())
            assert summary.startswith(f"{ME}: ") and "1 message " in summary
            await pilot.press("escape")
            await screen_of(app, MailboxesScreen)
    finally:
        await script.close()
        daemon.stop()


async def test_the_audit_dialog_lists_each_finding() -> None:
    from textual.app import App

    result = t.AuditResult(
        id=1,
        server_messages=3,
        stored_messages=2,
        missing=[
            t.AuditEntry(message_id="<m@x>", folder="INBOX", uid="7", reason="not synced yet")
        ],
        extra=[t.AuditEntry(message_id="<e@x>", folder="Sent", uid="2", reason="moved")],
    )
    app: App[None] = App()
    async with app.run_test(size=SIZE):
        await app.push_screen(AuditDialog(ME, result))
        dialog = await screen_of(app, AuditDialog)
        table = dialog.query_one(PlainTable)
        assert table.row_count == 2
        assert [str(c) for c in table.get_row_at(0)] == [
            "missing", "INBOX", "7", "<m@x>", "not synced yet"
        ]  # fmt: skip
        summary = str(dialog.query_one("#audit-summary", Label).render())
        assert "1 not synced yet, 1 no longer on the server" in summary
