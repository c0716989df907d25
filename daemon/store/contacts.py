"""Contacts and their addresses: create, read, list, update, look up by address.

An address belongs to at most one contact (the primary key of
`contact_emails`), so "which contact is this participant?" is one lookup.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import msgspec

from loggbok.daemon.contacts_import import ImportedContact
from loggbok.daemon.contacts_import import normalise_email as addr_spec
from loggbok.daemon.store.companies import company_for
from loggbok.daemon.store.contact_merge import MergeCounts, merge_imported
from loggbok.daemon.store.db import Database, Dialect, Row, Transaction
from loggbok.daemon.store.dialect import CONTACTS_ORDER as ORDER
from loggbok.daemon.store.dialect import ContactsMatching
from loggbok.daemon.store.errors import Conflict, Invalid, NotFound
from loggbok.daemon.store.outages import OutageQueries
from loggbok.daemon.store.records import VISIBLE
from loggbok.protocol.types import Contact, ContactList

PLANS = 256
"""How many needles' plans `ContactQueries._matching` keeps."""


MAX_OFFSET = 1 << 62
"""The largest offset a cursor gives (beyond every list; a 64-bit number in the SQL)."""


def _select(dialect: Dialect, columns: str = "") -> str:
    return f"""
    SELECT c.id, c.name, c.source, c.last_activity, c.company_id, co.name AS company,
           (SELECT {dialect.joined("email")} FROM
               (SELECT email FROM contact_emails e WHERE e.contact_id = c.id
                ORDER BY position, email) x) AS emails{columns}
    FROM contacts c LEFT JOIN companies co ON co.id = c.company_id
"""


def _contact(row: Row) -> Contact:
    return Contact(
        id=row["id"],
        name=row["name"],
        emails=(row["emails"] or "").split("\x1f") if row["emails"] else [],
        company=row["company"],
        company_id=row["company_id"],
        last_activity=row["last_activity"],
        source=row["source"],
    )


def _offset(cursor: str | None) -> int:
    """The list's cursor (the offset of the next page, as text) as a number; anything
    else than ASCII digits is the first page, and past `MAX_OFFSET` an empty one."""
    if not cursor or not (cursor.isascii() and cursor.isdigit()):
        return 0
    return MAX_OFFSET if len(cursor) > 18 else min(int(cursor), MAX_OFFSET)


def normalise_email(email: str) -> str:
    """The lower-cased address, by the importer's addr-spec rule; Invalid params if none."""
    cleaned = addr_spec(email)
    if cleaned is None:
        raise Invalid("Invalid params", f"not an address: {email!r}")
    return cleaned


async def insert_contact(tx: Transaction, name: str, emails: Sequence[str], source: str) -> int:
    """Create a contact inside a transaction; raises CONFLICT when an address is taken."""
    taken = await owners_in(tx, emails)
    if taken:
        email, owner = next(iter(taken.items()))
        raise Conflict(
            "Address belongs to another contact",
            {"email": email, "contact_id": owner},
        )
    company = await company_for(tx, emails[0])
    contact_id = int(
        await tx.fetchval(
            "INSERT INTO contacts (name, company_id, source) VALUES (?, ?, ?) RETURNING id",
            (name, company, source),
        )
    )
    await tx.executemany(
        "INSERT INTO contact_emails (email, contact_id, position) VALUES (?, ?, ?)",
        [(email, contact_id, i) for i, email in enumerate(emails)],
    )
    return contact_id


