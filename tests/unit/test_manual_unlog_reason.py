"""Every reason code the daemon explains is published in the protocol, and the other
way round; the OpenRPC document carries the list."""

from __future__ import annotations

from loggbok.daemon.rules import reasons
from loggbok.protocol import openrpc
from loggbok.protocol.types import REASON_CODES


def test_reason_codes_match_the_explanations() -> None:
    assert set(REASON_CODES) == set(reasons._SUMMARIES)


def test_rpc_discover_lists_the_reason_codes() -> None:
    schema = openrpc.build()["components"]["schemas"]["ReasonCode"]
    assert "manual_unlog" in schema["enum"] and set(schema["enum"]) == set(REASON_CODES)


def test_manual_unlog_in_words() -> None:
    taken = reasons.summary("manual_unlog", {"taken_off": "#3"})
    assert taken.startswith("Taken off by hand (#3)")
    deleted = reasons.summary(
        "manual_unlog", {"contact_deleted": "the contact Bo (#3) was deleted"}
    )
    assert "?" not in deleted and "was deleted" in deleted
    assert reasons.fixes("manual_unlog", False) == ["log_manually"]
