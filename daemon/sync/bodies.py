"""Turn a logged message's raw bytes into what the store keeps (R10, R11, R17).

A large message is first read as a file and reduced while it streams
(`read_reduced`, `mime/stream.py`): a part over the attachment cap is counted
and skipped, never held.

Runs off the event loop (`asyncio.to_thread`): whole-message parsing costs
milliseconds per message. Attachments over the limit are recorded by name and
size only (`over_limit`); scanner placeholders are recorded as `pending_scan`
and not stored; a part whose transfer encoding cannot be undone is recorded by
name and encoded size as `undecodable` (noted "attachment_undecodable");
everything else goes to the content-addressed blob store. A
calendar part carrying an iTIP method other than PUBLISH (an invitation or a
response, such as Google Calendar's, which its headers do not show) is noted
for the sync to turn the decision down (`calendar_method`). A forward to the
forwarding address (R8) is read for the original it carries: the stored body and
attachments are the original's, and `forward` says whose it is (or why that
cannot be read, in which case the forward's own body is kept).
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from loggbok.daemon.mime.body import make_snippet, parse_message
from loggbok.daemon.mime.facts import ParsedAttachment, ParsedMessage
from loggbok.daemon.mime.forward import ForwardedOriginal, parse_forward
from loggbok.daemon.mime.stream import Reduced, reduce_message
from loggbok.daemon.store.blobs import BlobBatch, BlobStore
from loggbok.daemon.store.bodies import StoredAttachment, StoredBody, StoredForward
from loggbok.daemon.sync.backend import Backend, Folder

STREAM_ABOVE = 16 * 1024 * 1024
"""Messages larger than this (or than the attachment cap, if lower) are read as a file
and reduced while they stream (`read_reduced`), never held whole: a part past the cap
is only counted. Smaller ones are fetched in bulk and parsed whole."""
CALENDAR_TYPES = frozenset({"text/calendar", "application/ics"})
_ITIP_METHOD = re.compile(
    rb"^METHOD:[ \t]*(REQUEST|REPLY|CANCEL|ADD|REFRESH|COUNTER|DECLINECOUNTER)[ \t]*\r?$",
    re.IGNORECASE | re.MULTILINE,
)


def calendar_method(attachments: tuple[ParsedAttachment, ...]) -> str | None:
    """The iTIP method of the first calendar part that is an invitation or a response."""
    for part in attachments:
        if part.content_type in CALENDAR_TYPES or part.filename.lower().endswith(".ics"):
            found = _ITIP_METHOD.search(part.payload)
            if found is not None:
                return found.group(1).decode("ascii").upper()
    return None


def _original(found: ForwardedOriginal, body_limit: int) -> tuple[ParsedMessage, StoredForward]:
    """The forwarded original as the message to store, and what the forward said."""
    text = found.body_text
    errors: list[str] = []
    if len(text.encode("utf-8")) > body_limit:
        errors.append("body_over_limit")
        text = text.encode("utf-8")[:body_limit].decode("utf-8", "ignore")
    parsed = ParsedMessage(
        body_text=text,
        new_text=text,
        snippet=make_snippet(text),
        attachments=found.attachments,
        body_size=len(found.body_text),
        errors=tuple(errors),
    )
    forward = StoredForward(
        sender_email=found.sender.email,
        sender_name=found.sender.name,
        subject=found.subject,
        date_iso=found.date_iso,
        date_ts=found.date_ts,
        date_shown=found.date_shown,
        to=tuple((a.email, a.name) for a in found.to),
        cc=tuple((a.email, a.name) for a in found.cc),
        message_id=found.message_id,
        found_in=found.found_in,
    )
    return parsed, forward


def build_body(
    raw: bytes,
    blobs: BlobStore | BlobBatch,
    attachment_limit: int,
    body_limit: int,
    skipped: dict[str, int] | None = None,
    *,
    forward: bool = False,
) -> StoredBody:
    """The stored form of one message (`skipped`: from `read_reduced`); with a
    `BlobBatch`, its attachments are durable only when the batch ends. With
    `forward`, the original it carries (R8)."""
    stored_forward: StoredForward | None = None
    found = parse_forward(raw) if forward else None
    if isinstance(found, ForwardedOriginal):
        parsed, stored_forward = _original(found, body_limit)
    else:
        parsed = parse_message(raw, body_limit_bytes=body_limit, skipped=skipped)
        if found is not None:
            stored_forward = StoredForward(unparsed=found.reason, sender_name=found.sender_name)
    attachments = []
    for index, part in enumerate(parsed.attachments):
        if part.undecodable:
            status, digest = "undecodable", None
        elif part.scan_placeholder:
            status, digest = "pending_scan", None
        elif part.size > attachment_limit:
            status, digest = "over_limit", None
        else:
            status, digest = "stored", blobs.put(part.payload)
        attachments.append(
            StoredAttachment(index, part.filename, part.content_type, part.size, status, digest)
        )
    return StoredBody(
        parsed.body_text,
        parsed.new_text,
        parsed.snippet,
        tuple(attachments),
        "; ".join(parsed.errors) or None,
        None if forward else calendar_method(parsed.attachments),
        stored_forward,
    )


async def build_body_async(
    raw: bytes,
    blobs: BlobStore,
    attachment_limit: int,
    body_limit: int,
    skipped: dict[str, int] | None = None,
    *,
    forward: bool = False,
) -> StoredBody:
    return await asyncio.to_thread(
        lambda: build_body(raw, blobs, attachment_limit, body_limit, skipped, forward=forward)
    )


def streams(size: int, attachment_limit: int) -> bool:
    """Whether a message of `size` bytes (0: unknown) is read through `read_reduced`."""
    return size == 0 or size > min(attachment_limit, STREAM_ABOVE)


def spool_dir(blobs: BlobStore) -> Path:
    """Where large messages are spooled while they are read: the data dir (temporary
    files there are unlinked at once, so a crash leaves nothing behind)."""
    return blobs.root.parent


async def read_reduced(
    backend: Backend,
    folder: Folder,
    remote_id: str,
    blobs: BlobStore,
    attachment_limit: int,
    body_limit: int,
) -> Reduced:
    """A message read as a file and reduced while it streams (`mime/stream.py`): never
    held whole, whatever its size; raises what `Backend.open_message` raises."""
    handle = await backend.open_message(folder, remote_id, spool_dir(blobs))
    try:
        return await asyncio.to_thread(reduce_message, handle, attachment_limit, body_limit)
    finally:
        handle.close()
