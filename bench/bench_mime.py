"""Parse rates of loggbok's MIME layer next to the stdlib, measured in the same run.

    .venv/bin/python bench/bench_mime.py [--seconds 2]

Prints messages/s for `parse_headers` and `parse_message` (with its fast paths
and without them, `fast=False`) on the malformed
corpus (tests/data/malformed) and on a synthetic set of realistic business
mail, next to `email.message_from_bytes(policy=default)`: parse only, and
parse plus reading the headers the rules need.
"""

from __future__ import annotations

import argparse
import base64
import email
import email.parser
import email.policy
import random
import time
import warnings
from collections.abc import Callable
from pathlib import Path

from loggbok.daemon.mime.body import parse_message
from loggbok.daemon.mime.headers import parse_headers, split_header_block

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "malformed"

_RECEIVED = (
    "Received: from mx{n}.example.se (mx{n}.example.se [192.0.2.{n}])\n"
    "\tby mail.corp.example (Postfix) with ESMTPS id 4Tq1x{n:05d}\n"
    "\tfor <bo@corp.example>; Mon,  4 Mar 2024 10:12:03 +0100 (CET)\n"
)


def _message(i: int, rng: random.Random) -> bytes:
    subject = rng.choice(["Offert Q3", "Avtal", "Möte på torsdag", "Pricing", "Renewal 2025"])
    prefix = rng.choice(["", "Re: ", "SV: ", "AW: ", "RE: RE: ", "Fwd: "])
    head = "".join(_RECEIVED.format(n=n) for n in range(rng.randint(2, 5)))
    head += (
        "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.se; s=s1;\n"
        " h=from:to:subject:date:message-id; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\n"
        " b=dzdVyOfAKCdLXdJOc9G2q8LoXSlEfmLe7MOtHPHkRg0Mx2MzNnTh6EGL5nTc3Lr9Y3n5W8pfL1m7q\n"
        f"From: =?utf-8?Q?Anna_Bj=C3=B6rk?= <anna{i % 50}@example.se>\n"
        f'To: Bo Ek <bo@corp.example>, "Lind, Carl" <carl{i % 7}@corp.example>\n'
        "Cc: sales@corp.example\n"
        f"Subject: {prefix}{subject}\n"
        f"Date: Mon, {1 + i % 28} Mar 2024 10:{i % 60:02d}:00 +0100\n"
        f"Message-ID: <CAF{i:08d}.abcdef@mail.example.se>\n"
        f"In-Reply-To: <parent{i}@corp.example>\n"
        f"References: <root{i}@corp.example>\n <parent{i}@corp.example>\n"
        "Thread-Index: AQHaXyz1234567890abcdef==\nMIME-Version: 1.0\n"
    )
    text = (
        "Hej Bo,\n\nTack för offerten, vi återkommer på torsdag.\n\n"
        "Med vänliga hälsningar\nAnna Björk\n\n"
        "Den 3 mars 2024 kl. 10:12 skrev Bo Ek <bo@corp.example>:\n"
        + "> Här är offerten för Q3 som vi pratade om.\n"
        * rng.randint(3, 30)
    )
    kind = i % 3
    if kind == 0:
        return (head + "Content-Type: text/plain; charset=utf-8\n\n" + text).encode()
    html = "<html><body>" + "".join(f"<p>{line}</p>" for line in text.split("\n")) + "</body>"
    alternative = (
        "--alt\nContent-Type: text/plain; charset=utf-8\n\n" + text + "\n"
        "--alt\nContent-Type: text/html; charset=utf-8\n\n" + html + "\n--alt--\n"
    )
    if kind == 1:
        return (
            head + 'Content-Type: multipart/alternative; boundary="alt"\n\n' + alternative
        ).encode()
    pdf = base64.encodebytes(rng.randbytes(rng.randint(10_000, 200_000))).decode()
    return (
        head + 'Content-Type: multipart/mixed; boundary="mix"\n\n'
        '--mix\nContent-Type: multipart/alternative; boundary="alt"\n\n'
        + alternative
        + '--mix\nContent-Type: application/pdf; name="offert.pdf"\n'
        "Content-Transfer-Encoding: base64\n"
        'Content-Disposition: attachment; filename="offert.pdf"\n\n' + pdf + "--mix--\n"
    ).encode()


def _parse_slow(raw: bytes) -> object:
    return parse_message(raw, fast=False)


def _stdlib_parse(raw: bytes) -> object:
    return email.message_from_bytes(raw, policy=email.policy.default)


def _stdlib_parse_and_read(raw: bytes) -> object:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    for name in ("from", "to", "cc", "subject", "date", "message-id", "in-reply-to",
                 "references", "content-type"):  # fmt: skip
        str(message.get(name, ""))
    return message


_COMPAT_HEADERS = email.parser.BytesHeaderParser(policy=email.policy.compat32)


def _stdlib_compat32_headers(raw: bytes) -> object:
    message = _COMPAT_HEADERS.parsebytes(raw)
    for name in ("from", "to", "cc", "subject", "date", "message-id", "in-reply-to",
                 "references", "content-type"):  # fmt: skip
        message.get(name, "")
    return message


def _stdlib_headers_only(raw: bytes) -> object:
    header = split_header_block(raw)[0]
    return _stdlib_parse_and_read(header)


def _rate(fn: Callable[[bytes], object], messages: list[bytes], seconds: float) -> float:
    done = 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        for raw in messages:
            fn(raw)
        done += len(messages)
    return done / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    rng = random.Random(7)
    synthetic = [_message(i, rng) for i in range(300)]
    corpus = [p.read_bytes() for p in sorted(CORPUS.iterdir()) if p.suffix in (".eml", ".txt")]
    corpus = [raw for raw in corpus if len(raw) < 100_000]  # the 1 MB header would dominate
    runs: list[tuple[str, Callable[[bytes], object]]] = [
        ("loggbok parse_headers", parse_headers),
        ("stdlib BytesHeaderParser(compat32), raw fields, undecoded", _stdlib_compat32_headers),
        ("stdlib default policy, header block, fields read", _stdlib_headers_only),
        ("loggbok parse_message", parse_message),
        ("loggbok parse_message(fast=False), stdlib walk + extractor", _parse_slow),
        ("stdlib message_from_bytes(policy=default)", _stdlib_parse),
        ("stdlib message_from_bytes(policy=default) + fields", _stdlib_parse_and_read),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the stdlib's default policy warns on some corpus files
        for label, messages in (("synthetic realistic", synthetic), ("malformed corpus", corpus)):
            print(f"{label} ({len(messages)} messages)")
            for name, fn in runs:
                print(f"  {name:58s} {_rate(fn, messages, args.seconds):9.0f} msg/s")


if __name__ == "__main__":
    main()
