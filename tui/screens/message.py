"""Message view: the full body, attachments to save, and the raw headers.

The Headers tab shows the header block exactly as received, with "save as
.txt" (the bytes as received) and "copy" (OSC 52 through the terminal); those
two keys show in the footer only while the Headers tab is open. A message
whose body could not be read (quarantined) offers `r`: fetch and parse again.
An attachment is saved piece by piece (`attachments.get` with `offset`, at
most 16 MiB a call) into a temp file renamed at the end, with a progress bar.
An attachment a security scanner's placeholder stands in for shows "scan
pending" (R11); when the daemon says the real file came (`message.changed`),
the view reads the message again. A logged message shows who may see it; `V`
(shift+v: `v` opens the unlogged mail; its owner only) moves that on: everyone, your team, only you.
"""

from __future__ import annotations

import base64
from typing import ClassVar

import msgspec
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import (
    Collapsible,
    Footer,
    Header,
    OptionList,
    ProgressBar,
    Static,
    TabbedContent,
    TabPane,
    TextArea,
)
from textual.widgets.option_list import Option

from loggbok.protocol import methods
from loggbok.protocol import types as t
from loggbok.protocol.errors import RpcError
from loggbok.tui.data import files, text
from loggbok.tui.data.link import DaemonUnreachable
from loggbok.tui.data.reasons import label
from loggbok.tui.dialogs.prompt import TextPrompt
from loggbok.tui.screens.base import DaemonScreen

VISIBILITY_WORDS: dict[str, str] = {
    "everyone": "everyone",
    "team": "the owner's team",
    "owner": "its owner only",
}
NEXT_VISIBILITY: dict[str, t.Visibility] = {
    "everyone": "team",
    "team": "owner",
    "owner": "everyone",
}


def message_heading(msg: t.Message, width: int = 200) -> str:
    """Subject, people, date and state; addresses wrap under each other within `width`."""
    lines = [
        f"Subject: {msg.subject or '(no subject)'}",
        text.hanging("From:    ", [text.participant(msg.from_)], width),
        text.hanging("To:      ", [text.participant(p) for p in msg.to], width),
    ]
    if msg.cc:
        lines.append(text.hanging("Cc:      ", [text.participant(p) for p in msg.cc], width))
    state = "logged" if msg.logged else "not logged"
    lines.append(
        f"Date:    {text.format_date(msg.date)}  ·  {text.direction_arrow(msg.direction)}"
        f"  ·  {state}: {label(msg.reason)}"
    )
    if msg.logged:
        lines.append(f"Visible to: {VISIBILITY_WORDS.get(msg.visibility, msg.visibility)}")
    if msg.parse_error:
        lines.append(f"Parse error: {msg.parse_error}")
    pending = sum(1 for a in msg.attachments if a.status == "pending_scan")
    if pending:
        lines.append(
            f"Attachments: {pending} scan pending (a security scanner holds the real"
            " file; it comes in when the scan is done)"
        )
    return "\n".join(lines)


def quoted_part(msg: t.Message) -> str:
    """The body below the new text, or "" when the body is all new text."""
    body = msg.body_text.strip()
    new = msg.new_text.strip()
    if not new or body == new:
        return ""
    if body.startswith(new):
        return body[len(new) :].strip()
    return body


