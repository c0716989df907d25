"""A round with more than `WINDOW` new messages takes them in windows, in arrival
order across the folders, and ends where one window would: the same messages
logged for the same reasons on the same timelines, every message once, the
cursors saved, progress counted over the whole round.

A realistic corpus (`bench/imap_corpus.py`: BCC-tracked threads, replies in
INBOX and Sent, newsletters, changed subjects) in a real Maildir whose file
names carry the delivery time, real SQLite.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path

import pytest

from bench.imap_corpus import BCC, ME, build_corpus
from loggbok.daemon.store.store import Store
from loggbok.daemon.sync import engine
from loggbok.daemon.sync.backend import Folder
from loggbok.daemon.sync.engine import SyncRound
from loggbok.daemon.sync.providers.maildir.backend import MaildirBackend
from loggbok.daemon.sync.windows import FolderWork, windows
from loggbok.protocol import types as t
from loggbok.protocol.types import SyncProgress
from tests.support.mail import seed_dated_maildir


def _work(*new: str) -> FolderWork:
    return FolderWork(Folder("F", "inbox"), None, {}, list(new), total=len(new))  # type: ignore[arg-type]


def _names(parts: list[list[FolderWork]]) -> list[list[list[str]]]:
    return [[w.new for w in part] for part in parts]


def test_windows_follow_arrival_across_folders() -> None:
    inbox, sent = _work("i1", "i2", "i3", "i4"), _work("s1", "s2")
    expected = [[["i1", "i2"], ["s1"]], [["i3", "i4"], ["s2"]]]
    parts = windows([inbox, sent], 3, [{"i1": 1, "i2": 2, "i3": 5, "i4": 6}, {"s1": 3, "s2": 4}])
    assert _names(parts) == expected
    assert [[w.offset for w in part] for part in parts] == [[0, 0], [2, 1]]
    unknown_follow_their_neighbour = [{"i1": 1, "i3": 5}, {"s1": 3, "s2": 4}]
    assert _names(windows([inbox, sent], 3, unknown_follow_their_neighbour)) == expected
    assert _names(windows([inbox, sent], 3, [{}, {}])) == expected  # shares
    assert windows([inbox], 10, [{}]) == [[inbox]]
    assert windows([], 10, []) == [[]]


def _seed(root: Path) -> Path:
    corpus = build_corpus(400)
    return seed_dated_maildir(root / "Maildir", corpus.inbox, corpus.sent)


async def _sync(
    root: Path, maildir: Path, mode: str, *, fresh: bool = True, database: str | None = None
) -> tuple[set[tuple[str, ...]], list[int]]:
    """Sync `maildir` into the store at `root` (or `database`; a new mailbox unless not
    `fresh`); every message's decision and timeline contacts, and the round's progress."""
    store = await Store.open(root, database)
    progress: list[int] = []

    async def note(name: str, params: object) -> None:
        if isinstance(params, SyncProgress) and params.phase == "decide":
            progress.append(params.done)

    backend = MaildirBackend(maildir)
    try:
        await store.settings.update(
            t.SettingsSetParams(bcc_address=BCC, own_addresses=[ME], logging_mode=mode)  # type: ignore[arg-type]
        )
        if fresh:
            mailbox_id = await store.mailboxes.add("maildir", ME, {"path": str(maildir)})
        else:
            mailbox_id = 1
        await backend.connect()
        result = await SyncRound(
            store, await store.mailboxes.get_row(mailbox_id), backend, note
        ).run()
        assert result.new == result.seen == (400 if fresh else 0)
        first_round = list(progress)
        again = SyncRound(store, await store.mailboxes.get_row(mailbox_id), backend, note)
        assert (await again.run()).new == 0
        rows = await store.db.fetchall(
            f"""SELECT m.message_id, m.logged, m.reason, (
                   SELECT {store.db.dialect.joined("email")} FROM (
                       SELECT min(ce.email) AS email FROM timeline_entries e
                       JOIN contact_emails ce ON ce.contact_id = e.contact_id
                       WHERE e.message = m.id GROUP BY e.contact_id ORDER BY 1) x)
               FROM messages m"""
        )
        return {tuple(str(v) for v in r) for r in rows}, first_round
    finally:
        await backend.close()
        await store.close()


@pytest.mark.parametrize("mode", ["replies_only", "all_with_contacts"])
async def test_windows_end_where_one_window_ends(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    mode: str,
    another_database: Callable[[], str | None],
) -> None:
    maildir = _seed(tmp_path)
    (tmp_path / "one").mkdir()
    (tmp_path / "many").mkdir()
    whole, _ = await _sync(tmp_path / "one", maildir, mode, database=another_database())
    monkeypatch.setattr(engine, "WINDOW", 60)
    windowed, progress = await _sync(tmp_path / "many", maildir, mode)
    assert len(whole) == 400
    assert windowed == whole
    assert progress[-1] == 400 and progress == sorted(progress)


async def test_a_round_cut_off_between_windows_resumes_without_loss(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, another_database: Callable[[], str | None]
) -> None:
    """The round is cancelled once some windows are committed (as a crash would cut
    it off); the next round takes the rest, and the store ends as one window ends."""
    maildir = _seed(tmp_path)
    (tmp_path / "one").mkdir()
    whole, _ = await _sync(
        tmp_path / "one", maildir, "all_with_contacts", database=another_database()
    )
    monkeypatch.setattr(engine, "WINDOW", 60)
    (tmp_path / "cut").mkdir()
    store = await Store.open(tmp_path / "cut")
    backend = MaildirBackend(maildir)
    cut = asyncio.Event()

    async def note(name: str, params: object) -> None:
        if isinstance(params, SyncProgress) and params.phase == "decide" and params.done >= 150:
            cut.set()

    try:
        await store.settings.update(
            t.SettingsSetParams(
                bcc_address=BCC, own_addresses=[ME], logging_mode="all_with_contacts"
            )
        )
        mailbox_id = await store.mailboxes.add("maildir", ME, {"path": str(maildir)})
        await backend.connect()
        first = asyncio.ensure_future(
            SyncRound(store, await store.mailboxes.get_row(mailbox_id), backend, note).run()
        )
        await asyncio.wait(
            [first, asyncio.ensure_future(cut.wait())], return_when="FIRST_COMPLETED"
        )
        assert not first.done(), "the round ended before it could be cut off"
        first.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await first
        [row] = await store.db.fetchall("SELECT count(*) FROM messages")
        stored = int(row[0])
        assert 0 < stored < 400
        rest = await SyncRound(
            store, await store.mailboxes.get_row(mailbox_id), backend, note
        ).run()
        assert rest.new == 400 - stored
    finally:
        await backend.close()
        await store.close()
    resumed, _ = await _sync(tmp_path / "cut", maildir, "all_with_contacts", fresh=False)
    assert resumed == whole
