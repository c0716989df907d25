"""Reading (and, for a test that stages a crash's leftovers, writing) the store a
test's daemon uses, straight from its database, beside the daemon.

Which database: the one the daemon of `data_dir` opens (`db.database_url`): the
PostgreSQL database named by `$LOGGBOK_DATABASE` (the `store_backend` fixture
sets it), else the SQLite file in `data_dir`. SQL is the store's portable subset
with `?` placeholders (rewritten for psycopg as the store rewrites them). Reads
are read-only connections, opened and closed per call (never left open beside a
daemon).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import psycopg

from loggbok.daemon.store.db import database_url
from loggbok.daemon.store.postgres_db import _translate
from loggbok.daemon.store.store import DATABASE_VARIABLE


def _url(data_dir: Path) -> str:
    return database_url(data_dir, os.environ.get(DATABASE_VARIABLE))


def on_postgres(data_dir: Path) -> bool:
    """True when the store of `data_dir` is PostgreSQL."""
    return not _url(data_dir).startswith("sqlite://")


@contextlib.contextmanager
def _connected(data_dir: Path, *, write: bool) -> Iterator[Any]:
    url = _url(data_dir)
    if url.startswith("sqlite://"):
        path = url.removeprefix("sqlite://")
        target = path if write else f"file:{path}?mode=ro"
        with contextlib.closing(sqlite3.connect(target, uri=not write, timeout=30)) as db:
            yield db
            if write:
                db.commit()
    else:
        with psycopg.connect(url, autocommit=not write) as db:
            db.read_only = not write
            yield db  # leaving the block commits a write


def rows(data_dir: Path, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Every row `sql` selects, as tuples."""
    with _connected(data_dir, write=False) as db:
        if isinstance(db, sqlite3.Connection):
            return [tuple(r) for r in db.execute(sql, tuple(params)).fetchall()]
        return [tuple(r) for r in db.execute(_translate(sql), tuple(params)).fetchall()]


def value(data_dir: Path, sql: str, params: Sequence[Any] = ()) -> Any:
    """The first column of the first row `sql` selects (a count, an id)."""
    found = rows(data_dir, sql, params)
    assert found, f"no row: {sql}"
    return found[0][0]


def execute(data_dir: Path, statements: Sequence[tuple[str, Sequence[Any]]]) -> None:
    """Run `statements` (SQL, parameters) in one transaction: for a test that puts the
    store where a crash would leave it, with no daemon running."""
    with _connected(data_dir, write=True) as db:
        for sql, params in statements:
            if isinstance(db, sqlite3.Connection):
                db.execute(sql, tuple(params))
            else:
                db.execute(_translate(sql), tuple(params))


def contents(data_dir: Path) -> bytes:
    """Everything the store holds, as bytes to look for a secret in: the SQLite files
    (the database, its WAL), or the text of every row of every PostgreSQL table."""
    url = _url(data_dir)
    if url.startswith("sqlite://"):
        path = Path(url.removeprefix("sqlite://"))
        return b"".join(p.read_bytes() for p in path.parent.glob(f"{path.name}*"))
    with psycopg.connect(url, autocommit=True) as db:
        tables = [
            r[0] for r in db.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ]
        return "\n".join(
            str(row[0])
            for table in tables
            for row in db.execute(f'SELECT t::text FROM "{table}" t').fetchall()
        ).encode()
