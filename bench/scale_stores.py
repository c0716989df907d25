"""The two stores `bench/scale.py` measures: where each keeps its built store, how
the daemon is pointed at it, and what is read from it directly (facts, the raw
SQL peer of each read, the bytes it takes).

SQLite: the data dir `~/.cache/loggbok-bench/scale-N` (the file and blobs).
PostgreSQL: a private cluster (`tests/servers/postgres.py`: initdb as a non-root
user, Unix socket only) kept in `<cache>/scale-pg-N/pg` and started for the run
(stopped at the end, its data kept), database `loggbok`; the daemon's data dir
(blobs) beside it. The cache of PostgreSQL is under `/var/tmp/loggbok-bench`
when run as root (the server's user cannot reach root's home).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any, Protocol

import psycopg

from bench.scale_corpus import ONE_PCT, RARE, SIXTY_PCT
from loggbok.daemon.store.postgres_db import _translate
from tests.servers import postgres as pg_server

_TIMELINE = (
    "SELECT m.id, m.subject, m.from_email, m.date, m.snippet FROM timeline_entries e"
    " JOIN messages m ON m.id = e.message WHERE e.contact_id = ?"
)
_UNLOGGED = (
    "SELECT id, subject, from_email, date FROM messages WHERE logged = 0"
    " ORDER BY date_ts DESC, id DESC LIMIT 51"
)
_CONTACTS = "SELECT id, name FROM contacts ORDER BY last_activity DESC LIMIT 51"


def peers(search: str, term: Any) -> dict[str, tuple[str, Any]]:
    """The one statement that answers each read, on a raw connection (no visibility,
    no attachments, no contact ids: the database's floor for the read), by read."""
    return {
        "timeline first page": (
            _TIMELINE + " ORDER BY e.date_ts DESC, e.id DESC LIMIT 51",
            lambda f: (f["heavy"],),
        ),
        "timeline page 200": (
            _TIMELINE + " AND (e.date_ts, e.id) < (?, ?)"
            " ORDER BY e.date_ts DESC, e.id DESC LIMIT 51",
            lambda f: (f["heavy"], f["cursor_ts"], f["cursor_id"]),
        ),
        "search rare": (search, lambda f: (term(RARE),)),
        "search 1%": (search, lambda f: (term(ONE_PCT),)),
        "search 60%": (search, lambda f: (term(SIXTY_PCT),)),
        "contacts 4 letters": (_CONTACTS, lambda f: ()),
        "unlogged list": (_UNLOGGED, lambda f: ()),
    }


class Raw(Protocol):
    def timed(self, sql: str, params: Any, rounds: int) -> list[float]: ...

    def close(self) -> None: ...


class Target(Protocol):
    """One store the bench builds and measures."""

    name: str
    cache: Path
    data_dir: Path

    def start(self) -> None:
        """Make the database reachable (start its server)."""

    def stop(self) -> None: ...

    def reset(self) -> None:
        """Forget a half-built store (started; the next build starts empty)."""

    def settle(self) -> None:
        """After a build: what the database does on its own before long (statistics)."""

    def database(self) -> str | None:
        """The `--database` URL for the daemon and `Store.open` (None: SQLite in the data dir)."""

    def pending_migrations(self) -> bool: ...

    def facts(self) -> dict[str, Any]: ...

    def raw(self) -> Raw: ...

    def peers(self) -> dict[str, tuple[str, Any]]: ...

    def sizes(self, messages: int) -> dict[str, Any]: ...


def _facts(rows: Any, counts: Any) -> dict[str, Any]:
    return {"heavy": rows[0], "heavy_entries": rows[1], "messages": counts[0],
            "logged": int(counts[1])}  # fmt: skip


_HEAVY = (
    "SELECT contact_id, count(*) c FROM timeline_entries GROUP BY contact_id"
    " ORDER BY c DESC LIMIT 1"
)
_COUNTS = "SELECT count(*), sum(logged) FROM messages"


class _SqliteRaw:
    def __init__(self, db: Path) -> None:
        self.con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)

    def timed(self, sql: str, params: Any, rounds: int) -> list[float]:
        times: list[float] = []
        for _ in range(rounds):
            start = time.perf_counter()
            self.con.execute(sql, params).fetchall()
            times.append((time.perf_counter() - start) * 1000)
        return times

    def close(self) -> None:
        self.con.close()