async def owners_in(tx: Transaction, emails: Iterable[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for email in emails:
        owner = await tx.fetchval("SELECT contact_id FROM contact_emails WHERE email = ?", (email,))
        if owner is not None:
            found[email] = int(owner)
    return found


class ContactQueries:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._plans: dict[str, ContactsMatching] = {}
        """`_matching`'s plans by needle, oldest first (at most `PLANS`)."""
        self._generation = db.generation

    async def create(
        self, email: str, name: str | None = None, more: Sequence[str] = (), source: str = "manual"
    ) -> int:
        emails = list(dict.fromkeys(normalise_email(e) for e in (email, *more)))
        async with self._db.transaction() as tx:
            return await insert_contact(tx, name or emails[0].partition("@")[0], emails, source)

    async def get(self, contact_id: int, viewer: int | None = None) -> Contact:
        """A contact; its `last_activity` as `viewer` sees it (`seen_by`)."""
        row = await self._db.fetchone(_select(self._db.dialect) + " WHERE c.id = ?", (contact_id,))
        if row is None:
            raise NotFound("No such contact", {"id": contact_id})
        return (await self.seen_by([_contact(row)], viewer))[0]

    async def seen_by(self, contacts: list[Contact], viewer: int | None) -> list[Contact]:
        """The contacts with `last_activity` counted over the logged email `viewer` may
        see (`records.VISIBLE`): the date of the newest entry of their timeline as
        `viewer` reads it (None when they see none), never the date of a colleague's
        hidden mail. One statement for a page; each contact's newest entries are read
        from the timeline's index until one `viewer` sees. `viewer` None: every
        member's mail (the stored `last_activity`, which orders `contacts.list`)."""
        if viewer is None or not contacts:
            return contacts
        named: dict[str, object] = {f"c{i}": c.id for i, c in enumerate(contacts)}
        rows = await self._db.fetchall(
            f"""SELECT c.id, (SELECT m.date FROM timeline_entries e
                    JOIN messages m ON m.id = e.message
                    WHERE e.contact_id = c.id AND {VISIBLE}
                    ORDER BY e.date_ts DESC, e.id DESC LIMIT 1) AS seen
                FROM contacts c WHERE c.id IN ({", ".join(":" + k for k in named)})""",
            {**named, "viewer": viewer},
        )
        seen = {int(r[0]): r[1] for r in rows}
        return [msgspec.structs.replace(c, last_activity=seen.get(c.id)) for c in contacts]

    async def search(
        self, query: str, limit: int, cursor: str | None, viewer: int | None = None
    ) -> ContactList:
        """A page of contacts in the list's order (latest activity first), those whose
        name, address or company contains `query` (any case) when one is given.

        One statement (`_page`): the page's ids first, from indexes (`contacts_listed`
        for the order, and what `Dialect.contacts_matching` finds the matches with:
        SQLite's trigram index `contact_search` for a query of three characters or
        more, PostgreSQL's pg_trgm index); then only the page's contacts are read
        whole, with their `last_activity` as `viewer` sees it (`seen_by`) and their
        blind threads (`OutageQueries.blind_count_sql`). No read of every contact: see
        `contact_search.matching` for how the matches meet the order on SQLite.

        The order is the stored one, every member's mail (see docs/team.md)."""
        limit = max(1, min(limit, 1000))
        offset = _offset(cursor)
        needle = query.strip().lower()
        plan = ContactsMatching("contacts c", "", {})
        if needle:
            plan = await self._matching(needle)
        if plan.fallback is not None and offset + limit + 1 > plan.walk_for:
            plan = plan.fallback
        rows = await self._read_page(plan, viewer, limit + 1, offset)
        found = [_contact(r) for r in rows[:limit]]
        if viewer is not None:
            found = [
                msgspec.structs.replace(c, last_activity=r["seen"], blind_threads=r["blind"] or 0)
                for c, r in zip(found, rows, strict=False)
            ]
        return ContactList(contacts=found, next=str(offset + limit) if len(rows) > limit else None)

    async def _read_page(
        self, plan: ContactsMatching, viewer: int | None, limit: int, offset: int
    ) -> Sequence[Row]:
        return await self._db.fetchall(
            self._page(f"{plan.source} {plan.where}", viewer, limit, offset),
            {**plan.params, "viewer": viewer},
        )

    def _page(self, matched: str, viewer: int | None, limit: int, offset: int) -> str:
        """The page of the list as one statement: its ids in a CTE `page` (the contacts
        `matched` (FROM and WHERE) in the list's order, `limit` of them from `offset`:
        numbers in the text, not parameters, so a plan PostgreSQL keeps for the prepared
        statement knows how few rows it wants; with `LIMIT $1` its generic plan
        expected a tenth of the table and joined every company: 66 ms a page at 100,000
        contacts, against 1.8 ms now, with no planning per call),
        the contacts read whole only for them; with a `viewer`, `seen` (their
        `last_activity` as the viewer sees it, as `seen_by`) and `blind` (their blind
        threads, as `OutageQueries.with_blind`: `blind_count_sql`)."""
        columns = ""
        if viewer is not None:
            blind = OutageQueries.blind_count_sql(self._db.dialect, "c.id")
            columns = f""", (SELECT m.date FROM timeline_entries e
                    JOIN messages m ON m.id = e.message
                    WHERE e.contact_id = c.id AND {VISIBLE}
                    ORDER BY e.date_ts DESC, e.id DESC LIMIT 1) AS seen, {blind} AS blind"""
        return f"""WITH page AS (SELECT c.id FROM {matched}
                ORDER BY {ORDER} LIMIT {int(limit)} OFFSET {int(offset)})
            {_select(self._db.dialect, columns)}
            WHERE c.id IN (SELECT id FROM page) ORDER BY {ORDER}"""

    async def _matching(self, needle: str) -> ContactsMatching:
        """`Dialect.contacts_matching` for `needle`, remembered per needle until this
        process writes again (`db.generation`): on SQLite it counts the matches to
        choose how to read them (a statement of its own). The choice never changes
        what a page holds, only what it costs, so one made before another process's
        write is still right."""
        if self._generation != self._db.generation:
            self._plans.clear()
            self._generation = self._db.generation
        plan = self._plans.pop(needle, None)
        if plan is None:
            plan = await self._db.dialect.contacts_matching(self._db, needle)
        self._plans[needle] = plan
        while len(self._plans) > PLANS:
            del self._plans[next(iter(self._plans))]
        return plan

    async def update(
        self,
        contact_id: int,
        name: str | None,
        emails: list[str] | None,
        viewer: int | None = None,
    ) -> Contact:
        await self.get(contact_id)
        async with self._db.transaction() as tx:
            if name is not None:
                await tx.execute("UPDATE contacts SET name = ? WHERE id = ?", (name, contact_id))
            if emails is not None:
                cleaned = list(dict.fromkeys(normalise_email(e) for e in emails))
                if not cleaned:
                    raise Invalid(
                        "Invalid params",
                        "a contact needs at least one address",
                    )
                taken = {e: o for e, o in (await owners_in(tx, cleaned)).items() if o != contact_id}
                if taken:
                    raise Conflict("Address belongs to another contact", taken)
                await tx.execute("DELETE FROM contact_emails WHERE contact_id = ?", (contact_id,))
                await tx.executemany(
                    "INSERT INTO contact_emails (email, contact_id, position) VALUES (?, ?, ?)",
                    [(e, contact_id, i) for i, e in enumerate(cleaned)],
                )
        return await self.get(contact_id, viewer)

    async def lookup(self, emails: Sequence[str]) -> dict[str, int]:
        """Address -> contact id, for the addresses that belong to a contact."""
        found: dict[str, int] = {}
        for start in range(0, len(emails), 500):
            chunk = list(emails[start : start + 500])
            rows = await self._db.fetchall(
                "SELECT email, contact_id FROM contact_emails WHERE email IN"
                f" ({','.join('?' * len(chunk))})",
                chunk,
            )
            found.update({r[0]: r[1] for r in rows})
        return found

    async def merge_imported(self, cards: Sequence[ImportedContact]) -> MergeCounts:
        """Merge a batch of imported cards in one transaction (`contact_merge`)."""
        return await merge_imported(self._db, cards)

    async def exists(self, contact_ids: Iterable[int]) -> list[int]:
        ids = list(contact_ids)
        rows = (
            await self._db.fetchall(
                f"SELECT id FROM contacts WHERE id IN ({','.join('?' * len(ids))})", ids
            )
            if ids
            else []
        )
        return [int(r[0]) for r in rows]
