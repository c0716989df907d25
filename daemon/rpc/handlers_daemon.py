"""Handlers: daemon.hello, rpc.discover, settings.get, settings.set."""

from __future__ import annotations

from typing import Any

from loggbok.daemon import __version__
from loggbok.daemon.contacts_import import normalise_email as addr_spec
from loggbok.daemon.rpc.context import Context
from loggbok.daemon.rpc.dispatch import Handler
from loggbok.protocol import openrpc
from loggbok.protocol import types as t
from loggbok.protocol.errors import ErrorCode, RpcError
from loggbok.protocol.version import PROTOCOL_VERSION


async def hello(ctx: Context, params: t.HelloParams) -> t.HelloResult:
    if (
        params.protocol_version
        and params.protocol_version.split(".")[0] != (PROTOCOL_VERSION.split(".")[0])
    ):
        raise RpcError(
            ErrorCode.UNSUPPORTED,
            "Protocol version not supported",
            {"client": params.protocol_version, "daemon": PROTOCOL_VERSION},
        )
    return t.HelloResult(
        protocol_version=PROTOCOL_VERSION, daemon_version=__version__, capabilities=ctx.capabilities
    )


async def discover(ctx: Context, params: t.NoParams) -> dict[str, Any]:
    return openrpc.build()


async def settings_get(ctx: Context, params: t.NoParams) -> t.Settings:
    return await ctx.store.settings.get()


def _is_address(value: str) -> bool:
    return addr_spec(value) is not None


def _is_domain(value: str) -> bool:
    return value.startswith("@") and addr_spec("x" + value) is not None


def _refuse(setting: str, why: str) -> RpcError:
    """Invalid params with the setting and the reason as text, like every other refusal."""
    return RpcError(ErrorCode.INVALID_PARAMS, "Invalid params", f"{setting} {why}")


def _check_settings(params: t.SettingsSetParams) -> None:
    for name in ("bcc_address", "forwarding_address"):
        value = getattr(params, name)
        if isinstance(value, str) and value.strip() and not _is_address(value):
            raise _refuse(name, f"{value!r} is not an email address")
    if isinstance(params.own_addresses, list):
        for value in params.own_addresses:
            if not _is_address(value):
                raise _refuse("own_addresses", f"{value!r} is not an email address")
    if isinstance(params.never_log, list):
        for value in params.never_log:
            if not (_is_address(value) or _is_domain(value.strip())):
                raise _refuse("never_log", f"{value!r} is neither an address nor an @domain")
    if isinstance(params.excluded_folders, list):
        _check_folder_patterns(params.excluded_folders)
    for name in ("attachment_limit_bytes", "body_limit_bytes"):
        value = getattr(params, name)
        if isinstance(value, int) and value < 0:
            raise _refuse(name, "must be >= 0")


MAX_EXCLUDED = 500
"""Folder exclusions at most (each round matches every folder against each)."""


def _check_folder_patterns(patterns: list[str]) -> None:
    if len(patterns) > MAX_EXCLUDED:
        raise _refuse("excluded_folders", f"has more than {MAX_EXCLUDED} entries")
    for value in patterns:
        cleaned = value.strip().strip("/").strip()
        if not cleaned or len(cleaned) > 1000:
            raise _refuse("excluded_folders", f"{value!r} is not a folder name or pattern")
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in cleaned):
            raise _refuse("excluded_folders", f"{value!r} holds a control character")
        if cleaned.casefold() == "inbox":
            raise _refuse("excluded_folders", "cannot exclude INBOX (it is always synced)")


async def settings_set(ctx: Context, params: t.SettingsSetParams) -> t.Settings:
    _check_settings(params)
    return await ctx.store.settings.update(params)


HANDLERS: dict[str, Handler] = {
    "daemon.hello": hello,
    "rpc.discover": discover,
    "settings.get": settings_get,
    "settings.set": settings_set,
}