class SqliteTarget:
    name = "sqlite"

    def __init__(self, cache_root: Path, messages: int) -> None:
        self.cache = cache_root / f"scale-{messages}"
        self.data_dir = self.cache
        self.db = self.cache / "loggbok.sqlite3"

    def start(self) -> None:
        self.cache.mkdir(parents=True, exist_ok=True)

    def stop(self) -> None:
        pass

    def reset(self) -> None:
        shutil.rmtree(self.cache)
        self.cache.mkdir(parents=True)

    def settle(self) -> None:
        pass

    def database(self) -> str | None:
        return None

    def pending_migrations(self) -> bool:
        from loggbok.daemon.store.migrations import MIGRATIONS

        con = sqlite3.connect(self.db)
        try:
            return int(con.execute("PRAGMA user_version").fetchone()[0]) < len(MIGRATIONS)
        finally:
            con.close()

    def facts(self) -> dict[str, Any]:
        con = sqlite3.connect(self.db)
        try:
            return _facts(con.execute(_HEAVY).fetchone(), con.execute(_COUNTS).fetchone())
        finally:
            con.close()

    def raw(self) -> Raw:
        return _SqliteRaw(self.db)

    def peers(self) -> dict[str, tuple[str, Any]]:
        return peers(
            "SELECT rowid FROM message_fts WHERE message_fts MATCH ? ORDER BY rowid DESC LIMIT 50",
            lambda word: word,
        )

    def sizes(self, messages: int) -> dict[str, Any]:
        total = sum(p.stat().st_size for p in self.cache.glob("loggbok.sqlite3*"))
        con = sqlite3.connect(self.db)
        try:
            rows = con.execute(
                "SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC"
            ).fetchall()
            raw = con.execute(
                "SELECT sum(length(raw_headers)), sum(length(coalesce(body_text, ''))),"
                " sum(length(coalesce(new_text, ''))), sum(length(snippet)),"
                " sum(length(recipients)) FROM messages"
            ).fetchone()
        except sqlite3.Error:
            rows, raw = [], None
        finally:
            con.close()
        return _sizes(total, messages, rows, raw)


def _sizes(total: int, messages: int, rows: list[Any], raw: Any) -> dict[str, Any]:
    names = ("raw_headers", "body_text", "new_text", "snippet", "recipients")
    return {
        "file_bytes": total,
        "bytes_per_message": total / max(1, messages),
        "by_object": {name: int(size) for name, size in rows[:16]},
        "payload_per_message": (
            {n: int(v or 0) / max(1, messages) for n, v in zip(names, raw, strict=True)}
            if raw
            else {}
        ),
    }


class _PgRaw:
    def __init__(self, url: str) -> None:
        # never prepared: each statement planned for its own parameters, as the daemon does
        self.con = psycopg.connect(url, autocommit=True, prepare_threshold=None)

    def timed(self, sql: str, params: Any, rounds: int) -> list[float]:
        times: list[float] = []
        query = _translate(sql)
        for _ in range(rounds):
            start = time.perf_counter()
            self.con.execute(query, params).fetchall()
            times.append((time.perf_counter() - start) * 1000)
        return times

    def close(self) -> None:
        self.con.close()


