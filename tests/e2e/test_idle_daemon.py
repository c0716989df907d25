"""An idle daemon wakes for nothing: with its Maildir mailbox synced and watched,
and a client connected, its threads sleep until something happens.

Counted, not timed: the voluntary context switches of all its threads over a
quiet spell (each wake-up of a sleeping thread is one). The Maildir watcher used
to wake every 20 ms (watchfiles' polling step), about 250 times in 5 s; the
inotify descriptor read by the event loop wakes it only for a change.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from loggbok.protocol import types as t
from tests.support.daemons import synced_daemon
from tests.support.mail import deliver, make_maildir, make_message

QUIET_SECONDS = 5.0
ALLOWED_WAKEUPS = 25


def _wakeups(pid: int) -> int:
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            status = (task / "status").read_text()
        except OSError:  # a thread that just ended
            continue
        for line in status.splitlines():
            if line.startswith("voluntary_ctxt_switches:"):
                total += int(line.split()[1])
    return total


@pytest.mark.skipif(
    os.environ.get("LOGGBOK_MAILDIR_POLL") == "1", reason="polling was asked for: it wakes"
)
async def test_an_idle_daemon_sleeps_until_mail_arrives(workdir: Path) -> None:
    maildir = make_maildir(workdir / "Maildir")
    settings = t.SettingsSetParams(logging_mode="all_with_contacts")
    async with synced_daemon(workdir, maildir, settings, ("anna@kund.example",)) as (
        client,
        _,
        _,
        daemon,
    ):
        await asyncio.sleep(1.0)  # the worker is back in its wait
        assert daemon.process is not None
        before = _wakeups(daemon.process.pid)
        await asyncio.sleep(QUIET_SECONDS)
        woke = _wakeups(daemon.process.pid) - before
        assert woke < ALLOWED_WAKEUPS, f"{woke} wake-ups in {QUIET_SECONDS} s of quiet"
        appended = asyncio.get_running_loop().create_future()
        client.subscribe(
            lambda name, params: (
                name == "timeline.appended" and not appended.done() and appended.set_result(params)
            )
        )
        deliver(
            maildir,
            make_message("anna@kund.example", ["me@firma.example"], "Hej", "<wake@kund>"),
        )
        entry = await asyncio.wait_for(appended, 30)
        assert entry.entry.message_id == "<wake@kund>"
