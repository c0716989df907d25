"""Text from mail, contacts, files and the daemon shows as it is, never read as markup.

Textual reads strings as content markup by default: a subject holding `[/]`
raised `MarkupError` (the TUI closed) and `[@click=app.quit]…` became a
clickable action. Here a real `loggbokd --demo` serves hostile contact and
sender names, subjects, bodies, quoted history, attachment names, import
errors and a mailbox (and the timeline heading gets a hostile company); every
screen that shows them must show the brackets literally, with no `@click`
anywhere on screen and the app still running after a click on the text. A
second test checks the sources keep the rule of `loggbok.tui.widgets.plain`.
"""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

import msgspec
from textual.app import App
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Collapsible, DataTable, Input, OptionList, SelectionList
from textual.widgets._toast import Toast

from loggbok.protocol import methods
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from loggbok.protocol.errors import RpcError
from loggbok.tui.app import build_app
from loggbok.tui.dialogs.confirm import Confirm
from loggbok.tui.dialogs.contact_picker import ContactPicker
from loggbok.tui.dialogs.prompt import TextPrompt
from loggbok.tui.screens.contacts import ContactsScreen
from loggbok.tui.screens.mailboxes import MailboxesScreen
from loggbok.tui.screens.message import MessageScreen
from loggbok.tui.screens.search import SearchScreen
from loggbok.tui.screens.timeline import TimelineScreen
from loggbok.tui.screens.unlogged import UnloggedScreen
from loggbok.tui.screens.why import WhyScreen
from tests.support.mail import make_maildir

from .conftest import DemoDaemon, screen_of, until, until_async
from .helpers import UNFOLDED, contact_by_email, import_contacts_file

SIZE = (160, 48)
TUI_DIR = Path(__file__).resolve().parents[2] / "tui"

HOSTILE = "[/b] [/] $x [@click=app.quit]x[/]"
"""Unbalanced tags (MarkupError when parsed), a variable, and an action link."""
NAME = f"Eve {HOSTILE}"
COMPANY = f"Acme [b]{HOSTILE}"
NAMELESS = f"Nobody {HOSTILE}"
"""A card without an address: the import's error names it."""
SENDER = f"Mallory {HOSTILE}"
SUBJECT_A = f"quokka offer {HOSTILE}"
SUBJECT_B = f"quokka stranger {HOSTILE}"
BODY = f"Prices {HOSTILE} inside"
QUOTED = f"> Can you send prices? {HOSTILE}"
FILENAME = "[@click=app.quit]price [b]list $x.pdf"
"""The daemon keeps only the name after the last slash, so no closing tag here."""
EVE = "eve@hostile.example"
STRANGER = "mallory@stranger.example"
BOX_ADDRESS = f"[b]ops{HOSTILE}@hostile.example"


# ---------------------------------------------------------------- what the screen shows


