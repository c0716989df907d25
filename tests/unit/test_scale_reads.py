"""Reads that stay cheap at scale, against a real store (SQLite and PostgreSQL): a search with many
matches is newest first (relevance only for few), contacts are found by any part of
a name, address or company (SQLite: through the trigram index) whatever wrote them and
however many match, and a read held up on one reader does not hold up others."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from loggbok.daemon.contacts_import import ImportedContact
from loggbok.daemon.mime.headers import parse_headers
from loggbok.daemon.rules.context import RuleSettings
from loggbok.daemon.rules.planner import Incoming
from loggbok.daemon.store import contact_search
from loggbok.daemon.store import dialect as dialect_module
from loggbok.daemon.store import search as search_module
from loggbok.daemon.store.bodies import StoredBody
from loggbok.daemon.store.store import Store

RULES = RuleSettings(mode="all_with_contacts", own_addresses=frozenset({"me@f.example"}))


def _incoming(folder: int, uid: int, day: int) -> Incoming:
    lines = [
        "From: anna@k.example",
        "To: me@f.example",
        f"Subject: Budget {uid}",
        f"Message-ID: <m{uid}@k.example>",
        f"Date: {day:02d} Jan 2023 09:00:00 +0000",
    ]
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode()
    return Incoming(folder, str(uid), parse_headers(raw), raw)


async def _store_mail(tmp_path: Path, days: list[int], bodies: list[str]) -> Store:
    """Logged messages stored in the order given (day of January each), one body each."""
    store = await Store.open(tmp_path)
    await store.contacts.create("anna@k.example", "Anna")
    mailbox = await store.mailboxes.add("maildir", "me@f.example", {})
    inbox = await store.mailboxes.folder(mailbox, "INBOX", "inbox")
    round_ = store.rounds.begin(mailbox, RULES, {inbox.id: "INBOX"}, "everyone")
    batch = [_incoming(inbox.id, n, day) for n, day in enumerate(days, start=1)]
    written = await round_.write(batch, None)
    assert len(written.plan.logged) == len(days)
    parsed = {
        m.id: StoredBody(body, body, body[:40], ())
        for m, body in zip(written.plan.messages, bodies, strict=True)
    }
    await round_.write_bodies(parsed, {}, [], forwards=False)
    return store


async def test_a_search_with_many_matches_is_newest_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # stored out of date order: ids 1..6 carry days 3, 1, 6, 2, 5, 4
    days = [3, 1, 6, 2, 5, 4]
    store = await _store_mail(tmp_path, days, ["budget " * (n + 1) for n in range(6)])
    try:
        ranked = await store.messages.search("budget", 50, 1)
        # few matches: by relevance (the body that says it most often first)
        assert ranked.hits[0].id == 6
        monkeypatch.setattr(search_module, "RANKED", 3)
        newest = await store.messages.search("budget", 50, 1)
        assert [h.id for h in newest.hits] == [3, 5, 6, 1, 4, 2]  # days 6, 5, 4, 3, 2, 1
        page = await store.messages.search("budget", 2, 1)
        # the most recently stored matches (ids 6 and 5), newest first
        assert [h.id for h in page.hits] == [5, 6]
        assert all(h.contact_ids for h in newest.hits)
        with pytest.raises(Exception, match="search query"):
            await store.messages.search('"unbalanced', 10, 1)
    finally:
        await store.close()


async def test_newest_first_is_the_same_through_the_index_or_the_walk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store_backend: str
) -> None:
    # PostgreSQL reads a word of middling frequency's matches through the index and
    # sorts them, a common word's by walking the newest rows (`few_matches`): both give
    # the same page, for every query shape (phrase, prefix, column, OR, NOT)
    days = [3, 1, 6, 2, 5, 4, 7, 8]
    bodies = [f"budget plan {'review' if n % 2 else 'draft'} notes" for n in range(8)]
    store = await _store_mail(tmp_path, days, bodies)
    monkeypatch.setattr(search_module, "RANKED", 1)
    queries = ['"budget plan"', "plan", "budg*", "body:notes", "review OR draft",
               "budget NOT review", "subject:budget"]  # fmt: skip
    try:
        pages: dict[int, list[list[int]]] = {}
        for bound in (0, 10**9):  # every search walks; every search reads the index
            monkeypatch.setattr(dialect_module, "FEW_MATCHES", bound)
            assert await store.db.dialect.few_matches(store.db, "plan") is (
                bound > 0 and store_backend == "postgres"
            )
            pages[bound] = [
                [h.id for h in (await store.messages.search(q, size, 1)).hits]
                for q in queries
                for size in (50, 3)
            ]
        assert pages[0] == pages[10**9]
        assert pages[0][0] == [8, 7, 3, 5, 6, 1, 4, 2]  # days 8, 7, 6 ... 1
        assert pages[0][1] == [8, 7, 6]  # the 3 most recently stored, newest first
        assert pages[0][10] == [7, 3, 5, 1]  # "budget NOT review": the drafts
    finally:
        await store.close()


def _record_fetchall(store: Store) -> list[tuple[str, Any]]:
    """The statements (and their parameters) `store.db.fetchall` runs from now on."""
    statements: list[tuple[str, Any]] = []
    read = store.db.fetchall

    async def recorded(sql: str, params: Any = ()) -> Any:
        statements.append((sql, params))
        return await read(sql, params)

    store.db.fetchall = recorded  # type: ignore[method-assign]
    return statements


def _choose_plans(monkeypatch: pytest.MonkeyPatch, store: Store, few: int, dense: int) -> None:
    """The thresholds that choose how contacts are found (both stores), and each
    needle's kept plan forgotten, so the next page chooses anew."""
    monkeypatch.setattr(contact_search, "FEW", few)
    monkeypatch.setattr(contact_search, "DENSE", dense)
    monkeypatch.setattr(dialect_module, "FEW_CONTACTS", few)
    store.contacts._plans.clear()


