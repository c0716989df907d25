"""Handlers: config.status and config.reload (the config file, `docs/config.md`)."""

from __future__ import annotations

from loggbok.daemon.rpc.context import Context
from loggbok.daemon.rpc.dispatch import Handler
from loggbok.protocol import types as t
from loggbok.protocol.errors import ErrorCode, RpcError


def _config(ctx: Context) -> t.ConfigStatus:
    if ctx.config is None:
        raise RpcError(ErrorCode.UNSUPPORTED, "This daemon reads no config file")
    return ctx.config.status


async def status(ctx: Context, params: t.NoParams) -> t.ConfigStatus:
    return _config(ctx)


async def reload(ctx: Context, params: t.NoParams) -> t.ConfigStatus:
    _config(ctx)
    assert ctx.config is not None
    return await ctx.config.reload()


HANDLERS: dict[str, Handler] = {
    "config.status": status,
    "config.reload": reload,
}
