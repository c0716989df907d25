"""Handlers: team_settings.get/set (R16's never-log list for everyone) and
conversations.list/get (R15's conversations of a team mailbox)."""

from __future__ import annotations

from loggbok.daemon.rpc.access import is_admin, require_admin
from loggbok.daemon.rpc.context import Context
from loggbok.daemon.rpc.dispatch import Handler
from loggbok.daemon.settings_rules import SettingInvalid, check_never_log
from loggbok.protocol import types as t
from loggbok.protocol.errors import ErrorCode, RpcError


async def team_settings_get(ctx: Context, params: t.NoParams) -> t.TeamSettings:
    team = await ctx.store.team.get()
    team.can_edit = await is_admin(ctx)
    return team


async def team_settings_set(ctx: Context, params: t.TeamSettingsSetParams) -> t.TeamSettings:
    await require_admin(ctx)
    if isinstance(params.never_log, list):
        try:
            check_never_log(params.never_log)
        except SettingInvalid as exc:
            raise RpcError(ErrorCode.INVALID_PARAMS, "Invalid params", str(exc)) from None
    team = await ctx.store.team.update(params)
    team.can_edit = True
    return team


async def conversations_list(ctx: Context, params: t.ConversationsListParams) -> t.ConversationList:
    return await ctx.store.conversations.page(
        params.mailbox_id, params.limit, params.before, ctx.viewer
    )


async def conversations_get(ctx: Context, params: t.IdParams) -> t.ConversationDetail:
    return await ctx.store.conversations.get(params.id, ctx.viewer)


HANDLERS: dict[str, Handler] = {
    "team_settings.get": team_settings_get,
    "team_settings.set": team_settings_set,
    "conversations.list": conversations_list,
    "conversations.get": conversations_get,
}
