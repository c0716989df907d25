"""Finding contacts by any part of a name, address or company: SQLite's side.

The trigram FTS5 index `contact_search` (rowid = contact id; migration 9) holds
each contact's name, addresses and company name. Triggers note the contacts whose
text changed in `contact_search_stale`, whatever wrote them; `settle` (run by
`Database.transaction` before every commit) rewrites their rows in one
statement. (FTS5 written from a trigger, one row at a time, flushes its pending
terms at every statement: ten times the cost of a contacts import.)

`matching` gives `ContactQueries.search` the FROM and WHERE that find a query's
contacts, chosen by how many match, so no page reads every contact. Everything
here is SQLite's own (FTS5 MATCH, trigram, group_concat, INDEXED BY): it is
`SqliteDialect.contacts_matching`, and `SqliteDatabase` runs `settle`;
PostgreSQL has its own (`PostgresDialect.contacts_matching`).
"""

from __future__ import annotations

from loggbok.daemon.store.db import Database, Transaction
from loggbok.daemon.store.dialect import SQLITE, ContactsMatching, like_contains

FEW = 500
"""Matches read by id and sorted (cheaper than walking the list's index)."""
DENSE = 12_000
"""Above this many matches the list's index is walked and each contact compared."""
TRIGRAM = 3
"""Shorter needles cannot use the trigram index."""

_IN_MATCHES = "WHERE c.id IN (SELECT rowid FROM contact_search WHERE contact_search MATCH :phrase)"
_EACH_MATCHES = """WHERE lower(c.name) LIKE :like ESCAPE '\\' OR EXISTS (SELECT 1 FROM companies co
        WHERE co.id = c.company_id AND lower(co.name) LIKE :like ESCAPE '\\')
    OR EXISTS (SELECT 1 FROM contact_emails e WHERE e.contact_id = c.id
        AND e.email LIKE :like ESCAPE '\\')"""
"""Each contact compared as it comes (a few dozen per page when many match: cheaper
than asking the trigram index once per contact, about 80 us, or for all matches)."""


async def matching(db: Database, needle: str) -> ContactsMatching:
    """FROM and WHERE (with their named params) for the contacts that contain `needle` (lower
    case). By how many match (counted up to `DENSE`: at most that many index
    entries): few, read by id and sorted; more, the list's index (`contacts_listed`)
    walked against the set of matches; very many (one contact in 20 of 100,000 or
    more), the list's index walked and each contact compared until the page is full.
    A needle shorter than a trigram is compared against every contact."""
    like = {"like": like_contains(needle)}
    walk = f"contacts c {SQLITE.indexed_by('contacts_listed')}"
    if len(needle) < TRIGRAM:
        return walk, _EACH_MATCHES, like
    phrase = '"' + needle.replace('"', '""') + '"'
    found = int(
        await db.fetchval(
            "SELECT count(*) FROM (SELECT rowid FROM contact_search"
            " WHERE contact_search MATCH ? LIMIT ?) s",
            (phrase, DENSE + 1),
        )
    )
    if found <= FEW:
        return "contacts c", _IN_MATCHES, {"phrase": phrase}
    if found <= DENSE:
        return walk, _IN_MATCHES, {"phrase": phrase}
    return walk, _EACH_MATCHES, like


async def settle(tx: Transaction) -> None:
    """Rewrite the index rows of the contacts noted stale (bulk statements)."""
    stale = await tx.fetchall("SELECT contact_id FROM contact_search_stale ORDER BY contact_id")
    if not stale:
        return
    # one lookup by rowid each: `rowid IN (SELECT ...)` reads the whole FTS5 table
    await tx.executemany("DELETE FROM contact_search WHERE rowid = ?", [(r[0],) for r in stale])
    await tx.execute(
        """INSERT INTO contact_search (rowid, name, emails, company)
           SELECT c.id, c.name, coalesce((SELECT group_concat(email, char(10))
               FROM contact_emails WHERE contact_id = c.id), ''), coalesce(co.name, '')
           FROM contact_search_stale s JOIN contacts c ON c.id = s.contact_id
           LEFT JOIN companies co ON co.id = c.company_id ORDER BY c.id"""
    )
    await tx.execute("DELETE FROM contact_search_stale")
