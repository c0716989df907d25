"""Pure helpers of the TUI's data layer: folding, sizes, marks, params parsing."""

from __future__ import annotations

import pytest

from loggbok.protocol import types as t
from loggbok.tui.cli import parse_params, parse_value
from loggbok.tui.data import text
from loggbok.tui.data.grouping import by_reason
from loggbok.tui.widgets.entry_render import entry_content


def test_fold_keeps_new_text_and_counts_quoted_lines() -> None:
    body = "Sounds good, Tuesday works.\n\nOn Mon, 3 Jun 2024 Anna wrote:\n> Can we meet?\n> /A"
    folded = text.fold_quoted(body)
    assert folded.new_text == "Sounds good, Tuesday works."
    assert folded.quoted_lines == 3


def test_fold_keeps_text_written_between_quotes() -> None:
    body = "> first question\nAnswer one\n> second question\nAnswer two"
    folded = text.fold_quoted(body)
    assert folded.new_text == "Answer one\nAnswer two"
    assert folded.quoted_lines == 2


def test_fold_swedish_and_outlook_attributions() -> None:
    assert text.fold_quoted("Tack!\nDen 3 juni 2024 skrev Anna <a@x.se>:\nhej").new_text == "Tack!"
    outlook = "Thanks\n-----Original Message-----\nFrom: A\nSent: today"
    assert text.fold_quoted(outlook).new_text == "Thanks"


def test_fold_one_line_snippet_with_the_attribution_run_in() -> None:
    folded = text.fold_quoted("Looks good! Den 7 feb 2020 skrev Me: > here is offer 298.")
    assert folded.new_text == "Looks good!"
    assert folded.quoted_lines == 1
    plain = "Den här offerten gäller till fredag."
    assert text.fold_quoted(plain).new_text == plain


def test_sizes_and_attachment_marks() -> None:
    assert text.format_size(512) == "512 B"
    assert text.format_size(52_428_800) == "50.0 MB"
    over = t.Attachment(
        index=0,
        filename="big.zip",
        content_type="application/zip",
        size=60 * 1024 * 1024,
        status="over_limit",
    )
    assert text.attachment_mark(over, 52_428_800).endswith("not stored: over 50 MB")
    pending = t.Attachment(
        index=1,
        filename="scan.pdf",
        content_type="application/pdf",
        size=300,
        status="pending_scan",
    )
    assert text.attachment_mark(pending).endswith("— scan pending")


def test_format_date_passes_unparseable_text_through() -> None:
    assert text.format_date("yesterday") == "yesterday"
    assert text.format_date("2024-06-03T10:15:00") == "2024-06-03 10:15"


def test_params_parse_json_values_else_strings() -> None:
    assert parse_value("42") == 42
    assert parse_value("true") is True
    assert parse_value("[1, 2]") == [1, 2]
    assert parse_value("anna@example.com") == "anna@example.com"
    params = parse_params(["id=3", "query=offer q3"], '{"limit": 5, "id": 1}')
    assert params == {"limit": 5, "id": 3, "query": "offer q3"}
    with pytest.raises(ValueError):
        parse_params(["novalue"], None)


def _summary(id_: int, reason: str, date: str) -> t.MessageSummary:
    return t.MessageSummary(
        id=id_,
        message_id=f"<{id_}@x>",
        subject="s",
        from_=t.Participant(email="a@x"),
        to=[],
        date=date,
        direction="inbound",
        snippet="",
        logged=False,
        reason=reason,
    )


def test_group_by_reason_biggest_first_newest_first() -> None:
    groups = by_reason(
        [
            _summary(1, "bulk", "2024-01-01"),
            _summary(2, "subject_changed", "2024-01-02"),
            _summary(3, "subject_changed", "2024-01-03"),
        ]
    )
    assert [reason for reason, _ in groups] == ["subject_changed", "bulk"]
    assert [m.id for m in groups[0][1]] == [3, 2]


def _entry(snippet: str, new_text: str) -> t.TimelineEntry:
    return t.TimelineEntry(
        id=1,
        entry_id=1,
        contact_id=1,
        message_id="<1@x>",
        subject="Offer",
        from_=t.Participant(email="anna@x.example", name="Anna"),
        to=[t.Participant(email="me@y.example")],
        cc=[],
        date="2024-06-03T10:15:00+00:00",
        snippet=snippet,
        direction="inbound",
        attachments=[],
        reason="contact_email",
        new_text=new_text,
    )


def test_entry_shows_the_daemons_new_text_line_by_line() -> None:
    entry = _entry("Hej Maja, Tuesday works. Mvh", "Hej Maja,\n\nTuesday works.")
    lines = str(entry_content(entry)).splitlines()
    assert "  Hej Maja," in lines
    assert "  Tuesday works." in lines
    assert not any("Mvh" in line or "folded" in line for line in lines)


def test_entry_without_new_text_folds_the_snippet() -> None:
    entry = _entry("Looks good! Den 7 feb 2020 skrev Me: > here is offer 298.", "")
    lines = str(entry_content(entry)).splitlines()
    assert "  Looks good!" in lines
    assert "  ┄ quoted history folded (1 lines)" in lines


def test_bidi_and_control_characters_never_show_or_name_a_saved_file() -> None:
    from loggbok.tui.data import files

    hostile = "report\u202efdp\u2066\u200f\u061c\x85\x1b.exe"
    assert files.shown_name(hostile) == "reportfdp_.exe"
    assert files.safe_name(hostile) == "reportfdp_.exe"
    assert files.default_path("a/\u202eb.pdf").name == "a_b.pdf"
    att = t.Attachment(
        index=0, filename=hostile, content_type="application/x-msdownload", size=2, status="stored"
    )
    assert text.attachment_mark(att) == "reportfdp_.exe (2 B)"


def test_an_undecodable_attachment_is_marked() -> None:
    att = t.Attachment(
        index=0,
        filename="a.bin",
        content_type="application/octet-stream",
        size=2048,
        status="undecodable",
    )
    assert text.attachment_mark(att) == "a.bin (2.0 kB) — not stored: its encoding is broken"


def test_plural() -> None:
    from loggbok.tui.data.text import plural

    assert plural(1, "mailbox") == "1 mailbox"
    assert plural(2, "mailbox") == "2 mailboxes"
    assert plural(0, "contact") == "0 contacts"
    assert plural(1200, "entry", "entries") == "1,200 entries"


def test_addresses_wrap_under_each_other_not_to_the_left_edge() -> None:
    from loggbok.tui.data.text import hanging

    shown = hanging(
        "To:      ",
        ["Maja Lindqvist <maja@nordvik-sales.example>", "Elin Sjöberg <elin@nordvik.example>"],
        60,
    )
    assert shown.splitlines() == [
        "To:      Maja Lindqvist <maja@nordvik-sales.example>,",
        "         Elin Sjöberg <elin@nordvik.example>",
    ]
    long = hanging("To:      ", ["x" * 100 + "@example.com"], 40)
    assert len(long) == 40 and long.endswith("…")
