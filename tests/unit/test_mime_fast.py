"""The fast paths (`fastmime`, `toppost`, the marker pre-check) give what the slow paths give."""

from __future__ import annotations

import base64
import random
import re
import sys
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from pathlib import Path

import pytest
from email_reply_extractor import extract_new_text

from bench.imap_corpus import build_corpus
from loggbok.daemon.mime.body import parse_message
from loggbok.daemon.mime.fastmime import fast_collect
from loggbok.daemon.mime.parts import Collected, walk
from loggbok.daemon.mime.quotes import _QUOTE_MARKERS, has_quote_marker, new_text
from loggbok.daemon.mime.toppost import top_posted_new_text
from loggbok.daemon.store.blobs import BlobStore
from loggbok.daemon.sync.bodies import build_body

MALFORMED = Path(__file__).resolve().parent.parent / "data" / "malformed"
MALFORMED_FILES = sorted(p for p in MALFORMED.iterdir() if p.suffix in (".eml", ".txt"))
HEAD = b"From: Anna <anna@x.se>\r\nTo: bo@y.se\r\nSubject: t\r\nMessage-ID: <t@x>\r\n"


def _stdlib(raw: bytes) -> tuple[Collected, list[str], Message]:
    message = BytesParser(policy=compat32).parsebytes(raw)
    found = Collected()
    errors: list[str] = []
    walk(message, 0, found, errors)
    return found, errors, message


def _defects(message: Message) -> list[object]:
    return [d for part in message.walk() for d in part.defects]


def _assert_same_collect(raw: bytes) -> bool:
    """Whether the fast walk accepted `raw`; when it did, it found what the stdlib found."""
    errors: list[str] = []
    fast = fast_collect(raw, errors)
    slow, slow_errors, message = _stdlib(raw)
    if fast is None:
        assert errors == []
        return False
    assert not _defects(message), "the fast walk must decline where the stdlib notes a defect"
    assert fast.plain == slow.plain
    assert fast.plain_charsets == slow.plain_charsets
    assert fast.html == slow.html
    assert fast.html_charsets == slow.html_charsets
    assert fast.attachments == slow.attachments
    assert errors == slow_errors
    return True


def _assert_same_message(raw: bytes) -> None:
    slow = parse_message(raw, fast=False)
    fast = parse_message(raw)
    for name in ("body_text", "new_text", "snippet", "attachments", "body_size", "errors"):
        assert getattr(fast, name) == getattr(slow, name), name


@pytest.fixture(scope="module")
def corpus() -> list[bytes]:
    built = build_corpus(1500)
    return list(built.inbox) + list(built.sent)


@pytest.mark.timeout(300)
def test_corpus_fast_equals_stdlib(corpus: list[bytes]) -> None:
    accepted = sum(_assert_same_collect(raw) for raw in corpus)
    for raw in corpus:
        _assert_same_message(raw)
    assert accepted >= 0.95 * len(corpus)


@pytest.mark.timeout(300)
def test_corpus_top_posted_shortcut_applies_and_agrees(corpus: list[bytes]) -> None:
    applied = 0
    for raw in corpus:
        body = parse_message(raw, fast=False).body_text
        top = top_posted_new_text(body)
        if top is not None:
            applied += 1
            assert top == extract_new_text(body).text
    assert applied >= 0.4 * len(corpus)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("path", MALFORMED_FILES, ids=lambda p: p.name)
def test_malformed_corpus_declines_or_agrees(path: Path) -> None:
    raw = path.read_bytes()
    _assert_same_collect(raw)
    _assert_same_message(raw)


def test_malformed_structure_is_declined() -> None:
    for name in ("02_broken_boundary.eml", "03_missing_end_boundary.eml", "14_deep_nesting.eml"):
        assert fast_collect((MALFORMED / name).read_bytes(), []) is None, name


# Hand-written messages ----------------------------------------------------------------


def _mixed(boundary: str, *parts: bytes, preamble: bytes = b"") -> bytes:
    sep = b"--" + boundary.encode()
    body = b"".join(sep + b"\r\n" + part + b"\r\n" for part in parts)
    head = f'Content-Type: multipart/mixed;\r\n\tboundary="{boundary}"\r\n\r\n'.encode()
    return HEAD + b"MIME-Version: 1.0\r\n" + head + preamble + body + sep + b"--\r\n"


