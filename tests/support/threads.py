"""Real-world thread shapes with the decision each message should get (R3/R4).

Each shape is a list of `Shaped` messages, in the order they reach the mailbox,
grouped in `round`s: a test may sync round after round (so parents are found
in the store) or all at once (so they are found among the round's own
messages). Addresses: the user is `ME`, the logging address `BCC` (the
patch series uses `PLUS_LOG`, a plus address that delivers into the user's own
INBOX, as `git send-email --bcc` to oneself does), contacts are at kund.example.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tests.support.mail import make_message

ME = "Maja Lindqvist <me@firma.example>"
ME_EMAIL = "me@firma.example"
BCC = "log-1234@bcc.loggbok.example"
PLUS_LOG = "me+log@firma.example"
ANNA = "Anna Berg <anna@kund.example>"
BO = "Bo Ek <bo@kund.example>"
LARS = "Lars Holm <lars@kund.example>"
EVA = "Eva Sund <eva@kund.example>"

LOGGED_REPLY = "reply_in_tracked_thread"
START = datetime(2024, 3, 11, 8, 0, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Shaped:
    folder: str
    """"inbox" or "sent"."""
    message_id: str
    raw: bytes
    reason: str
    """The decision it should get."""
    compared_message_id: str | None = None
    """For a reply in a tracked thread: the message whose subject it is compared with."""
    round: int = 0


def _at(hours: float) -> datetime:
    return START + timedelta(hours=hours)


def _git_send_email(
    subject: str, number: int, hours: float, cover: str | None = None
) -> tuple[str, bytes]:
    """A message as `git send-email --bcc me+log@... --thread --no-chain-reply-to` sends
    it, as delivered into the user's INBOX through the Bcc to their plus address."""
    message_id = f"<20240311100000.4711-{number}-me@firma.example>"
    headers = {
        "Delivered-To": PLUS_LOG,
        "X-Mailer": "git-send-email 2.43.0",
        "MIME-Version": "1.0",
    }
    raw = make_message(
        ME,
        [LARS],
        subject,
        message_id,
        cc=[EVA],
        in_reply_to=cover,
        references=[cover] if cover else (),
        date=_at(hours),
        body="---\n widget/export.py | 42 +++++\n",
        headers=headers,
    )
    return message_id, raw


