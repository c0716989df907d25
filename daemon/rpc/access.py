"""Who may call what: the member a daemon serves (`Context.viewer`), admins, seats.

On the Unix socket the caller is the daemon's user (`loggbokd --user`); these
checks are what a member's seat and admin flag allow. Handlers of admin-only
methods (`users.*` changes, `archive.backup`, `team_settings.set`) call
`require_admin`, and `is_admin` says whether the caller may; handlers that log
or connect mail call `require_can_log` (R12: a view-only seat or a deactivated member logs nothing);
handlers that change a stored message (log, unlog, retry) call `require_owner_or_admin`.
"""

from __future__ import annotations

from loggbok.daemon.rpc.context import Context
from loggbok.protocol.errors import ErrorCode, RpcError


async def is_admin(ctx: Context) -> bool:
    """Whether the daemon's user is an active admin (may change what the team shares)."""
    return await ctx.store.users.is_admin(ctx.viewer)


async def require_admin(ctx: Context) -> None:
    """ADMIN_REQUIRED (-32010) unless the daemon's user is an active admin."""
    if not await is_admin(ctx):
        user = await ctx.store.users.get(ctx.viewer)
        raise RpcError(
            ErrorCode.ADMIN_REQUIRED,
            "Only an admin may do this",
            {"user": user.email, "admin": user.admin, "active": user.active},
        )


async def require_can_log(ctx: Context, what: str) -> None:
    """FORBIDDEN (-32006, reason `seat_cannot_log`) for a view-only seat or a
    deactivated member (R12); `what` says what was refused."""
    user = await ctx.store.users.get(ctx.viewer)
    if not user.can_log:
        why = "is deactivated" if not user.active else "has a view-only seat"
        raise RpcError(
            ErrorCode.FORBIDDEN,
            f"Your seat cannot {what}: {user.email or 'this user'} {why}",
            {"reason": "seat_cannot_log", "seat": user.seat, "active": user.active},
        )


async def require_owner_or_admin(ctx: Context, message: int, what: str) -> None:
    """FORBIDDEN (-32006, reason `not_owner`) unless the daemon's user owns `message`
    (a message they may see: resolved first) or is an active admin; `what` says what
    was refused."""
    if await ctx.store.messages.owner(message) == ctx.viewer or await is_admin(ctx):
        return
    raise RpcError(
        ErrorCode.FORBIDDEN,
        f"Only the message's owner or an admin may {what}",
        {"id": message, "reason": "not_owner"},
    )
