"""Floors for `bench/imap_sync.py`: two costs measured apart from loggbok's pipeline.

They put the sync targets (ratios to mbsync's time) in proportion, in the same
run and on the same machine:

- `server_header_fetch`: Dovecot alone serving, cold (a fresh user, nothing in
  its cache), the header fields loggbok asks for (with PREVIEW where loggbok
  asks for it) to stdlib imaplib, in one `UID FETCH 1:*` per folder. No
  header-first client has every header sooner, and nothing has been parsed or
  stored yet at that point.
- `body_parse_cpu`: the CPU seconds that loggbok's whole-message parsing
  (`sync/bodies.build_body`: MIME walk, reply extraction, attachments hashed)
  takes in one process for the messages a run logged. Divided by the cores, it
  is the least wall time parsing alone can take, every core parsing and
  nothing else running (Dovecot, SQLite and the network need CPU too).
"""

from __future__ import annotations

import imaplib
import re
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from loggbok.daemon.mime.headers import parse_headers, split_header_block
from loggbok.daemon.store.blobs import BlobStore
from loggbok.daemon.sync.bodies import build_body
from loggbok.daemon.sync.providers.imap.backend import HEADER_FIELDS

FOLDERS = ("Sent", "INBOX")
_MESSAGE_START = re.compile(rb"^\d+ \(")


@dataclass
class HeaderFetchFloor:
    seconds: float
    messages: int
    preview: bool


def server_header_fetch(host: str, port: int, username: str, password: str) -> HeaderFetchFloor:
    """Time Dovecot serving every header of `FOLDERS` to a plain imaplib client."""
    imap = imaplib.IMAP4(host, port, timeout=300)
    try:
        imap.login(username, password)
        _typ, caps = imap.capability()
        preview = b"PREVIEW" in (caps[0] or b"").upper().split()
        items = f"(UID FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS ({HEADER_FIELDS})]"
        items += " PREVIEW)" if preview else ")"
        messages = 0
        start = time.perf_counter()
        for folder in FOLDERS:
            imap.select(folder, readonly=True)
            _typ, data = imap.uid("FETCH", "1:*", items)
            messages += sum(1 for d in data if isinstance(d, tuple) and _MESSAGE_START.match(d[0]))
        return HeaderFetchFloor(time.perf_counter() - start, messages, preview)
    finally:
        imap.logout()


def logged_raws(raws: list[bytes], database: Path) -> list[bytes]:
    """The messages of `raws` that the store at `database` logged, by Message-ID as
    loggbok's own header parser reads it."""
    db = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        logged = {str(r[0]) for r in db.execute("SELECT message_id FROM messages WHERE logged = 1")}
    finally:
        db.close()
    return [r for r in raws if parse_headers(split_header_block(r)[0]).message_id in logged]


def body_parse_cpu(raws: list[bytes], attachment_limit: int, body_limit: int) -> float:
    """CPU seconds `build_body` takes for `raws`, attachments written to a scratch store."""
    with (
        tempfile.TemporaryDirectory(prefix="lb-floor-") as scratch,
        BlobStore(Path(scratch)).batch() as blobs,
    ):
        start = time.process_time()
        for raw in raws:
            build_body(raw, blobs, attachment_limit, body_limit)
        return time.process_time() - start
