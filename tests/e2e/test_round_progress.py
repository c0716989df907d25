"""What a client needs for one progress bar per mailbox and a status line:
`sync.progress` carries the round's own done/total, which only grows while the
per-folder counts start again; a mailbox that fails says when it is tried next
(`retry_at`), in the notification and in `mailboxes.list`."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

import pytest

from bench.imap_corpus import ME, build_corpus
from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.errors import RpcError
from tests.conftest import DaemonProcess
from tests.support.mail import make_maildir, seed_dated_maildir


async def test_round_progress_only_grows(workdir: Path) -> None:
    corpus = await asyncio.to_thread(build_corpus, 1500)
    maildir = await asyncio.to_thread(
        seed_dated_maildir, workdir / "Maildir", corpus.inbox, corpus.sent
    )
    (workdir / "data").mkdir()
    daemon = DaemonProcess(workdir / "d.sock", workdir / "data", env={"LOGGBOK_NO_KEYRING": "1"})
    daemon.start()
    try:
        client = await daemon.client()
        seen: list[t.SyncProgress] = []
        client.subscribe(
            lambda name, params: seen.append(params) if isinstance(params, t.SyncProgress) else None
        )
        await client.call(m.SETTINGS_SET, t.SettingsSetParams(own_addresses=[ME]))
        added = await client.call(
            m.MAILBOXES_ADD, t.MaildirAddParams(path=str(maildir), address=ME)
        )
        await client.call(m.MAILBOXES_SYNC, t.IdParams(id=added.id))
        await client.close()
    finally:
        daemon.stop()
    first = [p for p in seen if p.round_total == 1500]
    assert first, [(p.phase, p.done, p.total) for p in seen]
    # the per-folder counts start again (two folders, then the decide phase) ...
    assert any(b.done < a.done for a, b in pairwise(first))
    # ... the round's own count never does, and ends at its total
    dones = [p.round_done for p in first]
    assert dones == sorted(dones)
    assert dones[-1] == 1500


async def test_a_failing_mailbox_says_when_it_is_tried_again(workdir: Path) -> None:
    maildir = make_maildir(workdir / "Maildir", ".Sent")
    (workdir / "data").mkdir()
    daemon = DaemonProcess(workdir / "d.sock", workdir / "data", env={"LOGGBOK_NO_KEYRING": "1"})
    daemon.start()
    try:
        client = await daemon.client()
        added = await client.call(
            m.MAILBOXES_ADD, t.MaildirAddParams(path=str(maildir), address=ME)
        )
        await client.call(m.MAILBOXES_SYNC, t.IdParams(id=added.id))
        retrying: asyncio.Queue[t.MailboxStatusChanged] = asyncio.Queue()
        client.subscribe(
            lambda name, params: (
                retrying.put_nowait(params)
                if isinstance(params, t.MailboxStatusChanged) and params.retry_at
                else None
            )
        )
        maildir.rename(workdir / "gone")
        with pytest.raises(RpcError):
            await client.call(m.MAILBOXES_SYNC, t.IdParams(id=added.id))
        changed = await asyncio.wait_for(retrying.get(), 30)
        assert changed.status == "disconnected"
        assert changed.retry_at is not None
        assert datetime.fromisoformat(changed.retry_at) > datetime(2020, 1, 1, tzinfo=UTC)
        [box] = (await client.call(m.MAILBOXES_LIST)).mailboxes
        assert box.status == "disconnected"
        assert box.retry_at is not None
        (workdir / "gone").rename(maildir)
        await client.call(m.MAILBOXES_RECONNECT, t.MailboxReconnectParams(id=added.id))
        await client.call(m.MAILBOXES_SYNC, t.IdParams(id=added.id))
        [box] = (await client.call(m.MAILBOXES_LIST)).mailboxes
        assert (box.status, box.retry_at) == ("idle", None)
        await client.close()
    finally:
        daemon.stop()
