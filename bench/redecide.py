"""`messages.redecide` on a realistic mailbox: contacts imported after the sync.

Builds the deterministic corpus of `bench/imap_corpus.py` into a Maildir named
by delivery time, starts a fresh `loggbokd` (`all_with_contacts`, the corpus's
BCC and own address), syncs with no contacts, imports every correspondent from
a vCard, then times over the socket: the dry run, the apply (new decisions,
timelines, threads and the bodies of the newly logged messages fetched and
parsed), and a second apply (which changes nothing). Never asserts.

    .venv/bin/python -m bench.redecide [--messages 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from bench.imap_corpus import BCC, ME, build_corpus
from bench.imap_sync import vcard
from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from tests.conftest import DaemonProcess
from tests.support.mail import seed_dated_maildir


async def run(messages: int) -> None:
    corpus = build_corpus(messages)
    with tempfile.TemporaryDirectory(prefix="lbr-") as tmp:
        root = Path(tmp)
        maildir = seed_dated_maildir(root / "Maildir", corpus.inbox, corpus.sent)
        (root / "data").mkdir()
        daemon = DaemonProcess(root / "d.sock", root / "data")
        daemon.start()
        try:
            client = await daemon.client()
            await client.call(
                m.SETTINGS_SET,
                t.SettingsSetParams(
                    logging_mode="all_with_contacts", bcc_address=BCC, own_addresses=[ME]
                ),
            )
            added = await client.call(
                m.MAILBOXES_ADD,
                t.MaildirAddParams(path=str(maildir), address=ME),
            )
            start = time.perf_counter()
            await client.call(m.MAILBOXES_SYNC, t.IdParams(id=added.id))
            synced = time.perf_counter() - start
            (root / "people.vcf").write_text(vcard(corpus))
            await client.call(
                m.CONTACTS_IMPORT, t.ContactsImportParams(path=str(root / "people.vcf"))
            )
            timings: dict[str, float] = {"initial sync": synced}
            results: dict[str, t.RedecideResult] = {}
            for name, dry in (("dry run", True), ("apply", False), ("second apply", False)):
                start = time.perf_counter()
                results[name] = await client.call(
                    m.MESSAGES_REDECIDE, t.MessagesRedecideParams(dry_run=dry)
                )
                timings[name] = time.perf_counter() - start
            await client.close()
        finally:
            daemon.stop()
    print(f"{corpus.total} messages")
    for name, seconds in timings.items():
        result = results.get(name)
        extra = (
            f"  examined {result.examined}, changed {result.changed},"
            f" +{result.entries_added} -{result.entries_removed} entries"
            if result
            else ""
        )
        print(f"{name:>14}: {seconds:7.2f} s{extra}")
    for change in results["dry run"].changes:
        print(f"    {change.from_} -> {change.to}: {change.count}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=10_000)
    asyncio.run(run(parser.parse_args().messages))


if __name__ == "__main__":
    main()
