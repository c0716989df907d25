"""Every reason code the daemon explains is in the protocol (so in `rpc.discover`) and
has a label in the TUI."""

from __future__ import annotations

from typing import get_args

from loggbok.daemon.rules import reasons
from loggbok.protocol import types as t
from loggbok.protocol.openrpc import build
from loggbok.tui.data.reasons import LABELS


def test_reason_codes_everywhere() -> None:
    codes = set(get_args(t.ReasonCode))
    assert set(reasons._SUMMARIES) <= codes
    assert codes <= set(LABELS)
    assert {"forwarded_to_log", "forward_unparsed"} <= codes


def test_reason_codes_in_discover() -> None:
    (method,) = [x for x in build()["methods"] if x["name"] == "messages.list"]
    (reason,) = [p for p in method["params"] if p["name"] == "reason"]
    enum = next(s["enum"] for s in reason["schema"]["anyOf"] if "enum" in s)
    assert {"forwarded_to_log", "forward_unparsed"} <= set(enum)
