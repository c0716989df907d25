"""The store's own errors: what a caller of the store may catch, in the store's words.

The store never raises the wire protocol's errors; `rpc/dispatch.py` maps these
to JSON-RPC error responses (NotFound -> -32001, Conflict -> -32002, Forbidden ->
-32006, Invalid -> -32602 Invalid params, StorageFull -> -32009), keeping the message
and data.
"""

from __future__ import annotations

from typing import Any


class StoreError(Exception):
    """A request the store refused: `message` says why, `data` names what (JSON-able)."""

    def __init__(self, message: str, data: Any = None) -> None:
        super().__init__(message if data is None else f"{message}: {data}")
        self.message = message
        self.data = data


class NotFound(StoreError):
    """No such record (contact, message, mailbox, attachment)."""


class Conflict(StoreError):
    """The change would break a rule of the data, e.g. an address that belongs to
    another contact."""


class Forbidden(StoreError):
    """The caller may not make this change (a message of another member)."""


class Invalid(StoreError):
    """A value the store cannot take: not an address, not a cursor it gave, a search
    query it cannot read."""


class StoreUnavailable(Exception):
    """The database file cannot be used: damaged, not a database, or from a newer loggbok."""


class MemberTaken(Exception):
    """Another process already serves this member on this store (`Database.claim_member`):
    the text says who, where that is known (process id and host)."""


class StorageFull(Exception):
    """A write found no space left: the disk (or quota) holding the data dir is full.
    Nothing of that write was kept; it can be done again once space returns."""
