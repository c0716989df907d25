"""Subject normalisation (R3/R4 compare these)."""

from __future__ import annotations

import pytest

from loggbok.daemon.mime.subject import normalise_subject


def test_brief_example_normalises_equal() -> None:
    assert normalise_subject("Re: [sales] Fwd: Offer  Q3") == normalise_subject("offer q3")
    assert normalise_subject("offer q3") == "offer q3"


@pytest.mark.parametrize(
    "subject",
    [
        "Re: Offer",
        "RE: Offer",
        "re:Offer",
        "Aw: Offer",
        "AW: Offer",
        "Sv: Offer",
        "SV: Offer",
        "VS: Offer",
        "Fw: Offer",
        "Fwd: Offer",
        "FW: Offer",
        "VB: Offer",
        "WG: Offer",
        "TR: Offer",
        "RV: Offer",
        "Antw: Offer",
        "Odp: Offer",
        "Ynt: Offer",
        "ΑΠ: Offer",
        "ΣΧΕΤ: Offer",
        "答复: Offer",
        "回复：Offer",
        "转发: Offer",
        "轉寄: Offer",
        "回覆: Offer",
        "Re[2]: Offer",
        "Re(3): Offer",
        "Re:Re: Offer",
        "RE : TR : Offer",
        "Re：Offer",
        "ＲＥ：Offer",
        "Re: Re: Fwd: AW: SV: Offer",
        "[sales] Offer",
        "Re: [sales] Offer",
        "[sales] Re: [other-list] Offer",
        "Fwd: Offer (fwd)",
        "  Re:\tOffer  ",
    ],
)
def test_prefixes_and_tags_are_stripped(subject: str) -> None:
    assert normalise_subject(subject) == "offer"


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Return policy", "return policy"),
        ("Sverige", "sverige"),
        ("Svar på frågan", "svar på frågan"),
        ("Reply needed", "reply needed"),
        ("Fwding plan", "fwding plan"),
        ("Antwerp office", "antwerp office"),
        ("Trade-in offer", "trade-in offer"),
        ("Re-sending the quote", "re-sending the quote"),
        ("Odpowiedź", "odpowiedź"),
    ],
)
def test_words_that_merely_start_like_a_prefix_stay(subject: str, expected: str) -> None:
    assert normalise_subject(subject) == expected


def test_prefix_only_inside_the_subject_is_kept() -> None:
    assert normalise_subject("Offer Re: Q3") == "offer re: q3"
    assert normalise_subject("Offer [draft]") == "offer [draft]"


def test_whitespace_collapses_and_case_folds() -> None:
    assert normalise_subject("OFFER\t  for\n  STRASSE") == "offer for strasse"
    assert normalise_subject("Straße") == normalise_subject("STRASSE")


def test_changed_subject_stays_different() -> None:
    assert normalise_subject("Re: Offer Q3") != normalise_subject("Re: Offer Q4")


def test_empty_and_prefix_only() -> None:
    assert normalise_subject("") == ""
    assert normalise_subject("Re: ") == ""
    assert normalise_subject("Re: [sales]") == ""


def test_zero_width_characters_do_not_hide_a_prefix() -> None:
    assert normalise_subject("\u200bRe: Offer") == "offer"
