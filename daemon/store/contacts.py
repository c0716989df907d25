"""Contacts and their addresses: create, read, list, update, look up by address.

An address belongs to at most one contact (the primary key of
`contact_emails`), so "which contact is this participant?" is one lookup.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from loggbok.daemon.contacts_import import ImportedContact
from loggbok.daemon.contacts_import import normalise_email as addr_spec
from loggbok.daemon.store.companies import company_for
from loggbok.daemon.store.contact_merge import MergeCounts, merge_imported
from loggbok.daemon.store.db import Database, Dialect, Row, Transaction
from loggbok.daemon.store.errors import Conflict, Invalid, NotFound
from loggbok.protocol.types import Contact, ContactList


def _select(dialect: Dialect) -> str:
    return f"""
    SELECT c.id, c.name, c.source, c.last_activity, c.company_id, co.name AS company,
           (SELECT {dialect.joined("email")} FROM
               (SELECT email FROM contact_emails e WHERE e.contact_id = c.id
                ORDER BY position, email) x) AS emails
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

    async def create(
        self, email: str, name: str | None = None, more: Sequence[str] = (), source: str = "manual"
    ) -> int:
        emails = list(dict.fromkeys(normalise_email(e) for e in (email, *more)))
        async with self._db.transaction() as tx:
            return await insert_contact(tx, name or emails[0].partition("@")[0], emails, source)

    async def get(self, contact_id: int) -> Contact:
        row = await self._db.fetchone(_select(self._db.dialect) + " WHERE c.id = ?", (contact_id,))
        if row is None:
            raise NotFound("No such contact", {"id": contact_id})
        return _contact(row)

    async def search(self, query: str, limit: int, cursor: str | None) -> ContactList:
        limit = max(1, min(limit, 1000))
        offset = int(cursor) if cursor and cursor.isdigit() else 0
        where, params = "", []
        if query.strip():
            like = f"%{query.strip().lower()}%"
            where = """WHERE lower(c.name) LIKE ? OR lower(co.name) LIKE ? OR EXISTS
                (SELECT 1 FROM contact_emails e WHERE e.contact_id = c.id AND e.email LIKE ?)"""
            params = [like, like, like]
        rows = await self._db.fetchall(
            _select(self._db.dialect)
            + where
            + " ORDER BY c.last_activity IS NULL, c.last_activity DESC,"
            " lower(c.name), c.id LIMIT ? OFFSET ?",
            [*params, limit + 1, offset],
        )
        more = len(rows) > limit
        return ContactList(
            contacts=[_contact(r) for r in rows[:limit]],
            next=str(offset + limit) if more else None,
        )

    async def update(self, contact_id: int, name: str | None, emails: list[str] | None) -> Contact:
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
        return await self.get(contact_id)

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
