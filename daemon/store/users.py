"""Users (the members of a team on one store), their seats, teams and admin flag.

A store begins with one user (id 1, an admin, no address yet). `serve(email)`
names the member a daemon serves (`loggbokd --user`): a member with that
address, or, while that first user is the store's only one and has no
address, the first user, who takes it; without an address, the single user
of a one-person store. Admins add members, change their seat, team and admin flag, and deactivate
them; the store keeps at least one active admin. R12: a member may log (and
connect a mailbox) only with a seat other than `view_only` and while active
(`can_log`).
"""

from __future__ import annotations

from typing import Any

import msgspec

from loggbok.daemon.contacts_import import normalise_email
from loggbok.daemon.store.db import Database, Row, Transaction
from loggbok.daemon.store.errors import Conflict, Invalid, NotFound
from loggbok.protocol.types import User, UsersAddParams, UsersUpdateParams

_SELECT = """SELECT u.id, u.email, u.name, u.seat, u.admin, u.active, t.name AS team
    FROM users u LEFT JOIN teams t ON t.id = u.team_id"""


class UserQueries:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def list(self) -> list[User]:
        return [_user(r) for r in await self._db.fetchall(f"{_SELECT} ORDER BY u.id")]

    async def get(self, user_id: int) -> User:
        row = await self._db.fetchone(f"{_SELECT} WHERE u.id = ?", (user_id,))
        if row is None:
            raise NotFound("No such user", {"id": user_id})
        return _user(row)

    async def count(self) -> int:
        row = await self._db.fetchone("SELECT count(*) FROM users")
        return int(row[0]) if row else 0

    async def can_log(self, user_id: int) -> bool:
        """R12: an active member with a seat that may log."""
        return (await self.get(user_id)).can_log

    async def is_admin(self, user_id: int) -> bool:
        row = await self._db.fetchone("SELECT admin, active FROM users WHERE id = ?", (user_id,))
        return bool(row and row["admin"] and row["active"])

    async def serve(self, email: str | None) -> User:
        """The member a daemon serves. Without `email`: the single user of a store that
        has one (NotFound when it has more: each member's daemon names its member).
        With it: the member of that address, or, on a store whose single user has no
        address yet, that user, who takes it (the first user, an admin). NotFound
        otherwise."""
        if email is None:
            if await self.count() > 1:
                raise NotFound(
                    "this store has several members: name yours with --user"
                    " (or user in the config file)"
                )
            return await self.get(await self._first())
        address = _address(email)
        async with self._db.transaction() as tx:
            row = await tx.fetchone("SELECT id FROM users WHERE email = ?", (address,))
            if row is None:
                first = await tx.fetchone(
                    "SELECT id FROM users WHERE email IS NULL ORDER BY id LIMIT 1"
                )
                alone = int(await tx.fetchval("SELECT count(*) FROM users")) == 1
                if first is None or not alone:
                    raise NotFound(
                        f"{address} is not a member of this store: an admin adds them with"
                        " users.add",
                        {"email": address},
                    )
                await tx.execute("UPDATE users SET email = ? WHERE id = ?", (address, first[0]))
                row = first
        return await self.get(int(row[0]))

    async def _first(self) -> int:
        row = await self._db.fetchone("SELECT min(id) FROM users")
        assert row is not None and row[0] is not None, "a store has at least one user"
        return int(row[0])

    async def add(self, params: UsersAddParams) -> User:
        address = _address(params.email)
        async with self._db.transaction() as tx:
            if await tx.fetchone("SELECT 1 FROM users WHERE email = ?", (address,)):
                raise Conflict("A member has this address already", {"email": address})
            team_id = await _team_id(tx, params.team)
            row = await tx.fetchone(
                "INSERT INTO users (email, name, seat, team_id) VALUES (?, ?, ?, ?) RETURNING id",
                (address, params.name.strip() or address.partition("@")[0], params.seat, team_id),
            )
        assert row is not None
        return await self.get(int(row[0]))

    async def update(self, params: UsersUpdateParams) -> User:
        await self.get(params.id)
        changes = {
            k: v for k, v in msgspec.structs.asdict(params).items() if v is not msgspec.UNSET
        }
        changes.pop("id")
        async with self._db.transaction() as tx:
            sets: list[str] = []
            values: list[Any] = []
            if "team" in changes:
                sets.append("team_id = ?")
                values.append(await _team_id(tx, changes.pop("team")))
            for name in ("name", "seat", "admin", "active"):
                if name in changes:
                    sets.append(f"{name} = ?")
                    value = changes[name]
                    values.append(int(value) if isinstance(value, bool) else value)
            if sets:
                await tx.execute(
                    f"UPDATE users SET {', '.join(sets)} WHERE id = ?", (*values, params.id)
                )
                await _keep_an_admin(tx)
        return await self.get(params.id)

    async def deactivate(self, user_id: int) -> User:
        await self.get(user_id)
        async with self._db.transaction() as tx:
            await tx.execute("UPDATE users SET active = 0 WHERE id = ?", (user_id,))
            await _keep_an_admin(tx)
        return await self.get(user_id)


async def _team_id(tx: Transaction, name: str | None) -> int | None:
    """The id of the team of this name, made when new; None for no team."""
    if name is None or not name.strip():
        return None
    row = await tx.fetchone(
        "INSERT INTO teams (name) VALUES (?) ON CONFLICT (name) DO UPDATE SET name = excluded.name"
        " RETURNING id",
        (name.strip(),),
    )
    assert row is not None
    return int(row[0])


async def _keep_an_admin(tx: Transaction) -> None:
    """The change may not leave the store without an active admin (rolled back)."""
    if not await tx.fetchval("SELECT count(*) FROM users WHERE admin = 1 AND active = 1"):
        raise Conflict("The store must keep an active admin: make another member admin first")


def _address(email: str) -> str:
    address = normalise_email(email)
    if not address or "@" not in address:
        raise Invalid("Invalid params", f"not an address: {email!r}")
    return address


def _user(row: Row) -> User:
    active = bool(row["active"])
    return User(
        id=row["id"],
        email=row["email"],
        name=row["name"],
        seat=row["seat"],
        team=row["team"],
        admin=bool(row["admin"]),
        active=active,
        can_log=active and row["seat"] != "view_only",
    )
