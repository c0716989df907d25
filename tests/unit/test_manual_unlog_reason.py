"""`manual_unlog`: published in `rpc.discover` and explained in words."""

from __future__ import annotations

from loggbok.daemon.rules import reasons
from loggbok.protocol import openrpc


def test_manual_unlog_is_published_and_explained() -> None:
    schema = openrpc.build()["components"]["schemas"]["ReasonCode"]
    assert "manual_unlog" in [c["const"] for c in schema["oneOf"]]
    assert "manual_unlog" in reasons._SUMMARIES


def test_manual_unlog_in_words() -> None:
    taken = reasons.summary("manual_unlog", {"taken_off": "#3"})
    assert taken.startswith("Taken off by hand (#3)")
    deleted = reasons.summary(
        "manual_unlog", {"contact_deleted": "the contact Bo (#3) was deleted"}
    )
    assert "?" not in deleted and "was deleted" in deleted
    assert reasons.fixes("manual_unlog", False) == ["log_manually"]
