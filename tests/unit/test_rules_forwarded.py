"""R8 as pure rules: what counts as a forward (headers), and whose it is (the original)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from loggbok.daemon.mime.facts import Address, HeaderFacts
from loggbok.daemon.mime.headers import parse_headers
from loggbok.daemon.rules.context import RuleContext, RuleSettings
from loggbok.daemon.rules.engine import decide
from loggbok.daemon.rules.forwarded import OriginalFacts, decide_original

SETTINGS = RuleSettings(
    bcc_address="log@bcc.example",
    forwarding_address="fwd@log.example",
    own_addresses=frozenset({"maja@firma.example"}),
    colleague_domains=frozenset({"firma.example"}),
    never_log=frozenset({"@konkurrent.example"}),
)


def facts(*lines: str) -> HeaderFacts:
    return parse_headers(("\r\n".join(lines) + "\r\n\r\n").encode())


def decided(*lines: str, settings: RuleSettings = SETTINGS) -> tuple[bool, str, str]:
    d = decide(facts(*lines, "Subject: Fwd: Offer"), RuleContext(settings, {}, None))
    return d.logged, d.reason, d.rule


@pytest.mark.parametrize(
    "recipients",
    [
        ("To: fwd@log.example",),
        ("To: Log <FWD@log.example>", "Cc: colleague@firma.example"),
        ("To: anna@kund.example", "Cc: fwd@log.example"),
        ("To: maja@firma.example", "Delivered-To: fwd@log.example"),
        ("To: undisclosed-recipients:;", "Bcc: fwd@log.example"),
    ],
)
def test_a_forward_from_the_user_to_the_forwarding_address(recipients: tuple[str, ...]) -> None:
    """Its Sent copy, or a copy delivered to a synced mailbox (Delivered-To)."""
    assert decided("From: Maja <maja@firma.example>", *recipients) == (
        True,
        "forwarded_to_log",
        "R8",
    )


def test_before_the_bcc_address_and_r17() -> None:
    """Sent to both logging addresses, or with a list header: still a forward."""
    lines = ("From: maja@firma.example", "To: fwd@log.example", "Bcc: log@bcc.example")
    assert decided(*lines) == (True, "forwarded_to_log", "R8")
    assert decided(*lines, "Precedence: bulk") == (True, "forwarded_to_log", "R8")


def test_not_a_forward() -> None:
    # someone else writing to the forwarding address is decided as any mail
    assert decided("From: anna@kund.example", "To: fwd@log.example")[1] == "no_contact_participant"
    # no forwarding address set
    unset = replace(SETTINGS, forwarding_address=None)
    assert decided("From: maja@firma.example", "To: fwd@log.example", settings=unset)[1] != (
        "forwarded_to_log"
    )
    # the seat may not log (R12 first)
    seat = replace(SETTINGS, can_log=False)
    assert decided("From: maja@firma.example", "To: fwd@log.example", settings=seat)[1] == (
        "seat_cannot_log"
    )


def test_original_sender_becomes_the_contact() -> None:
    karin = Address("karin@kund.example", "Karin Kund")
    d = decide_original(OriginalFacts(karin), SETTINGS, {})
    assert (d.logged, d.reason, d.rule, d.new_contacts) == (
        True,
        "forwarded_to_log",
        "R8",
        (karin,),
    )
    known = decide_original(OriginalFacts(karin), SETTINGS, {"karin@kund.example": 4})
    assert (known.contact_ids, known.new_contacts) == ((4,), ())


def test_own_original_is_logged_on_its_customer_recipients() -> None:
    original = OriginalFacts(
        Address("maja@firma.example"),
        to=(Address("anna@kund.example"), Address("colleague@firma.example")),
        cc=(Address("fwd@log.example"),),
    )
    d = decide_original(original, SETTINGS, {"anna@kund.example": 2})
    assert (d.logged, d.contact_ids, d.new_contacts) == (True, (2,), ())
    assert "original_sent_by" in d.details


def test_internal_and_never_logged_originals_are_not_logged() -> None:
    colleague = OriginalFacts(Address("boss@firma.example"), to=(Address("maja@firma.example"),))
    assert decide_original(colleague, SETTINGS, {}).reason == "internal_only"
    rival = decide_original(OriginalFacts(Address("spy@konkurrent.example")), SETTINGS, {})
    assert (rival.logged, rival.reason, rival.never_logged) == (
        False,
        "never_log",
        ("spy@konkurrent.example",),
    )


def test_the_log_flag_off_wins_over_a_forward() -> None:
    """`X-Loggbok-Log: no` keeps any message of the user's unlogged (R7), a forward too."""
    lines = ("From: maja@firma.example", "To: fwd@log.example", "X-Loggbok-Log: no")
    assert decided(*lines) == (False, "log_flag_off", "R7")
    flagged = ("From: maja@firma.example", "To: fwd@log.example", "X-Loggbok-Log: yes")
    assert decided(*flagged) == (True, "forwarded_to_log", "R8")
