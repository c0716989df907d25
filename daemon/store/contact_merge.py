"""Imported cards merged into the contacts, one transaction per batch.

A card whose address already belongs to a contact adds its other addresses to
that contact (and its name when the contact has none); a card that changes
nothing is counted as unchanged; a new one becomes a contact with source
"import" (and its company from its first address's work domain). Cards are
merged in file order, so a later card in the same batch sees an earlier one's
contact. A batch is one transaction: a contact is written whole or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from loggbok.daemon.contacts_import import ImportedContact
from loggbok.daemon.store.companies import companies_for
from loggbok.daemon.store.db import Database, Row, Transaction


@dataclass(slots=True)
class MergeCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass(slots=True)
class _Draft:
    name: str
    emails: list[str] = field(default_factory=list)


async def merge_imported(db: Database, cards: Sequence[ImportedContact]) -> MergeCounts:
    """Merge `cards` (addresses already normalised) in one write transaction."""
    counts = MergeCounts()
    if not cards:
        return counts
    async with db.transaction() as tx:
        owners = await _owners(tx, list({e for card in cards for e in card.emails}))
        drafts = await _drafts(tx, sorted(set(owners.values())))
        next_id = int(await tx.fetchval("SELECT coalesce(max(id), 0) + 1 FROM contacts"))
        new: list[int] = []
        changed: set[int] = set()
        for card in cards:
            emails = list(dict.fromkeys(card.emails))
            owner = next((owners[e] for e in emails if e in owners), None)
            if owner is None:
                drafts[next_id] = _Draft(card.name, emails)
                owners.update(dict.fromkeys(emails, next_id))
                new.append(next_id)
                next_id += 1
                counts.created += 1
                continue
            draft = drafts[owner]
            extra = [e for e in emails if e not in owners]
            name = draft.name or card.name
            if not extra and name == draft.name:
                counts.unchanged += 1
                continue
            draft.name = name
            draft.emails += extra
            owners.update(dict.fromkeys(extra, owner))
            changed.add(owner)
            counts.updated += 1
        await _insert(tx, new, drafts)
        await _rewrite(tx, sorted(changed - set(new)), drafts)
    return counts


async def _rows_in(tx: Transaction, sql: str, values: Sequence[object]) -> list[Row]:
    rows: list[Row] = []
    for start in range(0, len(values), 500):
        chunk = values[start : start + 500]
        rows += await tx.fetchall(sql.format(marks=",".join("?" * len(chunk))), chunk)
    return rows


async def _owners(tx: Transaction, emails: list[str]) -> dict[str, int]:
    sql = "SELECT email, contact_id FROM contact_emails WHERE email IN ({marks})"
    return {row[0]: int(row[1]) for row in await _rows_in(tx, sql, emails)}


async def _drafts(tx: Transaction, ids: list[int]) -> dict[int, _Draft]:
    """The contacts `ids` as they are: name and addresses in their order."""
    drafts = {
        int(row[0]): _Draft(row[1])
        for row in await _rows_in(tx, "SELECT id, name FROM contacts WHERE id IN ({marks})", ids)
    }
    sql = (
        "SELECT contact_id, email FROM contact_emails WHERE contact_id IN ({marks})"
        " ORDER BY contact_id, position, email"
    )
    for row in await _rows_in(tx, sql, ids):
        drafts[int(row[0])].emails.append(row[1])
    return drafts


async def _insert(tx: Transaction, ids: list[int], drafts: dict[int, _Draft]) -> None:
    if not ids:
        return
    companies = await companies_for(tx, [drafts[i].emails[0] for i in ids])
    await tx.executemany(
        "INSERT INTO contacts (id, name, company_id, source) VALUES (?, ?, ?, 'import')",
        [(i, drafts[i].name, companies.get(drafts[i].emails[0])) for i in ids],
    )
    await _write_emails(tx, ids, drafts)


async def _rewrite(tx: Transaction, ids: list[int], drafts: dict[int, _Draft]) -> None:
    if not ids:
        return
    await tx.executemany(
        "UPDATE contacts SET name = ? WHERE id = ?", [(drafts[i].name, i) for i in ids]
    )
    await tx.executemany("DELETE FROM contact_emails WHERE contact_id = ?", [(i,) for i in ids])
    await _write_emails(tx, ids, drafts)


async def _write_emails(tx: Transaction, ids: list[int], drafts: dict[int, _Draft]) -> None:
    await tx.executemany(
        "INSERT INTO contact_emails (email, contact_id, position) VALUES (?, ?, ?)",
        [(e, i, position) for i in ids for position, e in enumerate(drafts[i].emails)],
    )
