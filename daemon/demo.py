"""`build_demo`: writes a realistic demo mailbox and contacts file for trying loggbok.

Owns the on-disk layout: a Maildir++ tree as mbsync keeps it (`Maildir/{cur,new,tmp}`
for INBOX, `Maildir/.Sent/...` for sent mail) and a vCard 3.0 `contacts.vcf` with the
demo's twelve contacts. The stories are in `demo_stories`, message construction in
`demo_mail`. Output is deterministic for a given `now`.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from loggbok.daemon.demo_content import (
    BCC_ADDRESS,
    CONTACTS,
    HOST,
    LUKAS,
    LUKAS_ALIAS,
    MAJA,
    Person,
)
from loggbok.daemon.demo_mail import WRITE_POLICY, BuiltMail, build_mails
from loggbok.daemon.demo_stories import STORIES

SEED = 7709
UNREAD = 2
"""The newest inbound messages left unseen in INBOX/new."""


@dataclass(frozen=True, slots=True)
class DemoData:
    maildir: Path
    address: str
    """The user's address: "maja@nordvik-sales.example"."""
    bcc_address: str
    contacts_file: Path
    own_addresses: list[str]
    expected: dict[str, str] = field(default_factory=dict)
    """Message-ID -> the reason code expected in replies_only mode, contacts imported first."""


def build_demo(root: Path, now: datetime | None = None) -> DemoData:
    """Write `root/Maildir` and `root/contacts.vcf`; refuses a non-empty existing Maildir."""
    moment = now or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    maildir = root / "Maildir"
    if maildir.exists() and any(maildir.iterdir()):
        raise FileExistsError(f"{maildir} exists and is not empty; the demo needs a fresh folder")
    mails = build_mails(STORIES, moment, random.Random(SEED))
    _write_maildir(maildir, mails)
    contacts_file = root / "contacts.vcf"
    contacts_file.write_bytes(contacts_vcard().encode("utf-8"))
    return DemoData(
        maildir=maildir,
        address=MAJA.email,
        bcc_address=BCC_ADDRESS,
        contacts_file=contacts_file,
        own_addresses=[MAJA.email],
        expected={m.message_id: m.spec.expected for m in mails},
    )


def _write_maildir(maildir: Path, mails: list[BuiltMail]) -> None:
    inbox = maildir
    sent = maildir / ".Sent"
    for folder in (inbox, sent):
        for sub in ("cur", "new", "tmp"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
    (sent / "maildirfolder").touch()
    replied = {m.spec.parent for m in mails if m.spec.sender is MAJA and m.spec.parent}
    inbound = sorted((m for m in mails if m.spec.sender is not MAJA), key=lambda m: m.date)
    unread = {m.spec.key for m in inbound[-UNREAD:]}
    for sequence, mail in enumerate(sorted(mails, key=lambda m: m.date), start=1):
        folder = sent if mail.spec.sender is MAJA else inbox
        stamp = int(mail.date.timestamp())
        unique = f"M{(sequence * 7919) % 1_000_000:06d}P4242Q{sequence}"
        base = f"{stamp}.{unique}.{HOST}"
        if mail.spec.key in unread:
            target = folder / "new" / base
        else:
            flags = "RS" if mail.spec.key in replied else "S"
            target = folder / "cur" / f"{base}:2,{flags}"
        # Maildir delivery: write in tmp/, then rename into place.
        staging = folder / "tmp" / base
        staging.write_bytes(mail.message.as_bytes(policy=WRITE_POLICY))
        os.utime(staging, (stamp, stamp))
        staging.rename(target)


def _vcard_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")


def _fold(line: str) -> str:
    """vCard 3.0 folding: at most 75 octets a line, continued after CRLF + space."""
    out: list[str] = []
    current = ""
    for ch in line:
        if len((current + ch).encode()) > 75:
            out.append(current)
            current = " "
        current += ch
    out.append(current)
    return "\r\n".join(out)


def _card(person: Person, index: int) -> list[str]:
    given, _, family = person.name.rpartition(" ")
    lines = [
        "BEGIN:VCARD",
        "VERSION:3.0",
        "PRODID:-//Apple Inc.//macOS 14.5//EN",
        f"N:{_vcard_text(family)};{_vcard_text(given)};;;",
        f"FN:{_vcard_text(person.name)}",
        f"ORG:{_vcard_text(person.company or '')};",
        f"TITLE:{_vcard_text(person.title)}",
    ]
    if index % 3 == 0:
        # Apple Contacts writes grouped properties with a custom label.
        lines += [f"item1.EMAIL;type=INTERNET;type=pref:{person.email}", "item1.X-ABLabel:Work"]
    else:
        lines.append(f"EMAIL;TYPE=INTERNET,WORK,pref:{person.email}")
    if person is LUKAS:
        lines.append(f"EMAIL;TYPE=INTERNET,WORK:{LUKAS_ALIAS}")
    if person.contact and person.title:
        note = (
            f"{person.title} at {person.company}. Imported for the loggbok demo; "
            "this long note is folded over several lines, as exports do."
        )
        lines.append(f"NOTE:{_vcard_text(note)}")
    lines += [f"UID:demo-{index:02d}-{person.email.partition('@')[0]}", "END:VCARD"]
    return lines


def contacts_vcard() -> str:
    """The demo's contacts as one vCard 3.0 file (CRLF, folded lines)."""
    lines = [line for index, person in enumerate(CONTACTS) for line in _card(person, index)]
    return "".join(_fold(line) + "\r\n" for line in lines)
