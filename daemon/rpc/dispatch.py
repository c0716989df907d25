"""Dispatch: the registry's methods bound to handlers, through jsonrpcserver.

Each handler is `async def handler(ctx, params) -> result` with the typed
params struct of its method. `build_methods` wraps them so jsonrpcserver sees
`(context, **params)`; params are converted with msgspec (a wrong name or type
is `Invalid params` with the reason), `RpcError` becomes an error response, the
store's own errors (`store/errors.py`) become theirs (`STORE_ERRORS`), a
write refused for want of space is `Storage full` (-32009), and results are
encoded to JSON once, by msgspec straight from the result struct (`msgspec.Raw`:
the answer's encoder copies the bytes in; a result that cannot be encoded is
still an Internal error of that call).

A line is taken apart here, not by jsonrpcserver: `parse` turns it into the
requests it holds (a batch into its items, each checked and answered on its
own) so the server can run a batch's items in bounded chunks, and `run` calls
one checked request. The checks jsonrpcserver lacks: an id is a string, an
integer or null (a NaN, infinite or fractional number is an Invalid Request),
and no text anywhere in a request may hold a lone surrogate (`"\\ud800"` is
valid JSON but no text: SQLite and the encoder refuse it) or a NUL (`"\\u0000"`:
PostgreSQL's text refuses it; refused on both stores alike) - in a method name or
id that is an Invalid Request, in the params Invalid params.
"""

from __future__ import annotations

import inspect
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from jsonrpcserver import Error, InvalidParams, Success
from jsonrpcserver.async_dispatcher import dispatch_deserialized
from jsonrpcserver.response import to_serializable

from loggbok.daemon.rpc.bounded_json import TooMany, load
from loggbok.daemon.rpc.context import Context
from loggbok.daemon.store.db import is_storage_full, storage_full
from loggbok.daemon.store.errors import Conflict, Forbidden, Invalid, NotFound, StoreError
from loggbok.protocol.errors import ERROR_MESSAGES, ErrorCode, RpcError
from loggbok.protocol.methods import METHODS, Method, param_variants

log = logging.getLogger(__name__)

Handler = Callable[[Context, Any], Awaitable[Any]]
Bound = Callable[..., Awaitable[Any]]
Response = dict[str, Any]
_REQUEST_KEYS = frozenset({"jsonrpc", "method", "params", "id"})
_encoder = msgspec.json.Encoder()
STORE_ERRORS: dict[type[StoreError], ErrorCode] = {
    NotFound: ErrorCode.NOT_FOUND,
    Conflict: ErrorCode.CONFLICT,
    Forbidden: ErrorCode.FORBIDDEN,
    Invalid: ErrorCode.INVALID_PARAMS,
}
"""The store's errors as protocol error codes (message and data kept)."""


def store_error(exc: StoreError) -> RpcError:
    """`exc` as the protocol error a client gets."""
    code = next(
        (c for kind, c in STORE_ERRORS.items() if isinstance(exc, kind)), ErrorCode.INTERNAL_ERROR
    )
    return RpcError(code, exc.message, exc.data)


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
        except StoreError as exc:
            mapped = store_error(exc)
            return Error(mapped.code, mapped.message, mapped.data)
        except Exception as exc:
            if not is_storage_full(exc):
                raise
            log.warning("%s: %s", method.name, storage_full(exc))
            return Error(
                ErrorCode.STORAGE_FULL,
                ERROR_MESSAGES[ErrorCode.STORAGE_FULL],
                str(storage_full(exc)),
            )
        return Success(msgspec.Raw(_encoder.encode(result)))

    call.__name__ = method.name
    # jsonrpcserver checks the params against the signature on every call: computed
    # once here (inspect.signature returns `__signature__` as it is).
    call.__signature__ = inspect.signature(call)  # type: ignore[attr-defined]
    return call


def build_methods(handlers: dict[str, Handler]) -> dict[str, Bound]:
    missing = set(METHODS) - set(handlers)
    extra = set(handlers) - set(METHODS)
    if missing or extra:
        raise RuntimeError(
            f"handlers out of step with the registry: missing {missing}, unknown {extra}"
        )
    return {name: _bind(METHODS[name], handler) for name, handler in handlers.items()}


def error(code: int, message: str, data: Any = None, request_id: Any = None) -> Response:
    return {"jsonrpc": "2.0", "error": {"code": code, "message": message, "data": data},
            "id": request_id}  # fmt: skip


