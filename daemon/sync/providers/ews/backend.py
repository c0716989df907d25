"""`EwsBackend`: an Exchange mailbox through EWS, behind `sync/backend.py`.

- Folders: the mailbox's folder tree under Top of Information Store (one
  GetFolder of the well-known folders, one deep FindFolder), mail folders only
  (`IPF.Note`), named by their display-name path ("Inbox/Projects"); roles
  from the well-known folders (Inbox, Sent Items, Drafts, Outbox, Deleted
  Items, Junk Email), else from a localised name (`folder_choice.py`). Listed
  again every `FOLDER_REFRESH` seconds.
- Changes: SyncFolderItems per folder (`sync_items`, IdOnly plus
  DateTimeReceived, 512 changes a page, paged to IncludesLastItemInRange);
  its SyncState is the folder's cursor {"sync_state": ...}. Deletes are
  `vanished`; from a sync state (not a first sync) every created or updated
  item is also `changed` (Dynamic Delivery putting the real attachment into
  the same item, R11). ErrorInvalidSyncStateData is CursorInvalid: the engine
  resyncs the folder and finds every message again by its Message-ID.
- Header first: GetItem with the properties and InternetMessageHeaders
  (`headers.FIELDS`), 100 items a request; ConversationId is the
  conversation key. MimeContent only for what is logged, 20 a request.
- Read only: nothing here creates, updates, moves or deletes an item.
- Push: streaming notifications on the watched folders (`stream.py`); while
  no stream is open, the sync states of Inbox and Sent are polled every
  `poll_interval` (other folders every tenth time), and what a poll found is
  handed to the next `changes` of that folder.
- Login check: an open stream asks nothing of the server but its events, so a
  changed password or a revoked consent would go unnoticed on a quiet mailbox
  until the stream ends (up to 30 minutes). Every `check_interval`, stream or
  not, one GetFolder of the Inbox checks the login (`EwsConnection.check_login`,
  on a new connection for NTLM); the schedule runs on across rounds, so a busy
  mailbox is checked too (at its next wait once due). A refused login is
  AuthError out of `wait_for_changes`: the mailbox is `auth_failed` and its
  threads blind (R13), as when a round meets it.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from dataclasses import dataclass, field
from typing import Any

from exchangelib import Account
from exchangelib.folders import (
    DeletedItems,
    Drafts,
    Inbox,
    JunkEmail,
    Outbox,
    Root,
    SentItems,
)
from exchangelib.properties import ItemId

from loggbok.daemon.sync.backend import (
    AuthError,
    Backend,
    BackendError,
    Changes,
    Folder,
    FolderRole,
    HeaderItem,
    PermanentError,
    TemporaryError,
)
from loggbok.daemon.sync.folder_choice import role_by_name
from loggbok.daemon.sync.providers.ews.connection import EwsConnection
from loggbok.daemon.sync.providers.ews.headers import FIELDS, summary
from loggbok.daemon.sync.providers.ews.stream import StreamListener

SYNC_PAGE = 512
"""MaxChangesReturned (EWS allows 1-512)."""
HEADER_CHUNK = 100
MIME_CHUNK = 20
POLL_INTERVAL = 60.0
CHECK_INTERVAL = 60.0
"""How often the login is checked while waiting (`LOGGBOK_EWS_CHECK_SECONDS`)."""
OTHER_FOLDERS_EVERY = 10
FOLDER_REFRESH = 300.0
ROLES: dict[type, FolderRole] = {
    Inbox: "inbox",
    SentItems: "sent",
    Drafts: "drafts",
    Outbox: "drafts",
    DeletedItems: "trash",
    JunkEmail: "junk",
}


@dataclass(slots=True)
class SyncResult:
    new: list[str]
    vanished: list[str]
    updated: list[str]
    sync_state: str
    received: dict[str, float] = field(default_factory=dict)


def _jittered(interval: float) -> float:
    return interval * random.uniform(0.8, 1.2)


def _is_mail(folder: Any) -> bool:
    folder_class = getattr(folder, "folder_class", None)
    return folder_class is None or str(folder_class).startswith("IPF.Note")


class EwsBackend(Backend):
    def __init__(
        self,
        connection: EwsConnection,
        *,
        poll_interval: float = POLL_INTERVAL,
        check_interval: float = CHECK_INTERVAL,
        stream_minutes: int = 30,
        push: bool = True,
    ) -> None:
        self.connection = connection
        self.poll_interval = poll_interval
        self.check_interval = check_interval
        self.login_checks = 0
        self._next_check = time.monotonic() + _jittered(check_interval)
        """When the login is checked next: kept across waits, so rounds in between
        (each a new wait) never put the check off."""
        self._folders: dict[str, tuple[Any, FolderRole]] = {}
        """Folder name -> (exchangelib folder, role)."""
        self._listed_at = 0.0
        self._states: dict[str, str] = {}
        """Each folder's newest sync state (what a poll starts from)."""
        self._polled: dict[str, tuple[str, SyncResult]] = {}
        self._received: dict[str, dict[str, float]] = {}
        self._watched: list[str] = []
        self._polls = 0
        self._changed = asyncio.Event()
        self._push = push
        self.stream = StreamListener(
            connection, self._watched_folders, self._changed.set, connection_minutes=stream_minutes
        )

    @property
    def requests_busy(self) -> int:
        return self.connection.requests_busy

    # ------------------------------------------------------------ folders

    async def connect(self) -> None:
        await self._list_folders()

    async def _list_folders(self) -> None:
        def listing(account: Account) -> dict[str, tuple[Any, FolderRole]]:
            root = Root.get_distinguished(account)
            every = root._folders_map  # GetFolder (well-known folders) + FindFolder (deep)
            top = root.tois
            found: dict[str, tuple[Any, FolderRole]] = {}
            for folder in every.values():
                parts: list[str] = []
                node = folder
                while node is not None and node.id not in (top.id, root.id):
                    parts.insert(0, str(node.name or "").replace("/", "∕"))
                    node = node.parent
                if node is None or node.id != top.id or not parts or not _is_mail(folder):
                    continue
                name = "/".join(parts)
                role = ROLES.get(type(folder)) or role_by_name(name) or "other"
                found[name] = (folder, role)
            return found

        self._folders = await self.connection.call(listing)
        self._listed_at = time.monotonic()

    async def folders(self) -> list[Folder]:
        if time.monotonic() - self._listed_at > FOLDER_REFRESH:
            await self._list_folders()
        return [Folder(name, role) for name, (_, role) in self._folders.items()]

    def _folder(self, folder: Folder) -> Any:
        found = self._folders.get(folder.name)
        if found is None:
            raise TemporaryError(f"folder {folder.name} disappeared")
        return found[0]

    # ------------------------------------------------------------ sync

    async def _sync(self, name: str, ews_folder: Any, state: str | None) -> SyncResult:
        def sync(account: Account) -> SyncResult:
            present: dict[str, bool] = {}
            updated: dict[str, None] = {}
            received: dict[str, float] = {}
            # exchangelib takes a missing state for the folder's last one: a resync
            # (state None, after ErrorInvalidSyncStateData) must start from nothing.
            ews_folder.item_sync_state = state
            changes = ews_folder.sync_items(
                sync_state=state,
                only_fields=["datetime_received"],
                max_changes_returned=SYNC_PAGE,
            )
            for kind, item in changes:
                remote_id = str(getattr(item, "id", "") or "")
                if not remote_id or kind == "read_flag_change":
                    continue
                present.pop(remote_id, None)
                if kind == "delete":
                    present[remote_id] = False
                    updated.pop(remote_id, None)
                    continue
                present[remote_id] = True
                if kind == "update":
                    updated[remote_id] = None
                when = getattr(item, "datetime_received", None)
                if when is not None:
                    received[remote_id] = when.timestamp()
            return SyncResult(
                new=[r for r, here in present.items() if here],
                vanished=[r for r, here in present.items() if not here],
                updated=list(updated),
                sync_state=str(ews_folder.item_sync_state),
                received=received,
            )

        return await self.connection.call(sync)

    async def changes(self, folder: Folder, cursor: dict[str, Any] | None) -> Changes:
        state = str(cursor["sync_state"]) if cursor and cursor.get("sync_state") else None
        polled = self._polled.pop(folder.name, None)
        if state is not None and polled is not None and polled[0] == state:
            result = polled[1]
        else:
            result = await self._sync(folder.name, self._folder(folder), state)
        self._states[folder.name] = result.sync_state
        self._received.setdefault(folder.name, {}).update(result.received)
        return Changes(
            new=result.new,
            cursor={"sync_state": result.sync_state},
            vanished=result.vanished,
            changed=result.new if state is not None else [],
        )

    async def arrival_times(self, folder: Folder, remote_ids: list[str]) -> dict[str, float]:
        known = self._received.get(folder.name, {})
        return {r: known[r] for r in remote_ids if r in known}

    # ------------------------------------------------------------ items

    async def fetch_headers(self, folder: Folder, remote_ids: list[str]) -> list[HeaderItem]:
        def fetch(account: Account) -> list[HeaderItem]:
            ids = [ItemId(id=r) for r in remote_ids]
            items = []
            found = account.fetch(ids=ids, only_fields=list(FIELDS), chunk_size=HEADER_CHUNK)
            for remote_id, item in zip(remote_ids, found, strict=False):
                if isinstance(item, BaseException):
                    continue  # gone meanwhile (ErrorItemNotFound)
                made = summary(item)
                items.append(
                    HeaderItem(
                        remote_id,
                        made.raw_header,
                        made.size,
                        ("\\Seen",) if made.read else (),
                        made.conversation_id,
                    )
                )
            return items

        return await self.connection.call(fetch)

    def _mime(self, remote_ids: list[str]) -> Any:
        def fetch(account: Account) -> dict[str, bytes | BackendError]:
            ids = [ItemId(id=r) for r in remote_ids]
            got: dict[str, bytes | BackendError] = {}
            found = account.fetch(ids=ids, only_fields=["mime_content"], chunk_size=MIME_CHUNK)
            for remote_id, item in zip(remote_ids, found, strict=False):
                mime = getattr(item, "mime_content", None)
                if isinstance(item, BaseException) or not mime:
                    got[remote_id] = PermanentError(f"{remote_id}: {item}")
                else:
                    got[remote_id] = mime if isinstance(mime, bytes) else str(mime).encode()
            return got

        return fetch

    async def fetch_message(self, folder: Folder, remote_id: str) -> bytes:
        found = (await self.connection.call(self._mime([remote_id]))).get(remote_id)
        if not isinstance(found, bytes):
            raise found or PermanentError(f"{folder.name}/{remote_id}: not found")
        return found

    async def fetch_messages(
        self, folder: Folder, remote_ids: list[str]
    ) -> dict[str, bytes | BackendError]:
        return dict(await self.connection.call(self._mime(remote_ids)))

    # ------------------------------------------------------------ waiting

    def watch(self, folders: list[Folder]) -> None:
        self._watched = [f.name for f in folders]

    def _watched_folders(self, account: Account) -> list[object]:
        names = self._watched or [
            n for n, (_, r) in self._folders.items() if r in ("inbox", "sent")
        ]
        return [self._folders[n][0] for n in names if n in self._folders]

    async def poll(self) -> bool:
        """Ask the sync states of the due folders for changes now; True if any came."""
        self._polls += 1
        every = self._polls % OTHER_FOLDERS_EVERY == 0
        changed = False
        for name, state in list(self._states.items()):
            found = self._folders.get(name)
            if found is None or (found[1] == "other" and not every):
                continue
            try:
                result = await self._sync(name, found[0], state)
            except BackendError:
                return True  # the round finds out (a cursor to resync, an error to report)
            if result.new or result.vanished:
                self._polled[name] = (state, result)
                changed = True
        return changed

    async def check_login(self) -> bool:
        """The login checked now; True when the check failed otherwise than by a refused
        login (the round that follows finds out), AuthError when it was refused."""
        self.login_checks += 1
        try:
            await self.connection.check_login()
        except AuthError:
            raise
        except BackendError:
            return True
        return False

    async def wait_for_changes(self, timeout: float) -> bool:
        if self._push:
            self.stream.start(asyncio.get_running_loop())
        deadline = time.monotonic() + timeout
        next_poll = time.monotonic() + _jittered(self.poll_interval)
        while True:
            next_check = self._next_check
            now = time.monotonic()
            left = deadline - now
            if left <= 0:
                return False
            pause = min(left, max(min(next_poll, next_check) - now, 0.0))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), pause)
            if self._changed.is_set():
                self._changed.clear()  # set again by anything that comes during the round
                return True
            if time.monotonic() >= next_check:
                self._next_check = time.monotonic() + _jittered(self.check_interval)
                if await self.check_login():
                    return True
            if time.monotonic() >= next_poll:
                next_poll = time.monotonic() + _jittered(self.poll_interval)
                if not self.stream.working and await self.poll():
                    return True

    async def close(self) -> None:
        self.stream.stop()
        subscription = self.stream.subscription
        if subscription is not None and self._folders:
            folder = next(iter(self._folders.values()))[0]
            with contextlib.suppress(Exception):  # it times out on the server anyway
                await asyncio.wait_for(
                    self.connection.call(lambda _: folder.unsubscribe(subscription)), 10
                )
        await self.connection.close()
