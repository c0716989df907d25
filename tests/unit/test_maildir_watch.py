"""Maildir watching falls back to polling when inotify cannot be had (the
per-user limits on instances and watches are easy to exhaust): a delivery is
still noticed. The failure is injected; the poller and the Maildir are real."""

from __future__ import annotations

import asyncio
import contextlib
import errno
from pathlib import Path

import pytest

from loggbok.daemon.sync.providers.maildir import watch as maildir_watch
from tests.support.mail import deliver, make_maildir, make_message

HANG_GUARD = 30.0


class _Exhausted:
    """Stands in for asyncinotify's Inotify when the kernel refuses."""

    def __init__(self) -> None:
        raise OSError(errno.EMFILE, "Too many open files")


@pytest.mark.parametrize("refused", ["instance", "watch"])
async def test_a_refused_inotify_falls_back_to_polling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, refused: str
) -> None:
    if not maildir_watch.inotify_available():
        pytest.skip("no inotify here: polling is the only path")
    if refused == "instance":
        monkeypatch.setattr(maildir_watch, "Inotify", _Exhausted)
    else:

        def no_space(self: object, path: object, mask: object) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(maildir_watch.Inotify, "add_watch", no_space)
    maildir = make_maildir(tmp_path / "Maildir")
    changed, stop = asyncio.Event(), asyncio.Event()
    watcher = asyncio.ensure_future(
        maildir_watch.watch([maildir / "new", maildir / "cur"], changed, stop, force_polling=False)
    )
    try:
        await asyncio.sleep(0.5)  # the poller has taken its first look
        changed.clear()
        deliver(maildir, make_message("a@b.example", ["me@x.example"], "Hej", "<w@b>"))
        await asyncio.wait_for(changed.wait(), HANG_GUARD)
    finally:
        stop.set()
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
