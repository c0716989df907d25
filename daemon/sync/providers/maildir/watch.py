"""Noticing changes in a Maildir's folders, for `MaildirBackend.wait_for_changes`.

On Linux, an inotify descriptor read by the event loop itself (asyncinotify): an
idle daemon wakes for nothing, and a delivery is seen as soon as its file is
complete (renamed into `new/`, or closed after writing by a program that writes
in place). Elsewhere, or with LOGGBOK_MAILDIR_POLL=1, watchfiles polls.
"""

from __future__ import annotations

import asyncio
import logging
import sys
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


def inotify_available() -> bool:
    return sys.platform.startswith("linux") and Inotify is not None


async def watch(
    paths: list[Path], changed: asyncio.Event, stop: asyncio.Event, *, force_polling: bool
) -> None:
    """Set `changed` whenever something under `paths` changes, until cancelled (or,
    when polling, until `stop` is set: the poller's thread ends at its next step)."""
    if force_polling or not inotify_available():
        await _poll(paths, changed, stop, force_polling=force_polling)
        return
    try:
        inotify = Inotify()
    except OSError as exc:  # e.g. fs.inotify.max_user_instances reached
        log.warning("cannot use inotify (%s); polling the Maildir instead", exc)
        await _poll(paths, changed, stop, force_polling=True)
        return
    with inotify:
        for path in paths:
            try:
                inotify.add_watch(path, _MASK)
            except FileNotFoundError:  # removed since the scan: the next round sees it
                continue
            except OSError as exc:  # e.g. fs.inotify.max_user_watches reached
                log.warning("cannot watch %s with inotify (%s); polling instead", path, exc)
                break
        else:
            async for _event in inotify:
                changed.set()
            return
    await _poll(paths, changed, stop, force_polling=True)


async def _poll(
    paths: list[Path], changed: asyncio.Event, stop: asyncio.Event, *, force_polling: bool
) -> None:
    async for _ in awatch(
        *paths,
        stop_event=stop,
        force_polling=force_polling,
        poll_delay_ms=POLL_DELAY_MS,
        debounce=50,
        step=20,
        ignore_permission_denied=True,
    ):
        changed.set()