def patch_series() -> list[Shaped]:
    """A cover letter and three patches, each In-Reply-To the cover; reviewers answer
    single patches keeping "Re: [PATCH 2/3] ...", and one changes the subject."""
    cover_id, cover = _git_send_email("[PATCH 0/3] widget: add export support", 1, 0)
    p1_id, p1 = _git_send_email("[PATCH 1/3] widget: add export core", 2, 0.01, cover_id)
    p2_id, p2 = _git_send_email("[PATCH 2/3] widget: export as CSV", 3, 0.02, cover_id)
    p3_id, p3 = _git_send_email("[PATCH 3/3] widget: document export", 4, 0.03, cover_id)
    lars_p2 = make_message(
        LARS, [ME], "Re: [PATCH 2/3] widget: export as CSV", "<lars-p2@kund.example>",
        cc=[EVA], in_reply_to=p2_id, references=[cover_id, p2_id], date=_at(5),
        body="> +def export_csv(rows):\nWhy not the csv module?\n",
    )  # fmt: skip
    eva_p2 = make_message(
        EVA, [LARS, ME], "Re: [PATCH 2/3] widget: export as CSV", "<eva-p2@kund.example>",
        in_reply_to="<lars-p2@kund.example>",
        references=[cover_id, p2_id, "<lars-p2@kund.example>"], date=_at(6),
    )  # fmt: skip
    lars_cover = make_message(
        LARS, [ME], "Re: [PATCH 0/3] widget: add export support", "<lars-0@kund.example>",
        cc=[EVA], in_reply_to=cover_id, references=[cover_id], date=_at(7),
    )  # fmt: skip
    # Outlook on the other side: References cut down to the parent alone.
    lars_p3 = make_message(
        LARS, [ME], "RE: [PATCH 3/3] widget: document export", "<lars-p3@kund.example>",
        in_reply_to=p3_id, references=[p3_id], date=_at(8),
    )  # fmt: skip
    lars_ci = make_message(
        LARS, [ME], "CI is red on main", "<lars-ci@kund.example>",
        in_reply_to=p1_id, references=[cover_id, p1_id], date=_at(9),
    )  # fmt: skip
    eva_ci = make_message(
        EVA, [LARS, ME], "Re: CI is red on main", "<eva-ci@kund.example>",
        in_reply_to="<lars-ci@kund.example>",
        references=[cover_id, p1_id, "<lars-ci@kund.example>"], date=_at(10),
    )  # fmt: skip
    return [
        Shaped("inbox", cover_id, cover, "bcc_address"),
        Shaped("inbox", p1_id, p1, "bcc_address"),
        Shaped("inbox", p2_id, p2, "bcc_address"),
        Shaped("inbox", p3_id, p3, "bcc_address"),
        Shaped("inbox", "<lars-p2@kund.example>", lars_p2, LOGGED_REPLY, p2_id, 1),
        Shaped("inbox", "<eva-p2@kund.example>", eva_p2, LOGGED_REPLY, "<lars-p2@kund.example>", 1),
        Shaped("inbox", "<lars-0@kund.example>", lars_cover, LOGGED_REPLY, cover_id, 1),
        Shaped("inbox", "<lars-p3@kund.example>", lars_p3, LOGGED_REPLY, p3_id, 1),
        Shaped("inbox", "<lars-ci@kund.example>", lars_ci, "subject_changed", p1_id, 1),
        Shaped("inbox", "<eva-ci@kund.example>", eva_ci, "not_in_tracked_thread", None, 1),
    ]  # fmt: skip


def follow_up_with_new_subject() -> list[Shaped]:
    """ "Offer Q3" is tracked; the user sends "Updated quote v2" in the same thread with
    the logging address; replies keep ITS subject, one goes back to "Offer Q3", one
    changes the subject for real."""
    a, b, d, e = (f"<{x}@{d}>" for x, d in (
        ("fa", "firma.example"), ("fb", "kund.example"), ("fd", "firma.example"),
        ("fe", "kund.example"),
    ))  # fmt: skip
    return [
        Shaped("sent", a, make_message(
            ME, [ANNA], "Offer Q3", a, bcc=[BCC], date=_at(0)), "bcc_address"),
        Shaped("inbox", b, make_message(
            ANNA, [ME], "SV: Offer Q3", b, in_reply_to=a, references=[a], date=_at(1)),
            LOGGED_REPLY, a),
        Shaped("sent", d, make_message(
            ME, [ANNA], "Updated quote v2", d, cc=[BO], bcc=[BCC], in_reply_to=b,
            references=[a, b], date=_at(2)), "bcc_address"),
        Shaped("inbox", e, make_message(
            ANNA, [ME], "SV: Updated quote v2", e, cc=[BO], in_reply_to=d,
            references=[a, b, d], date=_at(3)), LOGGED_REPLY, d, 1),
        Shaped("inbox", "<ff@kund.example>", make_message(
            BO, [ME, ANNA], "AW: Updated quote v2", "<ff@kund.example>", in_reply_to=e,
            references=[a, b, d, e], date=_at(4)), LOGGED_REPLY, e, 1),
        Shaped("inbox", "<fg@kund.example>", make_message(
            ANNA, [ME], "Re: Offer Q3", "<fg@kund.example>", in_reply_to=e,
            references=[a, b, d, e], date=_at(5)), LOGGED_REPLY, a, 1),
        Shaped("inbox", "<fh@kund.example>", make_message(
            ANNA, [ME], "New project in Oslo", "<fh@kund.example>", in_reply_to=e,
            references=[a, b, d, e], date=_at(6)), "subject_changed", e, 1),
    ]  # fmt: skip


