"""Mailboxes, their folders and the persisted per-folder sync state and cursor.

A folder's state is one of: initial -> syncing -> idle, with error states
`temporary_error`, `cursor_invalid` (next sync starts over) and `auth_failed`
mirrored from the mailbox. The cursor is the backend's opaque JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from loggbok.daemon.store import outages
from loggbok.daemon.store.db import Database, Row, Transaction
from loggbok.daemon.store.errors import Forbidden, NotFound
from loggbok.daemon.store.outages import UNAVAILABLE, Outage, iso
from loggbok.protocol.types import FolderState, Mailbox


@dataclass(frozen=True, slots=True)
class MailboxRow:
    id: int
    provider: str
    address: str
    config: dict[str, Any]
    status: str
    origin: str = "socket"
    """'socket' (added over RPC) or 'config' (declared in the config file)."""
    user_id: int = 1
    """The member whose mailbox it is: its daemon syncs it, its messages are theirs."""
    visibility: str | None = None
    """Who sees what it logs; None: its user's default_visibility."""
    kind: str = "personal"
    """'personal', or 'team': a shared inbox (R15)."""


@dataclass(frozen=True, slots=True)
class StatusWritten:
    changed: bool
    """The stored status or detail changed."""
    ended: Outage | None
    """The outage this status ended (the mailbox was read again), if any."""


@dataclass(frozen=True, slots=True)
class FolderRow:
    id: int
    name: str
    role: str
    state: str
    cursor: dict[str, Any] | None


