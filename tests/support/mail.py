"""Build realistic RFC 5322 messages and drop them into Maildirs, for tests and benches."""

from __future__ import annotations

import email
import itertools
import os
import socket
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

_counter = itertools.count()


def make_message(
    sender: str,
    to: Iterable[str],
    subject: str,
    message_id: str,
    *,
    cc: Iterable[str] = (),
    bcc: Iterable[str] = (),
    in_reply_to: str | None = None,
    references: Iterable[str] = (),
    date: datetime | None = None,
    body: str = "Hello,\n\nthanks for the call today.\n\nBest regards\n",
    headers: Mapping[str, str] | None = None,
    attachments: Iterable[tuple[str, str, bytes]] = (),
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    if cc := list(cc):
        msg["Cc"] = ", ".join(cc)
    if bcc := list(bcc):
        msg["Bcc"] = ", ".join(bcc)
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    msg["Date"] = format_datetime(date or datetime.now(UTC))
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if refs := list(references):
        msg["References"] = " ".join(refs)
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    for filename, ctype, data in attachments:
        maintype, _, subtype = ctype.partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


def make_maildir(root: Path, *folders: str) -> Path:
    for path in (root, *(root / f for f in folders)):
        for sub in ("cur", "new", "tmp"):
            (path / sub).mkdir(parents=True, exist_ok=True)
    return root


def seed_dated_maildir(root: Path, inbox: Iterable[bytes], sent: Iterable[bytes]) -> Path:
    """A Maildir (root INBOX, `.Sent`) whose files are named, as MDAs name them, by
    their delivery time: here each message's own Date."""
    maildir = make_maildir(root, ".Sent")
    for folder, raws in ((maildir, inbox), (maildir / ".Sent", sent)):
        for number, raw in enumerate(raws):
            header = raw.partition(b"\r\n\r\n")[0].decode("utf-8", "replace")
            date = email.message_from_string(header + "\r\n\r\n")["Date"]
            delivered = int(parsedate_to_datetime(date).timestamp())
            (folder / "cur" / f"{delivered}.M{number}P1.host:2,S").write_bytes(raw)
    return maildir


def deliver(folder: Path, raw: bytes, *, new: bool = False) -> Path:
    """Write a message the way an MDA does: into tmp/, then renamed into new/ or cur/."""
    unique = f"{time.time_ns()}.P{os.getpid()}Q{next(_counter)}.{socket.gethostname()}"
    tmp = folder / "tmp" / unique
    tmp.write_bytes(raw)
    target = folder / ("new" if new else "cur") / (unique if new else unique + ":2,S")
    os.rename(tmp, target)
    return target


def days_ago(days: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)
