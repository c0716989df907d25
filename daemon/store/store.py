"""`Store`: opens the database and hands out one query object per aggregate."""

from __future__ import annotations

from pathlib import Path

from loggbok.daemon.store.archive import ArchiveQueries
from loggbok.daemon.store.blobs import BlobStore
from loggbok.daemon.store.by_hand import ByHand
from loggbok.daemon.store.contacts import ContactQueries
from loggbok.daemon.store.db import Database
from loggbok.daemon.store.mailboxes import MailboxQueries
from loggbok.daemon.store.messages import MessageQueries
from loggbok.daemon.store.redecisions import RedecisionQueries
from loggbok.daemon.store.rescans import RescanQueries
from loggbok.daemon.store.rounds import RoundQueries
from loggbok.daemon.store.settings import SettingsQueries
from loggbok.daemon.store.timeline import TimelineQueries
from loggbok.daemon.store.users import UserQueries

DATABASE = "loggbok.sqlite3"
"""The database's name in the data dir, unless `loggbokd --database` names another."""


class Store:
    def __init__(self, db: Database, blobs: BlobStore) -> None:
        self.db = db
        self.blobs = blobs
        self.users = UserQueries(db)
        self.settings = SettingsQueries(db)
        self.mailboxes = MailboxQueries(db)
        self.contacts = ContactQueries(db)
        self.messages = MessageQueries(db)
        self.timeline = TimelineQueries(db)
        self.redecisions = RedecisionQueries(db)
        self.by_hand = ByHand(db)
        self.rescans = RescanQueries(db)
        self.archive = ArchiveQueries(db)
        self.rounds = RoundQueries(db)

    @classmethod
    async def open(cls, data_dir: Path, database: Path | None = None) -> Store:
        """The store in `data_dir`, or in the database file `database` (several daemons,
        one per member, may share one); attachments live beside the database."""
        path = database or data_dir / DATABASE
        db = await Database.open(path)
        return cls(db, BlobStore(path.parent / "blobs"))

    async def close(self) -> None:
        await self.db.close()
