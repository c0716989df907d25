"""`Store`: opens the database and hands out one query object per aggregate.

Which database: `Store.open(data_dir, database)` with `database` a URL
(`db.database_url`); without one, `$LOGGBOK_DATABASE`, else SQLite in the data
dir. Blobs (attachments) live beside a SQLite file (several daemons, one per
member, may share one), and in the data dir with PostgreSQL.
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
    def __init__(self, db: Database, blobs: BlobStore) -> None:
        self.db = db
        self.blobs = blobs
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
        db = await open_database(url)
        return cls(db, BlobStore(_blob_dir(data_dir, url)))

    async def close(self) -> None:
        await self.db.close()


def _blob_dir(data_dir: Path, url: str) -> Path:
    """Where attachments live: beside a SQLite database file, else in the data dir."""
    if url.startswith("sqlite://"):
        return Path(url.removeprefix("sqlite://")).parent / "blobs"
    return data_dir / "blobs"
