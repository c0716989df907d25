"""`GraphBackend`: a Microsoft 365 mailbox through Graph, behind `sync/backend.py`.

- Folders: `/me/mailFolders` and every folder's `childFolders`, named by their
  display-name path ("Inbox/Projects"); roles from the well-known folders
  (`inbox`, `sentitems`, `drafts`, `outbox`, `deleteditems`, `junkemail`), else
  from a localised name (`folder_choice.py`, which leaves Junk, Deleted Items
  and Drafts out of the rounds). Listed again every `FOLDER_REFRESH` seconds:
  a new folder is synced within five minutes.
- Changes: one delta query per folder (`/me/mailFolders/{id}/messages/delta`,
  `Prefer: odata.maxpagesize`, immutable ids), paged to its deltaLink, which
  is the folder's cursor {"delta_link": ...}. `@removed` items are `vanished`;
  from a delta link (not a first sync) every item listed is also `changed`:
  delta lists an item again when it changed in place (Dynamic Delivery
  swapping the real attachment in, R11).
  An expired token (410, `syncStateNotFound`) is CursorInvalid: the engine
  resyncs the folder and finds every message again by its Message-ID.
- Header first: delta brings the properties the rules need (`headers.QUERY`,
  with `internetMessageHeaders`); `fetch_headers` answers from what `changes`
  kept, so mail that is not logged costs no request of its own. Only ids that
  came as partial updates are looked up, 20 to a `$batch`.
- Whole messages: `/me/messages/{id}/$value`, 20 to a `$batch`.
- Changes are polled (no public webhook for a local daemon): the delta links of
  Inbox and Sent every `poll_interval` (jittered), other folders every tenth
  time. What a poll found is kept and handed to the next `changes` for the
  same link, so noticing new mail costs no second request.
"""

from __future__ import annotations

import asyncio
import random
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from loggbok.daemon.sync.backend import (
    Backend,
    BackendError,
    Changes,
    CursorInvalid,
    Folder,
    FolderRole,
    HeaderItem,
    PermanentError,
    TemporaryError,
)
from loggbok.daemon.sync.folder_choice import role_by_name
from loggbok.daemon.sync.providers.graph.client import GraphClient, GraphHttpError
from loggbok.daemon.sync.providers.graph.headers import QUERY, Summary, is_full, summary

PAGE_SIZE = 100
"""`Prefer: odata.maxpagesize` for message delta (Graph's default is 10)."""
POLL_INTERVAL = 30.0
OTHER_FOLDERS_EVERY = 10
"""Other folders are polled every this many polls of Inbox and Sent."""
FOLDER_REFRESH = 300.0
"""Seconds a folder listing is trusted before the next round lists again."""
ROLES: dict[str, FolderRole] = {
    "inbox": "inbox",
    "sentitems": "sent",
    "drafts": "drafts",
    "outbox": "drafts",
    "deleteditems": "trash",
    "junkemail": "junk",
}
"""Well-known folders and their roles (`folder_choice.py` reads every folder but
junk, trash and drafts)."""
EXPIRED_CODES = frozenset({"syncStateNotFound", "syncStateInvalid", "resyncRequired"})
DELTA_HEADERS = {"Prefer": f'odata.maxpagesize={PAGE_SIZE}, IdType="ImmutableId"'}


@dataclass(slots=True)
class DeltaResult:
    new: list[str]
    vanished: list[str]
    delta_link: str
    summaries: dict[str, Summary] = field(default_factory=dict)
    """What the listing said of each present message it listed in full."""


def _quote(value: str) -> str:
    return urllib.parse.quote(value, safe="")


