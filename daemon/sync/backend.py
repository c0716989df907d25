"""The backend contract every mail source implements, and its error taxonomy.

A backend is owned by exactly one mailbox task. Blocking libraries run on the
backend's own thread (`asyncio.to_thread` or a dedicated executor), never on
the event loop. The engine drives a backend like this:

    await backend.connect()                       # AuthError / TemporaryError
    for folder in folder_choice.chosen(await backend.folders(), ...):  # LIST every round
        changes = await backend.changes(folder, cursor)   # CursorInvalid -> resync
        # over 20,000 new in all: backend.arrival_times() orders them into windows
        for chunk in chunks(changes.new, 500):
            for item in await backend.fetch_headers(folder, chunk): ...
            await backend.body_starts(folder, ids_without_message_id)  # their keys
            raw = await backend.fetch_message(folder, remote_id)  # only for logged mail
            file = await backend.open_message(folder, remote_id, spool)  # a large one
        commit(batch, decisions, changes.cursor)  # one transaction
    await backend.wait_for_changes(timeout)       # IDLE / inotify / poll
    await backend.close()

Cursors are opaque JSON-able dicts owned by the backend (Maildir: the set of
seen file names' keys is in the store, so its cursor is only a scan marker;
IMAP: {uidvalidity, uidnext, highestmodseq}). `changes` must return every
message the store has not recorded for this folder; the engine ignores the
ones it already has, so returning too much is safe and returning too little
loses mail.
"""

from __future__ import annotations

import abc
import asyncio
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Literal

from loggbok.daemon.mime.headers import BODY_SAMPLE_READ, split_header_block

FolderRole = Literal["inbox", "sent", "junk", "trash", "drafts", "all", "shared", "other"]
"""What a folder is for; `folder_choice.py` decides from it which folders are synced
("shared": another user's or a public folder, in an IMAP namespace not the user's)."""

SENT_NAMES = (
    "sent",
    "sent items",
    "sent messages",
    "sent mail",
    "[gmail]/sent mail",
    "[google mail]/sent mail",
    "skickat",
    "skickade objekt",
    "skickade meddelanden",
    "sendt",
    "sendte elementer",
    "sendte meldinger",
    "lähetetyt",
    "gesendet",
    "gesendete elemente",
    "gesendete objekte",
    "envoyés",
    "éléments envoyés",
    "messages envoyés",
    "enviados",
    "elementos enviados",
    "itens enviados",
    "posta inviata",
    "elementi inviati",
    "verzonden",
    "verzonden items",
    "wysłane",
    "odeslaná pošta",
    "отправленные",
)
"""Localised Sent folder names, lower-case, most common first: how a backend finds Sent
where the server does not flag it (IMAP without SPECIAL-USE, a Maildir)."""


class BackendError(Exception):
    """Base of the taxonomy. `kind` names the class for status and logs."""

    kind = "permanent"


class TemporaryError(BackendError):
    """Network trouble, server busy, connection dropped: retry with back-off."""

    kind = "temporary"


class AuthError(BackendError):
    """Credentials refused: stop, set status auth_failed, wait for reconnect."""

    kind = "auth"


class CursorInvalid(BackendError):
    """The folder's cursor no longer applies (UIDVALIDITY changed): resync it."""

    kind = "cursor_invalid"


class FolderUnavailable(TemporaryError):
    """The server refuses to open this one folder (it went, or it may not be read):
    the round leaves it for now and reads the others."""


class PermanentError(BackendError):
    """This one message cannot be read: quarantine it, keep going."""

    kind = "permanent"


@dataclass(frozen=True, slots=True)
class Folder:
    name: str
    """The backend's own name for it (the key of its stored row)."""
    role: FolderRole
    path: str = ""
    """The name as the user reads it, "/" between levels (`.Customers.ACME` in a
    Maildir is "Customers/ACME"); empty when it is `name`."""

    @property
    def display(self) -> str:
        return self.path or self.name


@dataclass(slots=True)
class Changes:
    """What `changes` found: remote ids not yet synced, and the cursor after them."""

    new: list[str]
    cursor: dict[str, Any]
    vanished: list[str] = field(default_factory=list)
    """Remote ids known to have left the folder since the cursor (IMAP QRESYNC)."""
    complete: bool = False
    """`new` lists every message in the folder (a Maildir's listing): whatever the
    store has in the folder and is not in it has left (moved or deleted)."""
    changed: list[str] = field(default_factory=list)
    """Remote ids already synced whose content the source reports changed in place (a
    Graph delta update, an EWS SyncFolderItems Update; IMAP and Maildir cannot say).
    A message among them still waiting for a scanner's real attachments (R11) is
    fetched again at once (`sync/rescan.py`); the rest are left alone."""