class PostgresTarget:
    name = "postgres"
    DATABASE = "loggbok"

    def __init__(self, cache_root: Path, messages: int) -> None:
        self.cache = cache_root / f"scale-pg-{messages}"
        self.root = self.cache / "pg"
        self.data_dir = self.cache / "data"
        self.cluster: pg_server.Cluster | None = None

    def start(self) -> None:
        self.cache.mkdir(parents=True, exist_ok=True)
        os.chmod(self.cache, 0o755)
        if not (self.root / "data").exists():
            shutil.rmtree(self.root, ignore_errors=True)
            self.root.mkdir()
            pg_server.initdb(self.root)
        self.cluster = pg_server.serve(self.root)
        with psycopg.connect(self.cluster.url("postgres"), autocommit=True) as conn:
            if not conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (self.DATABASE,)
            ).fetchone():
                conn.execute(f"CREATE DATABASE {self.DATABASE}")

    def stop(self) -> None:
        if self.cluster is not None:
            pg_server.stop(self.cluster)
            self.cluster = None

    def database(self) -> str:
        assert self.cluster is not None
        return self.cluster.url(self.DATABASE)

    def reset(self) -> None:
        """Forget a half-built store (the database is made again)."""
        assert self.cluster is not None
        with psycopg.connect(self.cluster.url("postgres"), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {self.DATABASE} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {self.DATABASE}")
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def settle(self) -> None:
        # what autovacuum does soon after a bulk load: the planner's statistics
        with psycopg.connect(self.database(), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")

    def pending_migrations(self) -> bool:
        from loggbok.daemon.store.pg_schema import PG_MIGRATIONS

        with psycopg.connect(self.database()) as conn:
            row = conn.execute("SELECT version FROM schema_version").fetchone()
        return row is None or int(row[0]) < len(PG_MIGRATIONS)

    def facts(self) -> dict[str, Any]:
        with psycopg.connect(self.database()) as conn:
            return _facts(conn.execute(_HEAVY).fetchone(), conn.execute(_COUNTS).fetchone())

    def raw(self) -> Raw:
        return _PgRaw(self.database())

    def peers(self) -> dict[str, tuple[str, Any]]:
        from loggbok.daemon.store.pg_search import to_tsquery

        return peers(
            "SELECT rowid FROM message_fts WHERE doc @@ to_tsquery('loggbok', ?)"
            " ORDER BY rowid DESC LIMIT 50",
            to_tsquery,
        )

    def sizes(self, messages: int) -> dict[str, Any]:
        with psycopg.connect(self.database(), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
            total = conn.execute("SELECT pg_database_size(current_database())").fetchone()
            tables = conn.execute(
                "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE c.relkind IN ('r', 'm') AND n.nspname = 'public'"
            ).fetchone()
            rows = conn.execute(
                "SELECT c.relname || CASE c.relkind WHEN 'i' THEN ' (index)' ELSE '' END,"
                " pg_relation_size(c.oid) + CASE WHEN c.reltoastrelid <> 0"
                "   THEN pg_total_relation_size(c.reltoastrelid) ELSE 0 END"
                " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE c.relkind IN ('r', 'i', 'm') AND n.nspname = 'public'"
                " ORDER BY 2 DESC"
            ).fetchall()
            raw = conn.execute(
                "SELECT sum(octet_length(raw_headers)),"
                " sum(octet_length(coalesce(body_text, ''))),"
                " sum(octet_length(coalesce(new_text, ''))), sum(octet_length(snippet)),"
                " sum(octet_length(recipients)) FROM messages"
            ).fetchone()
        out = _sizes(int(tables[0] if tables else 0), messages, rows, raw)
        out["database_bytes"] = int(total[0]) if total else 0
        return out


def targets(
    store: str, messages: int, sqlite_cache: Path | None, pg_cache: Path | None = None
) -> list[Target]:
    home = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "loggbok-bench"
    pg_home = Path("/var/tmp/loggbok-bench") if os.geteuid() == 0 else home
    chosen: list[Target] = []
    if store in ("sqlite", "both"):
        target = SqliteTarget(home, messages)
        if sqlite_cache is not None:
            target.cache = target.data_dir = sqlite_cache
            target.db = sqlite_cache / "loggbok.sqlite3"
        chosen.append(target)
    if store in ("postgres", "both"):
        pg_target = PostgresTarget(pg_home, messages)
        if pg_cache is not None:
            pg_target.cache = pg_cache
            pg_target.root, pg_target.data_dir = pg_cache / "pg", pg_cache / "data"
        chosen.append(pg_target)
    return chosen
