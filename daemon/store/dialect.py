"""The SQL that differs between SQLite and PostgreSQL, one method per difference.

Query objects write the common subset themselves and ask `db.dialect` (or
`tx.dialect`) for the rest: a string aggregate, the current time as stored
text, the larger of two values, insertion order, the full-text search
statement (and its count of matches, up to a cap), how contacts are found by
part of a name, address or company (SQLite: the FTS5 trigram index of
`contact_search.py`; PostgreSQL: LIKE, through pg_trgm's GIN indexes where
the server has them), the query that finds bodies still to fetch (SQLite
needs an index hint there), the round's staleness-and-ids statement, and JSON
built by the database (`json_object`, `json_list`, `json_pairs`, `json_bool`,
`json_text`: the pages of `json_pages.py`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from loggbok.daemon.store.pg_search import to_tsquery

if TYPE_CHECKING:
    from loggbok.daemon.store.db import Database

FEW_MATCHES = 10_000
"""PostgreSQL: a newest-first search estimated to match at most this many messages
reads them all through the GIN index and sorts them (`PostgresDialect.few_matches`)."""

CONTACTS_ORDER = "c.last_activity IS NULL, c.last_activity DESC, lower(c.name), c.id"
"""The contacts list's order (the index `contacts_listed`)."""


@dataclass(frozen=True, slots=True)
class ContactsMatching:
    """`Dialect.contacts_matching`'s answer: how a page finds a query's contacts."""

    source: str
    """FROM: the contacts (alias `c`) that may match."""
    where: str
    """WHERE: those that do (or empty)."""
    params: Mapping[str, object]
    """Their named parameters."""
    fallback: ContactsMatching | None = None
    """The plan for a page deeper than `walk_for` (where this one would cost more)."""
    walk_for: int = 0
    """With a `fallback`: the deepest page (its offset, its size and one) this plan
    reads."""


FEW_CONTACTS = 500
"""PostgreSQL: a contacts query that matches at most this many is answered by
sorting its matches (`PostgresDialect.contacts_matching`); more, by walking the list."""

_PENDING_WHERE = """f.mailbox_id = ? AND m.logged = 1 AND m.body_state = 'headers'
                 AND l.state = 'ok'"""


class Dialect(Protocol):
    name: str
    json_timeline: bool
    """Whether a timeline page's entries are built as JSON by the database
    (`json_pages.py`) rather than from rows in Python. SQLite: yes, it builds them
    with the daemon's interpreter lock released. PostgreSQL: no, its JSON took
    0.9 ms of the server's CPU for a page of 50 (to and cc lists from the stored
    text, long texts escaped) where the rows took 0.2 and the daemon's Python 0.1
    (docs/benchmarks.md, 2026-12-07 04:30-05:30); its message lists are JSON (one
    statement where they were three)."""

    def joined(self, expr: str) -> str:
        """An aggregate joining `expr` with the unit separator (chr 31), in row order."""
        ...

    def now_text(self) -> str:
        """The current UTC time as stored text, 2026-12-06T15:04:05Z."""
        ...

    def json_rows(self, columns: str, order: str) -> str:
        """An aggregate of the rows' `columns` as JSON text, an array of arrays in
        `order` (over a subquery already sorted by it; NULL or `[]` for no rows)."""
        ...

    def greatest(self, a: str, b: str) -> str: ...

    def json_object(self, pairs: str) -> str:
        """A JSON object of `pairs` (`'key', value, ...`); a value that is JSON made by
        these methods is put in as JSON, any other as the JSON of its SQL value."""
        ...

    def json_list(self, expr: str, source: str, order: str) -> str:
        """A JSON array (`[]` for no rows, never NULL) of `expr` (a number, or JSON made
        by these methods) over the rows of `source` (`FROM ... WHERE ...`, correlated)
        in `order`."""
        ...

    def json_pairs(self, column: str, key: str) -> str:
        """The `key` list of a stored `recipients` column (`{"to": [[email, name], ...]}`)
        as a JSON array of `{"email", "name"}` objects in its order (`[]` when absent)."""
        ...

    def json_bool(self, expr: str) -> str:
        """JSON true or false: whether the integer `expr` is non-zero (NULL: false)."""
        ...

    def json_text(self, expr: str) -> str:
        """JSON made by these methods as a column's value: bytes (UTF-8) or text."""
        ...

    def insertion_order(self, alias: str) -> str:
        """An expression ordering `thread_subjects` or `message_locations` rows as inserted."""
        ...

    def search(
        self, query: str, columns: str, visible: str, *, ranked: bool = True, few: bool = False
    ) -> tuple[str, dict[str, object]]:
        """The full-text search statement over logged mail (FTS5 query syntax, see
        `pg_search.py`) with its parameters; binds `:viewer` and `:limit` too. By
        relevance when `ranked`, else the most recently stored first (highest id):
        when `few` (see `few_matches`), all matches read through the index and sorted,
        else the newest rows walked until enough match."""
        ...

    async def few_matches(self, db: Database, query: str) -> bool:
        """Whether a newest-first search for `query` should read every match through
        the index and sort them rather than walk the newest rows (an estimate)."""
        ...

    def search_count(self, query: str, visible: str | None = None) -> tuple[str, dict[str, object]]:
        """The number of messages `query` matches, counted up to `:cap` (bound by the
        caller), with its parameters: every match (the index alone), or with `visible`
        only the matches that predicate lets the viewer see (binds `:viewer`)."""
        ...

    async def contacts_matching(self, db: Database, needle: str) -> ContactsMatching:
        """FROM and WHERE for the contacts whose name, address or company contains
        `needle` (lower case, taken literally), with their named parameters (`:name`;
        never `:viewer`, the page's own); `c` is the contact."""
        ...

    def join_in_order(self) -> str:
        """An inner join (`... ON`) that keeps the tables in the order written (SQLite's
        CROSS JOIN; a plain JOIN where the planner needs no hint)."""
        ...

    def indexed_by(self, index: str) -> str:
        """A hint that a table is read through `index` (SQLite's INDEXED BY; nothing where
        the planner needs none)."""
        ...

    def pending_bodies(self) -> str:
        """Logged messages of mailbox `?` whose body waits: id, folder_id, remote_id,
        size, reason (one row per message, its lowest folder)."""
        ...

    def round_state(self) -> str:
        """One row: the other-writers marker (`Transaction.other_writers`; binds `:own`,
        this process's generation), then the highest message, thread and contact ids
        (read inside a round's write transaction)."""
        ...