class GraphBackend(Backend):
    def __init__(self, client: GraphClient, *, poll_interval: float = POLL_INTERVAL) -> None:
        self.client = client
        self.poll_interval = poll_interval
        self._folders: dict[str, tuple[str, FolderRole]] = {}
        """Folder name -> (Graph id, role)."""
        self._listed_at = 0.0
        self._summaries: dict[str, dict[str, Summary]] = {}
        """By folder: what its latest listing said of each message (until fetched)."""
        self._links: dict[str, str] = {}
        """Each folder's newest delta link (what the next poll starts from)."""
        self._polled: dict[str, tuple[str, DeltaResult]] = {}
        """A poll's result by folder: (the link it started from, what it found)."""
        self._polls = 0

    # ------------------------------------------------------------ folders

    async def connect(self) -> None:
        await self._list_folders()

    async def _list_folders(self) -> None:
        known = await self.client.batch({w: f"me/mailFolders/{w}?$select=id" for w in ROLES})
        well_known = {
            str(a.body["id"]): ROLES[w]
            for w, a in known.items()
            if a.status == 200 and isinstance(a.body, dict) and "id" in a.body
        }
        found: dict[str, tuple[str, FolderRole]] = {}
        pending: list[tuple[str, str]] = [("", "me/mailFolders?$top=100")]
        while pending:
            prefix, url = pending.pop(0)
            next_url: str | None = url
            while next_url:
                page = await self.client.get_json(next_url)
                for folder in page.get("value", []):
                    name = prefix + str(folder.get("displayName", "")).replace("/", "∕")
                    folder_id = str(folder["id"])
                    role = well_known.get(folder_id) or role_by_name(name) or "other"
                    found[name] = (folder_id, role)
                    if int(folder.get("childFolderCount") or 0) > 0:
                        pending.append(
                            (
                                name + "/",
                                f"me/mailFolders/{_quote(folder_id)}/childFolders?$top=100",
                            )
                        )
                link = page.get("@odata.nextLink")
                next_url = str(link) if link else None
        self._folders = found
        self._listed_at = time.monotonic()

    async def folders(self) -> list[Folder]:
        if time.monotonic() - self._listed_at > FOLDER_REFRESH:
            await self._list_folders()
        return [Folder(name, role) for name, (_, role) in self._folders.items()]

    def _folder_id(self, folder: Folder) -> str:
        found = self._folders.get(folder.name)
        if found is None:
            raise TemporaryError(f"folder {folder.name} disappeared")
        return found[0]

    # ------------------------------------------------------------ delta

    def _first_link(self, folder: Folder) -> str:
        folder_id = _quote(self._folder_id(folder))
        return f"me/mailFolders/{folder_id}/messages/delta?{QUERY}"

    async def _delta(self, start: str) -> DeltaResult:
        """Page from `start` to the deltaLink, keeping what each listed message says."""
        items: dict[str, bool] = {}
        """Listed id -> present (False: removed); insertion order is Graph's order."""
        summaries: dict[str, Summary] = {}
        link: str | None = start
        while True:
            try:
                page = await self.client.get_json(link or start, DELTA_HEADERS)
            except GraphHttpError as exc:
                if exc.status == 410 or exc.code in EXPIRED_CODES:
                    raise CursorInvalid(
                        f"the delta token expired ({exc.status} {exc.code})"
                    ) from exc
                raise TemporaryError(str(exc)) from exc
            for item in page.get("value", []):
                remote_id = str(item.get("id", ""))
                if not remote_id:
                    continue
                items.pop(remote_id, None)
                if "@removed" in item:
                    items[remote_id] = False
                    summaries.pop(remote_id, None)
                    continue
                items[remote_id] = True
                if is_full(item):
                    summaries[remote_id] = summary(item)
            if next_link := page.get("@odata.nextLink"):
                link = str(next_link)
                continue
            delta_link = page.get("@odata.deltaLink")
            if not delta_link:
                raise TemporaryError("a delta page had neither a nextLink nor a deltaLink")
            return DeltaResult(
                new=[r for r, present in items.items() if present],
                vanished=[r for r, present in items.items() if not present],
                delta_link=str(delta_link),
                summaries=summaries,
            )

    async def changes(self, folder: Folder, cursor: dict[str, Any] | None) -> Changes:
        start = str(cursor["delta_link"]) if cursor and cursor.get("delta_link") else None
        polled = self._polled.pop(folder.name, None)
        if start is not None and polled is not None and polled[0] == start:
            result = polled[1]
        else:
            result = await self._delta(start or self._first_link(folder))
        self._summaries[folder.name] = result.summaries
        self._links[folder.name] = result.delta_link
        return Changes(
            new=result.new,
            cursor={"delta_link": result.delta_link},
            vanished=result.vanished,
            changed=result.new if start is not None else [],
        )

    # ------------------------------------------------------------ headers

    async def fetch_headers(self, folder: Folder, remote_ids: list[str]) -> list[HeaderItem]:
        known = self._summaries.setdefault(folder.name, {})
        missing = [r for r in remote_ids if r not in known]
        if missing:  # listed as partial updates only: look them up, 20 to a $batch
            answers = await self.client.batch(
                {r: f"me/messages/{_quote(r)}?{QUERY}" for r in missing}
            )
            for remote_id, answer in answers.items():
                if answer.status == 200 and isinstance(answer.body, dict):
                    known[remote_id] = summary(answer.body)
        items = []
        for remote_id in remote_ids:
            found = known.pop(remote_id, None)
            if found is None:
                continue
            items.append(
                HeaderItem(
                    remote_id,
                    found.raw_header,
                    found.size,
                    ("\\Seen",) if found.read else (),
                    found.conversation_id,
                    found.preview,
                )
            )
        return items

    async def arrival_times(self, folder: Folder, remote_ids: list[str]) -> dict[str, float]:
        times: dict[str, float] = {}
        known = self._summaries.get(folder.name, {})
        for remote_id in remote_ids:
            found = known.get(remote_id)
            if found is not None and found.received is not None:
                times[remote_id] = found.received
        return times

    # ------------------------------------------------------------ bodies

    async def fetch_message(self, folder: Folder, remote_id: str) -> bytes:
        try:
            return await self.client.get_bytes(f"me/messages/{_quote(remote_id)}/$value")
        except GraphHttpError as exc:
            raise PermanentError(f"{folder.name}/{remote_id}: {exc}") from exc

    async def fetch_messages(
        self, folder: Folder, remote_ids: list[str]
    ) -> dict[str, bytes | BackendError]:
        answers = await self.client.batch(
            {r: f"me/messages/{_quote(r)}/$value" for r in remote_ids}
        )
        found: dict[str, bytes | BackendError] = {}
        for remote_id in remote_ids:
            answer = answers.get(remote_id)
            if answer is not None and answer.status == 200 and isinstance(answer.body, bytes):
                found[remote_id] = answer.body
            else:
                status = answer.status if answer is not None else "no answer"
                found[remote_id] = PermanentError(f"{folder.name}/{remote_id}: {status}")
        return found

    # ------------------------------------------------------------ waiting

    async def poll(self) -> bool:
        """Ask every due folder's delta link for changes now; True if any came."""
        self._polls += 1
        every = self._polls % OTHER_FOLDERS_EVERY == 0
        changed = False
        for name, link in list(self._links.items()):
            role = self._folders.get(name, ("", "other"))[1]
            if role == "other" and not every:
                continue
            try:
                result = await self._delta(link)
            except CursorInvalid:
                return True  # the round resyncs the folder
            if result.new or result.vanished:
                self._polled[name] = (link, result)
                changed = True
        return changed

    async def wait_for_changes(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            pause = self.poll_interval * random.uniform(0.8, 1.2)
            left = deadline - time.monotonic()
            if left <= pause:
                await asyncio.sleep(max(left, 0.0))
                return False
            await asyncio.sleep(pause)
            if await self.poll():
                return True

    async def close(self) -> None:
        await self.client.close()
