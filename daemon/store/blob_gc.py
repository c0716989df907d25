"""Attachment blobs that no attachment names any more go, with the transaction that let
go of them.

Blobs are content-addressed and shared: one sha256 for the same file in any number
of messages, any member's. Whatever removes an attachment row or points it at other
content (a body written again, R11's real files in place of a scanner's
placeholders; a message deletion, when one is added) takes the digests it let go of
(`digests_of` before, or the rows' old `sha256`) to `release_blobs` in the same
transaction, after its own writes. The blobs that no attachment names then are
dropped by the transaction (`Transaction.drop_blobs`):

- PostgreSQL: their `attachment_blobs` rows are deleted in that transaction, under
  the store's write lock. Another member's daemon may have copied one in just
  before (`upload_blobs`, outside the lock) for a transaction of its own that is
  about to name it: that transaction takes the same lock, and its `keep_blobs`
  finds the blob gone and copies it in again from its staged file, which stays
  until that transaction committed. So a blob is never dropped from under a write.
- SQLite: their files are moved into `blobs/.trash/` inside the transaction (the
  database's write lock is held, so no other process commits meanwhile), moved
  back if it rolls back; another process's transaction that names one (its file
  was there when that process parsed the mail, so it wrote none) restores it from
  the trash in its `keep_blobs`. Files that stayed in the trash for `TRASH_GRACE`
  are removed by a later release (an attachment naming one, after a crash
  between the move and the commit, gets it back instead).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from loggbok.daemon.store.db import Transaction

TRASH_GRACE = 3600.0
"""Seconds a SQLite blob file stays in the trash: longer than any mail's parse and
write take between its blob being written and its attachment row committed."""


async def digests_of(tx: Transaction, messages: Iterable[int]) -> set[str]:
    """The blobs the attachments of `messages` name."""
    rows = await tx.fetchall_in(
        "SELECT DISTINCT sha256 FROM attachments WHERE message IN ({placeholders})"
        " AND sha256 IS NOT NULL",
        sorted(set(messages)),
    )
    return {str(r[0]) for r in rows}


async def release_blobs(tx: Transaction, digests: Collection[str]) -> set[str]:
    """Drop those of `digests` that no attachment names now (as this transaction sees
    it); returns them."""
    wanted = sorted(set(digests))
    if not wanted:
        return set()
    named = {
        str(r[0])
        for r in await tx.fetchall_in(
            "SELECT DISTINCT sha256 FROM attachments WHERE sha256 IN ({placeholders})", wanted
        )
    }
    unnamed = set(wanted) - named
    if unnamed:
        await tx.drop_blobs(unnamed)
    return unnamed