async def _names(store: Store, query: str) -> list[str]:
    found: list[str] = []
    cursor = None
    while True:
        page = await store.contacts.search(query, 2, cursor)
        found += [c.name for c in page.contacts]
        if page.next is None:
            return found
        cursor = page.next


async def _found(store: Store, monkeypatch: pytest.MonkeyPatch, query: str) -> list[str]:
    """`_names` for `query` by every plan, checked to be the same: sorting the matches,
    walking the list against them (SQLite: comparing each entry's `search_text`), and
    comparing every contact (PostgreSQL)."""
    found = []
    for few, dense in ((10_000, 12_000), (0, 12_000), (0, 0)):
        _choose_plans(monkeypatch, store, few, dense)
        found.append(await _names(store, query))
    assert found[1:] == found[:1] * 2, query
    return found[0]


async def test_contacts_are_found_by_any_part_whatever_wrote_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = await Store.open(tmp_path)
    try:
        anna = await store.contacts.create("anna.lind@nordvik.example", "Anna Lind")
        await store.contacts.create("bo@sydvik.example", "Bo Berg")
        assert await _found(store, monkeypatch, "LIND") == ["Anna Lind"]
        assert await _found(store, monkeypatch, "nordvik.ex") == ["Anna Lind"]
        assert await _found(store, monkeypatch, "zzz") == []
        await store.contacts.update(anna, "Anna Sjö", ["anna@other.example", "a@x.example"])
        assert await _found(store, monkeypatch, "lind") == []
        assert await _found(store, monkeypatch, "sjö") == ["Anna Sjö"]
        assert await _found(store, monkeypatch, "other.exa") == ["Anna Sjö"]
        assert await _found(store, monkeypatch, "vik.ex") == [
            "Bo Berg"
        ]  # Anna's old address is gone
        assert await _found(store, monkeypatch, "nordvik") == ["Anna Sjö"]  # her company stays
        await store.contacts.create("asa@k.example", "ÅSA ÖBERG")  # not ASCII, upper case
        assert await _found(store, monkeypatch, "åsa ö") == ["ÅSA ÖBERG"]
        assert await _found(store, monkeypatch, "Öberg") == ["ÅSA ÖBERG"]
        assert await _found(store, monkeypatch, "sjö\nanna") == []  # never across two fields
        async with store.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO companies (name, domain) VALUES ('Sydvik Trading', 'sydvik.example')"
                " ON CONFLICT (domain) DO UPDATE SET name = excluded.name"
            )
        assert await _found(store, monkeypatch, "trading") == ["Bo Berg"]
        async with store.db.transaction() as tx:
            await tx.execute("DELETE FROM contacts WHERE id = ?", (anna,))
        assert await _found(store, monkeypatch, "anna") == []
        assert await _found(store, monkeypatch, "b") == ["Bo Berg", "ÅSA ÖBERG"]  # short: a walk
        assert await _found(store, monkeypatch, "_") == []  # taken literally, never a wildcard
        assert await _found(store, monkeypatch, "o%b") == []
    finally:
        await store.close()