@dataclass(frozen=True, slots=True)
class HeaderItem:
    """One message's header block as the server gave it, with what came alongside."""

    remote_id: str
    raw_header: bytes
    size: int = 0
    flags: tuple[str, ...] = ()
    conversation_key: str | None = None
    """Provider conversation id (X-GM-THRID, conversationId): strongest thread evidence."""
    preview: str | None = None
    labels: tuple[str, ...] | None = None
    """Where the source has labels (Gmail's X-GM-LABELS): the folders the message is
    in, by their names (`\\Inbox` as "INBOX"); None elsewhere."""


class Backend(abc.ABC):
    """One mail source. See the module docstring for how the engine drives it."""

    @property
    def labels(self) -> bool:
        """Whether the source has labels (Gmail's X-GM-EXT-1): its All Mail folder is
        then read alone, and each message's labels are its folders. Known after
        `connect`."""
        return False

    def watch(self, folders: list[Folder]) -> None:  # noqa: B027 (optional hook)
        """The folders the rounds read, told each round, so that `wait_for_changes`
        notices changes in all of them (IMAP watches INBOX and Sent with IDLE and
        checks the others by polling). The default watches whatever it does anyway."""

    @abc.abstractmethod
    async def connect(self) -> None: ...

    @abc.abstractmethod
    async def folders(self) -> list[Folder]: ...

    @abc.abstractmethod
    async def changes(self, folder: Folder, cursor: dict[str, Any] | None) -> Changes: ...

    @abc.abstractmethod
    async def fetch_headers(self, folder: Folder, remote_ids: list[str]) -> list[HeaderItem]:
        """Headers for the given ids; ids that vanished meanwhile are left out."""

    async def arrival_times(self, folder: Folder, remote_ids: list[str]) -> dict[str, float]:
        """When each message arrived (seconds since the epoch), where the source can
        tell without the headers (IMAP INTERNALDATE, a Maildir file's delivery time).
        A round with too many new messages to hold at once takes them in windows in
        this order. The default knows nothing: the windows then follow each
        folder's own order."""
        return {}

    async def body_starts(self, folder: Folder, remote_ids: list[str]) -> dict[str, bytes]:
        """The first `mime.headers.BODY_SAMPLE_READ` bytes of each message's body (after
        its header block), for the key of a message without a Message-ID; ids that
        vanished are left out. Backends read only that much; this default reads the
        whole message."""
        found: dict[str, bytes] = {}
        for remote_id in remote_ids:
            try:
                raw = await self.fetch_message(folder, remote_id)
            except (PermanentError, CursorInvalid):
                continue
            found[remote_id] = split_header_block(raw)[1][:BODY_SAMPLE_READ]
        return found

    @abc.abstractmethod
    async def fetch_message(self, folder: Folder, remote_id: str) -> bytes:
        """The whole message; raises PermanentError when it is gone or unreadable."""

    async def open_message(self, folder: Folder, remote_id: str, spool: Path) -> BinaryIO:
        """The whole message as a binary file open at its start, for a message too large
        to hold in memory (the caller closes it); raises like `fetch_message`. A Maildir
        opens its own file; IMAP writes the message in pieces into a temporary file in
        `spool` that is gone once closed. This default holds it whole once."""
        data = await self.fetch_message(folder, remote_id)

        def write() -> BinaryIO:
            handle = tempfile.TemporaryFile(dir=spool)  # noqa: SIM115 - the caller closes it
            handle.write(data)
            handle.seek(0)
            return handle

        return await asyncio.to_thread(write)

    async def fetch_messages(
        self, folder: Folder, remote_ids: list[str]
    ) -> dict[str, bytes | BackendError]:
        """Many whole messages; a message that cannot be read maps to its error.

        Backends that can pipeline (IMAP) or batch (Maildir on one thread) override this.
        """
        found: dict[str, bytes | BackendError] = {}
        for remote_id in remote_ids:
            try:
                found[remote_id] = await self.fetch_message(folder, remote_id)
            except (PermanentError, CursorInvalid) as exc:
                found[remote_id] = exc
        return found

    @abc.abstractmethod
    async def wait_for_changes(self, timeout: float) -> bool:
        """Block until the source may have changed or `timeout` passes; True if changed."""

    @abc.abstractmethod
    async def close(self) -> None: ...