PLAIN = (
    b"Content-Type: text/plain; charset=utf-8\r\n\r\nHej Bo,\r\n\r\nh\xc3\xa4r \xc3\xa4r den.\r\n"
)
HTML = b"Content-Type: text/html; charset=utf-8\r\n\r\n<p>Hej Bo,</p><p>h\xc3\xa4r</p>\r\n"


def _alternative(boundary: str) -> bytes:
    return (
        f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'.encode()
        + f"--{boundary}\r\n".encode()
        + PLAIN
        + f"\r\n--{boundary}\r\n".encode()
        + HTML
        + f"\r\n--{boundary}--\r\n".encode()
    )


def test_base64_attachment() -> None:
    data = bytes(range(256)) * 40
    encoded = base64.encodebytes(data).replace(b"\n", b"\r\n")
    raw = _mixed(
        "mix",
        PLAIN,
        b'Content-Type: application/pdf; name="Offert 1.pdf"\r\n'
        b'Content-Disposition: attachment; filename="Offert 1.pdf"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + encoded,
        preamble=b"This is a multi-part message in MIME format.\r\n\r\n",
    )
    assert _assert_same_collect(raw)
    _assert_same_message(raw)
    message = parse_message(raw)
    assert message.attachments[0].filename == "Offert 1.pdf"
    assert message.attachments[0].payload == data


def test_quoted_printable_text() -> None:
    raw = (
        HEAD + b"Content-Type: text/plain; charset=iso-8859-1\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        b"H=E4r =E4r en l=E5ng rad som bryts h=\r\nar.\r\n"
    )
    assert _assert_same_collect(raw)
    _assert_same_message(raw)
    assert parse_message(raw).body_text == "Här är en lång rad som bryts har.\n"


def test_alternative_with_html() -> None:
    raw = HEAD + b"MIME-Version: 1.0\r\n" + _alternative("alt")
    assert _assert_same_collect(raw)
    _assert_same_message(raw)


def test_nested_mixed_alternative_with_unnamed_attachment() -> None:
    inner = _alternative("=_alt_01")
    raw = _mixed(
        "=_mix_01",
        inner,
        b"Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=",
        b"Content-Type: text/plain; name==?utf-8?q?=C3=A5=C3=A4=C3=B6.txt?=\r\n\r\nbilaga",
    )
    assert _assert_same_collect(raw)
    _assert_same_message(raw)
    names = [a.filename for a in parse_message(raw).attachments]
    assert names == ["part-1.png", "åäö.txt"]


def test_missing_close_boundary_declines() -> None:
    raw = HEAD + b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n' + PLAIN
    assert fast_collect(raw, []) is None
    _assert_same_message(raw)


@pytest.mark.parametrize(
    "raw",
    [
        HEAD + b"Content-Type: multipart/mixed\r\n\r\nno boundary\r\n",
        HEAD + b"Content-Type: text/plain; name*=utf-8''%C3%A5.txt\r\n\r\nx\r\n",
        HEAD + b"Content-Type: text/plain\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nx\r\n",
        HEAD + b"Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nx\r\n",
        HEAD + b"Content-Type: text/plain\r\nContent-Type: text/html\r\n\r\nx\r\n",
        HEAD + b"Content-Type: text/plain\rX: y\r\n\r\nx\r\n",
        HEAD + b"Content-Type: text/plain\r\n\r\nold mac\rline ends\r\n",
        HEAD + b"Content-Type: text/plain\r\n\r\nends in a bare CR\r",
        HEAD + b"Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\nQUJD!\r\n",
        HEAD + b"no separator line\r\n",
    ],
)
def test_unusual_input_declines_and_parses_the_same(raw: bytes) -> None:
    assert fast_collect(raw, []) is None
    _assert_same_message(raw)


# New text -------------------------------------------------------------------------------


TOP_POSTED = (
    "Hej Bo,\n\nTack, vi kör på torsdag.\n\nMed vänliga hälsningar\nAnna\n\n"
    "Den 3 mars 2024 kl. 10:12 skrev Bo Ek <bo@corp.example>:\n"
    "> Här är offerten.\n>\n> Bo\n"
)
ENGLISH = (
    "Sounds good, see you Thursday.\n\nBest regards,\nAnna\n\n"
    "On Mon, 4 Mar 2024 at 10:12, Bo Ek <bo@corp.example> wrote:\n"
    "> Here is the quote.\n>\n> On Sun, 3 Mar 2024, Anna wrote:\n>> Can you send it?\n"
)
INTERLEAVED = (
    "Hi Bo,\n\nOn Mon, Bo Ek wrote:\n> Can you do Thursday?\n\nYes, Thursday works.\n\n"
    "> And the price?\n\nThe price is fine.\n\nAnna\n"
)


