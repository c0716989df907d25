"""The R8 reason codes are in the protocol (so in `rpc.discover`), explained by the
daemon, and labelled in the TUI."""

from __future__ import annotations

from loggbok.daemon.rules import reasons
from loggbok.protocol.openrpc import build
from loggbok.protocol.reasons import REASON_CODES
from loggbok.tui.data.reasons import LABELS

R8 = {"forwarded_to_log", "forward_unparsed"}


def test_r8_reason_codes_everywhere() -> None:
    assert set(REASON_CODES) <= set(LABELS)
    assert set(REASON_CODES) >= R8
    assert set(reasons._SUMMARIES) >= R8


def test_r8_reason_codes_in_discover() -> None:
    schema = build()["components"]["schemas"]["ReasonCode"]
    assert {entry["const"] for entry in schema["oneOf"]} >= R8
