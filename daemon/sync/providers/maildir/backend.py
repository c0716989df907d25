"""The Maildir backend: a local Maildir as mbsync, offlineimap or notmuch keep it.

Folders: the root (or `INBOX/`) is the inbox; Maildir++ subfolders (`.Sent`,
`.Customers.ACME`) and plain ones (`Sent/`, nested `Customers/ACME/`) each with
`cur/ new/ tmp/`, listed again at every round (a new folder is synced without a
restart; the watcher also watches the folder tree for new directories). A message's remote id is
its file name up to the `:2,` info suffix, stable while the file moves from
`new/` to `cur/` or changes flags. Changes are watched by `watch.py`
(inotify on the event loop; polling where inotify is unavailable or with
LOGGBOK_MAILDIR_POLL=1).
All file access runs on worker threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from loggbok.daemon.mime.headers import BODY_SAMPLE_READ, split_header_block
from loggbok.daemon.sync.backend import (
    SENT_NAMES,
    Backend,
    BackendError,
    Changes,
    Folder,
    FolderRole,
    FolderUnavailable,
    HeaderItem,
    PermanentError,
    TemporaryError,
)
from loggbok.daemon.sync.folder_choice import role_by_name
from loggbok.daemon.sync.mutf7 import decode_mutf7
from loggbok.daemon.sync.providers.maildir import watch as maildir_watch

log = logging.getLogger(__name__)

_HEAD_READ = 256 * 1024
HEADER_CAP = 1024 * 1024
"""The most of a file read for its header block: a longer one is cut here (a file
without a blank line after its headers is otherwise read, and was once searched
again from the start, to its end)."""


def remote_id_of(file_name: str) -> str:
    return as_text(file_name.split(":", 1)[0].split("!", 1)[0])


def delivery_time(remote_id: str) -> float | None:
    """The delivery time a Maildir name starts with (seconds, as MDAs write it)."""
    head = remote_id.partition(".")[0]
    return float(head) if head.isascii() and head.isdigit() and 9 <= len(head) <= 11 else None


def as_text(name: str) -> str:
    """A file or folder name as valid UTF-8 text, for the store: bytes that are not
    UTF-8 (which Python keeps as surrogates) become `\\xNN`. Names are only keys into
    the backend's own listing, never turned back into paths."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _is_maildir(path: Path) -> bool:
    return (path / "cur").is_dir() and (path / "new").is_dir()


MAX_DEPTH = 6
"""Levels of plain nested folders (`Customers/ACME/` with its own `cur/ new/`) looked
into; Maildir++ keeps every level in one name (`.Customers.ACME`)."""


def display_path(name: str) -> str:
    """A folder's name as the user reads it, "/" between levels: `.Customers.ACME`
    (Maildir++) is "Customers/ACME"; names in modified UTF-7 (Dovecot's) are decoded."""
    if name.startswith("."):
        name = name[1:].replace(".", "/")
    return decode_mutf7(name)


def _role(name: str) -> FolderRole:
    if name == "INBOX":
        return "inbox"
    cleaned = display_path(name).lower()
    last = cleaned.rsplit("/", 1)[-1]
    if cleaned in SENT_NAMES or last in SENT_NAMES:
        return "sent"
    return role_by_name(cleaned) or "other"


def scan_folders(root: Path) -> dict[str, Path]:
    return scan_tree(root)[0]


def scan_tree(root: Path) -> tuple[dict[str, Path], list[Path]]:
    """The folders by name, and the directories to watch for folders that come and go
    (the root and every directory that holds or may become a folder)."""
    if not root.is_dir():
        raise TemporaryError(f"Maildir {root} does not exist or is not a folder")
    found: dict[str, Path] = {}
    tree = [root]
    if _is_maildir(root):
        found["INBOX"] = root
    elif _is_maildir(root / "INBOX"):
        found["INBOX"] = root / "INBOX"
    for child in _subdirs(root):
        if child.name == "INBOX":
            tree.append(child)
            _scan_plain(child, "INBOX/", found, tree, 1)
            continue
        tree.append(child)
        if _is_maildir(child):
            found[as_text(child.name)] = child
        if not child.name.startswith("."):
            _scan_plain(child, as_text(child.name) + "/", found, tree, 1)
    return found, tree


def _subdirs(path: Path) -> list[Path]:
    try:
        children = sorted(path.iterdir())
    except OSError:
        return []
    return [c for c in children if c.name not in ("cur", "new", "tmp") and _is_dir(c)]


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