class MailboxQueries:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self,
        provider: str,
        address: str,
        config: dict[str, Any],
        origin: str = "socket",
        *,
        user_id: int = 1,
        visibility: str | None = None,
        kind: str = "personal",
    ) -> int:
        """A new mailbox; it replaces its member's removed ones of the same address
        (R13: their tracked threads move to it, blind until its first round).

        An address belongs to the member who connected it: while another member's
        mailbox of that address is connected, Forbidden (`address_taken`), whatever
        the kind, so no member reads (through the mailbox clause of
        `records.VISIBLE`) or takes over another's mail by naming their address. A
        team mailbox is made by an admin only (Forbidden, `admin_required`): its
        mail is the team's."""
        async with self._db.transaction() as tx:
            await _may_connect(tx, user_id, address, kind)
            row = await tx.fetchone(
                "INSERT INTO mailboxes"
                " (user_id, provider, address, config, origin, visibility, kind)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (user_id, provider, address.lower(), json.dumps(config), origin, visibility, kind),
            )
            assert row is not None
            mailbox_id = int(row[0])
            await outages.replaced(tx, mailbox_id, address, user_id)
            return mailbox_id

    async def may_connect(self, user_id: int, address: str, kind: str) -> None:
        """Forbidden when `user_id` may not connect `address` as `kind` (`add`'s rule),
        checked before a provider is probed; `add` checks again as it writes."""
        await _may_connect(self._db, user_id, address, kind)

    async def set_kind(self, mailbox_id: int, kind: str) -> None:
        """A mailbox becomes a member's own or a team's shared inbox (R15; a team
        mailbox only by an admin's daemon: Forbidden, `admin_required`)."""
        row = await self.get_row(mailbox_id)
        async with self._db.transaction() as tx:
            if kind == "team":
                await _may_connect(tx, row.user_id, row.address, kind)
            await tx.execute("UPDATE mailboxes SET kind = ? WHERE id = ?", (kind, mailbox_id))

    async def kind(self, mailbox_id: int) -> str:
        """'personal' or 'team' (R15); a removed mailbox keeps the kind it had."""
        row = await self._db.fetchone("SELECT kind FROM mailboxes WHERE id = ?", (mailbox_id,))
        return str(row[0]) if row is not None else "personal"

    async def kinds(self) -> dict[int, str]:
        """Every mailbox's kind, removed ones too (their stored mail keeps it)."""
        rows = await self._db.fetchall("SELECT id, kind FROM mailboxes")
        return {int(r[0]): str(r[1]) for r in rows}

    async def reconfigure(
        self, mailbox_id: int, config: dict[str, Any], origin: str, visibility: str | None
    ) -> None:
        """A new config (the config file changed it) and where the mailbox now comes from."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE mailboxes SET config = ?, origin = ?, visibility = ? WHERE id = ?",
                (json.dumps(config), origin, visibility, mailbox_id),
            )

    async def repoint(
        self,
        mailbox_id: int,
        config: dict[str, Any],
        origin: str,
        visibility: str | None,
        detail: str,
    ) -> None:
        """A new config that reads another server or account (R13): as a replacement, the
        mailbox's tracked threads are blind from its last sync until its first round on
        the new source (an outage, cause `replaced`), and every folder starts over (the
        old server's cursors and remote ids mean nothing there; messages stay, keyed by
        Message-ID). Its worker must be stopped meanwhile."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE mailboxes SET config = ?, origin = ?, visibility = ? WHERE id = ?",
                (json.dumps(config), origin, visibility, mailbox_id),
            )
            await tx.execute(
                "DELETE FROM message_locations WHERE folder_id IN"
                " (SELECT id FROM folders WHERE mailbox_id = ?)",
                (mailbox_id,),
            )
            await tx.execute(
                "UPDATE folders SET cursor = NULL, state = 'initial' WHERE mailbox_id = ?",
                (mailbox_id,),
            )
            await outages.begin(tx, mailbox_id, "replaced", detail)

    async def visibility(self, mailbox_id: int) -> str | None:
        """The mailbox's own visibility for what it logs (None: its user's default)."""
        row = await self._db.fetchone(
            "SELECT visibility FROM mailboxes WHERE id = ?", (mailbox_id,)
        )
        return None if row is None or row[0] is None else str(row[0])

    async def set_visibility(self, mailbox_id: int, visibility: str | None) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE mailboxes SET visibility = ? WHERE id = ?", (visibility, mailbox_id)
            )

    async def active(self, user_id: int | None = None) -> list[MailboxRow]:
        """The connected mailboxes of `user_id` (of everyone for None)."""
        mine = "" if user_id is None else " AND user_id = ?"
        rows = await self._db.fetchall(
            f"SELECT {_ROW_COLUMNS} FROM mailboxes WHERE removed = 0{mine}",
            () if user_id is None else (user_id,),
        )
        return [_mailbox_row(r) for r in rows]

    async def get_row(self, mailbox_id: int, user_id: int | None = None) -> MailboxRow:
        """A connected mailbox; NotFound when there is none, or it is not `user_id`'s."""
        row = await self._db.fetchone(
            f"SELECT {_ROW_COLUMNS} FROM mailboxes WHERE id = ? AND removed = 0", (mailbox_id,)
        )
        if row is None or (user_id is not None and row["user_id"] != user_id):
            raise NotFound("No such mailbox", {"id": mailbox_id})
        return _mailbox_row(row)

    async def describe(self, mailbox_id: int | None = None, *, user_id: int = 1) -> list[Mailbox]:
        """`user_id`'s connected mailboxes (or the one of them), with folders and counts."""
        where = "WHERE m.removed = 0 AND m.user_id = ?" + (
            " AND m.id = ?" if mailbox_id is not None else ""
        )
        rows = await self._db.fetchall(
            f"""SELECT m.*, (SELECT count(*) FROM threads t WHERE t.tracked = 1
                    AND t.tracked_mailbox_id = m.id) AS tracked_threads,
                (SELECT min(o.since_ts) FROM mailbox_outages o WHERE o.mailbox_id = m.id
                    AND o.ended_ts IS NULL) AS unavailable_since,
                (SELECT count(*) FROM message_locations l JOIN folders f ON f.id = l.folder_id
                    WHERE f.mailbox_id = m.id AND l.state = 'quarantined') AS quarantined
                FROM mailboxes m {where} ORDER BY m.id""",
            (user_id, mailbox_id) if mailbox_id is not None else (user_id,),
        )
        result = []
        for row in rows:
            config = json.loads(row["config"])
            folders = await self._db.fetchall(
                """SELECT f.name, f.role, f.state, f.last_sync, f.error,
                       (SELECT count(*) FROM message_locations l WHERE l.folder_id = f.id)
                       AS messages FROM folders f WHERE f.mailbox_id = ? ORDER BY f.id""",
                (row["id"],),
            )
            result.append(
                Mailbox(
                    id=row["id"],
                    provider=row["provider"],
                    address=row["address"],
                    status=row["status"],
                    status_detail=row["status_detail"],
                    path=config.get("path"),
                    host=config.get("host"),
                    port=config.get("port"),
                    security=config.get("security"),
                    username=config.get("username"),
                    auth=config.get("auth"),
                    last_sync=row["last_sync"],
                    blind_threads=(
                        row["tracked_threads"] if row["unavailable_since"] is not None else 0
                    ),
                    unavailable_since=(
                        iso(row["unavailable_since"])
                        if row["unavailable_since"] is not None
                        else None
                    ),
                    quarantined=row["quarantined"],
                    managed_by_config=row["origin"] == "config",
                    visibility=row["visibility"],
                    kind=row["kind"],
                    folders=[
                        FolderState(
                            name=f["name"],
                            role=f["role"],
                            state=f["state"],
                            messages=f["messages"],
                            last_sync=f["last_sync"],
                            error=f["error"],
                        )
                        for f in folders
                    ],
                )
            )
        return result

    async def remove(self, mailbox_id: int) -> None:
        """Removed: its tracked threads are blind (R13) until a mailbox for the same
        address replaces it."""
        await self.get_row(mailbox_id)
        async with self._db.transaction() as tx:
            await tx.execute("UPDATE mailboxes SET removed = 1 WHERE id = ?", (mailbox_id,))
            await outages.begin(tx, mailbox_id, "removed", "the mailbox was removed")

    async def set_status(self, mailbox_id: int, status: str, detail: str = "") -> StatusWritten:
        """Persist a status, and with it the mailbox's outage (R13): an unavailable
        status opens one, idle (a round done) ends it."""
        async with self._db.transaction() as tx:
            old = await tx.fetchone(
                "SELECT status, status_detail FROM mailboxes WHERE id = ?", (mailbox_id,)
            )
            ended = None
            if status in UNAVAILABLE:
                await outages.begin(tx, mailbox_id, status, detail)
            elif status == "idle":
                ended = await outages.end(tx, mailbox_id)
            synced = f", last_sync = {self._db.dialect.now_text()}" if status == "idle" else ""
            await tx.execute(
                f"UPDATE mailboxes SET status = ?, status_detail = ?{synced} WHERE id = ?",
                (status, detail, mailbox_id),
            )
        changed = old is None or (old["status"], old["status_detail"]) != (status, detail)
        return StatusWritten(changed, ended)

    async def folder(self, mailbox_id: int, name: str, role: str) -> FolderRow:
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO folders (mailbox_id, name, role) VALUES (?, ?, ?)"
                " ON CONFLICT (mailbox_id, name) DO UPDATE SET role = excluded.role",
                (mailbox_id, name, role),
            )
            row = await tx.fetchone(
                "SELECT id, name, role, state, cursor FROM folders"
                " WHERE mailbox_id = ? AND name = ?",
                (mailbox_id, name),
            )
        assert row is not None
        return _folder_row(row)

    async def set_folder_state(self, folder_id: int, state: str, error: str | None = None) -> None:
        synced = f", last_sync = {self._db.dialect.now_text()}" if state == "idle" else ""
        async with self._db.transaction() as tx:
            await tx.execute(
                f"UPDATE folders SET state = ?, error = ?{synced} WHERE id = ?",
                (state, error, folder_id),
            )

    async def reset_folder(self, folder_id: int) -> None:
        """Cursor invalid: forget where the folder was; messages stay (keyed by Message-ID)."""
        async with self._db.transaction() as tx:
            await tx.execute("DELETE FROM message_locations WHERE folder_id = ?", (folder_id,))
            await tx.execute(
                "UPDATE folders SET cursor = NULL, state = 'initial' WHERE id = ?", (folder_id,)
            )

    async def sync_folders(
        self, mailbox_id: int, folders: list[tuple[str, str]]
    ) -> dict[str, FolderRow]:
        """The rows of the (name, role) folders a round reads, made where missing, in
        one transaction; the mailbox's other folders (gone from the server, or no
        longer synced) are forgotten: their locations go, their messages stay (with
        their decisions, timeline entries and other locations)."""
        wanted = {name for name, _ in folders}
        async with self._db.transaction(plan_neutral=True) as tx:
            for row in await tx.fetchall(
                "SELECT id, name FROM folders WHERE mailbox_id = ?", (mailbox_id,)
            ):
                if row["name"] not in wanted:
                    await tx.execute("DELETE FROM message_locations WHERE folder_id = ?", (row[0],))
                    await tx.execute("DELETE FROM folders WHERE id = ?", (row[0],))
            await tx.executemany(
                "INSERT INTO folders (mailbox_id, name, role) VALUES (?, ?, ?)"
                " ON CONFLICT (mailbox_id, name) DO UPDATE SET role = excluded.role",
                [(mailbox_id, name, role) for name, role in folders],
            )
            rows = await tx.fetchall(
                "SELECT id, name, role, state, cursor FROM folders WHERE mailbox_id = ?",
                (mailbox_id,),
            )
        return {r["name"]: _folder_row(r) for r in rows}

    async def set_folders_state(self, folder_ids: list[int], state: str) -> None:
        """`set_folder_state` for many folders in one transaction (no error)."""
        synced = f", last_sync = {self._db.dialect.now_text()}" if state == "idle" else ""
        async with self._db.transaction(plan_neutral=True) as tx:
            await tx.executemany(
                f"UPDATE folders SET state = ?, error = NULL{synced} WHERE id = ?",
                [(state, folder_id) for folder_id in folder_ids],
            )

    async def remote_ids(self, folder_id: int) -> set[str]:
        """Every remote id the store has in a folder."""
        rows = await self._db.fetchall(
            "SELECT remote_id FROM message_locations WHERE folder_id = ?", (folder_id,)
        )
        return {r[0] for r in rows}

    async def drop_locations(self, folder_id: int, remote_ids: list[str]) -> None:
        """Messages that left a folder (moved or deleted): only their location there goes."""
        async with self._db.transaction(plan_neutral=True) as tx:
            for start in range(0, len(remote_ids), 500):
                chunk = remote_ids[start : start + 500]
                await tx.execute(
                    "DELETE FROM message_locations WHERE folder_id = ?"
                    f" AND remote_id IN ({','.join('?' * len(chunk))})",
                    (folder_id, *chunk),
                )

    async def known_among(self, folder_id: int, remote_ids: list[str]) -> set[str]:
        """Which of `remote_ids` the store already has in this folder (cheap for a few)."""
        known: set[str] = set()
        for start in range(0, len(remote_ids), 500):
            chunk = remote_ids[start : start + 500]
            rows = await self._db.fetchall(
                "SELECT remote_id FROM message_locations WHERE folder_id = ?"
                f" AND remote_id IN ({','.join('?' * len(chunk))})",
                (folder_id, *chunk),
            )
            known.update(r[0] for r in rows)
        return known

    async def folder_message_keys(self, mailbox_id: int) -> list[Row]:
        return await self._db.fetchall(
            """SELECT f.name AS folder, l.remote_id, m.message_id, m.message_key
               FROM message_locations l JOIN folders f ON f.id = l.folder_id
               LEFT JOIN messages m ON m.id = l.message WHERE f.mailbox_id = ?""",
            (mailbox_id,),
        )


