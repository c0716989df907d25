"""Dispatch: the registry's methods bound to handlers, through jsonrpcserver.

Each handler is `async def handler(ctx, params) -> result` with the typed
params struct of its method. `build_methods` wraps them so jsonrpcserver sees
`(context, **params)`; params are converted with msgspec (a wrong name or type
is `Invalid params` with the reason), `RpcError` becomes an error response, a
write refused for want of space is `Storage full` (-32009), and results are
turned into plain JSON values.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from jsonrpcserver import Error, InvalidParams, Success
from jsonrpcserver.async_main import dispatch_to_serializable

from loggbok.daemon.rpc.context import Context
from loggbok.daemon.store.db import is_storage_full, storage_full
from loggbok.protocol.errors import ERROR_MESSAGES, ErrorCode, RpcError
from loggbok.protocol.methods import METHODS, Method, param_variants

log = logging.getLogger(__name__)

Handler = Callable[[Context, Any], Awaitable[Any]]
Bound = Callable[..., Awaitable[Any]]


def _unknown_variant(method: Method[Any, Any], params: dict[str, Any]) -> Any:
    """For params that are a tagged union (`mailboxes.add`'s providers): a tag value
    that names no variant is Unsupported, naming the ones there are (None otherwise)."""
    variants = param_variants(method.params)
    if len(variants) < 2:
        return None
    tag_field = msgspec.inspect.type_info(variants[0]).tag_field  # type: ignore[attr-defined]
    tags = [msgspec.inspect.type_info(v).tag for v in variants]  # type: ignore[attr-defined]
    value = params.get(tag_field)
    if not isinstance(value, str) or value in tags:
        return None
    return Error(
        ErrorCode.UNSUPPORTED,
        f"{tag_field.capitalize()} not supported yet",
        {tag_field: value, "supported": tags},
    )


def _bind(method: Method[Any, Any], handler: Handler) -> Bound:
    async def call(context: Context, **params: Any) -> Any:
        try:
            typed = msgspec.convert(params, method.params)
        except msgspec.ValidationError as exc:
            return _unknown_variant(method, params) or InvalidParams(str(exc))
        try:
            result = await handler(context, typed)
        except RpcError as exc:
            return Error(exc.code, exc.message, exc.data)
        except Exception as exc:
            if not is_storage_full(exc):
                raise
            log.warning("%s: %s", method.name, storage_full(exc))
            return Error(
                ErrorCode.STORAGE_FULL,
                ERROR_MESSAGES[ErrorCode.STORAGE_FULL],
                str(storage_full(exc)),
            )
        return Success(msgspec.to_builtins(result))

    call.__name__ = method.name
    return call


def build_methods(handlers: dict[str, Handler]) -> dict[str, Bound]:
    missing = set(METHODS) - set(handlers)
    extra = set(handlers) - set(METHODS)
    if missing or extra:
        raise RuntimeError(
            f"handlers out of step with the registry: missing {missing}, unknown {extra}"
        )
    return {name: _bind(METHODS[name], handler) for name, handler in handlers.items()}


async def dispatch(line: str, methods: dict[str, Bound], context: Context) -> Any:
    """One request line (single or batch) -> response value (None for notifications)."""
    return await dispatch_to_serializable(line, methods=methods, context=context)
