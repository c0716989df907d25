"""R7's log flag: `X-Loggbok-Log: yes|no` on the user's own messages.

The header as parsed (loggbok's parser agrees with the standard library's),
the rules (yes logs like the logging address, no wins over it, inbound mail
cannot set it), the planner (contacts made by the flag say so) and the
reason code's place in the protocol, the daemon and the TUI.
"""

from __future__ import annotations

from email.parser import BytesHeaderParser
from email.policy import default

import pytest

from loggbok.daemon.mime.headers import parse_headers
from loggbok.daemon.rules import reasons
from loggbok.daemon.rules.context import RuleContext, RuleSettings, ThreadSnapshot
from loggbok.daemon.rules.engine import decide
from loggbok.daemon.rules.planner import Counters, Incoming, Snapshot, plan_batch
from loggbok.daemon.sync.providers.imap.backend import HEADER_FIELDS
from loggbok.protocol.openrpc import build
from loggbok.protocol.reasons import REASON_CODES
from loggbok.tui.data.reasons import LABELS

ME = "maja@firma.example"
BCC = "log@bcc.example"
SETTINGS = RuleSettings(
    bcc_address=BCC, own_addresses=frozenset({ME}), colleague_domains=frozenset({"firma.example"})
)
ANNA = 1


def _raw(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n\r\nHello\r\n").encode()


def _sent(*extra: str, to: str = "anna@kund.example, bo@kund.example") -> bytes:
    return _raw(
        f"From: Maja <{ME}>", f"To: {to}", "Subject: Offer", "Message-ID: <a1@firma.example>",
        *extra,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("lines", "flag"),
    [
        (("X-Loggbok-Log: yes",), True),
        (("x-loggbok-log:YES",), True),
        (("X-Loggbok-Log: true",), True),
        (("X-Loggbok-Log:\r\n  yes",), True),  # folded
        (("X-Loggbok-Log: no",), False),
        (("X-Loggbok-Log: Off",), False),
        (("X-Loggbok-Log: yes", "X-Loggbok-Log: no"), False),  # "no" wins
        (("X-Loggbok-Log: maybe",), None),
        (("X-Loggbok-Log:",), None),
        ((), None),
    ],
)
def test_the_header_is_read_as_the_standard_library_reads_it(
    lines: tuple[str, ...], flag: bool | None
) -> None:
    raw = _sent(*lines)
    assert parse_headers(raw).log_flag is flag
    assert parse_headers(raw.partition(b"\r\n\r\n")[0] + b"\r\n\r\n").log_flag is flag
    # The standard library's header parser sees the same values.
    values = BytesHeaderParser(policy=default).parsebytes(raw).get_all("X-Loggbok-Log") or []
    assert [v.strip() for v in values] == [
        line.partition(":")[2].replace("\r\n", "").strip() for line in lines
    ]


def test_imap_fetches_the_header_with_the_others() -> None:
    assert "X-Loggbok-Log" in HEADER_FIELDS.split()


def _ctx(thread: ThreadSnapshot | None = None) -> RuleContext:
    return RuleContext(SETTINGS, {"anna@kund.example": ANNA}, thread)


def test_yes_logs_as_the_logging_address_does() -> None:
    d = decide(parse_headers(_sent("X-Loggbok-Log: yes")), _ctx())
    assert (d.logged, d.reason, d.rule, d.track_thread) == (True, "log_flag", "R2", True)
    assert d.contact_ids == (ANNA,)
    assert [a.email for a in d.new_contacts] == ["bo@kund.example"]
    assert d.details == {"log_flag": "yes"}


def test_yes_on_a_reply_to_an_untracked_email_is_r7() -> None:
    raw = _sent("X-Loggbok-Log: yes", "In-Reply-To: <q1@kund.example>", to="anna@kund.example")
    d = decide(parse_headers(raw), _ctx())
    assert (d.logged, d.reason, d.rule) == (True, "log_flag", "R7")


def test_no_wins_over_the_logging_address_and_a_tracked_thread() -> None:
    raw = _sent(f"Bcc: {BCC}", "X-Loggbok-Log: no", "In-Reply-To: <b1@kund.example>")
    tracked = ThreadSnapshot(7, True, "offer", (ANNA,), 3, "b1@kund.example", "in-reply-to")
    for thread in (None, tracked):
        d = decide(parse_headers(raw), _ctx(thread))
        assert (d.logged, d.reason, d.rule, d.track_thread) == (False, "log_flag_off", "R7", False)
        assert d.new_contacts == ()


def test_the_flag_on_inbound_mail_is_ignored() -> None:
    """Anyone can write the header: only the user's own messages are heard."""
    inbound = _raw(
        "From: anna@kund.example", f"To: {ME}", "Subject: Hi", "Message-ID: <x@kund.example>",
        "X-Loggbok-Log: yes",
    )  # fmt: skip
    assert decide(parse_headers(inbound), _ctx()).reason == "not_in_tracked_thread"
    off = _raw(
        "From: anna@kund.example", f"To: {ME}", "Subject: Re: Offer",
        "Message-ID: <y@kund.example>", "In-Reply-To: <a1@firma.example>", "X-Loggbok-Log: no",
    )  # fmt: skip
    tracked = ThreadSnapshot(7, True, "offer", (ANNA,), 3, "a1@firma.example", "in-reply-to")
    assert decide(parse_headers(off), _ctx(tracked)).reason == "reply_in_tracked_thread"


def test_without_the_flag_nothing_changes() -> None:
    assert decide(parse_headers(_sent(f"Bcc: {BCC}")), _ctx()).reason == "bcc_address"
    assert decide(parse_headers(_sent()), _ctx()).reason == "not_in_tracked_thread"


def test_contacts_made_by_the_flag_say_so_and_replies_follow() -> None:
    sent = _sent("X-Loggbok-Log: yes")
    reply = _raw(
        "From: bo@kund.example", f"To: {ME}", "Subject: SV: Offer", "Message-ID: <b@kund.example>",
        "In-Reply-To: <a1@firma.example>",
    )  # fmt: skip
    snapshot = Snapshot({}, {}, {}, {}, {"anna@kund.example": ANNA}, Counters(1, 1, 2))
    plan = plan_batch(
        [
            Incoming(1, "1", parse_headers(sent), sent),
            Incoming(2, "1", parse_headers(reply), reply),
        ],
        snapshot,
        SETTINGS,
        1,
    )
    assert [m.decision.reason for m in plan.messages] == ["log_flag", "reply_in_tracked_thread"]
    assert plan.contact_sources == {2: "log_flag"}
    assert plan.threads[plan.messages[0].thread_id].tracked_reason == "log_flag"


def test_reason_codes_are_one_list_in_the_protocol_the_daemon_and_the_tui() -> None:
    assert {"log_flag", "log_flag_off"} <= set(REASON_CODES)
    assert set(reasons._SUMMARIES) == set(REASON_CODES)
    assert set(REASON_CODES) <= set(LABELS)
    schema = build()["components"]["schemas"]["ReasonCode"]
    assert [c["const"] for c in schema["oneOf"]] == list(REASON_CODES)
    assert reasons.fixes("log_flag_off", logged=False) == ["log_manually"]
    assert "X-Loggbok-Log: no" in reasons.summary("log_flag_off", {})
