"""`stream.reduce_message`: a large message read line by line, parts over the cap
skipped while they stream; parsing the reduced copy gives what parsing the whole
gives, except that a skipped part keeps only its name, type and size."""

from __future__ import annotations

import base64
import email
import io
import os
from email.message import EmailMessage

import pytest

from loggbok.daemon.mime.body import parse_message
from loggbok.daemon.mime.stream import BLOCK, reduce_message
from tests.support.mail import make_message

CAP = 1_000_000
BODY = 2_097_152


def _compare(raw: bytes) -> tuple[int, dict[str, int]]:
    reduced = reduce_message(io.BytesIO(raw), CAP, BODY)
    whole = parse_message(raw)
    part = parse_message(reduced.raw, skipped=reduced.skipped)
    assert part.body_text == whole.body_text
    assert part.errors == whole.errors
    assert [(a.filename, a.content_type, a.size) for a in part.attachments] == [
        (a.filename, a.content_type, a.size) for a in whole.attachments
    ]
    for kept, original in zip(part.attachments, whole.attachments, strict=True):
        assert kept.skipped == (original.size > CAP)
        assert kept.payload == (b"" if kept.skipped else original.payload)
    return len(reduced.raw), reduced.skipped


@pytest.mark.parametrize("line_end", [b"\n", b"\r\n"])
def test_a_part_over_the_cap_is_skipped_and_the_rest_kept(line_end: bytes) -> None:
    raw = make_message(
        "a@x.se",
        ["b@y.se"],
        "Files",
        "<m@x>",
        body="Hello there\n" * 10,
        attachments=[
            ("big.bin", "application/octet-stream", os.urandom(3 * CAP)),
            ("small.txt", "text/plain", b"tiny"),
            ("doc.pdf", "application/pdf", os.urandom(1000)),
            ("notes.txt", "text/plain", b"x" * (2 * CAP)),
        ],
    ).replace(b"\n", line_end)
    size, skipped = _compare(raw)
    assert size < 10_000
    assert sorted(skipped.values()) == [2 * CAP, 3 * CAP]


def test_a_forwarded_message_over_the_cap_keeps_its_name() -> None:
    inner = make_message(
        "a@x.se", ["b@y.se"], "The original", "<i@x>",
        attachments=[("big.bin", "application/octet-stream", os.urandom(2 * CAP))],
    )  # fmt: skip
    outer = EmailMessage()
    outer["From"] = "c@z.se"
    outer["Subject"] = "Fwd: The original"
    outer.set_content("See below.")
    outer.add_attachment(email.message_from_bytes(inner))
    size, skipped = _compare(outer.as_bytes())
    assert size < 10_000 and len(skipped) == 1


def test_a_top_level_part_and_a_long_text_body() -> None:
    encoded = base64.encodebytes(os.urandom(CAP + 5))
    single = (
        b"From: a@x.se\nSubject: one part\nContent-Type: application/zip\n"
        b"Content-Transfer-Encoding: base64\n\n" + encoded
    )
    assert _compare(single)[0] < 1000
    text = make_message("a@x.se", ["b@y.se"], "Long", "<l@x>", body="A line of text.\n" * 400_000)
    size, skipped = _compare(text)
    assert skipped == {} and BODY < size < BODY + 2 * BLOCK  # cut a read past the limit


def test_a_line_without_an_end_longer_than_a_read() -> None:
    raw = (
        b'From: a@x.se\nContent-Type: multipart/mixed; boundary="b"\n\n--b\n'
        b"Content-Type: text/plain\n\nhi\n--b\nContent-Type: application/octet-stream\n\n"
        + b"z" * (3 * CAP)
        + b"\n--b--\n"
    )
    size, skipped = _compare(raw)
    assert size < 1000 and list(skipped.values()) == [3 * CAP]