def _scan_plain(
    parent: Path, prefix: str, found: dict[str, Path], tree: list[Path], depth: int
) -> None:
    """Plain nested folders below `parent` (mbsync's `SubFolders Verbatim`)."""
    if depth >= MAX_DEPTH:
        return
    for child in _subdirs(parent):
        if child.name.startswith("."):
            continue
        tree.append(child)
        name = prefix + as_text(child.name)
        if _is_maildir(child):
            found[name] = child
        _scan_plain(child, name + "/", found, tree, depth + 1)


def _path_if_other(name: str) -> str:
    path = display_path(name)
    return "" if path == name else path


def _list_files(path: Path) -> dict[str, Path]:
    files: dict[str, Path] = {}
    for sub in ("new", "cur"):
        with contextlib.suppress(FileNotFoundError), os.scandir(path / sub) as entries:
            for entry in entries:
                if not entry.name.startswith(".") and entry.is_file():
                    files[remote_id_of(entry.name)] = Path(entry.path)
    return files


@dataclass(frozen=True, slots=True)
class Head:
    """A message file's header block as `read_head` found it."""

    header: bytes
    size: int
    """The file's size."""
    scanned: int
    """Bytes searched for the blank line (the work done: at most `HEADER_CAP` and a read)."""
    cut: bool
    """No end of the header block within `HEADER_CAP`: `header` is what was read, up
    to its last whole line."""


def _blank_line(data: bytearray, start: int) -> bool:
    """A blank line (LF or CRLF) starts at or after `start`, or the data opens with one."""
    return (
        data.find(b"\n\n", start) >= 0
        or data.find(b"\n\r\n", start) >= 0
        or data.startswith((b"\n", b"\r\n"))
    )


def read_head(path: Path) -> Head:
    """The header block of a message file, read in pieces until a blank line.

    Each piece is searched once (with a 3-byte overlap for a blank line split
    between pieces), so the work is linear; a header block longer than
    `HEADER_CAP` is cut there (`cut`) and the message is kept with what was read.
    """
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        data = bytearray()
        scanned = 0
        ended = False
        while len(data) < HEADER_CAP and not ended:
            more = handle.read(min(_HEAD_READ, HEADER_CAP - len(data)))
            if not more:
                break
            start = max(0, len(data) - 3)
            data += more
            scanned += len(data) - start
            ended = _blank_line(data, start)
    header, _ = split_header_block(bytes(data))
    whole_lines = data.rfind(b"\n") + 1
    if ended or len(data) >= size or len(header) < whole_lines:
        return Head(header, size, scanned, False)
    # Header lines up to the cap and more in the file: keep the whole lines read.
    return Head(bytes(data[:whole_lines]), size, scanned, True)


def read_body_start(path: Path) -> bytes:
    """The first `BODY_SAMPLE_READ` bytes after a file's header block (as `read_head`
    finds it, so after the cut of a cut one)."""
    head = read_head(path)
    with open(path, "rb") as handle:
        handle.seek(len(head.header))
        return handle.read(BODY_SAMPLE_READ)