@dataclass
class Parsed:
    """What one line holds: requests to run (in order, each with its slot in the
    answer) and the answers already known (parse errors, invalid items)."""

    batch: bool
    requests: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    answers: list[Response | None] = field(default_factory=list)

    def answer(self) -> Response | list[Response] | None:
        """The line's answer once every request has run (None: nothing to send)."""
        given = [a for a in self.answers if a is not None]
        if not self.batch:
            return given[0] if given else None
        return given or None


def parse(text: str, max_batch: int) -> Parsed:
    """The line's requests; a batch of more than `max_batch` items is one Invalid Request."""
    try:
        message = load(text, max_batch)  # stops at the item past the bound
    except (ValueError, RecursionError) as exc:
        return Parsed(batch=False, answers=[error(ErrorCode.PARSE_ERROR, "Parse error", str(exc))])
    if isinstance(message, TooMany):
        why = f"a batch holds at most {max_batch} calls (this one more): none run"
        return Parsed(batch=False, answers=[_invalid(why)])
    if isinstance(message, list):
        if not message:
            return Parsed(batch=False, answers=[_invalid("an empty batch")])
        parsed = Parsed(batch=True, answers=[None] * len(message))
        items = message
    else:
        parsed = Parsed(batch=False, answers=[None])
        items = [message]
    for slot, item in enumerate(items):
        problem = _check(item)
        if problem is not None:
            parsed.answers[slot] = problem
        else:
            parsed.requests.append((slot, item))
    return parsed


def _invalid(why: str) -> Response:
    return error(ErrorCode.INVALID_REQUEST, "Invalid request", why)


def _check(item: Any) -> Response | None:
    """None for a well-formed request, else its error answer."""
    if not isinstance(item, dict):
        return _invalid("a request must be an object")
    if item.keys() - _REQUEST_KEYS:
        return _invalid("a request has only jsonrpc, method, params and id")
    if item.get("jsonrpc") != "2.0":
        return _invalid('jsonrpc must be "2.0"')
    request_id = item.get("id")
    if isinstance(request_id, bool) or not isinstance(request_id, str | int | float | None):
        return _invalid("an id is a string, an integer or null")
    if isinstance(request_id, float) and not (
        math.isfinite(request_id) and request_id.is_integer()
    ):
        return _invalid("an id is a string, an integer or null, not a fractional number")
    if isinstance(request_id, str) and _surrogate_at(request_id) is not None:
        return _invalid("the id holds a lone surrogate")
    method = item.get("method")
    if not isinstance(method, str):
        return _invalid("method must be a string")
    if _surrogate_at(method) is not None:
        return _invalid("the method name holds a lone surrogate")
    params = item.get("params", {})
    if not isinstance(params, dict | list):
        return _invalid("params must be an object or an array")
    where = _surrogate_at(params)
    if where is not None:
        return error(
            ErrorCode.INVALID_PARAMS,
            "Invalid params",
            f"a lone surrogate or a NUL (not text) at `$.{where}`"
            if where
            else "a lone surrogate or a NUL (not text)",
            int(request_id) if isinstance(request_id, float) else request_id,
        )
    return None


def _surrogate_at(value: Any) -> str | None:
    """Where in `value` a string (or an object key) holds a lone surrogate, as a
    path ("" for `value` itself); None when there is none. Iterative: a request
    nested as deep as the JSON parser allows must not exhaust the stack here."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if not _is_text(item):
                return path
        elif isinstance(item, dict):
            for key, inner in item.items():
                if not _is_text(key):
                    return f"{path}.<key>" if path else "<key>"
                shown = key if key.isidentifier() else "<key>"
                stack.append((inner, f"{path}.{shown}" if path else shown))
        elif isinstance(item, list):
            stack.extend((inner, f"{path}[{i}]") for i, inner in enumerate(item))
    return None


def _is_text(value: str) -> bool:
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


async def run(request: dict[str, Any], methods: dict[str, Bound], context: Context) -> Any:
    """One checked request -> its answer (None for a notification)."""
    if isinstance(request.get("id"), float):
        request = {**request, "id": int(request["id"])}
    post_process: Any = to_serializable  # its declared type is narrower than it is used
    return await dispatch_deserialized(methods, context, post_process, request)
