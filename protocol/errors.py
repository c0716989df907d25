"""JSON-RPC error codes: the standard ones and loggbok's application range.

Application errors use -32000..-32099 (the spec's server-error range) so a
generic JSON-RPC client still recognises them as errors from the server.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class ErrorCode(IntEnum):
    PARSE_ERROR = -32700
    INVALID_REQUEST = -32600
    METHOD_NOT_FOUND = -32601
    INVALID_PARAMS = -32602
    INTERNAL_ERROR = -32603
    # application errors
    NOT_FOUND = -32001
    CONFLICT = -32002
    MAILBOX_UNAVAILABLE = -32003
    AUTH_FAILED = -32004
    CONNECTION_FAILED = -32005
    FORBIDDEN = -32006
    UNSUPPORTED = -32007
    BAD_INPUT = -32008


class RpcError(Exception):
    """An error response from the daemon, raised by the client (and by handlers)."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(f"{message} ({code})" if data is None else f"{message} ({code}): {data}")
        self.code = code
        self.message = message
        self.data = data
