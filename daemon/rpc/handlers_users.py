"""Handlers: users.me, users.list/add/update/deactivate (admin only).

A deactivated member or one given a view-only seat logs nothing from then on:
each sync round checks the seat again when it writes (`store/rounds.py`), so a
change made here reaches a member's running daemon at its next batch.
"""

from __future__ import annotations

from loggbok.daemon.rpc.access import require_admin
from loggbok.daemon.rpc.context import Context
from loggbok.daemon.rpc.dispatch import Handler
from loggbok.protocol import types as t


async def me(ctx: Context, params: t.NoParams) -> t.User:
    return await ctx.store.users.get(ctx.viewer)


async def list_(ctx: Context, params: t.NoParams) -> t.UserList:
    await require_admin(ctx)
    return t.UserList(users=await ctx.store.users.list())


async def add(ctx: Context, params: t.UsersAddParams) -> t.User:
    await require_admin(ctx)
    return await ctx.store.users.add(params)


async def update(ctx: Context, params: t.UsersUpdateParams) -> t.User:
    await require_admin(ctx)
    return await ctx.store.users.update(params)


async def deactivate(ctx: Context, params: t.IdParams) -> t.User:
    await require_admin(ctx)
    return await ctx.store.users.deactivate(params.id)


HANDLERS: dict[str, Handler] = {
    "users.me": me,
    "users.list": list_,
    "users.add": add,
    "users.update": update,
    "users.deactivate": deactivate,
}
