"""Who may change what the whole team shares: the RPC layer's one admin check.

`is_team_admin(ctx)` says whether the caller is a team admin;
`require_team_admin(ctx, action)` refuses with Forbidden (-32006) when not.
Today the caller is the daemon's user (`ctx.viewer`) and that user is allowed
(one person on SQLite is their own team's admin). Users, seats and admins come
with `users.*`: this is the function to point at their check.
"""

from __future__ import annotations

from loggbok.daemon.rpc.context import Context
from loggbok.protocol.errors import ErrorCode, RpcError


async def is_team_admin(ctx: Context) -> bool:
    """True when the caller may change the team's settings (today: the daemon's user)."""
    del ctx  # the daemon's user is the only caller there is yet: allowed
    return True


async def require_team_admin(ctx: Context, action: str) -> None:
    if not await is_team_admin(ctx):
        raise RpcError(
            ErrorCode.FORBIDDEN,
            "Only a team admin may do this",
            {"action": action, "user": ctx.viewer},
        )
