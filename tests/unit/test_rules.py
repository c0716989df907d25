"""The rules engine as a pure function: header facts + context -> decision."""

from __future__ import annotations

from dataclasses import replace

import pytest

from loggbok.daemon.mime.facts import HeaderFacts
from loggbok.daemon.mime.headers import parse_headers
from loggbok.daemon.rules.context import RuleContext, RuleSettings, ThreadSnapshot
from loggbok.daemon.rules.engine import decide
from loggbok.daemon.rules.reasons import summary

ME = "maja@firma.example"
SETTINGS = RuleSettings(
    bcc_address="log@bcc.example",
    own_addresses=frozenset({ME}),
    colleague_domains=frozenset({"firma.example"}),
    never_log=frozenset({"@konkurrent.example", "x@kund.example"}),
)
ANNA = 1


def facts(*lines: str) -> HeaderFacts:
    return parse_headers(("\r\n".join(lines) + "\r\n\r\n").encode())


def tracked(subject: str = "offer", contacts: tuple[int, ...] = (ANNA,)) -> ThreadSnapshot:
    return ThreadSnapshot(7, True, subject, contacts, 3, "a1@firma.example", "in-reply-to")


def ctx(
    thread: ThreadSnapshot | None = None,
    settings: RuleSettings = SETTINGS,
    contacts: dict[str, int] | None = None,
) -> RuleContext:
    return RuleContext(
        settings, {"anna@kund.example": ANNA} if contacts is None else contacts, thread
    )


SENT_BCC = (
    "From: Maja <maja@firma.example>",
    "To: anna@kund.example, bo@kund.example",
    "Bcc: log@bcc.example",
    "Subject: Offer",
    "Message-ID: <a1@firma.example>",
)
REPLY = (
    "From: anna@kund.example",
    "To: maja@firma.example",
    "Subject: SV: Offer",
    "Message-ID: <b1@kund.example>",
    "In-Reply-To: <a1@firma.example>",
)


def test_bcc_logs_on_recipients_and_creates_missing_contacts() -> None:
    d = decide(facts(*SENT_BCC), ctx())
    assert (d.logged, d.reason, d.rule, d.track_thread) == (True, "bcc_address", "R2", True)
    assert d.contact_ids == (ANNA,)
    assert [a.email for a in d.new_contacts] == ["bo@kund.example"]


def test_bcc_never_makes_colleagues_contacts() -> None:
    d = decide(facts(*SENT_BCC, "Cc: Elin <elin@firma.example>"), ctx())
    assert [a.email for a in d.new_contacts] == ["bo@kund.example"]
    assert d.details["bcc"] == "log@bcc.example"
    internal = decide(
        facts(
            "From: maja@firma.example",
            "To: elin@firma.example",
            "Bcc: log@bcc.example",
            "Subject: Lunch",
        ),
        ctx(),
    )
    assert (internal.logged, internal.reason) == (False, "internal_only")


def test_bcc_reply_to_untracked_email_is_r7() -> None:
    d = decide(facts(*SENT_BCC, "In-Reply-To: <z@kund.example>"), ctx())
    assert (d.reason, d.rule) == ("bcc_address", "R7")


def test_reply_in_tracked_thread_and_changed_subject() -> None:
    assert decide(facts(*REPLY), ctx(tracked())).reason == "reply_in_tracked_thread"
    changed = facts(*REPLY[:2], "Subject: Re: Something else", *REPLY[3:])
    d = decide(changed, ctx(tracked()))
    assert (d.logged, d.reason, d.new_thread) == (False, "subject_changed", True)
    both = replace(SETTINGS, mode="all_with_contacts")
    assert decide(changed, ctx(tracked(), both)).reason == "contact_email"


def test_reply_from_new_address_lands_on_thread_contact() -> None:
    d = decide(facts("From: ceo@kund.example", *REPLY[1:]), ctx(tracked()))
    assert (d.logged, d.contact_ids, d.new_contacts) == (True, (ANNA,), ())


@pytest.mark.parametrize(
    ("mode", "logged", "reason"),
    [
        ("replies_only", False, "not_in_tracked_thread"),
        ("all_with_contacts", True, "contact_email"),
    ],
)
def test_new_email_from_contact(mode: str, logged: bool, reason: str) -> None:
    settings = replace(SETTINGS, mode=mode)  # type: ignore[arg-type]
    d = decide(
        facts(
            "From: anna@kund.example",
            "To: maja@firma.example",
            "Subject: Hi",
            "Message-ID: <n@kund.example>",
        ),
        ctx(settings=settings),
    )
    assert (d.logged, d.reason) == (logged, reason)


def test_reply_in_an_untracked_thread_says_what_it_answers() -> None:
    """Why? tells such a reply from a new email: the thread lacked the logging address."""
    d = decide(facts(*REPLY), ctx(settings=replace(SETTINGS, mode="replies_only")))
    assert (d.logged, d.reason) == (False, "not_in_tracked_thread")
    assert d.details == {"answers": "<a1@firma.example>", "logging_address": "log@bcc.example"}
    words = summary(d.reason, d.details)
    assert "you did not send the first message with your logging address" in words
    assert "(log@bcc.example)" in words
    assert "a new email" in summary(d.reason, {})


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        (("Auto-Submitted: auto-replied",), "auto_reply"),
        (("Content-Type: multipart/report; report-type=delivery-status; boundary=x",), "bounce"),
        (("Precedence: bulk",), "bulk"),
        (("List-Id: <news.kund.example>",), "bulk"),
        (("Content-Type: text/calendar; method=REQUEST",), "calendar"),
    ],
)
def test_r17_filters_apply_even_in_tracked_threads(extra: tuple[str, ...], reason: str) -> None:
    d = decide(facts(*REPLY, *extra), ctx(tracked()))
    assert (d.logged, d.reason, d.rule) == (False, reason, "R17")


def test_internal_only_and_strangers() -> None:
    internal = facts("From: kollega@firma.example", "To: maja@firma.example", "Subject: Lunch")
    assert decide(internal, ctx()).reason == "internal_only"
    stranger = facts("From: sven@annan.example", "To: maja@firma.example", "Subject: Hej")
    assert decide(stranger, ctx()).reason == "no_contact_participant"


def test_never_log_drops_only_listed_recipients() -> None:
    d = decide(
        facts(
            "From: maja@firma.example",
            "To: anna@kund.example, s@konkurrent.example",
            "Bcc: log@bcc.example",
            "Subject: Pris",
        ),
        ctx(),
    )
    assert d.logged and d.never_logged == ("s@konkurrent.example",)
    assert [a.email for a in d.new_contacts] == []
    only = decide(
        facts("From: x@kund.example", "To: maja@firma.example", "Subject: Hi"),
        ctx(contacts={"x@kund.example": 5}),
    )
    assert (only.logged, only.reason) == (False, "never_log")


def test_view_only_seat_logs_nothing() -> None:
    settings = replace(SETTINGS, can_log=False)
    assert decide(facts(*SENT_BCC), ctx(settings=settings)).reason == "seat_cannot_log"


def test_a_reply_compared_with_the_message_it_answers_names_it_once() -> None:
    words = summary(
        "reply_in_tracked_thread",
        {
            "matched": "<A1@firma.example>",
            "compared_message_id": "<A1@firma.example>",
            "compared_with": "the message it answers",
        },
    )
    assert words.count("<A1@firma.example>") == 1
    other = summary(
        "reply_in_tracked_thread",
        {"matched": "<a@x>", "compared_message_id": "<b@x>", "compared_with": "the thread"},
    )
    assert "<a@x>" in other and "<b@x>" in other
