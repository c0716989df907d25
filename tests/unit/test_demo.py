"""The demo Maildir and contacts file: well-formed, complete, deterministic."""

from __future__ import annotations

import email
import io
import re
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path

import pytest

from loggbok.daemon.contacts_import import parse_contacts_file
from loggbok.daemon.demo import DemoData, build_demo
from loggbok.daemon.demo_mail import business_day

NOW = datetime(2025, 6, 18, 12, 0, tzinfo=UTC)
_NAME = re.compile(r"^\d{10}\.M\d{6}P\d+Q\d+\.[a-z-]+(:2,[A-Z]*)?$")


def _files(maildir: Path) -> Iterator[Path]:
    for folder in (maildir, maildir / ".Sent"):
        for sub in ("cur", "new"):
            yield from sorted((folder / sub).iterdir())


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoData:
    return build_demo(tmp_path_factory.mktemp("demo"), NOW)


@pytest.fixture(scope="module")
def messages(demo: DemoData) -> dict[Path, EmailMessage]:
    return {
        path: email.message_from_bytes(path.read_bytes(), policy=default)
        for path in _files(demo.maildir)
    }


def _id(msg: EmailMessage) -> str:
    return str(msg["Message-ID"]).strip()


def _by_id(messages: dict[Path, EmailMessage]) -> dict[str, EmailMessage]:
    return {_id(m): m for m in messages.values()}


def test_layout_is_maildir_plus_plus(demo: DemoData) -> None:
    for folder in (demo.maildir, demo.maildir / ".Sent"):
        for sub in ("cur", "new", "tmp"):
            assert (folder / sub).is_dir()
        assert not any((folder / "tmp").iterdir())
    assert (demo.maildir / ".Sent" / "maildirfolder").is_file()
    names = [p.name for p in _files(demo.maildir)]
    assert all(_NAME.match(n) for n in names), names
    assert all(n.endswith((":2,S", ":2,RS")) for n in names if "/cur/" in n or ":" in n)
    assert len(list((demo.maildir / "new").iterdir())) == 2
    assert demo.address == "maja@nordvik-sales.example"
    assert demo.own_addresses == ["maja@nordvik-sales.example"]
    assert re.fullmatch(r"log-[0-9a-f]{4}@bcc\.loggbok\.example", demo.bcc_address)


def test_every_message_parses_with_unique_ids(messages: dict[Path, EmailMessage]) -> None:
    assert 60 <= len(messages) <= 120
    ids = [_id(m) for m in messages.values()]
    assert len(set(ids)) == len(ids)
    for path, msg in messages.items():
        assert not msg.defects, (path, msg.defects)
        for name in ("From", "To", "Subject", "Date", "Message-ID"):
            assert msg[name], (path, name)
        assert re.fullmatch(r"<[^<>\s@]+@[^<>\s@]+>", _id(msg)), _id(msg)
        assert msg.get_body(("plain", "html")) is not None, path
        raw = path.read_bytes()
        assert b"\r\n" not in raw.split(b"\n\n", 1)[0]  # LF line ends, as Maildir keeps them
        assert b"=?utf-8?q?=3C" not in raw  # no Message-ID mangled into an encoded word


def test_folders_match_sender(demo: DemoData, messages: dict[Path, EmailMessage]) -> None:
    for path, msg in messages.items():
        sender = getaddresses([str(msg["From"])])[0][1].lower()
        sent = ".Sent" in path.parts
        assert sent == (sender == demo.address), path


def test_replies_point_at_existing_earlier_messages(messages: dict[Path, EmailMessage]) -> None:
    by_id = _by_id(messages)
    replies = 0
    for msg in messages.values():
        if msg["In-Reply-To"] is None:
            assert msg["References"] is None
            continue
        replies += 1
        parent_id = str(msg["In-Reply-To"]).strip()
        assert parent_id in by_id, msg["Subject"]
        refs = str(msg["References"]).split()
        assert refs[-1] == parent_id
        assert all(ref in by_id for ref in refs)
        date = parsedate_to_datetime(str(msg["Date"]))
        assert date > parsedate_to_datetime(str(by_id[parent_id]["Date"]))
    assert replies >= 35


def test_dates_spread_over_six_weeks_of_weekdays(messages: dict[Path, EmailMessage]) -> None:
    dates = [parsedate_to_datetime(str(m["Date"])) for m in messages.values()]
    assert all(NOW - timedelta(weeks=7) < d < NOW for d in dates)
    assert max(dates) - min(dates) > timedelta(weeks=5)
    assert all(d.weekday() < 5 for d in dates)
    assert business_day(NOW.date(), 1).isoformat() == "2025-06-17"
    assert business_day(NOW.date(), 3).isoformat() == "2025-06-13"


def test_expected_reasons_cover_every_message_and_every_rule(
    demo: DemoData, messages: dict[Path, EmailMessage]
) -> None:
    assert set(demo.expected) == {_id(m) for m in messages.values()}
    assert set(demo.expected.values()) == {
        "bcc_address", "reply_in_tracked_thread", "subject_changed", "not_in_tracked_thread",
        "no_contact_participant", "auto_reply", "bounce", "bulk", "calendar", "internal_only",
    }  # fmt: skip
    for msg in messages.values():
        if demo.expected[_id(msg)] == "bcc_address":
            assert demo.bcc_address in str(msg["Bcc"])


