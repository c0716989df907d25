"""Builds the store of `bench/scale.py` through loggbok's own write path.

Opens a `Store` in a data dir (or a database URL) exactly as `loggbokd` does (migrations and all),
sets `all_with_contacts` with the 20 members' addresses as the user's own,
imports the 100,000 contacts as the vCard/CSV import does
(`ContactQueries.merge_imported`), adds one mailbox per member (INBOX, Sent),
then feeds the corpus's emails through what a sync round does with them:
header blocks parsed (`mime.headers.parse_headers`), planned and written by
the store's round contract (`store.rounds`: snapshot, `rules.planner`, one
transaction per batch), bodies of the logged ones parsed (`sync.bodies.build_body`)
and written with their search rows (`Round.write_bodies`). Mailboxes are then
marked removed, so the daemon that serves the built store syncs nothing (their
messages, decisions and timelines stay, as after `mailboxes.remove`).

Generation and parsing run in a process pool (the machine's cores), the store's
writes in this process, overlapped.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from bench.scale_corpus import CONTACTS, MEMBERS, ScaleCorpus
from loggbok.daemon.contacts_import import ImportedContact
from loggbok.daemon.mime.headers import HeaderFacts, parse_headers, split_header_block
from loggbok.daemon.rules.planner import Incoming
from loggbok.daemon.store.bodies import StoredBody
from loggbok.daemon.store.store import Store
from loggbok.daemon.sync.bodies import build_body
from loggbok.daemon.sync.engine import rule_settings
from loggbok.protocol.types import SettingsSetParams

CHUNK = 2_000
"""Emails generated and parsed per task; written in batches of one mailbox's folder."""

_corpus: ScaleCorpus | None = None


def _init(logged: int, seed: int) -> None:
    global _corpus
    _corpus = ScaleCorpus(logged, seed)


Parsed = tuple[int, str, str, bytes, HeaderFacts, int, StoredBody | None]
"""(member, folder, remote id, header block, facts, size, body when logged)."""


def _parse_chunk(start: int, stop: int, blobs_dir: str) -> list[Parsed]:
    """Render, parse headers and (for mail that will be logged) bodies: CPU work for a worker."""
    from loggbok.daemon.store.blobs import BlobStore

    assert _corpus is not None
    blobs = BlobStore(Path(blobs_dir))
    out: list[Parsed] = []
    last_ids: dict[int, str] = {}
    for n in range(start, stop):
        member, folder, raw = _corpus.message(n, last_ids)
        block, _ = split_header_block(raw)
        body = build_body(raw, blobs, 50_000_000, 2_000_000) if _corpus.is_logged(n) else None
        out.append((member, folder, str(n + 1), block, parse_headers(block), len(raw), body))
    return out


async def build(
    data_dir: Path, logged: int, seed: int, progress: bool = True, database: str | None = None
) -> dict[str, float]:
    """Build the store in `data_dir` (which must not hold one), or in the empty
    `database` (a URL, as `loggbokd --database`); returns timings."""
    corpus = ScaleCorpus(logged, seed)
    data_dir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240
    started = time.perf_counter()
    store = await Store.open(data_dir, database)
    try:
        await store.settings.update(
            SettingsSetParams(logging_mode="all_with_contacts", own_addresses=corpus.members)
        )
        for start in range(0, CONTACTS, 5_000):
            await store.contacts.merge_imported(
                [
                    ImportedContact(p.name, (p.email,), p.company)
                    for p in corpus.contacts[start : start + 5_000]
                ]
            )
        contacts_done = time.perf_counter()
        settings = await store.settings.get()
        mailboxes: list[int] = []
        folders: list[dict[str, int]] = []
        for k in range(MEMBERS):
            mailbox_id = await store.mailboxes.add("imap", corpus.members[k], {"host": "none"})
            rows = await store.mailboxes.sync_folders(
                mailbox_id, [("INBOX", "inbox"), ("Sent", "sent")]
            )
            mailboxes.append(mailbox_id)
            folders.append({name: row.id for name, row in rows.items()})
        rounds = [
            store.rounds.begin(
                mailboxes[k],
                rule_settings(settings, corpus.members[k], True),
                {fid: name for name, fid in folders[k].items()},
                settings.default_visibility,
            )
            for k in range(MEMBERS)
        ]
        workers = max(1, (os.cpu_count() or 2))
        blobs_dir = str(data_dir / "blobs")
        loop = asyncio.get_running_loop()
        with ProcessPoolExecutor(workers, initializer=_init, initargs=(logged, seed)) as pool:
            starts = list(range(0, corpus.total, CHUNK))
            window: deque[asyncio.Future[list[Parsed]]] = deque()
            done = 0
            while starts or window:
                while starts and len(window) < workers + 1:  # bounded: memory stays flat
                    s = starts.pop(0)
                    window.append(
                        loop.run_in_executor(
                            pool, _parse_chunk, s, min(s + CHUNK, corpus.total), blobs_dir
                        )
                    )
                chunk = await window.popleft()
                await _write_chunk(chunk, rounds, folders)
                done += len(chunk)
                if progress and done % (CHUNK * 25) == 0:
                    rate = done / (time.perf_counter() - contacts_done)
                    print(f"  built {done:,}/{corpus.total:,} ({rate:,.0f}/s)", flush=True)
        for mailbox_id in mailboxes:
            await store.mailboxes.remove(mailbox_id)
    finally:
        await store.close()
    finished = time.perf_counter()
    return {
        "contacts_s": contacts_done - started,
        "messages_s": finished - contacts_done,
        "per_second": corpus.total / (finished - contacts_done),
    }


async def _write_chunk(chunk: list[Parsed], rounds: list, folders: list[dict[str, int]]) -> None:
    by_mailbox: dict[int, list[Parsed]] = {}
    for item in chunk:
        by_mailbox.setdefault(item[0], []).append(item)
    for member, items in by_mailbox.items():
        incoming = [
            Incoming(folders[member][folder], remote, facts, block, size)
            for _, folder, remote, block, facts, size, _ in items
        ]
        bodies = {(folders[member][i[1]], i[2]): i[6] for i in items}
        written = await rounds[member].write(incoming, None)
        parsed: dict[int, StoredBody] = {}
        for planned in written.plan.logged:
            body = bodies.get((planned.incoming.folder_id, planned.incoming.remote_id))
            if body is not None:
                parsed[planned.id] = body
        if parsed:
            await rounds[member].write_bodies(parsed, {}, [], forwards=False)