class SqliteDialect:
    name = "sqlite"
    json_timeline = True

    def joined(self, expr: str) -> str:
        return f"group_concat({expr}, char(31))"

    def now_text(self) -> str:
        return "strftime('%Y-%m-%dT%H:%M:%SZ','now')"

    def json_rows(self, columns: str, order: str) -> str:
        # SQLite aggregates in the order its subquery hands the rows over
        return f"json_group_array(json_array({columns}))"

    def greatest(self, a: str, b: str) -> str:
        return f"max({a}, {b})"

    def json_object(self, pairs: str) -> str:
        return f"json_object({pairs})"

    def json_list(self, expr: str, source: str, order: str) -> str:
        # json(): a value keeps its JSON subtype only within one statement level
        return (
            f"json((SELECT json_group_array(json(x)) FROM"
            f" (SELECT {expr} AS x {source} ORDER BY {order})))"
        )

    def json_pairs(self, column: str, key: str) -> str:
        # an empty list as the store writes it (`"cc": []`: the quote before the key
        # cannot be inside a string, where every quote is escaped) needs no json_each
        return (
            f"CASE WHEN instr({column}, '\"{key}\": []') > 0 THEN json('[]') ELSE"
            " json((SELECT json_group_array(json_object('email', r.value -> 0,"
            f" 'name', r.value -> 1)) FROM json_each({column}, '$.{key}') r)) END"
        )

    def json_bool(self, expr: str) -> str:
        return f"json(CASE WHEN coalesce({expr}, 0) <> 0 THEN 'true' ELSE 'false' END)"

    def json_text(self, expr: str) -> str:
        return f"CAST({expr} AS BLOB)"  # bytes as they are: no decoding to str and back

    def insertion_order(self, alias: str) -> str:
        return f"{alias}.rowid"

    def search(
        self, query: str, columns: str, visible: str, *, ranked: bool = True, few: bool = False
    ) -> tuple[str, dict[str, object]]:
        # unranked: the index's own rowid order, newest stored first, no bm25 per match.
        # Ranked: bm25() (what `rank` is) as an expression, so it scores only the rows
        # `visible` lets through; `ORDER BY rank` scores every match before the join (a
        # member who sees 576 of 200,000 matches: 534 ms, bm25(): 28 ms).
        order = "bm25(message_fts), m.id" if ranked else "f.rowid DESC"
        return (
            f"""SELECT {columns} FROM message_fts f JOIN messages m ON m.id = f.rowid
                WHERE message_fts MATCH :q AND {visible}
                ORDER BY {order} LIMIT :limit""",
            {"q": query},
        )

    async def few_matches(self, db: Database, query: str) -> bool:
        # FTS5 walks its own doclists newest first: no row is read that does not match
        return False

    def search_count(self, query: str, visible: str | None = None) -> tuple[str, dict[str, object]]:
        if visible is not None:
            return (
                f"""SELECT count(*) FROM (SELECT 1 FROM message_fts f
                    JOIN messages m ON m.id = f.rowid
                    WHERE message_fts MATCH :q AND {visible} LIMIT :cap) s""",
                {"q": query},
            )
        return (
            "SELECT count(*) FROM (SELECT rowid FROM message_fts"
            " WHERE message_fts MATCH :q LIMIT :cap) s",
            {"q": query},
        )

    async def contacts_matching(self, db: Database, needle: str) -> ContactsMatching:
        from loggbok.daemon.store import contact_search

        return await contact_search.matching(db, needle)

    def join_in_order(self) -> str:
        return "CROSS JOIN"

    def indexed_by(self, index: str) -> str:
        return f"INDEXED BY {index}"

    def pending_bodies(self) -> str:
        # The partial index holds only the waiting messages and CROSS JOIN keeps SQLite
        # starting from it, so the cost follows what waits, not the size of the store.
        return f"""SELECT m.id, min(l.folder_id) AS folder_id, l.remote_id, m.size, m.reason
               FROM messages m INDEXED BY messages_body_pending
               CROSS JOIN message_locations l ON l.message = m.id
               CROSS JOIN folders f ON f.id = l.folder_id
               WHERE {_PENDING_WHERE}
               GROUP BY m.id"""

    def round_state(self) -> str:
        return """SELECT (SELECT data_version FROM pragma_data_version()),
    (SELECT coalesce(max(id), 0) FROM messages), (SELECT coalesce(max(id), 0) FROM threads),
    (SELECT coalesce(max(id), 0) FROM contacts)"""


