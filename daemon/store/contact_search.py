"""Finding contacts by any part of a name, address or company: SQLite's side.

Two copies of each contact's text: the trigram FTS5 index `contact_search`
(rowid = contact id; migration 11: its name, addresses and company name), which
finds and counts a query's matches, and `contacts.search_text` (migration 18:
the same, a line each, lower-cased by Python's rules), which is in the list's
index so a walk of the list compares each entry without reading the table.
Triggers note the contacts whose text changed in `contact_search_stale`,
whatever wrote them; `settle` (run by `Database.transaction` before every
commit) rewrites both for them in one statement each. (FTS5 written from a
trigger, one row at a time, flushes its pending terms at every statement: ten
times the cost of a contacts import.)

`matching` gives `ContactQueries.search` the FROM and WHERE that find a query's
contacts, chosen by how many match and how deep the page is, so no page reads
every contact. Everything here is SQLite's own (FTS5 MATCH, trigram,
group_concat, INDEXED BY, `loggbok_lower`): it is
`SqliteDialect.contacts_matching`, and `SqliteDatabase` runs `settle`;
PostgreSQL has its own (`PostgresDialect.contacts_matching`).
"""

from __future__ import annotations

import dataclasses

from loggbok.daemon.store.db import Database, Transaction
from loggbok.daemon.store.dialect import SQLITE, ContactsMatching, like_contains

FEW = 200
"""At most this many matches are always read by id and sorted (a few tenths of a ms)."""
DENSE = 12_000
"""Counting the matches stops here (at most this many index entries read): more are
walked (one contact in 8 at 100,000: a page is found within a few hundred entries)."""
TRIGRAM = 3
"""Shorter needles cannot use the trigram index."""
SORT_US = 1.2
"""Microseconds to sort one match: read it from the trigram index, its contact by id,
and put it in order."""
WALK_US = 0.2
"""Microseconds to walk one entry of the list's index and compare its text."""
# Measured on the 1,000,000-message bench store (100,000 contacts, SQLite 3.40; see
# docs/benchmarks.md, 2026-12-07): sorting 842-5,120 matches took 0.56-7.0 ms; a walk
# 0.16 ms for "berg" (5,120 matches, a page within 1,000 entries), 1.2 ms for "smit"
# (842, the page's last at entry 6,914).

_IN_MATCHES = "WHERE c.id IN (SELECT rowid FROM contact_search WHERE contact_search MATCH :phrase)"
_EACH_TEXT = "WHERE instr(c.search_text, :needle) > 0"
"""Each entry of the list's index compared as it comes (`search_text` is in the index)."""
_EACH_FIELD = """WHERE lower(c.name) LIKE :like ESCAPE '\\' OR EXISTS (SELECT 1 FROM companies co
        WHERE co.id = c.company_id AND lower(co.name) LIKE :like ESCAPE '\\')
    OR EXISTS (SELECT 1 FROM contact_emails e WHERE e.contact_id = c.id
        AND e.email LIKE :like ESCAPE '\\')"""
"""Each contact's fields compared one by one: for a needle of several lines, which the
lines of `search_text` would let match across two fields."""


def walk_for(matches: int, contacts: int) -> int:
    """The deepest page (its offset, its size and one) a walk reads for less than
    sorting the matches costs, when they are spread evenly over the list of `contacts`:
    a walk reads about `wanted * contacts / matches` entries."""
    return int(SORT_US * matches * matches / (WALK_US * max(1, contacts)))


async def matching(db: Database, needle: str) -> ContactsMatching:
    """How a page of the contacts that contain `needle` (lower case) is read in the
    list's order, by how many match (counted in the trigram index, up to `DENSE`) and
    how deep the page is (its offset, its size and one):

    - at most `FEW`: read by id and sorted;
    - more: whichever costs less by a model of both (the constants above): sorting
      them all, or walking the list's index (`contacts_listed`, which holds each
      contact's `search_text`) and comparing each entry until the page is full. The
      walk is the plan for pages up to `walk_for`, sorting (`fallback`) deeper;
    - more than `DENSE`, or a needle shorter than a trigram: the walk.

    The model takes the matches as spread evenly over the list. Matches that all sit
    behind most of the list (contacts imported together and never written to, say)
    make a walk read those entries first: at most the whole index, about 20 ms at
    100,000 contacts."""
    walk = f"contacts c {SQLITE.indexed_by('contacts_listed')}"
    if "\n" in needle:
        return ContactsMatching(walk, _EACH_FIELD, {"like": like_contains(needle)})
    each = ContactsMatching(walk, _EACH_TEXT, {"needle": needle})
    if len(needle) < TRIGRAM:
        return each
    phrase = {"phrase": '"' + needle.replace('"', '""') + '"'}
    row = await db.fetchone(
        "SELECT (SELECT count(*) FROM (SELECT rowid FROM contact_search"
        " WHERE contact_search MATCH :phrase LIMIT :cap) s), (SELECT max(id) FROM contacts)",
        {**phrase, "cap": DENSE + 1},
    )
    assert row is not None
    found, contacts = int(row[0]), int(row[1] or 0)  # the largest id: as many, or more
    sort = ContactsMatching("contacts c", _IN_MATCHES, phrase)
    if found > DENSE:
        return each
    deepest = walk_for(found, contacts)
    if found <= FEW or deepest < 1:
        return sort
    return dataclasses.replace(each, fallback=sort, walk_for=deepest)


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
    await tx.execute(
        """UPDATE contacts SET search_text = loggbok_lower(name || char(10)
            || coalesce((SELECT group_concat(email, char(10)) FROM (SELECT email
                FROM contact_emails e WHERE e.contact_id = contacts.id
                ORDER BY position, email)), '')
            || char(10) || coalesce((SELECT co.name FROM companies co
                WHERE co.id = contacts.company_id), ''))
           WHERE id IN (SELECT contact_id FROM contact_search_stale)"""
    )
    await tx.execute("DELETE FROM contact_search_stale")


def lower_text(text: str | None) -> str | None:
    """`loggbok_lower(text)`, registered on every connection that writes: lower case by
    Python's rules, as a query's needle is (SQLite's lower() knows only ASCII)."""
    return None if text is None else text.lower()