async def test_migration_18_gives_every_contact_its_search_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store_backend: str
) -> None:
    """A store from before migration 18 (SQLite: no `search_text`) has every contact's
    text, lower-cased by Python's rules, once opened: found by the walk as by sorting."""
    if store_backend != "sqlite":
        pytest.skip("PostgreSQL has kept `search_text` since its migration 13")
    store = await Store.open(tmp_path)
    await store.contacts.create("asa@berg.example", "ÅSA ÖBERG", ["a2@x.example"])
    async with store.db.transaction() as tx:
        await tx.execute("UPDATE companies SET name = 'Ärlig AB' WHERE domain = 'berg.example'")
    async with store.db.transaction() as tx:  # back to migration 17
        await tx.execute("DROP INDEX contacts_listed")
        await tx.execute("ALTER TABLE contacts DROP COLUMN search_text")
        await tx.execute(
            "CREATE INDEX contacts_listed"
            " ON contacts((last_activity IS NULL), last_activity DESC, lower(name), id)"
        )
    await store.close()
    with sqlite3.connect(tmp_path / "loggbok.sqlite3") as conn:
        conn.execute("PRAGMA user_version = 17")
    conn.close()
    store = await Store.open(tmp_path)
    try:
        text = await store.db.fetchval("SELECT search_text FROM contacts")
        assert text == "åsa öberg\nasa@berg.example\na2@x.example\närlig ab"
        for query in ("öberg", "ärlig", "a2@x"):
            assert await _found(store, monkeypatch, query) == ["ÅSA ÖBERG"]
    finally:
        await store.close()


