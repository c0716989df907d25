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
    file = Path(path).expanduser()
    if not file.is_absolute():
        raise ValueError(
            f"{path}: give an absolute path (the daemon does not share your working directory)"
        )
    return parse_contacts_file(file)


async def import_contacts(store: Store, path: str | Path) -> ImportResult:
    try:
        batch = await asyncio.to_thread(_parse, str(path))
    except (OSError, ValueError) as exc:
        raise RpcError(ErrorCode.BAD_INPUT, "Cannot import contacts", str(exc)) from None
    created = updated = unchanged = 0
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
            name = current.name or contact.name
            if not extra and name == current.name:
                unchanged += 1
                continue
            await store.contacts.update(owner, name, [*current.emails, *extra])
            updated += 1
        except RpcError as exc:
            errors.append(f"{contact.name or emails[0]}: {exc.message} {exc.data or ''}".strip())
    return ImportResult(
        created=created, updated=updated, skipped=batch.skipped + unchanged, errors=errors
    )
