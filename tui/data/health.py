"""Which mailboxes are in trouble, and the status line that says so on every screen.

`MailboxHealth` holds each mailbox's last status (from `mailboxes.list`, then
`mailbox.status_changed`); `line(now)` is the one line shown at the bottom of
every screen while a mailbox is disconnected, failing or waiting for a new
password or sign-in, with "retrying in N s" from the daemon's `retry_at`. No
widgets, no I/O: the widget (`widgets/status_line.py`) asks it each second.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from loggbok.protocol import types as t
from loggbok.tui.data.text import parse_date, plural

TROUBLE = frozenset({"disconnected", "auth_failed", "error"})
DETAIL_CHARS = 60


@dataclass
class BoxState:
    address: str
    status: str
    detail: str = ""
    retry_at: datetime | None = None


def _when(value: str | None) -> datetime | None:
    parsed = parse_date(value) if value else None
    return parsed if parsed is not None and parsed.tzinfo is not None else None


def retry_words(retry_at: datetime | None, now: datetime) -> str:
    """ "retrying in 12 s", "retrying in 3 min", "retrying now", or "" (nothing scheduled)."""
    if retry_at is None:
        return ""
    seconds = int((retry_at - now).total_seconds() + 0.999)
    if seconds <= 0:
        return "retrying now"
    if seconds < 120:
        return f"retrying in {seconds} s"
    return f"retrying in {seconds // 60} min"


def _state_words(box: BoxState, now: datetime, with_detail: bool) -> str:
    if box.status == "auth_failed":
        return "needs a new password or sign-in"
    what = "disconnected" if box.status == "disconnected" else "failing"
    detail = box.detail.strip()
    if with_detail and detail:
        if len(detail) > DETAIL_CHARS:
            detail = detail[: DETAIL_CHARS - 1] + "…"
        what = f"{what} ({detail})"
    retry = retry_words(box.retry_at, now)
    return f"{what}, {retry}" if retry else what


class MailboxHealth:
    """Each mailbox's status as last heard; the status line from it."""

    def __init__(self) -> None:
        self.boxes: dict[int, BoxState] = {}

    def reset(self, mailboxes: Iterable[t.Mailbox]) -> None:
        """Everything `mailboxes.list` said (removed mailboxes go)."""
        self.boxes = {
            box.id: BoxState(box.address, box.status, box.status_detail, _when(box.retry_at))
            for box in mailboxes
        }

    def changed(self, event: t.MailboxStatusChanged) -> bool:
        """Take a `mailbox.status_changed`; False when the mailbox is not known yet
        (the caller then reads the list again)."""
        box = self.boxes.get(event.id)
        if box is None:
            return False
        box.status, box.detail, box.retry_at = event.status, event.detail, _when(event.retry_at)
        return True

    def address(self, mailbox_id: int) -> str:
        box = self.boxes.get(mailbox_id)
        return box.address if box is not None else "a mailbox"

    @property
    def troubled(self) -> list[BoxState]:
        return [box for box in self.boxes.values() if box.status in TROUBLE]

    def line(self, now: datetime) -> str:
        """The status line ("" when every mailbox works)."""
        troubled = self.troubled
        if not troubled:
            return ""
        if len(troubled) == 1:
            box = troubled[0]
            return f"⚠ {box.address}: {_state_words(box, now, True)} · m: Mailboxes"
        parts = "; ".join(f"{b.address} {_state_words(b, now, False)}" for b in troubled)
        return f"⚠ {plural(len(troubled), 'mailbox')} need attention: {parts} · m: Mailboxes"