def truncated_references() -> list[Shaped]:
    """Long threads whose References lost ids: only the last few kept, or the middle
    gone and the message answered never stored (the user replied from a phone that
    keeps no Sent copy)."""
    a, b, c, d = (
        "<ta@firma.example>",
        "<tb@kund.example>",
        "<tc@firma.example>",
        "<td@kund.example>",
    )
    phone = "<phone-reply@firma.example>"
    return [
        Shaped("sent", a, make_message(
            ME, [ANNA], "Service agreement 2024", a, bcc=[BCC], date=_at(0)), "bcc_address"),
        Shaped("inbox", b, make_message(
            ANNA, [ME], "Re: Service agreement 2024", b, in_reply_to=a, references=[a],
            date=_at(1)), LOGGED_REPLY, a),
        Shaped("sent", c, make_message(
            ME, [ANNA], "Revised SLA", c, bcc=[BCC], in_reply_to=b, references=[a, b],
            date=_at(2)), "bcc_address"),
        # Only the last two ids kept.
        Shaped("inbox", d, make_message(
            ANNA, [ME], "Re: Revised SLA", d, in_reply_to=c, references=[b, c], date=_at(3)),
            LOGGED_REPLY, c, 1),
        # Answers the phone reply (never stored); the middle of References is gone:
        # compared with the newest stored entry.
        Shaped("inbox", "<te@kund.example>", make_message(
            ANNA, [ME], "Re: Service agreement 2024", "<te@kund.example>", in_reply_to=phone,
            references=[a, phone], date=_at(4)), LOGGED_REPLY, a, 1),
        # The same, keeping the follow-up's subject: not the stored ancestor's, but one the
        # thread is tracked under.
        Shaped("inbox", "<tf@kund.example>", make_message(
            ANNA, [ME], "Re: Revised SLA", "<tf@kund.example>", in_reply_to=phone,
            references=[a, phone], date=_at(5)), LOGGED_REPLY, c, 1),
        # No In-Reply-To, References only the parent (some webmail).
        Shaped("inbox", "<tg@kund.example>", make_message(
            ANNA, [ME], "Re: Revised SLA", "<tg@kund.example>", references=[d],
            date=_at(6)), LOGGED_REPLY, d, 1),
    ]  # fmt: skip


LOCALISED = (
    "SV: Offert för Q3",
    "AW: Offert för Q3",
    "VS: Offert för Q3",
    "Antw: Offert för Q3",
    "RE: Offert för Q3",
    "答复: Offert för Q3",
    "回复：Offert för Q3",
    "Ynt: Offert för Q3",
    "RE：Offert för Q3",
    "AW： Offert för Q3",
    "Re: AW: Sv: Offert för Q3",
    "答复： 回复： Offert för Q3",
    "[sales] Re: Offert för Q3",
    "Re: [sales] SV: Offert för Q3",
)
"""Reply subjects as mail clients in many languages write them (full-width colons too)."""


def localised_prefixes() -> list[Shaped]:
    """One tracked "Offert för Q3" and a reply under each of `LOCALISED`."""
    a = "<la@firma.example>"
    shapes = [
        Shaped("sent", a, make_message(
            ME, [ANNA], "Offert för Q3", a, bcc=[BCC], date=_at(0)), "bcc_address"),
    ]  # fmt: skip
    for number, subject in enumerate(LOCALISED, 1):
        reply_id = f"<l{number}@kund.example>"
        raw = make_message(
            ANNA, [ME], subject, reply_id, in_reply_to=a, references=[a], date=_at(number)
        )
        shapes.append(Shaped("inbox", reply_id, raw, LOGGED_REPLY, a, 1))
    return shapes


SHAPES = {
    "patch_series": (patch_series, PLUS_LOG),
    "follow_up_with_new_subject": (follow_up_with_new_subject, BCC),
    "truncated_references": (truncated_references, BCC),
    "localised_prefixes": (localised_prefixes, BCC),
}
"""Every shape by name, with the logging address it is sent with. Contacts: Anna (in
the store before); the others are made by the logging address."""