async def test_contacts_list_is_the_same_however_many_match(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = await Store.open(tmp_path)
    try:
        for n in range(12):
            await store.contacts.create(f"p{n}@firm{n % 3}.example", f"Person {n:02d}")
        async with store.db.transaction() as tx:
            for n in range(0, 12, 2):  # half have activity, newest first by n
                await tx.execute(
                    "UPDATE contacts SET last_activity = ? WHERE name = ?",
                    (f"2024-01-{n + 1:02d}T00:00:00Z", f"Person {n:02d}"),
                )
        expected = await _names(store, "firm")
        assert expected[:6] == [f"Person {n:02d}" for n in (10, 8, 6, 4, 2, 0)]
        assert len(expected) == 12
        for few, dense in ((0, 100), (0, 5), (100, 100)):
            _choose_plans(monkeypatch, store, few, dense)
            assert await _names(store, "firm") == expected
            assert await _names(store, "firm1") == [n for n in expected if int(n[-2:]) % 3 == 1]
        monkeypatch.setattr(contact_search, "WALK_US", 2.5)  # the walk for the first pages only
        _choose_plans(monkeypatch, store, 0, 100)
        assert await _names(store, "firm") == expected
        if store.db.dialect.name == "sqlite":
            walked = store.contacts._plans["firm"]
            assert walked.fallback is not None and walked.walk_for == 5
    finally:
        await store.close()


def _counted(store: Store, *reads: str) -> list[str]:
    """The statements `store.db`'s `reads` (method names) run from now on."""
    statements: list[str] = []
    for name in reads:
        read = getattr(store.db, name)

        def counted(sql: str, params: object = (), read: Any = read) -> Any:
            statements.append(sql)
            return read(sql, params)

        setattr(store.db, name, counted)
    return statements


async def test_a_timeline_page_and_a_contacts_page_are_one_statement_each(tmp_path: Path) -> None:
    """Each statement is a trip to a reader (a thread, a server): a first timeline page
    is its page and its blind threads (two, side by side), a contacts page one (and the
    count that picks its plan, for a needle not seen since the last write)."""
    store = await _store_mail(tmp_path, [1, 2, 3], ["a", "b", "c"])
    statements = _counted(store, "fetchall", "fetchone")
    try:
        anna = (await store.contacts.search("anna", 10, None, 1)).contacts[0]
        statements.clear()
        page = await store.timeline.page(anna.id, 50, None, 1)
        assert len(page.entries) == 3 and page.entries[0].attachments == []
        assert await store.outages.blind_threads_of_contact(anna.id, 1) == []
        assert len(statements) == 2
        statements.clear()
        found = await store.contacts.search("anna", 50, None, 1)
        assert [c.id for c in found.contacts] == [anna.id]
        assert found.contacts[0].last_activity is not None
        assert found.contacts[0].blind_threads == 0
        assert len(statements) == 1
    finally:
        await store.close()


async def test_a_search_gives_whole_summaries_in_two_statements(tmp_path: Path) -> None:
    """A search is the count that picks its order and the page, whose rows carry each
    hit's contacts and whether its mailbox is the reader's (`records.summary_extras`):
    no statement per page after it (each is a trip to a reader)."""
    store = await _store_mail(tmp_path, [1, 2, 3], ["budget", "budget plan", "other"])
    statements = _counted(store, "fetchall", "fetchone", "fetchval")
    try:
        hits = (await store.messages.search("budget", 50, 1)).hits
        assert len(statements) == 2 and len(hits) == 3
        for hit in hits:
            whole = await store.messages.get(hit.id, 1)
            assert hit.contact_ids == whole.contact_ids != []
            assert hit.mailbox_id == whole.mailbox_id is not None
        others = (await store.messages.search("budget", 50, 2)).hits  # not their mailbox
        assert [h.mailbox_id for h in others] == [None] * 3
    finally:
        await store.close()


async def test_a_contacts_plan_kept_from_before_another_writer_gives_the_fresh_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A needle's plan is kept until this process writes; another process's write
    (here a second store on the same database) may make it the slower plan, never a
    page with other contacts or another order."""
    monkeypatch.setattr(contact_search, "FEW", 5)
    monkeypatch.setattr(dialect_module, "FEW_CONTACTS", 5)
    store = await Store.open(tmp_path)
    other = await Store.open(tmp_path)
    try:
        for n in range(3):
            await store.contacts.create(f"p{n}@firm.example", f"Person {n:02d}")
        assert await _names(store, "firm") == ["Person 00", "Person 01", "Person 02"]
        kept = store.contacts._plans["firm"]
        generation = store.db.generation
        for n in range(3, 12):  # more than FEW now match: a fresh plan would differ
            await other.contacts.create(f"p{n}@firm.example", f"Person {n:02d}")
        async with other.db.transaction() as tx:
            await tx.execute(
                "UPDATE contacts SET last_activity = '2024-01-01T00:00:00Z' WHERE name = ?",
                ("Person 07",),
            )
        fresh = await _names(other, "firm")
        assert fresh == ["Person 07"] + [f"Person {n:02d}" for n in range(12) if n != 7]
        assert other.contacts._plans["firm"] != kept
        assert await _names(store, "firm") == fresh
        assert store.db.generation == generation and store.contacts._plans["firm"] == kept
        await store.contacts.create("q@else.example", "Else")  # this process writes
        assert await _names(store, "firm") == fresh
        assert store.contacts._plans["firm"] != kept  # chosen anew
    finally:
        await other.close()
        await store.close()


@pytest.mark.sqlite_only  # holds a reader with a Python function inside SQLite
async def test_a_read_held_up_on_one_reader_leaves_the_others_free(tmp_path: Path) -> None:
    store = await Store.open(tmp_path)
    release = threading.Event()

    def held(value: int) -> int:
        release.wait(30)
        return value

    try:
        for reader in store.db._readers:
            await reader.run(lambda conn: conn.create_function("held", 1, held))
        slow = asyncio.ensure_future(store.db.fetchone("SELECT held(1)"))
        await asyncio.sleep(0.05)
        assert not slow.done()
        # the other readers answer while the first is held up
        for _ in range(10):
            assert await asyncio.wait_for(store.db.fetchone("SELECT 2"), 10) is not None
        assert not slow.done()
        release.set()
        row = await slow
        assert row is not None and row[0] == 1
    finally:
        release.set()
        await store.close()


@pytest.mark.postgres_only
async def test_a_read_held_up_on_one_postgres_reader_leaves_the_others_free(
    tmp_path: Path,
) -> None:
    import psycopg

    store = await Store.open(tmp_path)
    url = store.db.url  # type: ignore[attr-defined]
    holder = await psycopg.AsyncConnection.connect(url, autocommit=True)
    try:
        await holder.execute("SELECT pg_advisory_lock(4711)")
        # waits on one reader until the holder lets go (released at the statement's end)
        slow = asyncio.ensure_future(
            store.db.fetchone("SELECT pg_advisory_xact_lock_shared(4711), 1")
        )
        await asyncio.sleep(0.2)
        assert not slow.done()
        for _ in range(10):
            assert await asyncio.wait_for(store.db.fetchone("SELECT 2"), 10) is not None
        assert not slow.done()
        await holder.execute("SELECT pg_advisory_unlock(4711)")
        row = await asyncio.wait_for(slow, 10)
        assert row is not None and row[1] == 1
    finally:
        await holder.close()
        await store.close()


@pytest.mark.postgres_only
async def test_postgres_plans_each_search_for_its_own_words(tmp_path: Path) -> None:
    # psycopg prepares a statement after a few runs; PostgreSQL must not then plan it
    # once for all words (a rare word's plan walks every row for a common one)
    store = await _store_mail(tmp_path, [1, 2, 3], ["budget", "budget plan", "other"])
    try:
        for _ in range(12):
            assert len((await store.messages.search("plan", 50, 1)).hits) == 1
        generic = await store.db.fetchval(
            "SELECT count(*) FROM pg_prepared_statements"
            " WHERE statement LIKE '%to\\_tsquery%' AND generic_plans > 0"
        )
        assert generic == 0
        # other statements are prepared (no planning each time)
        for _ in range(6):
            await store.contacts.search("", 50, None, 1)
        assert await store.db.fetchval("SELECT count(*) FROM pg_prepared_statements") > 0
    finally:
        await store.close()


@pytest.mark.postgres_only
async def test_postgres_finds_contacts_through_one_trigram_index(tmp_path: Path) -> None:
    # Debian's postgresql-15 ships pg_trgm: migration 13 indexes each contact's
    # searchable text (name, addresses, company) with it, so LIKE '%needle%' reads
    # neither every row nor three indexes and tables
    store = await Store.open(tmp_path)
    try:
        names = await store.db.fetchall(
            "SELECT indexname FROM pg_indexes WHERE indexname LIKE ? ORDER BY indexname",
            ("%trgm",),
        )
        assert [r[0] for r in names] == ["contacts_search_trgm"]
        anna = await store.contacts.create("anna.lind@nordvik.example", "Anna Lind")
        await store.contacts.update(anna, None, ["b@x.example", "a@y.example"])
        text = await store.db.fetchval("SELECT search_text FROM contacts WHERE id = ?", (anna,))
        # a line each (addresses in their order), so no needle matches across two
        assert text.split("\n")[:3] == ["anna lind", "b@x.example", "a@y.example"]
        assert await _names(store, "lind\nb@x") == []
        assert await _names(store, "d\nb") == []
    finally:
        await store.close()


@pytest.mark.postgres_only
async def test_postgres_walks_the_contact_list_without_reading_the_table(tmp_path: Path) -> None:
    # migration 15: the list's index carries `search_text` (and the columns its
    # expressions need), so a query found in many contacts walks it index-only
    store = await Store.open(tmp_path)
    try:
        for n in range(40):
            await store.contacts.create(f"p{n}@firm.example", f"Person {n:02d}")
        async with store.db.transaction() as tx:
            await tx.execute("SET LOCAL enable_seqscan = off")  # a tiny table: no scan
            await tx.execute("SET LOCAL enable_bitmapscan = off")
            plan = "\n".join(
                r[0]
                for r in await tx.fetchall(
                    "EXPLAIN SELECT c.id FROM contacts c WHERE c.search_text LIKE ?"
                    " ORDER BY c.last_activity IS NULL, c.last_activity DESC, lower(c.name),"
                    " c.id LIMIT 51",
                    ("%firm%",),
                )
            )
        assert "Index Only Scan using contacts_listed" in plan
    finally:
        await store.close()


async def test_a_page_after_a_cursor_is_one_index_range(tmp_path: Path) -> None:
    # `(date, id) < (:ts, :bid)`: the cursor bounds the index range itself, so a deep
    # page reads its own rows, not every newer one (the OR form: PostgreSQL filtered
    # the whole prefix, 10,000 entries for page 200 of a heavy contact)
    from loggbok.daemon.store.records import older_than

    store = await _store_mail(tmp_path, [1, 2, 3, 4], ["a", "b", "c", "d"])
    sql = (
        f"SELECT e.id FROM timeline_entries e WHERE e.contact_id = :c AND"
        f" {older_than('e.date_ts', 'e.id')} ORDER BY e.date_ts DESC, e.id DESC LIMIT 2"
    )
    try:
        contact = await store.db.fetchval("SELECT min(contact_id) FROM timeline_entries")
        rows = await store.db.fetchall(sql, {"c": contact, "ts": 9e12, "bid": 10**9})
        assert len(rows) == 2
        if store.db.dialect.name == "sqlite":
            plan = await store.db.fetchall(
                "EXPLAIN QUERY PLAN " + sql, {"c": contact, "ts": 0.0, "bid": 0}
            )
            assert any("contact_id=? AND date_ts<?" in str(r[3]) for r in plan)
            return
        import psycopg

        from loggbok.daemon.store.postgres_db import _translate

        url = store.db.url  # type: ignore[attr-defined]
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            await conn.execute("SET enable_seqscan = off")
            cursor = await conn.execute(
                "EXPLAIN " + _translate(sql), {"c": contact, "ts": 0.0, "bid": 0}
            )
            plan = "\n".join(r[0] for r in await cursor.fetchall())
        assert "Index Cond: ((contact_id = " in plan and "ROW(date_ts, id) <" in plan, plan
    finally:
        await store.close()


@pytest.mark.postgres_only
async def test_postgres_keeps_a_contacts_page_plan_that_knows_its_size(tmp_path: Path) -> None:
    """psycopg prepares a statement after a few runs and PostgreSQL then keeps one
    generic plan for it: the page's size must be in that plan (with `LIMIT $1` it
    expected a tenth of the matches and joined every company: 66 ms a page at
    100,000 contacts), and the walk of the list's index must stay index-only."""
    store = await Store.open(tmp_path)
    try:
        cards = [
            ImportedContact(f"Firm Person {n:04d}", (f"p{n}@x.example",), None) for n in range(600)
        ]
        await store.contacts.merge_imported(cards)
        statements = _record_fetchall(store)
        assert len((await store.contacts.search("firm", 50, None, 1)).contacts) == 50
        sql, params = next(s for s in statements if "WITH page AS" in s[0])
        assert params["needle"] == "firm"
        prepared = sql.replace(":needle", "$1").replace(":viewer", "$2")
        async with store.db.transaction() as tx:
            await tx.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            await tx.execute("SET LOCAL enable_seqscan = off")  # a small table: no scan
            await tx.execute(f"PREPARE contacts_page(text, bigint) AS {prepared}")
            plan = [r[0] for r in await tx.fetchall("EXPLAIN EXECUTE contacts_page('firm', 1)")]
            await tx.execute("DEALLOCATE contacts_page")
        walk = next(i for i, line in enumerate(plan) if "contacts_listed" in line)
        assert "Index Only Scan" in plan[walk], plan
        assert "Limit" in plan[walk - 1] and "rows=51 " in plan[walk - 1], plan
    finally:
        await store.close()


