"""The SQL that differs between SQLite and PostgreSQL, one method per difference.

Query objects write the common subset themselves and ask `db.dialect` (or
`tx.dialect`) for the rest: a string aggregate, the current time as stored
text, the larger of two values, insertion order, the full-text search
statement, the query that finds bodies still to fetch (SQLite needs an index
hint there), and the round's staleness-and-ids statement.
"""

from __future__ import annotations

from typing import Protocol

from loggbok.daemon.store.pg_search import to_tsquery

_PENDING_WHERE = """f.mailbox_id = ? AND m.logged = 1 AND m.body_state = 'headers'
                 AND l.state = 'ok'"""


class Dialect(Protocol):
    name: str

    def joined(self, expr: str) -> str:
        """An aggregate joining `expr` with the unit separator (chr 31), in row order."""
        ...

    def now_text(self) -> str:
        """The current UTC time as stored text, 2026-12-06T15:04:05Z."""
        ...

    def greatest(self, a: str, b: str) -> str: ...

    def insertion_order(self, alias: str) -> str:
        """An expression ordering `thread_subjects` or `message_locations` rows as inserted."""
        ...

    def search(self, query: str, columns: str, visible: str) -> tuple[str, dict[str, object]]:
        """The full-text search statement over logged mail (FTS5 query syntax, see
        `pg_search.py`) with its parameters; binds `:viewer` and `:limit` too."""
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

    def joined(self, expr: str) -> str:
        return f"group_concat({expr}, char(31))"

    def now_text(self) -> str:
        return "strftime('%Y-%m-%dT%H:%M:%SZ','now')"

    def greatest(self, a: str, b: str) -> str:
        return f"max({a}, {b})"

    def insertion_order(self, alias: str) -> str:
        return f"{alias}.rowid"

    def search(self, query: str, columns: str, visible: str) -> tuple[str, dict[str, object]]:
        return (
            f"""SELECT {columns} FROM message_fts f JOIN messages m ON m.id = f.rowid
                WHERE message_fts MATCH :q AND {visible} ORDER BY rank LIMIT :limit""",
            {"q": query},
        )

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

    def joined(self, expr: str) -> str:
        return f"string_agg({expr}, chr(31))"

    def now_text(self) -> str:
        return """to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""

    def greatest(self, a: str, b: str) -> str:
        return f"greatest({a}, {b})"

    def insertion_order(self, alias: str) -> str:
        return f"{alias}.seq"

    def search(self, query: str, columns: str, visible: str) -> tuple[str, dict[str, object]]:
        return (
            f"""SELECT {columns} FROM message_fts f JOIN messages m ON m.id = f.rowid,
                    to_tsquery('loggbok', :q) q
                WHERE f.doc @@ q AND {visible}
                ORDER BY ts_rank(f.doc, q) DESC, m.id LIMIT :limit""",
            {"q": to_tsquery(query)},
        )

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


SQLITE = SqliteDialect()
POSTGRES = PostgresDialect()
