"""One progress bar per mailbox on the Mailboxes screen, named by the mailbox and
counting the round's messages, that never moves back while the daemon's
per-folder counts start again (real daemon, a Maildir of 3,000 messages)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.widgets import Label, ProgressBar

from bench.imap_corpus import ME, build_corpus
from loggbok.protocol import methods
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from loggbok.tui.app import build_app
from loggbok.tui.screens.mailboxes import MailboxesScreen
from loggbok.tui.widgets.sync_bars import MailboxBar
from tests.conftest import DaemonProcess
from tests.support.mail import seed_dated_maildir

from .conftest import screen_of, until


async def test_one_bar_per_mailbox_only_moves_forward(
    daemon: DaemonProcess, client: Client, workdir: Path
) -> None:
    corpus = await asyncio.to_thread(build_corpus, 3000)
    maildir = await asyncio.to_thread(
        seed_dated_maildir, workdir / "Maildir", corpus.inbox, corpus.sent
    )
    app = build_app(daemon.socket)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.2)
        await app.switch_mode("mailboxes")
        screen = await screen_of(app, MailboxesScreen)
        await client.call(methods.MAILBOXES_ADD, t.MaildirAddParams(path=str(maildir), address=ME))
        samples: list[tuple[str, float]] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 120
        while loop.time() < deadline:
            bars = list(screen.query(MailboxBar))
            assert len(bars) <= 1
            if bars and bars[0].query(".sync-bar-label"):
                label = str(bars[0].query_one(".sync-bar-label", Label).render())
                samples.append((label, bars[0].query_one(ProgressBar).progress))
            elif samples:
                break
            await asyncio.sleep(0.01)
        assert samples, "no bar was shown"
        assert all(label.startswith(f"{ME}: ") for label, _ in samples), [
            s for s in samples if not s[0].startswith(f"{ME}: ")
        ]
        assert all(label.endswith("of 3,000 new messages") for label, _ in samples)
        progress = [p for _, p in samples]
        assert progress == sorted(progress)
        await until(lambda: screen.mailboxes and screen.mailboxes[0].status == "idle", 60)