def _find(messages: dict[Path, EmailMessage], reason: str, demo: DemoData) -> list[EmailMessage]:
    return [m for m in messages.values() if demo.expected[_id(m)] == reason]


def test_special_messages(demo: DemoData, messages: dict[Path, EmailMessage]) -> None:
    (bounce,) = _find(messages, "bounce", demo)
    assert bounce.get_content_type() == "multipart/report"
    assert bounce["Content-Type"].params["report-type"] == "delivery-status"
    assert "message/delivery-status" in [p.get_content_type() for p in bounce.iter_parts()]
    assert str(bounce["From"]).lower().startswith("mail delivery system <mailer-daemon@")

    (ooo,) = _find(messages, "auto_reply", demo)
    assert ooo["Auto-Submitted"] == "auto-replied"

    (invite,) = _find(messages, "calendar", demo)
    calendar = [p for p in invite.walk() if p.get_content_type() == "text/calendar"]
    assert calendar[0].get_param("method") == "REQUEST"
    assert "BEGIN:VEVENT" in calendar[0].get_content()

    bulk = _find(messages, "bulk", demo)
    assert len(bulk) >= 3
    assert all(m["List-Id"] and m["List-Unsubscribe"] for m in bulk)

    html_only = [m for m in messages.values() if m.get_content_type() == "text/html"]
    assert len(html_only) == 1 and "<table" in html_only[0].get_content()

    (changed,) = _find(messages, "subject_changed", demo)
    assert changed["In-Reply-To"] and not str(changed["Subject"]).lower().startswith("re")


def test_attachments(messages: dict[Path, EmailMessage]) -> None:
    attachments = {
        part.get_filename(): part.get_content()
        for msg in messages.values()
        for part in msg.iter_attachments()
    }
    pdf = attachments["Offert NordTrack Fjällström 2025.pdf"]
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    startxref = int(pdf.rsplit(b"startxref", 1)[1].split()[0])
    assert pdf[startxref:].startswith(b"xref")
    big = attachments["Hallenplan_Hamburg_Billbrook.zip"]
    assert len(big) >= 3_000_000
    with zipfile.ZipFile(io.BytesIO(big)) as archive:
        assert archive.testzip() is None


def test_languages_prefixes_and_threads(messages: dict[Path, EmailMessage]) -> None:
    subjects = [str(m["Subject"]) for m in messages.values()]
    assert any(s.startswith("SV: ") for s in subjects)
    assert any(s.startswith("AW: ") for s in subjects)
    assert any(s.startswith("Re: SV: ") for s in subjects)
    assert any("för Fjällström" in s for s in subjects)  # spaces survive encoded words
    bodies = [m.get_body(("plain",)) for m in messages.values()]
    texts = [b.get_content() for b in bodies if b is not None]
    assert any("Med vänliga hälsningar" in t and "å" in t and "ö" in t for t in texts)
    assert any("\n-- \n" in t for t in texts)
    longest = max(texts, key=lambda t: t.count("\n>"))
    assert longest.count("\n>") > 20
    # Reply-all where a new address joins: Mats (IT) was never in the thread before.
    joined = [m for m in messages.values() if "mats.lund@" in str(m["Cc"] or "")]
    assert joined


def test_contacts_file_imports_to_the_twelve_contacts(
    demo: DemoData, messages: dict[Path, EmailMessage]
) -> None:
    batch = parse_contacts_file(demo.contacts_file)
    assert batch.errors == [] and batch.skipped == 0
    assert len(batch.contacts) == 12
    assert len({c.company for c in batch.contacts}) == 5
    by_name = {c.name: c for c in batch.contacts}
    assert by_name["Lukas Weber"].emails == (
        "l.weber@brandt-logistik.example",
        "lukas.weber@brandt-logistik.example",
    )
    assert by_name["Anna Bergström"].company == "Fjällström Byggsystem AB"
    senders = {getaddresses([str(m["From"])])[0][1].lower() for m in messages.values()}
    silent = [c.name for c in batch.contacts if not set(c.emails) & senders]
    assert sorted(silent) == ["Sofia Åkesson", "Tom Whitaker"]
    assert not any("nordvik-sales.example" in e for c in batch.contacts for e in c.emails)


def test_deterministic_for_a_fixed_now(tmp_path: Path, demo: DemoData) -> None:
    again = build_demo(tmp_path, NOW)
    first = {p.relative_to(demo.maildir): p.read_bytes() for p in _files(demo.maildir)}
    second = {p.relative_to(again.maildir): p.read_bytes() for p in _files(again.maildir)}
    assert first == second
    assert demo.contacts_file.read_bytes() == again.contacts_file.read_bytes()
    assert again.expected == demo.expected


def test_refuses_a_non_empty_maildir(tmp_path: Path) -> None:
    (tmp_path / "Maildir").mkdir()
    (tmp_path / "Maildir" / "keep-me").write_text("user data")
    with pytest.raises(FileExistsError):
        build_demo(tmp_path, NOW)
    assert (tmp_path / "Maildir" / "keep-me").read_text() == "user data"


def test_naive_now_is_taken_as_utc(tmp_path: Path, demo: DemoData) -> None:
    naive = build_demo(tmp_path, NOW.replace(tzinfo=None))
    assert naive.expected == demo.expected
