"""`ImapBackend`: the Backend contract over stdlib imaplib, on threads of its own.

Three connections, three single-thread executors, never the event loop:

  fetch thread      connect, LIST, EXAMINE + UID SEARCH (changes), pipelined
                    UID FETCH of header fields (fetch_headers) and of BODY.PEEK[]
  IDLE thread       `IdleWatcher`: IDLE on INBOX      } wait_for_changes: the first
  Sent IDLE thread  `IdleWatcher`: IDLE on Sent       } change wins, the other is ended

The rounds read every folder but junk, trash and drafts (`folder_choice.py`);
the other synced folders are checked between IDLE spans on the Sent connection
(every `poll_interval`, 60 s: STATUS, or one LIST-STATUS where offered), which
also LISTs the folders, so a new one starts a round. With Gmail's X-GM-EXT-1,
All Mail alone is read (with X-GM-LABELS, the message's folders) and watched
with IDLE instead of INBOX.

loggbok never writes to a mailbox: folders are opened with EXAMINE and bodies
read with BODY.PEEK, so not even \\Seen changes. Remote ids are UIDs as text;
the folder cursor is {uidvalidity, uidnext, highestmodseq, last_uid}, and a
changed UIDVALIDITY raises CursorInvalid (so does one that changes between
`changes` and a fetch). \\Seen is never a cursor. With QRESYNC, `changes`
also reports UIDs that vanished since the cursor's HIGHESTMODSEQ.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import ssl
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from loggbok.daemon.mime.headers import BODY_SAMPLE_READ
from loggbok.daemon.sync.backend import (
    Backend,
    BackendError,
    Changes,
    CursorInvalid,
    Folder,
    FolderUnavailable,
    HeaderItem,
    PermanentError,
    TemporaryError,
)
from loggbok.daemon.sync.providers.imap.connection import (
    AuthMethod,
    CommandFailed,
    ImapConnection,
    Security,
    ServerSettings,
)
from loggbok.daemon.sync.providers.imap.folders import (
    assign_roles,
    decode_mutf7,
    parse_list,
    parse_namespace,
)
from loggbok.daemon.sync.providers.imap.idle import IdleWatcher, Known
from loggbok.daemon.sync.providers.imap.responses import (
    ProtocolError,
    Response,
    compress_uids,
    expand_uids,
    internal_date,
    parse_fetch,
    parse_values,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

HEADER_FIELDS = (
    "Message-ID In-Reply-To References Subject From To Cc Bcc Reply-To Date Delivered-To "
    "X-Original-To Content-Type Auto-Submitted Precedence List-Id List-Unsubscribe "
    "X-Autoreply X-Autorespond X-Auto-Response-Suppress Content-Class Thread-Index Return-Path "
    "X-Loggbok-Log X-MS-Exchange-AtpMessageProperties"
)
BODY_CHUNK = 50
"""Whole messages per UID FETCH: bounded so one response stays a few MB."""
FETCH_CHUNK = 250
"""UIDs per pipelined UID FETCH command."""
SPOOL_PIECE = 8 * 1024 * 1024
"""Bytes per partial FETCH of a message too large to hold (`open_message`): what is
held of it at once, twice over while a piece is received. Dovecot finds each piece's
start by reading its file from the top, so smaller pieces cost time (600 MB:
4 MiB 35 s, 8 MiB 19 s, 16 MiB 14 s)."""
_PIECE_KEY = re.compile(r"BODY\[\]<(\d+)>")
ARRIVAL_CHUNK = 5000
"""UIDs per UID FETCH of INTERNALDATE (a few dozen bytes of answer each)."""


class ImapBackend(Backend):
    """One IMAP account. Construct, then drive it as `daemon/sync/backend.py` describes.

    `ssl_context` replaces the default (system trust store, hostname checked),
    e.g. one that trusts a test server's self-signed certificate.
    """

    def __init__(
        self,
        host: str,
        port: int,
        security: Security,
        username: str,
        secret: str,
        auth: AuthMethod = "password",
        address: str | None = None,
        *,
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = 60.0,
        poll_interval: float = 60.0,
        fetch_preview: bool = True,
    ) -> None:
        if security not in ("tls", "starttls", "none"):
            raise ValueError(f"security must be tls, starttls or none, not {security!r}")
        if auth not in ("password", "xoauth2"):
            raise ValueError(f"auth must be password or xoauth2, not {auth!r}")
        self.settings = ServerSettings(
            host, port, security, username, secret, auth, ssl_context, timeout
        )
        self.address = address or username
        self.fetch_preview = fetch_preview
        self.capabilities: frozenset[str] = frozenset()
        self._conn: ImapConnection | None = None
        self._folders: list[Folder] = []
        self._watched: list[Folder] = []
        """The folders the rounds read (`watch`)."""
        self._known: Known = {}
        self._pool = ThreadPoolExecutor(1, thread_name_prefix=f"imap-fetch-{host}")
        self._idle_pool = ThreadPoolExecutor(1, thread_name_prefix=f"imap-idle-{host}")
        self._watcher = IdleWatcher(self.settings, poll_interval)
        # Sent gets an IDLE connection of its own: a reply the user sends from another
        # client is noticed at once, not at the next STATUS poll.
        self._sent_pool = ThreadPoolExecutor(1, thread_name_prefix=f"imap-idle-sent-{host}")
        self._sent_watcher = IdleWatcher(self.settings, poll_interval)
        self._ticket = 0
        self._closed = False

    def __repr__(self) -> str:
        s = self.settings
        return f"ImapBackend({s.username}@{s.host}:{s.port}, {s.security}, {s.auth})"

    @property
    def warnings(self) -> list[str]:
        return list(dict.fromkeys([*self._watcher.warnings, *self._sent_watcher.warnings]))

    async def _run(self, pool: ThreadPoolExecutor, fn: Callable[..., T], *args: Any) -> T:
        if self._closed:
            raise TemporaryError("the IMAP backend is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(pool, functools.partial(fn, *args))

    # the contract ----------------------------------------------------------------------------

    @property
    def labels(self) -> bool:
        return "X-GM-EXT-1" in self.capabilities

    def watch(self, folders: list[Folder]) -> None:
        self._watched = list(folders)

    async def connect(self) -> None:
        await self._run(self._pool, self._connect)

    async def folders(self) -> list[Folder]:
        return await self._run(self._pool, self._list_folders)

    async def changes(self, folder: Folder, cursor: dict[str, Any] | None) -> Changes:
        return await self._run(self._pool, self._changes, folder, cursor)

    async def fetch_headers(self, folder: Folder, remote_ids: list[str]) -> list[HeaderItem]:
        if not remote_ids:
            return []
        return await self._run(self._pool, self._fetch_headers, folder, remote_ids)

    async def fetch_message(self, folder: Folder, remote_id: str) -> bytes:
        return await self._run(self._pool, self._fetch_message, folder, remote_id)

    async def body_starts(self, folder: Folder, remote_ids: list[str]) -> dict[str, bytes]:
        """BODY.PEEK[TEXT]<0.n>: the start of each body only, pipelined."""
        if not remote_ids:
            return {}
        return await self._run(self._pool, self._body_starts, folder, remote_ids)

    async def open_message(self, folder: Folder, remote_id: str, spool: Path) -> BinaryIO:
        """RFC822.SIZE, then BODY.PEEK[]<offset.SPOOL_PIECE> pieces, pipelined, each
        written into a temporary file in `spool` as it arrives."""
        return await self._run(self._pool, self._spool_message, folder, remote_id, spool)

    async def arrival_times(self, folder: Folder, remote_ids: list[str]) -> dict[str, float]:
        """INTERNALDATE (when the server received each message), pipelined."""
        if not remote_ids:
            return {}
        return await self._run(self._pool, self._arrival_times, folder, remote_ids)

    async def fetch_messages(
        self, folder: Folder, remote_ids: list[str]
    ) -> dict[str, bytes | BackendError]:
        """Whole messages, pipelined in a few UID FETCH commands (one round trip each)."""
        if not remote_ids:
            return {}
        return await self._run(self._pool, self._fetch_messages, folder, remote_ids)

    async def wait_for_changes(self, timeout: float) -> bool:
        """IDLE on INBOX and on Sent, each on its own connection; the other synced
        folders, and the folder list, are polled on the Sent one (or INBOX's, when there
        is no Sent); the first change wins. With Gmail's labels, IDLE on All Mail."""
        self._ticket += 1
        ticket = self._ticket
        watched = self._watched or [f for f in self._folders if f.role in ("inbox", "sent")]
        gmail = [f.name for f in watched if f.role == "all"]
        sent = [f.name for f in watched if f.role == "sent"]
        inbox = gmail[0] if gmail else "INBOX"
        others = [f.name for f in watched if f.name not in (inbox, *sent[:1])]
        listed = None if gmail else frozenset(f.name for f in self._folders)
        known = dict(self._known)
        plan = [(self._watcher, self._idle_pool, inbox, others, listed)]
        if sent:
            plan = [
                (self._watcher, self._idle_pool, inbox, [], None),
                (self._sent_watcher, self._sent_pool, sent[0], others, listed),
            ]
        waits = [
            (
                watcher,
                asyncio.ensure_future(
                    self._run(pool, watcher.wait, ticket, timeout, name, rest, known, folders)
                ),
            )
            for watcher, pool, name, rest, folders in plan
        ]
        pending = {future for _, future in waits}
        try:
            while pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                if any(f.exception() is not None or f.result() for f in done):
                    break
        finally:
            for watcher, _ in waits:
                watcher.interrupt(ticket)
            # Let the other IDLE end with DONE, so its connection stays usable.
            await asyncio.gather(*(f for _, f in waits), return_exceptions=True)
        for _, future in waits:
            if future.exception() is not None:
                raise future.exception()  # type: ignore[misc]
        return any(future.result() for _, future in waits)

    async def close(self) -> None:
        if self._closed:
            return
        self._watcher.close_soon()
        self._sent_watcher.close_soon()
        loop = asyncio.get_running_loop()
        logout = loop.run_in_executor(self._pool, self._logout)
        try:
            await asyncio.wait_for(asyncio.shield(logout), 5.0)
        except Exception:  # a timeout, or a connection that is already gone
            conn = self._conn
            if conn is not None:
                conn.interrupt()
        self._closed = True
        self._idle_pool.submit(self._watcher.close)
        self._sent_pool.submit(self._sent_watcher.close)
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._idle_pool.shutdown(wait=False, cancel_futures=True)
        self._sent_pool.shutdown(wait=False, cancel_futures=True)

    # on the fetch thread ------------------------------------------------------------------------

    def _connect(self) -> None:
        if self._conn is not None:
            self._conn.shutdown()
            self._conn = None
        conn = ImapConnection(self.settings)
        conn.open()
        self._conn = conn
        self.capabilities = conn.capabilities

    def _connection(self) -> ImapConnection:
        if self._conn is None:
            raise TemporaryError(f"not connected to {self.settings.host}")
        return self._conn

    def _logout(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.logout()

    def _list_folders(self) -> list[Folder]:
        conn = self._connection()
        command = 'LIST "" "*"'
        if "SPECIAL-USE" in conn.capabilities and "LIST-EXTENDED" in conn.capabilities:
            command += " RETURN (SPECIAL-USE)"
        try:
            responses = conn.command(command)
        except CommandFailed as exc:
            raise TemporaryError(f"LIST failed: {exc}") from None
        listed = [f for f in (parse_list(r) for r in responses) if f is not None]
        self._folders = assign_roles(listed, self._shared_prefixes(conn))
        return list(self._folders)

    def _shared_prefixes(self, conn: ImapConnection) -> tuple[str, ...]:
        """Where other users' and public folders are (NAMESPACE): never synced."""
        if "NAMESPACE" not in conn.capabilities:
            return ()
        try:
            responses = conn.command("NAMESPACE")
        except CommandFailed:
            return ()
        return tuple(p for r in responses for p in parse_namespace(r))

    def _examine(self, conn: ImapConnection, folder: Folder) -> dict[str, int]:
        try:
            state = conn.examine(folder.name)
        except CommandFailed as exc:
            raise FolderUnavailable(f"cannot open folder {folder.name}: {exc.text}") from None
        return state

    def _ensure_selected(self, conn: ImapConnection, folder: Folder) -> None:
        if conn.selected == folder.name:
            return
        state = self._examine(conn, folder)
        known = self._known.get(folder.name)
        if known is not None and known[0] is not None and state.get("uidvalidity") != known[0]:
            raise CursorInvalid(
                f"{folder.name}: UIDVALIDITY changed from {known[0]} to {state.get('uidvalidity')}"
            )

    def _changes(self, folder: Folder, cursor: dict[str, Any] | None) -> Changes:
        conn = self._connection()
        state = self._examine(conn, folder)
        uidvalidity = state.get("uidvalidity")
        if cursor and cursor.get("uidvalidity") not in (None, uidvalidity):
            self._known.pop(folder.name, None)
            raise CursorInvalid(
                f"{folder.name}: UIDVALIDITY changed from {cursor['uidvalidity']} to {uidvalidity}"
            )
        last = int(cursor.get("last_uid", 0)) if cursor else 0
        uidnext = state.get("uidnext")
        new: list[int] = []
        if state.get("exists", 1) > 0 and (uidnext is None or uidnext > last + 1):
            new = self._search_after(conn, last)
        vanished: list[int] = []
        old_modseq = int(cursor.get("highestmodseq") or 0) if cursor else 0
        modseq = state.get("highestmodseq")
        if "QRESYNC" in conn.enabled and old_modseq and last and modseq != old_modseq:
            vanished = self._vanished(conn, last, old_modseq)
        self._known[folder.name] = (uidvalidity, uidnext)
        return Changes(
            [str(uid) for uid in new],
            {
                "uidvalidity": uidvalidity,
                "uidnext": uidnext,
                "highestmodseq": modseq,
                "last_uid": max([last, *new]),
            },
            [str(uid) for uid in vanished],
        )

    def _search_after(self, conn: ImapConnection, last: int) -> list[int]:
        # `n:*` always matches the last message, even when its UID is below n.
        uids: list[int] = []
        try:
            responses = conn.command(f"UID SEARCH UID {last + 1}:*")
        except CommandFailed as exc:
            raise TemporaryError(f"UID SEARCH failed: {exc}") from None
        for response in responses:
            if response.first[:9].upper() == b"* SEARCH ":
                uids.extend(int(w) for w in response.first[9:].split() if w.isdigit())
        return sorted(uid for uid in set(uids) if uid > last)

    def _vanished(self, conn: ImapConnection, last: int, modseq: int) -> list[int]:
        gone: list[int] = []

        def collect(response: Response) -> None:
            if response.first[:11].upper() == b"* VANISHED ":
                values = parse_values(response.parts, 11)
                if values and isinstance(values[-1], str):
                    gone.extend(expand_uids(values[-1], last))

        try:
            conn.collect(
                conn.start(f"UID FETCH 1:{last} (UID) (CHANGEDSINCE {modseq} VANISHED)"), collect
            )
        except CommandFailed as exc:
            log.info("QRESYNC VANISHED query failed on %s: %s", self.settings.host, exc)
        return sorted(set(gone))

    def _fetch_items(self, conn: ImapConnection) -> str:
        items = f"UID FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS ({HEADER_FIELDS})]"
        if "X-GM-EXT-1" in conn.capabilities:
            items += " X-GM-THRID X-GM-LABELS"
        if self.fetch_preview and "PREVIEW" in conn.capabilities:
            items += " PREVIEW"
        return f"({items})"

    def _fetch_headers(self, folder: Folder, remote_ids: list[str]) -> list[HeaderItem]:
        conn = self._connection()
        self._ensure_selected(conn, folder)
        wanted = {int(r) for r in remote_ids if r.isdigit()}
        if not wanted:
            return []
        ordered = sorted(wanted)
        items = self._fetch_items(conn)
        commands = [
            f"UID FETCH {compress_uids(ordered[i : i + FETCH_CHUNK])} {items}"
            for i in range(0, len(ordered), FETCH_CHUNK)
        ]
        found: dict[int, HeaderItem] = {}

        def collect(response: Response) -> None:
            try:
                fetched = parse_fetch(response)
            except ProtocolError as exc:
                log.warning("unparseable FETCH response in %s: %s", folder.name, exc)
                return
            if fetched is None:
                return
            uid = fetched.uid()
            header = fetched.section("BODY[HEADER")
            if uid is None or uid not in wanted or header is None:
                return
            attrs = fetched.attrs
            flags = attrs.get("FLAGS")
            size = attrs.get("RFC822.SIZE")
            thread = attrs.get("X-GM-THRID")
            preview = attrs.get("PREVIEW")
            labels = attrs.get("X-GM-LABELS")
            found[uid] = HeaderItem(
                remote_id=str(uid),
                raw_header=header,
                size=int(size) if isinstance(size, str) and size.isdigit() else 0,
                flags=tuple(f for f in flags if isinstance(f, str))
                if isinstance(flags, list)
                else (),
                conversation_key=thread if isinstance(thread, str) else None,
                preview=preview.decode("utf-8", "replace") if isinstance(preview, bytes) else None,
                labels=self._labels(labels) if isinstance(labels, list) else None,
            )

        _fetch_pipeline(conn, folder, commands, collect)
        order = {r: i for i, r in enumerate(remote_ids)}
        return sorted(found.values(), key=lambda item: order.get(item.remote_id, 0))

    def _body_starts(self, folder: Folder, remote_ids: list[str]) -> dict[str, bytes]:
        conn = self._connection()
        self._ensure_selected(conn, folder)
        ordered = sorted({int(r) for r in remote_ids if r.isdigit()})
        found: dict[str, bytes] = {}

        def collect(response: Response) -> None:
            with contextlib.suppress(ProtocolError):
                fetched = parse_fetch(response)
                uid = fetched.uid() if fetched is not None else None
                text = fetched.section("BODY[TEXT]") if fetched is not None else None
                if uid is not None and text is not None:
                    found[str(uid)] = text

        commands = [
            f"UID FETCH {compress_uids(ordered[i : i + FETCH_CHUNK])}"
            f" (UID BODY.PEEK[TEXT]<0.{BODY_SAMPLE_READ}>)"
            for i in range(0, len(ordered), FETCH_CHUNK)
        ]
        if commands:
            _fetch_pipeline(conn, folder, commands, collect)
        return found

    def _labels(self, values: list[Any]) -> tuple[str, ...]:
        """X-GM-LABELS as folder names: `\\Inbox` is INBOX, `\\Sent` the Sent folder;
        other system labels stay as Gmail gives them (`\\Important`, `\\Draft`)."""
        sent = next((f.name for f in self._folders if f.role == "sent"), "\\Sent")
        names: list[str] = []
        for value in values:
            if isinstance(value, bytes):
                value = value.decode("utf-8", "replace")
            if not isinstance(value, str):
                continue
            label = decode_mutf7(value)
            folded = label.casefold()
            names.append("INBOX" if folded == "\\inbox" else sent if folded == "\\sent" else label)
        return tuple(dict.fromkeys(names))

    def _arrival_times(self, folder: Folder, remote_ids: list[str]) -> dict[str, float]:
        conn = self._connection()
        self._ensure_selected(conn, folder)
        ordered = sorted({int(r) for r in remote_ids if r.isdigit()})
        times: dict[str, float] = {}

        def collect(response: Response) -> None:
            try:
                fetched = parse_fetch(response)
            except ProtocolError:
                return
            if fetched is None or (uid := fetched.uid()) is None:
                return
            stamp = internal_date(fetched.attrs.get("INTERNALDATE"))
            if stamp is not None:
                times[str(uid)] = stamp

        commands = [
            f"UID FETCH {compress_uids(ordered[i : i + ARRIVAL_CHUNK])} (UID INTERNALDATE)"
            for i in range(0, len(ordered), ARRIVAL_CHUNK)
        ]
        _fetch_pipeline(conn, folder, commands, collect)
        return times

    def _fetch_messages(
        self, folder: Folder, remote_ids: list[str]
    ) -> dict[str, bytes | BackendError]:
        conn = self._connection()
        self._ensure_selected(conn, folder)
        wanted = sorted({int(r) for r in remote_ids if r.isdigit()})
        found: dict[str, bytes | BackendError] = {}

        def collect(response: Response) -> None:
            with contextlib.suppress(ProtocolError):
                fetched = parse_fetch(response)
                uid = fetched.uid() if fetched is not None else None
                body = fetched.section("BODY[]") if fetched is not None else None
                if uid is not None and body is not None:
                    found[str(uid)] = body

        commands = [
            f"UID FETCH {compress_uids(wanted[i : i + BODY_CHUNK])} (UID BODY.PEEK[])"
            for i in range(0, len(wanted), BODY_CHUNK)
        ]
        _fetch_pipeline(conn, folder, commands, collect)
        for remote_id in remote_ids:
            found.setdefault(
                remote_id, PermanentError(f"message {remote_id} is gone from {folder.name}")
            )
        return found

    def _spool_message(self, folder: Folder, remote_id: str, spool: Path) -> BinaryIO:
        if not remote_id.isdigit():
            raise PermanentError(f"{remote_id!r} is not an IMAP UID")
        conn = self._connection()
        self._ensure_selected(conn, folder)
        uid = int(remote_id)
        size: int | None = None

        def sized(response: Response) -> None:
            nonlocal size
            with contextlib.suppress(ProtocolError):
                fetched = parse_fetch(response)
                value = fetched.attrs.get("RFC822.SIZE") if fetched is not None else None
                if fetched is not None and fetched.uid() == uid and isinstance(value, str):
                    size = int(value) if value.isdigit() else None

        try:
            conn.collect(conn.start(f"UID FETCH {uid} (UID RFC822.SIZE)"), sized)
        except CommandFailed as exc:
            raise PermanentError(f"message {remote_id} in {folder.name}: {exc}") from None
        if size is None:
            raise PermanentError(f"message {remote_id} is gone from {folder.name}")
        handle = tempfile.TemporaryFile(dir=spool)  # noqa: SIM115 - the caller closes it
        try:
            _spool_pieces(conn, folder, uid, size, handle)
        except BaseException:
            handle.close()
            raise
        handle.seek(0)
        return handle

    def _fetch_message(self, folder: Folder, remote_id: str) -> bytes:
        if not remote_id.isdigit():
            raise PermanentError(f"{remote_id!r} is not an IMAP UID")
        conn = self._connection()
        self._ensure_selected(conn, folder)
        body: bytes | None = None

        def collect(response: Response) -> None:
            nonlocal body
            with contextlib.suppress(ProtocolError):
                fetched = parse_fetch(response)
                if fetched is not None and fetched.uid() == int(remote_id):
                    body = fetched.section("BODY[]") or body

        try:
            conn.collect(conn.start(f"UID FETCH {remote_id} (UID BODY.PEEK[])"), collect)
        except CommandFailed as exc:
            raise PermanentError(f"message {remote_id} in {folder.name}: {exc}") from None
        if body is None:
            raise PermanentError(f"message {remote_id} is gone from {folder.name}")
        return body


def _spool_pieces(
    conn: ImapConnection, folder: Folder, uid: int, size: int, handle: BinaryIO
) -> None:
    """BODY.PEEK[]<offset.SPOOL_PIECE> for the `size` bytes announced, each piece into
    `handle` at its offset as it arrives; while the last piece comes back whole,
    one more is asked for (a size is the server's word, not the end)."""
    end = 0
    last_full = False
    failed: OSError | None = None

    def collect(response: Response) -> None:
        nonlocal end, last_full, failed
        try:
            fetched = parse_fetch(response)
        except ProtocolError:
            return
        if fetched is None or fetched.uid() != uid or failed is not None:
            return
        for key, value in fetched.attrs.items():
            origin = _PIECE_KEY.fullmatch(key)
            if origin is None or not isinstance(value, bytes):
                continue
            start = int(origin.group(1))
            try:
                handle.seek(start)
                handle.write(value)
            except OSError as exc:  # the answers are still read: the connection stays usable
                failed = exc
                return
            if start + len(value) >= end:
                end = start + len(value)
                last_full = len(value) == SPOOL_PIECE

    offsets = list(range(0, max(size, 1), SPOOL_PIECE))
    while offsets:
        commands = [f"UID FETCH {uid} (UID BODY.PEEK[]<{o}.{SPOOL_PIECE}>)" for o in offsets]
        try:
            conn.pipeline(commands, collect)
        except CommandFailed as exc:
            raise PermanentError(f"message {uid} in {folder.name}: {exc}") from None
        if failed is not None:
            raise TemporaryError(f"cannot write message {uid} to {handle.name}: {failed}")
        offsets = [end] if last_full else []
    if end == 0 and size:
        raise PermanentError(f"message {uid} is gone from {folder.name}")


def _fetch_pipeline(
    conn: ImapConnection,
    folder: Folder,
    commands: list[str],
    collect: Callable[[Response], None],
) -> None:
    """Send UID FETCH `commands` in one pipeline, every answer to `collect`. A NO
    (messages expunged meanwhile) keeps what came; any other failure is temporary."""
    try:
        conn.pipeline(commands, collect)
    except CommandFailed as exc:
        if exc.status != "NO":
            raise TemporaryError(f"UID FETCH failed in {folder.name}: {exc}") from None
        log.info("UID FETCH in %s partly failed (%s); returning what came", folder.name, exc)