class PostgresDialect:
    name = "postgresql"
    json_timeline = False

    def joined(self, expr: str) -> str:
        return f"string_agg({expr}, chr(31))"

    def now_text(self) -> str:
        return """to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""

    def json_rows(self, columns: str, order: str) -> str:
        return f"json_agg(json_build_array({columns}) ORDER BY {order})::text"

    def greatest(self, a: str, b: str) -> str:
        return f"greatest({a}, {b})"

    def json_object(self, pairs: str) -> str:
        return f"json_build_object({pairs})"

    def json_list(self, expr: str, source: str, order: str) -> str:
        return f"coalesce((SELECT json_agg({expr} ORDER BY {order}) {source}), '[]'::json)"

    def json_pairs(self, column: str, key: str) -> str:
        return (
            "coalesce((SELECT json_agg(json_build_object('email', r.value -> 0,"
            " 'name', r.value -> 1) ORDER BY r.n)"
            f" FROM json_array_elements({column}::json -> '{key}') WITH ORDINALITY r(value, n)),"
            " '[]'::json)"
        )

    def json_bool(self, expr: str) -> str:
        return f"(coalesce({expr}, 0) <> 0)"

    def json_text(self, expr: str) -> str:
        return f"({expr})::text"

    def insertion_order(self, alias: str) -> str:
        return f"{alias}.seq"

    def search(
        self, query: str, columns: str, visible: str, *, ranked: bool = True, few: bool = False
    ) -> tuple[str, dict[str, object]]:
        if few and not ranked:
            # The matches' ids from the GIN index (a bitmap: no row's tsvector read
            # unless the query needs a recheck), sorted newest first, then joined one
            # by one until `:limit` are visible. OFFSET 0 keeps the subquery whole:
            # flattened, the planner would walk the newest rows again (`few_matches`).
            return (
                f"""SELECT {columns} FROM (SELECT f.rowid FROM message_fts f
                        WHERE f.doc @@ to_tsquery('loggbok', :q)
                        ORDER BY f.rowid DESC OFFSET 0) f
                    JOIN messages m ON m.id = f.rowid
                    WHERE {visible}
                    ORDER BY f.rowid DESC LIMIT :limit""",
                {"q": to_tsquery(query)},
            )
        order = "ts_rank(f.doc, q) DESC, m.id" if ranked else "f.rowid DESC"
        return (
            f"""SELECT {columns} FROM message_fts f JOIN messages m ON m.id = f.rowid,
                    to_tsquery('loggbok', :q) q
                WHERE f.doc @@ q AND {visible}
                ORDER BY {order} LIMIT :limit""",
            {"q": to_tsquery(query)},
        )

    async def few_matches(self, db: Database, query: str) -> bool:
        # The walk tests each of the newest rows' tsvector, fetched from TOAST and
        # decompressed, about limit/d rows for a word in a share d of mail (and every
        # row when the matches are old); the planner does not count that and walks
        # for a word in 1% of mail too. The index reads each match once without
        # decompressing (~1 µs a row here): cheaper up to about FEW_MATCHES matches,
        # whatever the store's size. The planner's estimate (its statistics keep the
        # frequencies of the 10,000 most common words, migration 13) decides.
        plan = await db.fetchval(
            "EXPLAIN (FORMAT JSON) SELECT 1 FROM message_fts f"
            " WHERE f.doc @@ to_tsquery('loggbok', :q)",
            {"q": to_tsquery(query)},
        )
        if isinstance(plan, str):
            plan = json.loads(plan)
        return float(plan[0]["Plan"]["Plan Rows"]) <= FEW_MATCHES

    def search_count(self, query: str, visible: str | None = None) -> tuple[str, dict[str, object]]:
        if visible is not None:
            return (
                f"""SELECT count(*) FROM (SELECT 1 FROM message_fts f
                    JOIN messages m ON m.id = f.rowid
                    WHERE f.doc @@ to_tsquery('loggbok', :q) AND {visible} LIMIT :cap) s""",
                {"q": to_tsquery(query)},
            )
        return (
            """SELECT count(*) FROM (SELECT 1 FROM message_fts f
                WHERE f.doc @@ to_tsquery('loggbok', :q) LIMIT :cap) s""",
            {"q": to_tsquery(query)},
        )

    async def contacts_matching(self, db: Database, needle: str) -> ContactsMatching:
        # One pg_trgm index over each contact's `search_text` (migration 13; without the
        # extension LIKE reads the table once). A needle of a trigram or more found in
        # at most FEW_CONTACTS contacts (counted up to that; the planner's estimate
        # is the same 1,010 for any four letters): its matches from the index,
        # sorted (the subquery's OFFSET 0 keeps the planner from walking the list's
        # index instead, row after row, where the matches sit late in the list's
        # order); sorting costs a row read per match (5,120 matches: 5-10 ms here).
        # More, or shorter: the list's index walked without reading the table
        # (migration 15: it carries `search_text`; a page of 51 at one contact in 50
        # reads about 2,500 entries), each compared with `strpos`: a plain substring
        # search (0.19 us an entry at 100,000 contacts, where LIKE '%..%' on a copy
        # took 0.33), and never through the trigram index, so it stays the plan once
        # the statement is prepared (PostgreSQL's generic plan for `search_text LIKE
        # $1` sorts the index's matches: 4-9 ms for "karl"). (`ContactQueries` keeps
        # the choice per needle.)
        like = like_contains(needle)
        if "\n" in needle:  # the lines of `search_text` are compared one by one
            return ContactsMatching(
                "contacts c",
                """WHERE c.id IN (SELECT id FROM contacts WHERE lower(name) LIKE :like ESCAPE '\\'
                UNION SELECT k.id FROM contacts k JOIN companies co ON co.id = k.company_id
                    WHERE lower(co.name) LIKE :like ESCAPE '\\'
                UNION SELECT contact_id FROM contact_emails
                    WHERE lower(email) LIKE :like ESCAPE '\\')""",
                {"like": like},
            )
        walk = ContactsMatching(
            "contacts c", "WHERE strpos(c.search_text, :needle) > 0", {"needle": needle}
        )
        if len(needle) < 3:
            return walk
        found = await db.fetchval(
            "SELECT count(*) FROM (SELECT 1 FROM contacts WHERE search_text LIKE ? ESCAPE '\\'"
            " LIMIT ?) s",
            (like, FEW_CONTACTS + 1),
        )
        if int(found) > FEW_CONTACTS:
            return walk
        return ContactsMatching(
            "(SELECT * FROM contacts k WHERE k.search_text LIKE :like ESCAPE '\\' OFFSET 0) c",
            "",
            {"like": like},
        )

    def join_in_order(self) -> str:
        return "JOIN"

    def indexed_by(self, index: str) -> str:
        return ""

    def pending_bodies(self) -> str:
        return f"""SELECT DISTINCT ON (m.id) m.id, l.folder_id, l.remote_id, m.size, m.reason
               FROM messages m JOIN message_locations l ON l.message = m.id
               JOIN folders f ON f.id = l.folder_id
               WHERE {_PENDING_WHERE}
               ORDER BY m.id, l.folder_id"""

    def round_state(self) -> str:
        return """SELECT (SELECT generation FROM store_generation) - :own,
    (SELECT coalesce(max(id), 0) FROM messages), (SELECT coalesce(max(id), 0) FROM threads),
    (SELECT coalesce(max(id), 0) FROM contacts)"""


def like_contains(needle: str) -> str:
    """A LIKE pattern for "contains `needle`", its % and _ taken literally (escape \\)."""
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


SQLITE = SqliteDialect()
POSTGRES = PostgresDialect()
