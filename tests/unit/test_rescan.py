"""R11's re-fetch of attachments a scanner's placeholder stands in for, in process on a
real store and a real Maildir, with an injected clock (nothing sleeps):

- the back-off schedule itself (1, 2, 5, 10, 30 min, hourly, given up after a day);
- nothing is fetched before it is due; an attempt that finds the placeholder still
  there moves the next one out; a restart (a new store object on the same file)
  goes on from the persisted attempts; the real file replaces the placeholder;
- a day without the real file: the attachment is `missing`;
- a new copy under a new remote id, or the backend reporting the same remote id
  changed in place (`Changes.changed`, what Graph's delta gives), is tried at once.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from loggbok.daemon.store.rescans import Rescan
from loggbok.daemon.store.store import Store
from loggbok.daemon.sync.backend import Changes, Folder
from loggbok.daemon.sync.engine import SyncRound
from loggbok.daemon.sync.providers.maildir.backend import MaildirBackend
from loggbok.daemon.sync.rescan import Backoff, Rescanner
from loggbok.protocol import types as t
from tests.support.mail import deliver, make_maildir
from tests.support.placeholders import PDF, dynamic_delivery

ANNA = "anna@kund.example"
ME = "me@firma.example"


def contract(message_id: str, *, scanned: bool) -> bytes:
    return dynamic_delivery(message_id, scanned=scanned, sender=f"Anna <{ANNA}>", to=ME)


@dataclass
class Heard:
    changes: list[t.MessageChanged] = field(default_factory=list)

    async def __call__(self, name: str, params: Any) -> None:
        if name == "message.changed":
            self.changes.append(params)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class Setup:
    store: Store
    mailbox_id: int
    maildir: Path
    backend: MaildirBackend
    heard: Heard

    async def sync(self, backend: MaildirBackend | None = None) -> t.SyncResult:
        row = await self.store.mailboxes.get_row(self.mailbox_id)
        return await SyncRound(self.store, row, backend or self.backend, self.heard).run()

    def rescanner(self, clock: Clock, backoff: Backoff | None = None) -> Rescanner:
        return Rescanner(
            self.store, self.mailbox_id, self.backend, self.heard, backoff or Backoff(), clock
        )

    async def message(self, message_id: str) -> t.Message:
        return await self.store.messages.get(
            await self.store.messages.resolve(None, message_id, 1), 1
        )

    async def first_at(self, message_id: str) -> float:
        row = await self.store.rescans.get(await self.store.messages.resolve(None, message_id, 1))
        assert row is not None
        return float(row["first_at"])


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    maildir = make_maildir(tmp_path / "Maildir")
    (tmp_path / "data").mkdir()
    store = await Store.open(tmp_path / "data")
    await store.contacts.create(ANNA, "Anna")
    await store.settings.update(t.SettingsSetParams(logging_mode="all_with_contacts"))
    mailbox_id = await store.mailboxes.add("maildir", ME, {"path": str(maildir)})
    backend = MaildirBackend(maildir)
    await backend.connect()
    try:
        yield Setup(store, mailbox_id, maildir, backend, Heard())
    finally:
        await backend.close()
        await store.close()


def test_the_back_off_schedule() -> None:
    backoff = Backoff()
    rescan = Rescan(1, first_at=0.0, attempts=0, next_at=None, placeholders=("x",))
    attempts = []
    while True:
        now = backoff.due(rescan)
        attempts.append(now)
        next_at = backoff.after_attempt(rescan, now)
        if next_at is None:
            break
        rescan = Rescan(1, 0.0, rescan.attempts + 1, next_at, ("x",))
    minutes = [a / 60 for a in attempts]
    assert minutes[:6] == [1, 3, 8, 18, 48, 108]  # 1, 2, 5, 10, 30 min, then hourly
    gaps = [b - a for a, b in itertools.pairwise(minutes)]
    assert gaps == [2, 5, 10, 30, 60, *[60] * 22, 12]
    assert attempts[-1] == 24 * 3600  # the last on the day's end, then given up


def test_the_schedule_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGGBOK_RESCAN_BACKOFF", "0.5,1")
    monkeypatch.setenv("LOGGBOK_RESCAN_GIVE_UP", "30")
    backoff = Backoff.from_env()
    assert (backoff.delay(0), backoff.delay(1), backoff.delay(7)) == (0.5, 1.0, 1.0)
    assert backoff.give_up_after == 30
    monkeypatch.setenv("LOGGBOK_RESCAN_BACKOFF", "soon")
    assert Backoff.from_env() == Backoff()


async def test_fetched_again_by_the_schedule_until_the_real_file_is_in(
    setup: Setup, tmp_path: Path
) -> None:
    path = deliver(setup.maildir, contract("<dd1@kund.example>", scanned=False))
    result = await setup.sync()
    assert result.logged == 1
    message = await setup.message("<dd1@kund.example>")
    assert [(a.filename, a.status) for a in message.attachments] == [
        ("ATP Scan In Progress.eml", "pending_scan")
    ]
    t0 = await setup.first_at("<dd1@kund.example>")
    clock = Clock(t0 + 59)
    assert await setup.rescanner(clock).run_due() == 0
    row = await setup.store.rescans.get(message.id)
    assert row is not None and row["attempts"] == 0  # not due: nothing fetched

    clock.now = t0 + 61  # the first attempt: still the placeholder
    assert await setup.rescanner(clock).run_due() == 0
    row = await setup.store.rescans.get(message.id)
    assert row is not None and (row["attempts"], row["next_at"]) == (1, t0 + 61 + 120)
    assert row["last_error"] == "the attachments are still the scanner's placeholders"
    explained = await setup.store.messages.explain(message.id, 1)
    assert explained.evidence.details["scan_attempts"] == "1"
    assert explained.evidence.details["atp_message_properties"] == "SA|SL"
    assert "placeholder (ATP Scan In Progress.eml" in explained.summary

    # A restart: a new store on the same file goes on from what was persisted.
    await setup.store.close()
    setup.store = await Store.open(tmp_path / "data")
    path.write_bytes(contract("<dd1@kund.example>", scanned=True))  # same item, new content
    clock.now = t0 + 61 + 119
    assert await setup.rescanner(clock).run_due() == 0
    clock.now = t0 + 61 + 120
    assert await setup.rescanner(clock).run_due() == 1

    message = await setup.message("<dd1@kund.example>")
    digest = hashlib.sha256(PDF).hexdigest()
    assert [(a.filename, a.status, a.sha256) for a in message.attachments] == [
        ("contract.pdf", "stored", digest)
    ]
    assert await setup.store.db.read_blob(digest) == (len(PDF), PDF)
    assert [(c.id, c.change) for c in setup.heard.changes] == [(message.id, "attachments_scanned")]
    assert setup.heard.changes[0].contact_ids == message.contact_ids != []
    row = await setup.store.rescans.get(message.id)
    assert row is not None and (row["state"], row["attempts"]) == ("replaced", 2)
    explained = await setup.store.messages.explain(message.id, 1)
    assert explained.evidence.details["scan_replaced_at"]
    assert "the real file replaced it at" in explained.summary
    assert explained.reason == "contact_email"  # the decision itself is unchanged
    clock.now += 3600
    assert await setup.rescanner(clock).run_due() == 0  # settled: never fetched again


async def test_given_up_after_a_day(setup: Setup) -> None:
    deliver(setup.maildir, contract("<dd2@kund.example>", scanned=False))
    await setup.sync()
    t0 = await setup.first_at("<dd2@kund.example>")
    clock = Clock(t0 + 3 * 3600)  # the daemon was away: one attempt, not a backlog
    assert await setup.rescanner(clock).run_due() == 0
    clock.now = t0 + 24 * 3600
    assert await setup.rescanner(clock).run_due() == 1
    message = await setup.message("<dd2@kund.example>")
    assert [a.status for a in message.attachments] == ["missing"]
    assert [c.change for c in setup.heard.changes] == ["scan_gave_up"]
    explained = await setup.store.messages.explain(message.id, 1)
    assert explained.evidence.details["scan_state"] == "gave_up"
    assert "no real file came in time" in explained.summary


async def test_a_new_copy_under_a_new_remote_id_is_tried_at_once(setup: Setup) -> None:
    placeholder = deliver(setup.maildir, contract("<dd3@kund.example>", scanned=False))
    await setup.sync()
    placeholder.unlink()
    deliver(setup.maildir, contract("<dd3@kund.example>", scanned=True))
    result = await setup.sync()  # the real clock: the back-off's first step is a minute
    assert (result.new, result.logged) == (0, 0)  # the same message, not another
    message = await setup.message("<dd3@kund.example>")
    assert [a.status for a in message.attachments] == ["stored"]
    assert [c.change for c in setup.heard.changes] == ["attachments_scanned"]
    timeline = await setup.store.timeline.page(message.contact_ids[0], 50, None, 1)
    assert [e.id for e in timeline.entries] == [message.id]


class ReportsChanged(MaildirBackend):
    """A source that says which items changed in place (as Graph's delta does)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.changed: list[str] = []

    async def changes(self, folder: Folder, cursor: dict[str, Any] | None) -> Changes:
        found = await super().changes(folder, cursor)
        found.changed = [r for r in self.changed if folder.role == "inbox"]
        return found


async def test_an_item_changed_in_place_is_tried_at_once(setup: Setup) -> None:
    path = deliver(setup.maildir, contract("<dd4@kund.example>", scanned=False))
    await setup.sync()
    path.write_bytes(contract("<dd4@kund.example>", scanned=True))
    backend = ReportsChanged(setup.maildir)
    await backend.connect()
    try:
        await setup.sync(backend)  # no signal: not due yet
        assert [a.status for a in (await setup.message("<dd4@kund.example>")).attachments] == [
            "pending_scan"
        ]
        backend.changed = [path.name.partition(":")[0]]
        await setup.sync(backend)
    finally:
        await backend.close()
    message = await setup.message("<dd4@kund.example>")
    assert [a.status for a in message.attachments] == ["stored"]
