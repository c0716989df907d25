"""Import contacts from a vCard or CSV file into the store, merging by address.

A card whose address already belongs to a contact adds its other addresses
to that contact (and its name when the contact has none); a new one becomes
a contact with source "import". Parsing lives in `contacts_import`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from loggbok.daemon.contacts_import import ImportBatch, parse_contacts_file
from loggbok.daemon.store.store import Store
from loggbok.protocol.errors import ErrorCode, RpcError
from loggbok.protocol.types import ImportResult


def _parse(path: str) -> ImportBatch:
    return parse_contacts_file(Path(path).expanduser())


async def import_contacts(store: Store, path: str | Path) -> ImportResult:
    try:
        batch = await asyncio.to_thread(_parse, str(path))
    except (OSError, ValueError) as exc:
        raise RpcError(ErrorCode.BAD_INPUT, "Cannot import contacts", str(exc)) from None
    created = updated = 0
    errors = list(batch.errors)
    for contact in batch.contacts:
        emails = list(dict.fromkeys(contact.emails))
        found = await store.contacts.lookup(emails)
        try:
            if not found:
                await store.contacts.create(emails[0], contact.name, emails[1:], source="import")
                created += 1
                continue
            owner = next(iter(found.values()))
            current = await store.contacts.get(owner)
            extra = [e for e in emails if e not in found]
            await store.contacts.update(
                owner, current.name or contact.name, [*current.emails, *extra]
            )
            updated += 1
        except RpcError as exc:
            errors.append(f"{contact.name or emails[0]}: {exc.message} {exc.data or ''}".strip())
    return ImportResult(created=created, updated=updated, skipped=batch.skipped, errors=errors)
