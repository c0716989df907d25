"""The store raises its own errors (`store/errors.py`), never the protocol's; the RPC
layer maps them to protocol error codes with their message and data."""

from __future__ import annotations

from pathlib import Path

import pytest

from loggbok.daemon.rpc.dispatch import store_error
from loggbok.daemon.store.errors import Conflict, Invalid, NotFound, StoreError
from loggbok.daemon.store.store import Store
from loggbok.protocol.errors import ErrorCode, RpcError


async def test_the_store_raises_its_own_errors(tmp_path: Path) -> None:
    store = await Store.open(tmp_path)
    try:
        with pytest.raises(NotFound) as missing:
            await store.contacts.get(404)
        with pytest.raises(NotFound):
            await store.mailboxes.get_row(404)
        anna = await store.contacts.create("anna@k.example", "Anna")
        bo = await store.contacts.create("bo@k.example", "Bo")
        with pytest.raises(Conflict) as taken:
            await store.contacts.update(bo, None, ["anna@k.example"])
        with pytest.raises(Invalid):
            await store.contacts.update(anna, None, ["not an address"])
        with pytest.raises(Invalid):
            await store.timeline.page(anna, 10, "not a cursor", 1)
    finally:
        await store.close()
    for raised in (missing.value, taken.value):
        assert not isinstance(raised, RpcError)

    assert (store_error(missing.value).code, store_error(missing.value).data) == (
        ErrorCode.NOT_FOUND,
        {"id": 404},
    )
    assert store_error(taken.value).code == ErrorCode.CONFLICT
    assert store_error(taken.value).message == "Address belongs to another contact"
    assert store_error(Invalid("Invalid params", "x")).code == ErrorCode.INVALID_PARAMS
    assert store_error(StoreError("?")).code == ErrorCode.INTERNAL_ERROR