async def _may_connect(tx: Database | Transaction, user_id: int, address: str, kind: str) -> None:
    """Forbidden unless `user_id` may connect `address` as a mailbox of `kind` (see
    `MailboxQueries.add`)."""
    taken = await tx.fetchone(
        "SELECT id FROM mailboxes WHERE address = ? AND removed = 0 AND user_id <> ? LIMIT 1",
        (address.lower(), user_id),
    )
    if taken is not None:
        raise Forbidden(
            "Another member has connected this address: only they sync it (an admin can"
            " make it a team mailbox, whose mail the team sees)",
            {"address": address.lower(), "reason": "address_taken"},
        )
    if kind == "team":
        user = await tx.fetchone("SELECT admin, active FROM users WHERE id = ?", (user_id,))
        if user is not None and not (user["admin"] and user["active"]):
            raise Forbidden(
                "Only an admin may make a team mailbox (its mail is the team's)",
                {"address": address.lower(), "reason": "admin_required"},
            )


def _folder_row(row: Row) -> FolderRow:
    cursor = json.loads(row["cursor"]) if row["cursor"] else None
    return FolderRow(row["id"], row["name"], row["role"], row["state"], cursor)


_ROW_COLUMNS = "id, provider, address, config, status, origin, user_id, visibility, kind"


def _mailbox_row(row: Row) -> MailboxRow:
    return MailboxRow(
        row["id"],
        row["provider"],
        row["address"],
        json.loads(row["config"]),
        row["status"],
        row["origin"],
        row["user_id"],
        row["visibility"],
        row["kind"],
    )