@pytest.mark.parametrize("body", [TOP_POSTED, ENGLISH])
def test_top_posted_reply_takes_the_shortcut(body: str) -> None:
    top = top_posted_new_text(body)
    assert top is not None
    assert top == extract_new_text(body).text
    assert new_text(body, None, []) == new_text(body, None, [], fast=False)


def test_interleaved_reply_does_not() -> None:
    assert top_posted_new_text(INTERLEAVED) is None
    assert new_text(INTERLEAVED, None, []) == new_text(INTERLEAVED, None, [], fast=False)
    assert "Thursday works" in new_text(INTERLEAVED, None, [])


@pytest.mark.parametrize(
    "body",
    [
        "Text\n-----Original Message-----\nFrom: x\n> q\n",  # a divider above the quotes
        "Text\nFrom: Bo <bo@x>\nSent: today\n> q\n",  # an Outlook header block
        "On Monday we start.\nBo wrote:\n> q\n",  # an attribution start in the text
        "Text \\d\nOn Mon,\nBo wrote:\n> q\n",  # a wrapped attribution reaching the quotes
        "> q\nText below\n",  # bottom-posted
    ],
)
def test_shortcut_declines_unusual_shapes(body: str) -> None:
    assert top_posted_new_text(body) is None
    assert new_text(body, None, []) == new_text(body, None, [], fast=False)


def test_marker_precheck_covers_every_case_folded_character() -> None:
    """Every character `_QUOTE_MARKERS` could match in a marker, beyond the plain
    ASCII letters of the letters-only words, is one the pre-check looks for."""
    letters = re.compile("[scrisehfkjot]", re.IGNORECASE)
    odd = {chr(c) for c in range(128, sys.maxunicode + 1) if letters.match(chr(c))}
    assert odd == {"\u0130", "\u0131", "\u017f", "\u212a"}
    for sample in ("Scrisse", "SCHREEF", "Kirjoitti", "\u017fkrev:", "a \u00c9crit", "x\n> q",
                   "----- message", "__________", "plain words only", "ſcriſſe"):  # fmt: skip
        assert has_quote_marker(sample) == bool(_QUOTE_MARKERS.search(sample)), sample


MUTATIONS = [
    b"\r\n", b"\n", b"\r", b"--", b'Content-Type: multipart/mixed; boundary="x"\r\n', b"=?utf-8?b?",
    b"?=", b"=\r\n", b"Content-Transfer-Encoding: base64\r\n", b'charset="x-unknown"', b"\x00",
    b"\xff\xfe", b":", b";", b'"', b"<", b"@", b"\t", b"text/html", b"message/rfc822", b"--x\r\n",
    b"--x--\r\n", b"Content-Disposition: attachment; filename*=utf-8''%ff%fe\r\n",
]  # fmt: skip


@pytest.mark.timeout(300)
def test_mutated_corpus_parses_the_same_both_ways(corpus: list[bytes], tmp_path: Path) -> None:
    """Seeded mutations of corpus mail (cut bytes, stray boundaries, broken encodings):
    both walks agree or the fast one declines, and nothing raises."""
    rng = random.Random(20261201)
    small = [raw for raw in corpus if len(raw) < 60_000]
    with BlobStore(tmp_path).batch() as blobs:
        for _ in range(600):
            data = bytearray(rng.choice(small))
            for _ in range(rng.randint(1, 12)):
                at = rng.randrange(len(data) + 1)
                roll = rng.random()
                if roll < 0.3:
                    del data[at : at + rng.randint(1, 200)]
                elif roll < 0.8:
                    data[at:at] = rng.choice(MUTATIONS)
                else:
                    data[at:at] = rng.randbytes(rng.randint(1, 8))
            raw = bytes(data)
            _assert_same_collect(raw)
            _assert_same_message(raw)
            build_body(raw, blobs, 50 << 20, 2 << 20)