class MessageScreen(DaemonScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("b", "tab('body')", "Body tab", show=False),
        Binding("a", "tab('attachments')", "Attachments tab", show=False),
        Binding("h", "tab('headers')", "Headers tab", show=False),
        Binding("t", "save_headers", "Save .txt"),
        Binding("y", "copy_headers", "Copy"),
        Binding("w", "why", "Why?"),
        Binding("r", "retry", "Read again"),
        Binding("V", "visibility", "Visibility"),
    ]

    def __init__(
        self, message_id: int, tab: str = "body", piece_bytes: int = t.ATTACHMENT_PIECE_BYTES
    ) -> None:
        super().__init__()
        self.message_id = message_id
        self.piece_bytes = piece_bytes
        """How much of an attachment to ask for a call (the daemon gives at most 16 MiB)."""
        self.initial_tab = tab
        self.message: t.Message | None = None
        self.headers: t.MessageHeaders | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(initial=self.initial_tab, id="message-tabs"):
            with TabPane("Body (b)", id="body"), VerticalScroll(id="body-scroll"):
                yield Static("Loading…", id="message-heading", markup=False)
                yield Static("", id="message-new-text", markup=False)
                with Collapsible(title="Quoted history", collapsed=True, id="message-quoted"):
                    yield Static("", id="message-quoted-text", markup=False)
            with TabPane("Attachments (a)", id="attachments"):
                yield Static("", id="attachments-hint", markup=False)
                yield OptionList(id="attachments-list")
                yield ProgressBar(id="attachment-progress", show_eta=False)
            with TabPane("Headers (h)", id="headers"):
                yield Static(
                    "Raw headers exactly as received · t: save as .txt · y: copy",
                    id="headers-hint",
                    markup=False,
                )
                yield TextArea(
                    "", read_only=True, id="headers-text", soft_wrap=False, show_line_numbers=False
                )
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Message"
        self.loggbok.message_changed.subscribe(self, self._message_changed)

    def _message_changed(self, event: t.MessageChanged) -> None:
        if event.id == self.message_id:
            self.fetch()

    def load(self) -> None:
        self.fetch()

    @work(exclusive=True, group="message")
    async def fetch(self, retry: bool = False) -> None:
        ref = t.MessageRefParams(id=self.message_id)
        try:
            method = methods.MESSAGES_RETRY if retry else methods.MESSAGES_GET
            msg = await self.link.call(method, ref)
            headers = await self.link.call(methods.MESSAGES_HEADERS, ref)
            settings = await self.link.call(methods.SETTINGS_GET)
        except (RpcError, DaemonUnreachable) as exc:
            self.report(exc, "Loading the message")
            return
        self.mark_loaded()
        self.message, self.headers = msg, headers
        self.sub_title = msg.subject or "(no subject)"
        heading = message_heading(msg, max(40, self.app.size.width - 4))
        self.query_one("#message-heading", Static).update(heading)
        self.query_one("#message-new-text", Static).update(
            msg.new_text or msg.body_text or "(empty body)"
        )
        quoted = quoted_part(msg)
        collapsible = self.query_one("#message-quoted", Collapsible)
        collapsible.display = bool(quoted)
        collapsible.title = (
            f"Quoted history and signature ({text.plural(len(quoted.splitlines()), 'line')})"
        )
        self.query_one("#message-quoted-text", Static).update(quoted)
        self.query_one("#headers-text", TextArea).load_text(headers.raw)
        attachments = self.query_one("#attachments-list", OptionList)
        attachments.clear_options()
        attachments.add_options(
            [
                Option(
                    Content(text.attachment_mark(a, settings.attachment_limit_bytes)),
                    id=f"a{a.index}",
                    disabled=a.status != "stored",
                )
                for a in msg.attachments
            ]
        )
        self.query_one("#attachments-hint", Static).update(
            "Enter saves the attachment to a file." if msg.attachments else "No attachments."
        )
        self.refresh_bindings()
        if retry:
            self.notify(
                "Read again." if msg.parse_error is None else f"Still: {msg.parse_error}",
                markup=False,
            )

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    @on(TabbedContent.TabActivated)
    def _tab_changed(self) -> None:
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("save_headers", "copy_headers"):
            return self.query_one(TabbedContent).active == "headers"
        if action == "retry":
            return self.message is not None and self.message.parse_error is not None
        if action == "visibility":
            return self.message is not None and self.message.logged
        return True

    def action_retry(self) -> None:
        self.fetch(retry=True)

    def action_visibility(self) -> None:
        if self.message is not None:
            self.set_visibility(NEXT_VISIBILITY.get(self.message.visibility, "everyone"))

    @work(exclusive=True, group="message-visibility")
    async def set_visibility(self, visibility: t.Visibility) -> None:
        """Only the message's owner may (the daemon refuses anyone else)."""
        try:
            done = await self.link.call(
                methods.MESSAGES_SET_VISIBILITY,
                t.MessagesSetVisibilityParams(id=self.message_id, visibility=visibility),
            )
        except (RpcError, DaemonUnreachable) as exc:
            self.report(exc, "Changing who sees the message")
            return
        if self.message is not None:
            self.message = msgspec.structs.replace(self.message, visibility=done.visibility)
            self.query_one("#message-heading", Static).update(message_heading(self.message))
        self.notify(f"Visible to {VISIBILITY_WORDS[done.visibility]}.", markup=False)

    def action_why(self) -> None:
        from loggbok.tui.screens.why import WhyScreen

        self.app.push_screen(WhyScreen(self.message_id))

    # ---------------------------------------------------------------- headers

    def action_copy_headers(self) -> None:
        if self.headers is not None:
            self.app.copy_to_clipboard(self.headers.raw)
            self.notify("Headers copied to the clipboard (OSC 52).", markup=False)

    def action_save_headers(self) -> None:
        if self.headers is None:
            return
        name = files.safe_name(self.headers.message_id.strip("<>"), "message") + ".headers.txt"
        self.app.push_screen(
            TextPrompt("Save the raw headers as", str(files.default_path(name))),
            self._save_headers_to,
        )

    def _save_headers_to(self, path: str | None) -> None:
        if path and self.headers is not None:
            self.write_file(path, base64.b64decode(self.headers.raw_base64), "Headers")

    @work(group="message-save")
    async def write_file(self, path: str, data: bytes, what: str) -> None:
        try:
            target = await files.write_bytes(path, data)
        except OSError as exc:
            self.notify(f"Could not save {what.lower()}: {exc}", severity="error", markup=False)
            return
        self.notify(f"{what} saved to {target}", markup=False)

    # ---------------------------------------------------------------- attachments

    @on(OptionList.OptionSelected, "#attachments-list")
    def _attachment_chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if self.message is None:
            return
        att = self.message.attachments[event.option_index]
        self.app.push_screen(
            TextPrompt(
                f"Save {files.shown_name(att.filename)} as", str(files.default_path(att.filename))
            ),
            lambda path: self._save_attachment(att, path),
        )

    def _save_attachment(self, att: t.Attachment, path: str | None) -> None:
        if path:
            self.save_attachment(att.index, path)

    @work(group="message-save")
    async def save_attachment(self, index: int, path: str) -> None:
        bar = self.query_one("#attachment-progress", ProgressBar)
        bar.update(total=None, progress=0)
        bar.display = True
        out = files.PieceFile(path)
        saved = False
        try:
            await out.open()
            offset: int | None = 0
            while offset is not None:
                piece = await self.link.call(
                    methods.ATTACHMENTS_GET,
                    t.AttachmentGetParams(
                        id=self.message_id, index=index, offset=offset, length=self.piece_bytes
                    ),
                )
                data = base64.b64decode(piece.data_base64)
                await out.write(data)
                bar.update(total=max(piece.size, 1), progress=piece.offset + len(data))
                offset = piece.next_offset
            target = await out.commit()
            saved = True
        except (RpcError, DaemonUnreachable) as exc:
            self.report(exc, "Fetching the attachment")
        except OSError as exc:
            self.notify(f"Could not save attachment: {exc}", severity="error", markup=False)
        finally:
            if not saved:
                out.abort()
            bar.display = False
        if saved:
            self.notify(f"Attachment saved to {target}", markup=False)
