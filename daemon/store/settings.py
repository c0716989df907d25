"""Each user's settings, kept as one JSON document on their user row."""

from __future__ import annotations

import msgspec

from loggbok.daemon.contacts_import import normalise_email as addr_spec
from loggbok.daemon.store.db import Database
from loggbok.protocol.types import Settings, SettingsSetParams


class SettingsQueries:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, user_id: int = 1) -> Settings:
        row = await self._db.fetchone("SELECT settings FROM users WHERE id = ?", (user_id,))
        return msgspec.json.decode(row[0] if row else b"{}", type=Settings)

    async def update(self, changes: SettingsSetParams, user_id: int = 1) -> Settings:
        current = msgspec.to_builtins(await self.get(user_id))
        for name, value in msgspec.structs.asdict(changes).items():
            if value is not msgspec.UNSET:
                current[name] = _normalise(name, value)
        settings = msgspec.convert(current, Settings)
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE users SET settings = ? WHERE id = ?",
                (msgspec.json.encode(settings).decode(), user_id),
            )
        return settings


def normalise_list(value: list[str]) -> list[str]:
    """A list of addresses and @domains as the rules compare them: bare, lower-cased,
    sorted, each once."""
    cleaned = {str(v).strip().lower() for v in value if str(v).strip()}
    return sorted(v if v.startswith("@") else (addr_spec(v) or v) for v in cleaned)


def _normalise(name: str, value: object) -> object:
    """Addresses are compared lower-cased and bare everywhere ("Log <a@b.se>" -> "a@b.se");
    store them so. Validation is the handler's (`settings.set`)."""
    if isinstance(value, str) and name in ("bcc_address", "forwarding_address"):
        return (addr_spec(value) or value.strip().lower()) or None
    if isinstance(value, list) and name in ("never_log", "own_addresses"):
        return normalise_list(value)
    if isinstance(value, list) and name == "excluded_folders":
        stripped = (str(v).strip().strip("/").strip() for v in value)
        return list(dict.fromkeys(v for v in stripped if v))
    return value
