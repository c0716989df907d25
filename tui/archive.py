"""`loggbok export`, `loggbok import` and `loggbok backup`: the client's side of
the `archive.*` methods (`docs/export.md`).

Export pages through `archive.export` and writes one format to a binary stream:

- `jsonl`: a first line `{"type": "loggbok-export", "version": 1}`, then each
  contact (`"type": "contact"`) before the first message that names it, then
  each message (`"type": "message"`) with its timeline entries and its original
  bytes in `raw_base64`. `loggbok import --format jsonl` reads it back.
- `mbox` (mboxrd): each message's original bytes after a `From ` line, lines
  that start with `From ` (after any `>`) quoted with one more `>`, CRLF turned
  into LF as in every Unix mbox; mutt, aerc, Thunderbird and Python's
  `mailbox.mbox` open it.
- `csv`: one row per message: date, direction, from, to, cc, subject, the
  addresses of the contacts it is logged on, reason, Message-ID, snippet.
"""

from __future__ import annotations

import base64
import csv
import io
import re
import time
from collections.abc import AsyncIterator, Iterable
from typing import IO, Any

import msgspec

from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.client import Client

FORMATS = ("jsonl", "mbox", "csv")
EXPORT_HEADER = {"type": "loggbok-export", "version": 1}
IMPORT_BATCH_MESSAGES = 100
IMPORT_BATCH_BYTES = 16 * 1024 * 1024
"""Raw bytes (base64) sent in one `archive.import` call, well inside a line."""

_FROM_LINE = re.compile(rb"^>*From ")
CSV_COLUMNS = [
    "date",
    "direction",
    "from",
    "to",
    "cc",
    "subject",
    "contacts",
    "reason",
    "message_id",
    "snippet",
]


async def pages(
    client: Client, contact_id: int | None, since: str | None, raw: bool
) -> AsyncIterator[t.ArchivePage]:
    after: str | None = None
    while True:
        page = await client.call(
            m.ARCHIVE_EXPORT,
            t.ArchiveExportParams(contact_id=contact_id, since=since, after=after, raw=raw),
        )
        yield page
        if page.next is None:
            return
        after = page.next


def mbox_entry(message: t.ArchiveMessage) -> bytes:
    """One mboxrd entry: the `From ` line, the quoted message with LF line ends, a blank line."""
    raw = base64.b64decode(message.raw_base64 or "")
    sender = message.from_.email or "MAILER-DAEMON"
    stamp = time.asctime(time.gmtime(message.date_ts)) if message.date_ts else time.asctime()
    lines = [b"From " + sender.encode() + b" " + stamp.encode() + b"\n"]
    for line in raw.replace(b"\r\n", b"\n").split(b"\n"):
        lines.append((b">" + line if _FROM_LINE.match(line) else line) + b"\n")
    if lines[-1] != b"\n":  # the message's own last line ended it: the split left ""
        lines.append(b"\n")
    return b"".join(lines)


def unquote_mboxrd(data: bytes) -> bytes:
    """What `mbox_entry` quoted, unquoted (a reader's side of mboxrd)."""
    return b"\n".join(
        line[1:] if _FROM_LINE.match(line[1:]) and line.startswith(b">") else line
        for line in data.split(b"\n")
    )


def _addresses(people: Iterable[t.Participant]) -> str:
    return ", ".join(f"{p.name} <{p.email}>" if p.name else p.email for p in people)


def csv_row(message: t.ArchiveMessage, contacts: dict[int, t.ArchiveContact]) -> list[str]:
    named = [contacts[e.contact_id] for e in message.entries if e.contact_id in contacts]
    return [
        message.date,
        message.direction,
        _addresses([message.from_]),
        _addresses(message.to),
        _addresses(message.cc),
        message.subject,
        " ".join(c.emails[0] for c in named if c.emails),
        message.reason,
        message.message_id,
        message.snippet,
    ]


def _json_line(kind: str, record: Any) -> bytes:
    return msgspec.json.encode({"type": kind, **msgspec.to_builtins(record)}) + b"\n"


async def export(
    client: Client, out: IO[bytes], fmt: str, contact_id: int | None, since: str | None
) -> int:
    """Write the export to `out`; returns how many messages were written."""
    count = 0
    contacts: dict[int, t.ArchiveContact] = {}
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text) if fmt == "csv" else None
    if writer is not None:
        writer.writerow(CSV_COLUMNS)
    elif fmt == "jsonl":
        out.write(msgspec.json.encode(EXPORT_HEADER) + b"\n")
    async for page in pages(client, contact_id, since, raw=fmt != "csv"):
        for contact in page.contacts:
            if contact.id not in contacts and fmt == "jsonl":
                out.write(_json_line("contact", contact))
            contacts[contact.id] = contact
        for message in page.messages:
            if writer is not None:
                writer.writerow(csv_row(message, contacts))
            elif fmt == "mbox":
                out.write(mbox_entry(message))
            else:
                out.write(_json_line("message", message))
            count += 1
    text.flush()
    text.detach()
    out.flush()
    return count


class ImportFileError(ValueError):
    """The file is not an export loggbok can read; the message names the line."""


def read_export(lines: Iterable[bytes]) -> Iterable[tuple[str, Any]]:
    """("contact", ArchiveContact) and ("message", ArchiveMessage) items of a jsonl export."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = msgspec.json.decode(line)
            kind = record.pop("type", None) if isinstance(record, dict) else None
            if number == 1:
                if kind != EXPORT_HEADER["type"]:
                    raise ImportFileError("line 1: not a loggbok jsonl export")
                continue
            if kind == "contact":
                yield kind, msgspec.convert(record, t.ArchiveContact)
            elif kind == "message":
                yield kind, msgspec.convert(record, t.ArchiveMessage)
            else:
                raise ImportFileError(f"line {number}: unknown record type {kind!r}")
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise ImportFileError(f"line {number}: {exc}") from None


async def import_jsonl(client: Client, lines: Iterable[bytes]) -> t.ArchiveImportResult:
    totals = dict.fromkeys(msgspec.structs.asdict(t.ArchiveImportResult(0, 0, 0, 0, 0)), 0)
    contacts: dict[int, t.ArchiveContact] = {}
    sent: set[int] = set()
    batch: list[t.ArchiveMessage] = []
    size = 0

    async def send() -> None:
        nonlocal batch, size
        if not batch:
            return
        wanted = {e.contact_id for msg in batch for e in msg.entries}
        sent.update(wanted & set(contacts))
        result = await client.call(
            m.ARCHIVE_IMPORT,
            t.ArchiveImportParams(
                contacts=[contacts[c] for c in sorted(wanted) if c in contacts], messages=batch
            ),
        )
        for name, value in msgspec.structs.asdict(result).items():
            totals[name] += value
        batch, size = [], 0

    for kind, record in read_export(lines):
        if kind == "contact":
            contacts[record.id] = record
            continue
        if batch and (
            len(batch) >= IMPORT_BATCH_MESSAGES
            or size + len(record.raw_base64 or "") > IMPORT_BATCH_BYTES
        ):
            await send()
        batch.append(record)
        size += len(record.raw_base64 or "")
    await send()
    # a contact named in several batches is sent (and matched) with each
    totals["contacts_matched"] = len(sent) - totals["contacts_created"]
    return t.ArchiveImportResult(**totals)