async def test_contacts_are_found_literally_by_every_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # LIKE's wildcards in a query are letters (`%`, `_`, `\`), through the trigram
    # index and through the walk of the list alike; a cursor past the list, or one
    # that is no number, is an empty page or the first
    store = await Store.open(tmp_path)
    try:
        for n, name in enumerate(["100% Firm", "1000 Firm", "A_b Firm", "Ab Firm", "C\\d Firm"]):
            await store.contacts.create(f"p{n}@x.example", name)
        for few in (0, 500):
            _choose_plans(monkeypatch, store, few, 12_000 if few else 0)
            assert await _names(store, "0% f") == ["100% Firm"]
            assert await _names(store, "a_b") == ["A_b Firm"]
            assert await _names(store, "c\\d") == ["C\\d Firm"]
            assert await _names(store, "%") == ["100% Firm"]
        for cursor in ("9" * 40, "١٢", "3x"):
            page = await store.contacts.search("firm", 50, cursor)
            assert page.contacts == [] if cursor.startswith("9") else len(page.contacts) == 5
    finally:
        await store.close()


async def test_blind_threads_are_read_from_the_contacts_threads(tmp_path: Path) -> None:
    """While a mailbox is in an outage, a contacts page and a timeline read the blind
    threads of their own contacts (`thread_contacts_contact`), never every tracked
    thread of that mailbox (46,000 of them in a mailbox at 1,000,000 messages: 18 ms
    on every page while it lasted). (PostgreSQL picks the order itself, from its
    statistics: on a tiny table, either.)"""
    store = await Store.open(tmp_path)
    try:
        anna = await store.contacts.create("anna@k.example", "Anna")
        statements = _record_fetchall(store)
        await store.contacts.search("anna", 50, None, 1)
        await store.outages.blind_threads_of_contact(anna, 1)
        await store.outages.blind_counts([anna], 1)
        page, of_contact, counts = statements[-3:]
        for sql, params in (page, of_contact, counts):
            assert "thread_contacts tc" in sql
            explain = "EXPLAIN QUERY PLAN " if store.db.dialect.name == "sqlite" else "EXPLAIN "
            async with store.db.transaction() as tx:
                if store.db.dialect.name != "sqlite":
                    await tx.execute("SET LOCAL enable_seqscan = off")  # a tiny table
                plan = "\n".join(str(tuple(r)) for r in await tx.fetchall(explain + sql, params))
            assert "thread_contacts_contact" in plan, plan
            if store.db.dialect.name == "sqlite":  # the order is the statement's own
                assert "SCAN t" not in plan and "SCAN tc" not in plan, plan
    finally:
        await store.close()
