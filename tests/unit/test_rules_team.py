"""R15 (the mail of a team mailbox) and R16's list for everyone, in the pure rules engine."""

from __future__ import annotations

from dataclasses import replace

from loggbok.daemon.mime.facts import HeaderFacts
from loggbok.daemon.mime.headers import parse_headers
from loggbok.daemon.rules.context import RuleContext, RuleSettings, ThreadSnapshot
from loggbok.daemon.rules.engine import decide
from loggbok.daemon.rules.reasons import summary

HELP = "help@firma.example"
PERSONAL = RuleSettings(
    own_addresses=frozenset({"maja@firma.example", HELP}),
    colleague_domains=frozenset({"firma.example"}),
    never_log=frozenset({"@konkurrent.example"}),
    never_log_everyone=frozenset({"ceo@kund.example", "@lawyers.example"}),
)
TEAM = replace(PERSONAL, team_inbox=True)


def facts(*lines: str) -> HeaderFacts:
    return parse_headers(("\r\n".join(lines) + "\r\n\r\n").encode())


def inbound(sender: str, *more: str) -> HeaderFacts:
    return facts(f"From: {sender}", f"To: {HELP}", "Subject: Help", "Message-ID: <q@x>", *more)


def test_team_inbound_from_unknown_sender_is_logged_and_creates_the_contact() -> None:
    d = decide(inbound("Nils <nils@new.example>"), RuleContext(TEAM, {}, None))
    assert (d.logged, d.reason, d.rule, d.track_thread) == (True, "team_inbox", "R15", True)
    assert [a.email for a in d.new_contacts] == ["nils@new.example"]
    assert d.contact_ids == ()


def test_team_ignores_both_never_log_lists_and_says_so() -> None:
    for sender in ("s@konkurrent.example", "ceo@kund.example", "a@lawyers.example"):
        d = decide(inbound(sender), RuleContext(TEAM, {"ceo@kund.example": 4}, None))
        assert (d.logged, d.reason) == (True, "team_inbox"), sender
        assert d.details["never_log_ignored"] == sender
        assert "logged all the same" in summary(d.reason, d.details)
    # the same mail in a personal mailbox: R16 (the list for everyone named)
    d = decide(inbound("ceo@kund.example"), RuleContext(PERSONAL, {"ceo@kund.example": 4}, None))
    assert (d.logged, d.reason) == (False, "never_log")
    assert d.details["never_log_everyone"] == "ceo@kund.example"
    assert "list for everyone holds ceo@kund.example" in summary(d.reason, d.details)


def test_team_auto_replies_and_colleagues_make_no_contact_but_are_logged() -> None:
    auto = inbound("noreply@shop.example", "Auto-Submitted: auto-replied")
    d = decide(auto, RuleContext(TEAM, {}, None))
    assert (d.logged, d.reason, d.new_contacts, d.details["kind"]) == (
        True,
        "team_inbox",
        (),
        "auto_reply",
    )
    colleague = decide(inbound("per@firma.example"), RuleContext(TEAM, {}, None))
    assert colleague.logged and colleague.new_contacts == ()


def test_team_reply_lands_on_the_conversations_contacts() -> None:
    reply = facts(
        f"From: {HELP}",
        "To: nils@new.example",
        "Subject: Re: Help",
        "Message-ID: <r@firma.example>",
        "In-Reply-To: <q@x>",
    )
    thread = ThreadSnapshot(7, True, "help", (9,), 3, "q@x", "in-reply-to")
    d = decide(reply, RuleContext(TEAM, {"nils@new.example": 9}, thread))
    assert (d.logged, d.reason, d.contact_ids, d.new_contacts) == (True, "team_inbox", (9,), ())
    # a changed subject splits nothing in a team mailbox
    changed = facts(
        "From: nils@new.example",
        f"To: {HELP}",
        "Subject: Something else",
        "Message-ID: <s@x>",
        "In-Reply-To: <r@firma.example>",
    )
    d = decide(changed, RuleContext(TEAM, {"nils@new.example": 9}, thread))
    assert (d.reason, d.new_thread, d.contact_ids) == ("team_inbox", False, (9,))


def test_log_flag_off_still_wins_in_a_team_mailbox() -> None:
    sent = facts(
        f"From: {HELP}",
        "To: nils@new.example",
        "Subject: x",
        "Message-ID: <t@f>",
        "X-Loggbok-Log: no",
    )
    assert decide(sent, RuleContext(TEAM, {}, None)).reason == "log_flag_off"


def test_list_for_everyone_drops_only_its_entries() -> None:
    sent = facts(
        "From: maja@firma.example",
        "To: anna@kund.example, boss@lawyers.example",
        "X-Loggbok-Log: yes",
        "Subject: Deal",
        "Message-ID: <u@f>",
    )
    d = decide(sent, RuleContext(PERSONAL, {"anna@kund.example": 1}, None))
    assert d.logged and d.never_logged == ("boss@lawyers.example",)
    assert d.details["never_log_everyone"] == "boss@lawyers.example"
    assert PERSONAL.never_list("x@konkurrent.example") == "yours"
    assert PERSONAL.never_list("y@lawyers.example") == "everyone"
    assert PERSONAL.never_list("anna@kund.example") is None
