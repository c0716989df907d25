"""One progress bar per syncing mailbox, named by its address, that only moves forward.

Fed with `sync.progress`: it uses the round's own count (`round_done` of
`round_total` new messages), never the per-folder counts that start again with
each folder and phase; a count lower than one already shown (a late
notification) is ignored. A mailbox's bar goes when its round ends.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, ProgressBar

from loggbok.protocol import types as t
from loggbok.tui.data.text import plural


def progress_words(address: str, done: int, total: int) -> str:
    return f"{address}: {done:,} of {plural(total, 'new message')}"


class MailboxBar(Horizontal):
    """A mailbox's label and bar."""

    def __init__(self, mailbox_id: int, address: str, done: int, total: int) -> None:
        super().__init__(id=f"sync-bar-{mailbox_id}", classes="sync-bar")
        self.address, self.done, self.total = address, done, total

    def compose(self) -> ComposeResult:
        yield Label(
            progress_words(self.address, self.done, self.total),
            classes="sync-bar-label",
            markup=False,
        )
        yield ProgressBar(total=self.total or None, show_eta=False)

    def on_mount(self) -> None:
        self.query_one(ProgressBar).update(progress=self.done)

    def advance(self, address: str, done: int, total: int) -> None:
        if total != self.total:  # a new round (or a new window of one) starts
            self.total, self.done = total, 0
        self.done = max(self.done, done)
        self.query_one(".sync-bar-label", Label).update(
            progress_words(address, self.done, self.total)
        )
        self.query_one(ProgressBar).update(total=self.total or None, progress=self.done)


class SyncBars(Vertical):
    """The bars of the mailboxes that sync now (hidden while none does)."""

    def __init__(self) -> None:
        super().__init__(id="sync-progress")
        self.display = False

    def bar(self, mailbox_id: int) -> MailboxBar | None:
        found = self.query(f"#sync-bar-{mailbox_id}")
        return found.first(MailboxBar) if found else None

    async def advance(self, address: str, event: t.SyncProgress) -> None:
        if not event.round_total:
            return
        bar = self.bar(event.mailbox_id)
        if bar is None:
            bar = MailboxBar(event.mailbox_id, address, event.round_done, event.round_total)
            await self.mount(bar)
        else:
            bar.advance(address, event.round_done, event.round_total)
        self.display = True

    async def finish(self, mailbox_id: int) -> None:
        bar = self.bar(mailbox_id)
        if bar is not None:
            await bar.remove()
        self.display = bool(self.query(MailboxBar))