def screen_text(app: App[Any]) -> str:
    """The current screen as text, line by line, as the terminal would show it."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def click_actions(app: App[Any]) -> list[str]:
    """Every `@click` action anywhere on the current screen (loggbok has none of its own)."""
    return [
        str(segment.style.meta["@click"])
        for strip in app.screen._compositor.render_strips()
        for segment in strip
        if segment.style is not None and "@click" in segment.style.meta
    ]


async def shows(app: App[Any], *texts: str) -> None:
    """Wait until every text is on screen as written; then no action may be clickable."""

    def missing() -> list[str]:
        shown = screen_text(app)
        return [text for text in texts if text not in shown]

    try:
        await until(lambda: not missing(), seconds=10)
    except TimeoutError:
        raise AssertionError(f"not on screen: {missing()}\n{screen_text(app)}") from None
    assert click_actions(app) == []
    assert app.is_running


async def click_on(app: App[Any], pilot: Pilot[Any], widget: Widget, text: str) -> None:
    """Click the middle of `text` where `widget` shows it: nothing may happen."""
    screen = app.screen
    region = widget.region
    lines = screen_text(app).splitlines()
    for y in range(region.y, region.bottom):
        x = lines[y].find(text, region.x, region.right)
        if x >= 0:
            await pilot.click(offset=(x + len(text) // 2, y))
            await pilot.pause()
            assert app.is_running and app.screen is screen
            return
    raise AssertionError(f"{text!r} is not shown in {widget!r}")


def toasts(app: App[Any]) -> list[str]:
    return [str(toast.render()) for toast in app.screen.query(Toast)]


# ---------------------------------------------------------------- the hostile data


def _mail(sender: Address, to: str, subject: str) -> tuple[bytes, str]:
    msg = EmailMessage(policy=UNFOLDED)
    message_id = make_msgid(domain="tests.loggbok.example")
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg.set_content(f"{BODY}\n\nOn Mon, 3 Mar 2025 Maja wrote:\n{QUOTED}\n")
    msg.add_attachment(
        b"%PDF-1.4 quokka\n", maintype="application", subtype="pdf", filename=FILENAME
    )
    return msg.as_bytes(), message_id


def _deliver(maildir: Path, raw: bytes, name: str) -> None:
    tmp = maildir / "tmp" / name
    tmp.write_bytes(raw)
    tmp.rename(maildir / "new" / name)


async def _stored(client: Client, message_id: str) -> t.Message:
    async def probe() -> t.Message | None:
        try:
            return await client.call(
                methods.MESSAGES_GET, t.MessageRefParams(message_id=message_id)
            )
        except RpcError:  # not synced yet
            return None

    return await until_async(probe, seconds=20)


def _hostile_maildir(root: Path) -> Path:
    """A Maildir whose path ends in markup: its last directories `[`, `b] [@click=app.quit]x[`
    and `]` read `[/b] [@click=app.quit]x[/]` (a file name cannot hold a slash)."""
    return make_maildir(root / "[" / "b] [@click=app.quit]x[" / "]")


async def test_hostile_text_shows_literally_on_every_screen(
    demo_daemon: DemoDaemon, script_client: Client, tmp_path: Path
) -> None:
    box = (await script_client.call(methods.MAILBOXES_LIST)).mailboxes[0]
    assert box.path is not None
    raw_a, id_a = _mail(Address(NAME, addr_spec=EVE), box.address, SUBJECT_A)
    raw_b, id_b = _mail(Address(SENDER, addr_spec=STRANGER), box.address, SUBJECT_B)
    _deliver(Path(box.path), raw_a, "hostile-a.eml")
    _deliver(Path(box.path), raw_b, "hostile-b.eml")
    msg_a = await _stored(script_client, id_a)
    msg_b = await _stored(script_client, id_b)
    assert msg_b.from_.name == SENDER and msg_a.subject == SUBJECT_A
    hostile_box = _hostile_maildir(tmp_path)
    await script_client.call(
        methods.MAILBOXES_ADD,
        t.MaildirAddParams(address=BOX_ADDRESS, path=str(hostile_box)),
    )
    cards = tmp_path / "cards.vcf"
    cards.write_text(
        f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:{NAME}\r\nEMAIL:{EVE}\r\nEND:VCARD\r\n"
        f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:{NAMELESS}\r\nEND:VCARD\r\n",
        encoding="utf-8",
    )

    app = build_app(demo_daemon.socket)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        contacts = await screen_of(app, ContactsScreen)
        await until(lambda: contacts.contacts)

        # Contacts: the import (its error names the card), then the list.
        await import_contacts_file(app, pilot, cards)
        await until(lambda: any(NAMELESS in toast for toast in toasts(app)))
        eve = await until_async(lambda: contact_by_email(script_client, EVE))
        assert eve.name == NAME
        await script_client.call(
            methods.MESSAGES_LOG, t.MessagesLogParams(id=msg_a.id, contact_ids=[eve.id])
        )
        logged_a = await script_client.call(methods.MESSAGES_GET, t.MessageRefParams(id=msg_a.id))
        assert [a.filename for a in logged_a.attachments] == [FILENAME]
        app.clear_notifications()
        await pilot.press("f")
        contacts.query_one("#contacts-filter", Input).value = EVE
        await until(lambda: [c.id for c in contacts.contacts] == [eve.id])
        await shows(app, NAME)

        # Timeline: the heading, then the entry's subject, sender, text and attachment.
        # The daemon names companies after the address's domain (it keeps no vCard ORG),
        # so the hostile company is the one a daemon that kept it would send.
        await pilot.press("enter")
        await app.push_screen(TimelineScreen(msgspec.structs.replace(eve, company=COMPANY)))
        timeline = await screen_of(app, TimelineScreen)
        await shows(app, f"{NAME} · {COMPANY}", SUBJECT_A, f"{NAME} <{EVE}>", BODY, FILENAME)
        await click_on(app, pilot, timeline.query_one("#timeline-heading"), HOSTILE)

        # Why?: the message, and the evidence: its subject, the contact it is logged onto.
        await pilot.press("w")
        why = await screen_of(app, WhyScreen)
        await until(lambda: why.explanation is not None)
        await shows(app, SUBJECT_A, f"from {NAME} <{EVE}>", f"“{SUBJECT_A}”")
        assert any("Contacts" in line and NAME in line for line in screen_text(app).splitlines())
        await click_on(app, pilot, why.query_one("#why-message"), HOSTILE)
        await pilot.press("escape")

        # Message view: heading and body, attachments (and the save prompt), raw headers.
        await until(lambda: app.screen is timeline)
        await pilot.press("enter")
        message = await screen_of(app, MessageScreen)
        await until(lambda: message.message is not None)
        await shows(app, f"Subject: {SUBJECT_A}", f"From:    {NAME} <{EVE}>", BODY)
        await click_on(app, pilot, message.query_one("#message-heading"), HOSTILE)
        message.query_one("#message-quoted", Collapsible).collapsed = False
        await shows(app, QUOTED)
        await pilot.press("a")
        attachments = message.query_one("#attachments-list", OptionList)
        await shows(app, FILENAME)
        attachments.focus()
        attachments.highlighted = 0
        await pilot.press("enter")
        await screen_of(app, TextPrompt)
        await shows(app, f"Save {FILENAME} as")
        await pilot.press("escape")
        await until(lambda: app.screen is message)
        await pilot.press("h")
        await shows(app, f"Subject: {SUBJECT_A}", f"Message-ID: {id_a}")

        # Unlogged mail: the stranger's message; its Why?; logging it onto Eve by hand.
        await pilot.press("u")
        unlogged = await screen_of(app, UnloggedScreen)
        await until(lambda: f"m{msg_b.id}" in unlogged.by_option)
        options = unlogged.query_one(OptionList)
        options.highlighted = options.get_option_index(f"m{msg_b.id}")
        await shows(app, SUBJECT_B, f"{SENDER} <{STRANGER}>")
        await pilot.press("w")
        why = await screen_of(app, WhyScreen)
        await until(lambda: why.explanation is not None)
        await shows(app, SUBJECT_B, f"from {SENDER} <{STRANGER}>", f"“{SUBJECT_B}”")
        await pilot.press("escape")
        await until(lambda: app.screen is unlogged)
        await pilot.press("l")
        picker = await screen_of(app, ContactPicker)
        await shows(app, f"Log “{SUBJECT_B}” onto…")
        picker.query_one("#picker-query", Input).value = EVE
        choices = picker.query_one(SelectionList)
        await until(
            lambda: choices.option_count == 1 and choices.get_option_at_index(0).value == eve.id
        )
        await shows(app, NAME)
        choices.focus()
        choices.highlighted = 0
        await pilot.press("space", "ctrl+s")
        await until(lambda: app.screen is unlogged)
        await until(lambda: any(SUBJECT_B in toast for toast in toasts(app)))
        await shows(app)  # the toast is on screen: still nothing to click
        app.clear_notifications()

        # Search: a query FTS5 refuses, then one that finds both, each written in markup.
        await pilot.press("slash")
        search = await screen_of(app, SearchScreen)
        query = search.query_one(Input)
        query.value = "[/]"
        await pilot.press("enter")
        await shows(app, "Search failed.")
        phrase = '"[@click=app.quit]x[/]"'
        query.value = phrase
        await pilot.press("enter")
        await until(lambda: len(search.hits) == 2)
        await shows(app, f"2 hits for {phrase}", SUBJECT_A, SUBJECT_B, f"{SENDER} <{STRANGER}>")

        # Mailboxes: the address and the end of the path; a sync's notes; removing it.
        await pilot.press("escape", "m")
        mailboxes = await screen_of(app, MailboxesScreen)
        await until(lambda: len(mailboxes.mailboxes) == 2)
        await shows(app, BOX_ADDRESS, "[/b] [@click=app.quit]x[/]")
        rows = [b.address for b in mailboxes.mailboxes]
        mailboxes.query_one(DataTable).move_cursor(row=rows.index(BOX_ADDRESS))
        await pilot.press("s")
        await until(lambda: any(f"{BOX_ADDRESS}: " in toast for toast in toasts(app)))
        await shows(app)
        await pilot.press("d")
        await screen_of(app, Confirm)
        await shows(app, f"Remove {BOX_ADDRESS}?")
        await pilot.press("escape")
    assert app.return_code is None  # nothing quit the app


# ---------------------------------------------------------------- the rule, in the sources


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _markup_off(call: ast.Call) -> bool:
    value = _keyword(call, "markup")
    return isinstance(value, ast.Constant) and value.value is False


def test_sources_never_parse_markup() -> None:
    """Every notification, and every Static or Label that is not a fixed nameless string,
    passes `markup=False`; tables are `PlainTable`."""
    offenders: list[str] = []
    for path in sorted(TUI_DIR.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            where = f"{path.relative_to(TUI_DIR)}:{node.lineno} {name}"
            if name == "notify" and not _markup_off(node):
                offenders.append(where)
            elif name in ("Static", "Label") and not _markup_off(node):
                fixed = bool(node.args) and isinstance(node.args[0], ast.Constant)
                if not fixed or _keyword(node, "id") is not None:
                    offenders.append(where)
            elif name == "DataTable" and isinstance(func, ast.Name):
                offenders.append(where)
    assert offenders == []
