"""Which of the messages sharing a Message-ID a reply answers (`rules/namesakes.py`), pure."""

from __future__ import annotations

from loggbok.daemon.mime.headers import parse_headers
from loggbok.daemon.rules.namesakes import Namesake, own_key, plain_key, ranked

REPLY = parse_headers(
    b"From: anna@k.example\r\nTo: alice@f.example\r\nCc: carl@f.example\r\n"
    b"Subject: Re: Plan\r\nMessage-ID: <r@k.example>\r\nIn-Reply-To: <p@f.example>\r\n\r\n"
)
FIRST = Namesake("p@f.example", 10, frozenset({1}), frozenset({2}), "bob@f.example", "offer")
MATCH = Namesake(own_key("p@f.example", "ab"), 20, frozenset({3}), frozenset({1}),
                 "alice@f.example", "plan")  # fmt: skip
OTHER = Namesake(own_key("p@f.example", "cd"), 30, frozenset({4}), frozenset({5}),
                 "dan@f.example", "plan")  # fmt: skip
SHARED = {"p@f.example": [OTHER, MATCH, FIRST]}


def test_a_key_without_namesakes_stands_for_itself() -> None:
    assert ranked("x@f.example", REPLY, SHARED, 1, 2) == ["x@f.example"]
    assert plain_key(MATCH.key) == "p@f.example" == plain_key("p@f.example")


def test_the_replying_mailbox_then_its_member_then_the_match_then_the_first() -> None:
    assert ranked("p@f.example", REPLY, SHARED, 4, None)[0] == OTHER.key  # its mailbox
    assert ranked("p@f.example", REPLY, SHARED, 9, 2)[0] == FIRST.key  # its member's
    # Neither: the one whose subject it keeps and whose sender it names, then the other
    # that keeps the subject, then the first stored.
    assert ranked("p@f.example", REPLY, SHARED, 9, 9) == [MATCH.key, OTHER.key, FIRST.key]
    # The order the candidates were read in changes nothing.
    assert ranked("p@f.example", REPLY, {"p@f.example": [FIRST, MATCH, OTHER]}, 9, 9) == [
        MATCH.key,
        OTHER.key,
        FIRST.key,
    ]


def test_the_plain_key_is_always_a_candidate() -> None:
    """A namesake planned in this batch is known before the stored one under the plain key."""
    assert ranked("p@f.example", REPLY, {"p@f.example": [MATCH]}, 3, 1) == [
        MATCH.key,
        "p@f.example",
    ]
