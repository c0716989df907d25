"""Full-text search over logged mail (`messages.search`): which matches a member
gets, and in which order.

At most `RANKED` matches the caller may see: by relevance (bm25 on SQLite, ts_rank
on PostgreSQL). More: the most recently stored matches (store ids follow arrival),
newest first: from the index's own order, or, on PostgreSQL, for a word of
middling frequency, all its matches read through the index and sorted
(`Dialect.few_matches`): a common word costs what a rare one does. The choice
counts only what the caller may see (`ranked`), so the order of the hits tells
nothing of a colleague's hidden mail.
"""

from __future__ import annotations

from loggbok.daemon.store.db import Database, Row
from loggbok.daemon.store.errors import Invalid
from loggbok.daemon.store.records import MESSAGE_COLUMNS, VISIBLE

RANKED = 1_000
"""Searches with at most this many matches the caller may see are ordered by relevance
(scoring them all takes about a millisecond); larger ones newest first."""


async def matching(
    db: Database, query: str, limit: int, viewer: int, columns: str = MESSAGE_COLUMNS
) -> list[Row]:
    """The messages (`columns` of `m`, `MESSAGE_COLUMNS` at least) `viewer` may see that
    FTS5 `query` matches, at most `limit` (1 to 500), in the order they are shown."""
    limit = max(1, min(limit, 500))
    try:
        by_rank = await ranked(db, query, viewer)
        few = not by_rank and await db.dialect.few_matches(db, query)
        sql, params = db.dialect.search(query, columns, VISIBLE, ranked=by_rank, few=few)
        rows = await db.fetchall(sql, {**params, "viewer": viewer, "limit": limit})
    except Exception as exc:  # an FTS5 syntax error (SQLite's, or pg_search's)
        raise Invalid("Invalid params", f"search query: {exc}") from None
    if not by_rank:
        rows.sort(key=lambda r: (r["date_ts"], r["id"]), reverse=True)
    return rows


async def ranked(db: Database, query: str, viewer: int) -> bool:
    """Whether `viewer` may see at most `RANKED` matches of `query`. Every match
    counted from the index alone first (no row read): at most `RANKED` settles it, and
    so does a store of one member (every message is theirs). Else the visible ones, up
    to `RANKED` + 1: a count that stops there, so about `RANKED` rows joined for a
    member who sees most of a common word's matches (more for one who sees few of
    them, as their newest-first page costs anyway). Measured at 20,000 matches on a
    loaded machine: 0.3 -> 0.5 ms on SQLite, 1-2.5 -> 7 ms on PostgreSQL
    (docs/benchmarks.md)."""
    cap = {"cap": RANKED + 1}
    sql, params = db.dialect.search_count(query)
    row = await db.fetchone(f"SELECT ({sql}), (SELECT count(*) FROM users)", {**params, **cap})
    assert row is not None
    if int(row[0]) <= RANKED:
        return True
    if int(row[1]) <= 1:
        return False
    sql, params = db.dialect.search_count(query, VISIBLE)
    seen = await db.fetchval(sql, {**params, **cap, "viewer": viewer})
    return int(seen) <= RANKED
