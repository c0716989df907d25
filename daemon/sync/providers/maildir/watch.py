"""Noticing changes in a Maildir's folders, for `MaildirBackend.wait_for_changes`.

On Linux, an inotify descriptor read by the event loop itself (asyncinotify): an
idle daemon wakes for nothing, and a delivery is seen as soon as its file is
complete (renamed into `new/`, or closed after writing by a program that writes
in place). Elsewhere, or with LOGGBOK_MAILDIR_POLL=1, watchfiles polls.

Besides the folders' `new/` and `cur/`, the folder tree (`trees`: the Maildir's
root and the directories that hold or may become folders) is watched for
directories that appear, go or are renamed, so a folder created while the
daemon runs is synced without a restart (the round lists the folders again and
the backend watches the new ones). Files there (Dovecot's index files in the
root, say) wake nothing.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from watchfiles import awatch

try:
    from asyncinotify import Inotify, Mask
except ImportError:  # not Linux: the package imports but cannot work; see below
    Inotify = None  # type: ignore[assignment, misc]

log = logging.getLogger(__name__)

POLL_DELAY_MS = 200

# A file whose content is complete arrived, left, or changed its flags (a rename
# in cur/); the folder itself went away. Not CREATE: a program that writes in
# place would be read half-written.
if Inotify is not None:
    _MASK = (
        Mask.CLOSE_WRITE
        | Mask.MOVED_TO
        | Mask.MOVED_FROM
        | Mask.DELETE
        | Mask.DELETE_SELF
        | Mask.MOVE_SELF
    )
    _TREE_MASK = Mask.CREATE | Mask.MOVED_TO | Mask.MOVED_FROM | Mask.DELETE | Mask.ONLYDIR


def inotify_available() -> bool:
    return sys.platform.startswith("linux") and Inotify is not None


async def watch(
    paths: list[Path],
    changed: asyncio.Event,
    stop: asyncio.Event,
    *,
    force_polling: bool,
    trees: Sequence[Path] = (),
) -> None:
    """Set `changed` whenever something under `paths` changes, or a directory appears
    in, leaves or is renamed in one of `trees`, until cancelled (or, when polling,
    until `stop` is set: the poller's thread ends at its next step)."""
    tree_list = list(trees)
    if force_polling or not inotify_available():
        await _poll(paths, tree_list, changed, stop, force_polling=force_polling)
        return
    try:
        inotify = Inotify()
    except OSError as exc:  # e.g. fs.inotify.max_user_instances reached
        log.warning("cannot use inotify (%s); polling the Maildir instead", exc)
        await _poll(paths, tree_list, changed, stop, force_polling=True)
        return
    with inotify:
        tree_watches = set()
        for path, mask in [*((p, _MASK) for p in paths), *((t, _TREE_MASK) for t in tree_list)]:
            try:
                watch = inotify.add_watch(path, mask)
            except (FileNotFoundError, NotADirectoryError):  # gone since the scan
                continue
            except OSError as exc:  # e.g. fs.inotify.max_user_watches reached
                log.warning("cannot watch %s with inotify (%s); polling instead", path, exc)
                break
            if mask is _TREE_MASK:
                tree_watches.add(id(watch))
        else:
            async for event in inotify:
                if id(event.watch) in tree_watches and not event.mask & Mask.ISDIR:
                    continue  # a file beside the folders (an index, a lock)
                changed.set()
            return
    await _poll(paths, tree_list, changed, stop, force_polling=True)


async def _poll(
    paths: list[Path],
    trees: list[Path],
    changed: asyncio.Event,
    stop: asyncio.Event,
    *,
    force_polling: bool,
) -> None:
    folders = set(trees)

    def wanted(_change: object, path: str) -> bool:
        """Mail in `new/` and `cur/`; in `trees` only directories that come or go."""
        found = Path(path)
        if found.parent.name in ("new", "cur"):
            return True
        if found.parent not in folders or found.name.startswith("dovecot"):
            return False
        return found.is_dir() or not found.exists()

    async for _ in awatch(
        *paths,
        *trees,
        watch_filter=wanted if trees else None,
        stop_event=stop,
        force_polling=force_polling,
        poll_delay_ms=POLL_DELAY_MS,
        debounce=50,
        step=20,
        ignore_permission_denied=True,
    ):
        changed.set()
