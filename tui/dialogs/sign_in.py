"""`SignInDialog`: the address to open and the code to enter for a mailbox's
sign-in (`mailboxes.sign_in`), or for a browser sign-in without a code
(Google's) only the address to open. The code (else the address) is copied to
the clipboard (OSC 52) when the dialog opens, and said to be copied only where
the terminal is known to take it (`data/clipboard.py`); the dialog closes
itself when `mailbox.status_changed` tells the outcome, and returns it (None
when closed by hand: the sign-in goes on in the daemon)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from loggbok.protocol import types as t
from loggbok.tui.data.clipboard import copied_words, osc52_known

if TYPE_CHECKING:
    from loggbok.tui.app import LoggbokApp


class SignInDialog(ModalScreen[t.MailboxStatusChanged | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("c", "copy", "Copy"),
    ]

    def __init__(self, mailbox_id: int, address: str, prompt: t.SignInPrompt) -> None:
        super().__init__()
        self.mailbox_id = mailbox_id
        self.address = address
        self.prompt = prompt
        self.copy_known = osc52_known(os.environ)

    @property
    def copied(self) -> str:
        """What the clipboard gets: the code, or the address when there is none."""
        return self.prompt.user_code or self.prompt.verification_uri

    def compose(self) -> ComposeResult:
        minutes = max(1, self.prompt.expires_in // 60)
        with Vertical(classes="dialog"):
            yield Label(f"Sign in {self.address}", classes="dialog-title", markup=False)
            if not self.prompt.user_code:
                yield Label(
                    "Open this address in a browser on the computer loggbokd runs on:",
                    markup=False,
                )
                yield Static(self.prompt.verification_uri, id="sign-in-uri", markup=False)
                copied = (
                    "The address was copied to the clipboard (press c to copy it again)."
                    if self.copy_known
                    else copied_words(False, "The address", "shown above")
                )
                yield Static(
                    f"{copied} "
                    f"Allow access within {minutes} minutes; this closes by itself once "
                    "the browser is back.",
                    id="sign-in-status",
                    markup=False,
                )
                with Horizontal(classes="dialog-buttons"):
                    yield Button("Copy address", id="copy")
                    yield Button("Close", id="close")
                return
            yield Label("Open this address in a browser:", markup=False)
            yield Static(self.prompt.verification_uri, id="sign-in-uri", markup=False)
            yield Label("and enter the code:", markup=False)
            yield Static(self.prompt.user_code, id="sign-in-code", markup=False)
            copied = (
                "The code was copied to the clipboard (press c to copy it again)."
                if self.copy_known
                else copied_words(False, "The code", "shown above")
            )
            yield Static(
                f"{copied} It is valid for {minutes} minutes; "
                "this closes by itself once you are signed in.",
                id="sign-in-status",
                markup=False,
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Copy code", id="copy")
                yield Button("Close", id="close")

    def on_mount(self) -> None:
        app = cast("LoggbokApp", self.app)
        app.mailbox_changed.subscribe(self, self._status_changed)
        self.action_copy()

    def _status_changed(self, event: t.MailboxStatusChanged) -> None:
        # Once, while shown: a second status of the mailbox (syncing, then idle) came
        # after the dismissal and popped a screen that was not this one (TUI closed).
        if event.id == self.mailbox_id and self.is_current:
            self.dismiss(event)

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.copied)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "copy":
            self.action_copy()
            what = "The code" if self.prompt.user_code else "The address"
            self.notify(copied_words(self.copy_known, what, "shown above"), markup=False)
        else:
            self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