class MaildirBackend(Backend):
    def __init__(self, root: Path, *, force_polling: bool | None = None) -> None:
        self.root = root
        self._folders: dict[str, Path] = {}
        self._tree: list[Path] = []
        self._files: dict[str, dict[str, Path]] = {}
        self._force_polling = (
            os.environ.get("LOGGBOK_MAILDIR_POLL") == "1"
            if force_polling is None
            else force_polling
        )
        self._changed = asyncio.Event()
        self._stop = asyncio.Event()
        self._watcher: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        await self._scan()

    async def _scan(self) -> None:
        """List the folders again; watch the new set when it changed."""
        folders, tree = await asyncio.to_thread(scan_tree, self.root)
        before = (set(self._folders.values()), set(self._tree))
        changed = (set(folders.values()), set(tree)) != before
        self._folders, self._tree = folders, tree
        if self._watcher is not None and changed:
            await self._stop_watching()
        if self._watcher is None:
            self._stop = asyncio.Event()
            self._watcher = asyncio.create_task(self._watch(), name=f"maildir-watch:{self.root}")
            await asyncio.sleep(0)  # its watches are in place before the folders are listed
            # A folder half made while the watches were set up (`new/` made before its
            # watch existed) is seen by looking again: the next round takes it.
            again = await asyncio.to_thread(scan_tree, self.root)
            if (set(again[0].values()), set(again[1])) != (set(folders.values()), set(tree)):
                self._changed.set()

    async def folders(self) -> list[Folder]:
        """Every round lists the folders again: one created meanwhile is synced."""
        await self._scan()
        return [Folder(name, _role(name), _path_if_other(name)) for name in self._folders]

    async def changes(self, folder: Folder, cursor: dict[str, Any] | None) -> Changes:
        path = self._folders.get(folder.name)
        if path is None:
            raise FolderUnavailable(f"folder {folder.name} disappeared")
        files = await asyncio.to_thread(_list_files, path)
        self._files[folder.name] = files
        return Changes(new=sorted(files), cursor={"files": len(files)}, complete=True)

    async def arrival_times(self, folder: Folder, remote_ids: list[str]) -> dict[str, float]:
        """A Maildir file's name starts with its delivery time (`1700000000.M…`);
        where it does not, the file's modification time stands in."""
        files = self._files.get(folder.name, {})

        def read() -> dict[str, float]:
            times: dict[str, float] = {}
            for remote_id in remote_ids:
                stamp = delivery_time(remote_id)
                if stamp is None and (path := files.get(remote_id)) is not None:
                    with contextlib.suppress(OSError):
                        stamp = path.stat().st_mtime
                if stamp is not None:
                    times[remote_id] = stamp
            return times

        return await asyncio.to_thread(read)

    def _path(self, folder: Folder, remote_id: str) -> Path | None:
        found = self._files.get(folder.name, {}).get(remote_id)
        if found is not None and found.exists():
            return found
        path = self._folders.get(folder.name)
        if path is None:
            return None
        self._files[folder.name] = _list_files(path)
        return self._files[folder.name].get(remote_id)

    async def fetch_headers(self, folder: Folder, remote_ids: list[str]) -> list[HeaderItem]:
        def read_all() -> list[HeaderItem]:
            items = []
            for remote_id in remote_ids:
                path = self._path(folder, remote_id)
                if path is None:
                    continue
                try:
                    head = read_head(path)
                except FileNotFoundError:
                    continue
                if head.cut:
                    log.warning(
                        "%s: no end of the header block in its first %d bytes; cut there",
                        path,
                        HEADER_CAP,
                    )
                flags = path.name.partition(":2,")[2]
                items.append(HeaderItem(remote_id, head.header, head.size, tuple(flags)))
            return items

        return await asyncio.to_thread(read_all)

    async def body_starts(self, folder: Folder, remote_ids: list[str]) -> dict[str, bytes]:
        def read_all() -> dict[str, bytes]:
            found: dict[str, bytes] = {}
            for remote_id in remote_ids:
                path = self._path(folder, remote_id)
                if path is None:
                    continue
                with contextlib.suppress(FileNotFoundError):
                    found[remote_id] = read_body_start(path)
            return found

        return await asyncio.to_thread(read_all)

    async def fetch_message(self, folder: Folder, remote_id: str) -> bytes:
        def read() -> bytes:
            path = self._path(folder, remote_id)
            if path is None:
                raise PermanentError(f"{folder.name}/{remote_id} is gone")
            try:
                return path.read_bytes()
            except OSError as exc:
                raise PermanentError(f"{folder.name}/{remote_id}: {exc}") from exc

        return await asyncio.to_thread(read)

    async def open_message(self, folder: Folder, remote_id: str, spool: Path) -> BinaryIO:
        """The message's own file, read where it lies (it may move from new/ to cur/
        meanwhile: an open file follows it)."""

        def open_file() -> BinaryIO:
            for _ in range(2):
                path = self._path(folder, remote_id)
                if path is None:
                    break
                try:
                    return open(path, "rb")
                except FileNotFoundError:
                    continue  # renamed between the listing and the open: look again
                except OSError as exc:
                    raise PermanentError(f"{folder.name}/{remote_id}: {exc}") from exc
            raise PermanentError(f"{folder.name}/{remote_id} is gone")

        return await asyncio.to_thread(open_file)

    async def fetch_messages(
        self, folder: Folder, remote_ids: list[str]
    ) -> dict[str, bytes | BackendError]:
        def read_all() -> dict[str, bytes | BackendError]:
            found: dict[str, bytes | BackendError] = {}
            for remote_id in remote_ids:
                path = self._path(folder, remote_id)
                try:
                    if path is None:
                        raise FileNotFoundError(remote_id)
                    found[remote_id] = path.read_bytes()
                except OSError as exc:
                    found[remote_id] = PermanentError(f"{folder.name}/{remote_id}: {exc}")
            return found

        return await asyncio.to_thread(read_all)

    async def _watch(self) -> None:
        paths = [p / sub for p in self._folders.values() for sub in ("new", "cur")]
        await maildir_watch.watch(
            paths, self._changed, self._stop, force_polling=self._force_polling, trees=self._tree
        )

    async def _stop_watching(self) -> None:
        self._stop.set()
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._watcher
            self._watcher = None

    async def wait_for_changes(self, timeout: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)
        changed = self._changed.is_set()
        self._changed.clear()
        return changed

    async def close(self) -> None:
        await self._stop_watching()
