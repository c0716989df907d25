"""`Store`: opens the database and hands out one query object per aggregate.

Which database: `Store.open(data_dir, database)` with `database` a URL
(`db.database_url`); without one, `$LOGGBOK_DATABASE`, else SQLite in the data
dir. Attachments live beside a SQLite file (several daemons, one per member,
may share one), and in the database with PostgreSQL (staged in the data dir
while a sync parses them): `db.blobs` is where parsing writes them,
`db.read_blob` reads them (`db.py`).
"""

from __future__ import annotations

import os
from pathlib import Path

from loggbok.daemon.store.archive import ArchiveQueries
from loggbok.daemon.store.blobs import BlobStore
from loggbok.daemon.store.by_hand import ByHand
from loggbok.daemon.store.contacts import ContactQueries
from loggbok.daemon.store.conversations import ConversationQueries
from loggbok.daemon.store.db import Database, database_url, open_database
from loggbok.daemon.store.mailboxes import MailboxQueries
from loggbok.daemon.store.messages import MessageQueries
from loggbok.daemon.store.outages import OutageQueries
from loggbok.daemon.store.redecisions import RedecisionQueries
from loggbok.daemon.store.rescans import RescanQueries
from loggbok.daemon.store.rounds import RoundQueries
from loggbok.daemon.store.settings import SettingsQueries
from loggbok.daemon.store.team import TeamQueries
from loggbok.daemon.store.timeline import TimelineQueries
from loggbok.daemon.store.users import UserQueries

DATABASE_VARIABLE = "LOGGBOK_DATABASE"
"""The database URL when none is given (`loggbokd --database` sets it too)."""


class Store:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.blobs: BlobStore = db.blobs
        self.users = UserQueries(db)
        self.settings = SettingsQueries(db)
        self.mailboxes = MailboxQueries(db)
        self.outages = OutageQueries(db)
        self.contacts = ContactQueries(db)
        self.messages = MessageQueries(db)
        self.timeline = TimelineQueries(db)
        self.redecisions = RedecisionQueries(db)
        self.by_hand = ByHand(db)
        self.rescans = RescanQueries(db)
        self.archive = ArchiveQueries(db)
        self.rounds = RoundQueries(db)
        self.team = TeamQueries(db)
        self.conversations = ConversationQueries(db)

    @classmethod
    async def open(cls, data_dir: Path, database: str | None = None) -> Store:
        url = database_url(data_dir, database or os.environ.get(DATABASE_VARIABLE))
        return cls(await open_database(url, data_dir))

    async def close(self) -> None:
        await self.db.close()
