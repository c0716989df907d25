"""The settings the whole team shares, kept as one JSON document (table `team_settings`).

Today that is R16's never-log list for everyone, beside each member's own list
(`settings.py`). Who may change it is the RPC layer's check (`rpc/access.py`: admins).
"""

from __future__ import annotations

import msgspec

from loggbok.daemon.store.db import Database
from loggbok.daemon.store.settings import normalise_list
from loggbok.protocol.types import TeamSettings, TeamSettingsSetParams


class TeamQueries:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self) -> TeamSettings:
        row = await self._db.fetchone("SELECT settings FROM team_settings WHERE id = 1")
        return msgspec.json.decode(row[0] if row else b"{}", type=TeamSettings)

    async def update(self, changes: TeamSettingsSetParams) -> TeamSettings:
        current = await self.get()
        if not isinstance(changes.never_log, msgspec.UnsetType):
            current.never_log = normalise_list(changes.never_log)
        stored = msgspec.json.encode(TeamSettings(never_log=current.never_log)).decode()
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO team_settings (id, settings) VALUES (1, ?)"
                " ON CONFLICT (id) DO UPDATE SET settings = excluded.settings",
                (stored,),
            )
        return current
