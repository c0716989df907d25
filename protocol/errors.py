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
    STORAGE_FULL = -32009
    """The disk (or quota) holding the daemon's data is full: nothing of the call was
    written; it may be made again once space is freed."""
    ADMIN_REQUIRED = -32010
    """The method is for admins (`users.*`, backups): the daemon's user is not one."""
    LIMIT_REACHED = -32011
    """One of the daemon's resource bounds (`docs/security.md`): a batch call whose
    answer did not fit in the batch's answer budget (`data.ran` says whether it ran),
    or a connection past the most the daemon serves at once. `data.limit` names it."""


ERROR_MESSAGES: dict[ErrorCode, str] = {
    ErrorCode.PARSE_ERROR: "Parse error",
    ErrorCode.INVALID_REQUEST: "Invalid Request",
    ErrorCode.METHOD_NOT_FOUND: "Method not found",
    ErrorCode.INVALID_PARAMS: "Invalid params",
    ErrorCode.INTERNAL_ERROR: "Internal error: a bug in the daemon",
    ErrorCode.NOT_FOUND: "Not found",
    ErrorCode.CONFLICT: "Conflict",
    ErrorCode.MAILBOX_UNAVAILABLE: "Mailbox unavailable",
    ErrorCode.AUTH_FAILED: "Authentication failed",
    ErrorCode.CONNECTION_FAILED: "Connection failed",
    ErrorCode.FORBIDDEN: "Forbidden",
    ErrorCode.UNSUPPORTED: "Unsupported",
    ErrorCode.BAD_INPUT: "Bad input",
    ErrorCode.STORAGE_FULL: "Storage full: free space on the disk holding loggbok's data",
    ErrorCode.ADMIN_REQUIRED: "Admin only: the daemon's user is not an admin",
    ErrorCode.LIMIT_REACHED: "Limit reached: try again later, or in smaller pieces",
}
"""Each code's meaning, as the OpenRPC document lists it (a response's message may say more)."""


class RpcError(Exception):
    """An error response from the daemon, raised by the client (and by handlers)."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(f"{message} ({code})" if data is None else f"{message} ({code}): {data}")
        self.code = code
        self.message = message
        self.data = data


class Refused(RpcError, ConnectionError):
    """The daemon refused the connection itself (one error with id null, then the end:
    too many clients, a line too long). Both an `RpcError` (code, message, data) and a
    `ConnectionError`, so a caller that waits for the daemon to come back treats it so."""
