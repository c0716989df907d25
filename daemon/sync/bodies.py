"""Turn a logged message's raw bytes into what the store keeps (R10, R11, R17).

Runs off the event loop (`asyncio.to_thread`): whole-message parsing costs
milliseconds per message. Attachments over the limit are recorded by name and
size only (`over_limit`); scanner placeholders are recorded as `pending_scan`
and not stored; everything else goes to the content-addressed blob store. A
calendar part carrying an iTIP method other than PUBLISH (an invitation or a
response, such as Google Calendar's, which its headers do not show) is noted
for the sync to turn the decision down (`calendar_method`).
"""

from __future__ import annotations

import asyncio
import re

from loggbok.daemon.mime.body import parse_message
from loggbok.daemon.mime.facts import ParsedAttachment
from loggbok.daemon.store.blobs import BlobBatch, BlobStore
from loggbok.daemon.store.sync_batch import StoredAttachment, StoredBody

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


def build_body(
    raw: bytes, blobs: BlobStore | BlobBatch, attachment_limit: int, body_limit: int
) -> StoredBody:
    """The stored form of one message; with a `BlobBatch`, its attachments are durable
    only when the batch ends."""
    parsed = parse_message(raw, body_limit_bytes=body_limit)
    attachments = []
    for index, part in enumerate(parsed.attachments):
        if part.scan_placeholder:
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
        calendar_method(parsed.attachments),
    )


async def build_body_async(
    raw: bytes, blobs: BlobStore, attachment_limit: int, body_limit: int
) -> StoredBody:
    return await asyncio.to_thread(build_body, raw, blobs, attachment_limit, body_limit)
