"""The daemon's errors in words: no codes, no reprs; invalid params name the field
and what a valid value looks like (`tui/data/errors.py`)."""

from __future__ import annotations

import pytest

from loggbok.protocol.errors import ErrorCode, RpcError
from loggbok.tui.data.errors import plain
from loggbok.tui.screens.base import problem


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ("Expected `int` >= 1 - at `$.port`", "Port: must be a whole number of at least 1"),
        ("Expected `int | null`, got `str` - at `$.port`", "Port: must be a whole number"),
        ("Object missing required field `host`", "Server: is needed"),
        ("Invalid enum value 'foo' - at `$.security`", "Security: “foo” is not one of the choices"),
        (
            "bcc_address 'log' is not an email address",
            "Logging address: “log” is not an email address; use an address such as",
        ),
        ("attachment_limit_bytes must be >= 0", "Attachment limit: must be >= 0"),
    ],
)
def test_invalid_params_name_the_field(data: str, words: str) -> None:
    shown = plain(RpcError(ErrorCode.INVALID_PARAMS, "Invalid params", data))
    assert shown.startswith(words), shown
    assert "32602" not in shown and "$." not in shown and "`" not in shown


def test_no_code_and_no_repr() -> None:
    unsupported = RpcError(
        ErrorCode.UNSUPPORTED,
        "Provider not supported yet",
        {"provider": "ews", "supported": ["maildir", "imap"]},
    )
    shown = problem(unsupported)
    assert shown == "Provider not supported yet; choose one of: maildir, imap"
    missing = problem(RpcError(ErrorCode.NOT_FOUND, "Not found", {"id": 20}))
    assert missing == "it is not there (any more)"
    for text in (shown, missing):
        assert "{" not in text and "-320" not in text


def test_unreachable_in_words() -> None:
    from loggbok.tui.data.errors import unreachable

    assert unreachable(FileNotFoundError(2, "No such file or directory")) == (
        "no daemon listens there yet (the socket does not exist)"
    )
    assert "Errno" not in unreachable(ConnectionRefusedError(111, "Connection refused"))
