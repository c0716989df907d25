"""Header-first IMAP sync rate against a real Dovecot, next to mbsync, in one run.

Seeds one INBOX with N realistic messages (threads of replies, quoted text,
some attachments), then times, on the same server:

  * loggbok's ImapBackend: connect, LIST, changes, fetch_headers in the
    engine's chunks of 500 (with and without PREVIEW);
  * plain imaplib: one `UID FETCH 1:*` of the same fields, imaplib's parsing;
  * mbsync (Debian's isync) copying the whole mailbox to a fresh Maildir.

    .venv/bin/python -m bench.imap_headers [--messages 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import imaplib
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from loggbok.daemon.sync.providers.imap import ImapBackend
from loggbok.daemon.sync.providers.imap.backend import HEADER_FIELDS
from tests.servers.dovecot import DovecotServer, DovecotUser

WORDS = [
    "offert",
    "avtal",
    "leverans",
    "faktura",
    "möte",
    "pris",
    "licens",
    "support",
    "kund",
    "projekt",
    "vecka",
    "proposal",
    "contract",
    "delivery",
    "invoice",
    "meeting",
    "price",
    "renewal",
    "quote",
    "order",
    "team",
]


def realistic(n: int, rng: random.Random) -> bytes:
    """A message in a thread of up to 6, some with a base64 attachment."""
    thread, depth = divmod(n, 6)
    customer = f"kund{thread % 700}@firma{thread % 90}.se"
    me = "saljare@loggbok.example"
    sender, to = (customer, me) if depth % 2 else (me, customer)
    subject = f"{'Re: ' * min(depth, 1)}Offert {thread}: {' '.join(rng.sample(WORDS, 3))}"
    msgid = f"<{n}.{thread}@bench.loggbok>"
    refs = " ".join(f"<{thread * 6 + d}.{thread}@bench.loggbok>" for d in range(depth))
    text = "\r\n".join(" ".join(rng.choices(WORDS, k=12)) for _ in range(rng.randint(3, 30)))
    quoted = "\r\n".join("> " + " ".join(rng.choices(WORDS, k=10)) for _ in range(depth * 8))
    headers = [
        f"Message-ID: {msgid}",
        f"From: Person {thread} <{sender}>",
        f"To: <{to}>",
        f"Subject: {subject}",
        f"Date: Mon, {1 + n % 28:02d} Jun 2025 {n % 24:02d}:{n % 60:02d}:00 +0200",
        "MIME-Version: 1.0",
        f"Received: from mx{n % 7}.example by mail.loggbok.example; Mon, 2 Jun 2025",
        "X-Mailer: Bench 1.0",
    ]
    if depth:
        headers += [f"In-Reply-To: <{n - 1}.{thread}@bench.loggbok>", f"References: {refs}"]
    body = f"{text}\r\n\r\n{quoted}\r\n"
    if n % 10 == 3:
        blob = rng.randbytes(rng.randint(20_000, 200_000))
        import base64

        encoded = base64.encodebytes(blob).decode().replace("\n", "\r\n")
        headers.append('Content-Type: multipart/mixed; boundary="b1"')
        body = (
            "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            f"{body}\r\n--b1\r\nContent-Type: application/pdf\r\n"
            'Content-Disposition: attachment; filename="offert.pdf"\r\n'
            f"Content-Transfer-Encoding: base64\r\n\r\n{encoded}\r\n--b1--\r\n"
        )
    else:
        headers.append("Content-Type: text/plain; charset=utf-8")
    return ("\r\n".join(headers) + "\r\n\r\n" + body).encode()


async def loggbok_headers(server: DovecotServer, user: DovecotUser, preview: bool) -> float:
    start = time.perf_counter()
    backend = ImapBackend(
        server.host, server.port, "none", user.name, user.password, fetch_preview=preview
    )
    try:
        await backend.connect()
        folders = await backend.folders()
        inbox = next(f for f in folders if f.role == "inbox")
        changes = await backend.changes(inbox, None)
        count = 0
        for i in range(0, len(changes.new), 500):
            count += len(await backend.fetch_headers(inbox, changes.new[i : i + 500]))
    finally:
        await backend.close()
    assert count == len(changes.new), (count, len(changes.new))
    return time.perf_counter() - start


def imaplib_headers(server: DovecotServer, user: DovecotUser) -> float:
    start = time.perf_counter()
    imap = imaplib.IMAP4(server.host, server.port)
    imap.login(user.name, user.password)
    imap.select("INBOX", readonly=True)
    typ, data = imap.uid(
        "FETCH", "1:*", f"(UID FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS ({HEADER_FIELDS})])"
    )
    imap.logout()
    assert typ == "OK" and data
    return time.perf_counter() - start


def mbsync_copy(server: DovecotServer, user: DovecotUser, workdir: Path) -> float | None:
    binary = shutil.which("mbsync")
    if binary is None:
        return None
    target = workdir / "mbsync-maildir"
    target.mkdir()
    config = workdir / "mbsyncrc"
    config.write_text(
        f"IMAPAccount bench\nHost {server.host}\nPort {server.port}\nUser {user.name}\n"
        f"Pass {user.password}\nSSLType None\nAuthMechs LOGIN\n\n"
        "IMAPStore remote\nAccount bench\n\n"
        f"MaildirStore local\nPath {target}/\nInbox {target}/INBOX\n\n"
        "Channel bench\nFar :remote:\nNear :local:\nPatterns INBOX\nCreate Near\n"
        f"SyncState *\nSync Pull\n"
    )
    start = time.perf_counter()
    subprocess.run(
        [binary, "-q", "-c", str(config), "bench"], check=True, stderr=subprocess.DEVNULL
    )
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    args = parser.parse_args(argv)
    rng = random.Random(7)
    with DovecotServer() as server, tempfile.TemporaryDirectory() as tmp:
        user = server.add_user("bench", "bench-secret")
        t = time.perf_counter()
        server.seed_maildir(user, "INBOX", (realistic(n, rng) for n in range(args.messages)))
        seeded = time.perf_counter() - t
        size = sum(p.stat().st_size for p in server.maildir_path(user, "INBOX").glob("cur/*"))
        print(f"seeded {args.messages} messages ({size / 1e6:.0f} MB) in {seeded:.1f} s")
        n = args.messages
        # The first fetch makes Dovecot build its cache of these header fields; report it
        # apart, then compare warm runs (best of three) on equal terms.
        cold = asyncio.run(loggbok_headers(server, user, False))
        print(
            f"{'loggbok headers, first run (cold cache)':42s} {cold:6.2f} s  {n / cold:9,.0f} msg/s"
        )
        runs: dict[str, Callable[[], float]] = {
            "loggbok headers (connect..all headers)": lambda: asyncio.run(
                loggbok_headers(server, user, False)
            ),
            "loggbok headers + PREVIEW": lambda: asyncio.run(loggbok_headers(server, user, True)),
            "imaplib, one UID FETCH 1:*": lambda: imaplib_headers(server, user),
        }
        for label, run in runs.items():
            seconds = min(run() for _ in range(3))
            print(f"{label:42s} {seconds:6.2f} s  {n / seconds:9,.0f} msg/s")
        copied = mbsync_copy(server, user, Path(tmp))
        if copied is None:
            print("mbsync not installed (Debian package isync): no comparison")
        else:
            print(f"{'mbsync, full copy':42s} {copied:6.2f} s  {n / copied:9,.0f} msg/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
