"""Turns the demo's `Mail` specs into real messages: dates, Message-IDs, reply
subjects and quoted history in each sender's mail client's style, transport
headers, attachments and special kinds (HTML-only, calendar, bounce, bulk).

Owns message construction only; `demo` decides where the messages are written.
"""

from __future__ import annotations

import base64
import random
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import default
from email.utils import format_datetime

from loggbok.daemon.demo_content import BCC_ADDRESS, MAJA, OWN, Mail, Person
from loggbok.daemon.demo_parts import (
    make_bounce,
    make_invitation,
    make_pdf,
    make_zip,
    volumes_html,
    volumes_text,
)

ATTACHMENT_ZIP_SIZE = 3 * 1024 * 1024
WRITE_POLICY = default.clone(refold_source="none")
"""Serialise with this: raw (pre-folded) header values are written as they are."""


@dataclass(frozen=True, slots=True)
class BuiltMail:
    spec: Mail
    message: EmailMessage
    message_id: str
    date: datetime
    subject: str
    body: str
    """The plain text as sent, quoted history included (what replies quote)."""
    references: tuple[str, ...]
    thread_index: bytes


def _last_sunday(year: int, month: int) -> date:
    day = date(year, month + 1, 1) - timedelta(days=1)
    return day - timedelta(days=(day.weekday() + 1) % 7)


def _nth_sunday(year: int, month: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(6 - first.weekday()) % 7 + 7 * (n - 1))


def sender_zone(person: Person, day: date) -> timezone:
    """The person's UTC offset on `day`: standard time plus EU or US summer time."""
    if person.tz < 0:
        summer = _nth_sunday(day.year, 3, 2) <= day < _nth_sunday(day.year, 11, 1)
    else:
        summer = _last_sunday(day.year, 3) <= day < _last_sunday(day.year, 10)
    return timezone(timedelta(hours=person.tz + (1 if summer else 0)))


def business_day(today: date, days: int) -> date:
    """The weekday `days` weekdays before `today` (1 = the last weekday before it)."""
    current = today
    left = days
    while left > 0:
        current -= timedelta(days=1)
        if current.weekday() < 5:
            left -= 1
    return current


def build_mails(stories: Iterable[Mail], now: datetime, rng: random.Random) -> list[BuiltMail]:
    """Every story mail as a message, in the order given (parents before replies)."""
    built: dict[str, BuiltMail] = {}
    for spec in stories:
        parent = built[spec.parent] if spec.parent else None
        built[spec.key] = _build(spec, parent, now, rng)
    return list(built.values())


def _build(spec: Mail, parent: BuiltMail | None, now: datetime, rng: random.Random) -> BuiltMail:
    hour, minute = (int(p) for p in spec.at.split(":"))
    day = business_day(now.date(), spec.day)
    zone = sender_zone(spec.sender, day)
    when = datetime.combine(day, time(hour, minute, rng.randrange(60)), tzinfo=zone)
    if parent is not None and when <= parent.date:
        when = parent.date.astimezone(zone) + timedelta(seconds=rng.randrange(3, 40))
    subject = spec.subject or _reply_subject(spec.sender, parent.subject if parent else "")
    body = spec.text
    if spec.kind == "html":
        body += "\n\n" + volumes_text()
    if spec.signed and spec.sender.signature:
        body += "\n\n" + spec.sender.signature
    quoted = ""
    if parent is not None and spec.kind in ("text", "html") and not _automatic(spec):
        quoted = _quote(spec.sender, parent)
    message_id = _message_id(spec.sender, when, rng)
    references: tuple[str, ...] = ()
    if parent is not None and spec.kind != "bounce":
        references = (*parent.references, parent.message_id)[-10:]
    thread_index = _thread_index(spec.sender, parent, rng)

    msg = _content(spec, parent, body, quoted, when, rng)
    for part in msg.walk():
        if part.is_multipart():  # the stdlib draws boundaries from an unseeded random
            part.set_boundary(f"----=_Part_{_hex(rng, 16).lower()}")
    _transport_headers(msg, spec, when, rng)
    msg["From"] = _address(spec.sender)
    msg["To"] = [_address(p) for p in spec.to]
    if spec.cc:
        msg["Cc"] = [_address(p) for p in spec.cc]
    if spec.bcc_log:
        msg["Bcc"] = BCC_ADDRESS
    _put(msg, "Subject", subject)
    msg["Date"] = format_datetime(when)
    _put(msg, "Message-ID", message_id)
    if references and parent is not None:
        # Raw, folded one id a line: the stdlib folder would turn long ids into
        # encoded words, which no threading code would match.
        msg.set_raw("In-Reply-To", parent.message_id)
        msg.set_raw("References", "\n ".join(references))
    for name, value in (*_client_headers(spec, subject, thread_index), *spec.headers):
        _put(msg, name, value)
    _order_headers(msg)
    return BuiltMail(spec, msg, message_id, when, subject, body + quoted, references, thread_index)


def _put(msg: EmailMessage, name: str, value: str) -> None:
    """Set an unstructured header already encoded and folded, as mail clients write it.

    The stdlib folder (3.11) drops the space between two encoded words it splits
    across lines ("för Fjällström" comes back as "förFjällström") and encodes long
    Message-IDs; `email.header.Header` does neither. Written with `WRITE_POLICY`.
    """
    if not value.isascii():
        value = Header(value, "utf-8", header_name=name).encode(linesep="\n")
    msg.set_raw(name, value)


def _address(person: Person) -> Address:
    local, _, domain = person.email.partition("@")
    return Address(person.name, local, domain)


def _automatic(spec: Mail) -> bool:
    return any(name.lower() == "auto-submitted" for name, _ in spec.headers)


# --- subjects and quoting ------------------------------------------------------------------

_OUTLOOK_PREFIX = {"sv": "SV: ", "de": "AW: ", "en": "RE: "}
_ANY_PREFIX = re.compile(r"^(?:\s*(?:re|sv|aw|fw|fwd|vb|wg)\s*:\s*)+", re.IGNORECASE)


def _reply_subject(sender: Person, parent_subject: str) -> str:
    if sender.client == "outlook":
        # Outlook drops the known prefixes and puts its own, in the user's language.
        return _OUTLOOK_PREFIX[sender.lang] + _ANY_PREFIX.sub("", parent_subject)
    if parent_subject.lower().startswith("re:"):
        return parent_subject
    return "Re: " + parent_subject  # Gmail, Apple Mail and Thunderbird stack: "Re: SV: ..."


_MONTHS = {
    "sv": "januari februari mars april maj juni juli augusti september oktober november december",
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
    "en": "January February March April May June July August September October November December",
}
_DAYS = {
    "sv": "måndag tisdag onsdag torsdag fredag lördag söndag",
    "de": "Montag Dienstag Mittwoch Donnerstag Freitag Samstag Sonntag",
    "en": "Monday Tuesday Wednesday Thursday Friday Saturday Sunday",
}


def _long_date(moment: datetime, lang: str) -> str:
    month = _MONTHS[lang].split()[moment.month - 1]
    weekday = _DAYS[lang].split()[moment.weekday()]
    clock = moment.strftime("%H:%M")
    if lang == "sv":
        return f"den {moment.day} {month} {moment.year} {clock}"
    if lang == "de":
        return f"{weekday}, {moment.day}. {month} {moment.year} {clock}"
    return f"{weekday}, {moment.day} {month} {moment.year} {clock}"


def _names(people: Iterable[Person]) -> str:
    return "; ".join(f"{p.name} <{p.email}>" for p in people)


def _quote(sender: Person, parent: BuiltMail) -> str:
    seen = parent.date.astimezone(sender_zone(sender, parent.date.date()))
    p = parent.spec
    if sender.client == "outlook":
        labels = {
            "sv": ("Från", "Skickat", "Till", "Kopia", "Ämne"),
            "de": ("Von", "Gesendet", "An", "Cc", "Betreff"),
            "en": ("From", "Sent", "To", "Cc", "Subject"),
        }[sender.lang]
        lines = [
            f"{labels[0]}: {p.sender.name} <{p.sender.email}>",
            f"{labels[1]}: {_long_date(seen, sender.lang)}",
            f"{labels[2]}: {_names(p.to)}",
        ]
        if p.cc:
            lines.append(f"{labels[3]}: {_names(p.cc)}")
        lines.append(f"{labels[4]}: {parent.subject}")
        return "\n\n________________________________\n" + "\n".join(lines) + "\n\n" + parent.body
    clock = seen.strftime("%H:%M")
    if sender.client == "thunderbird":
        head = f"Den {seen:%Y-%m-%d} kl. {clock}, skrev {p.sender.name}:"
    elif sender.lang == "de":
        head = f"Am {seen:%d.%m.%Y} um {clock} schrieb {p.sender.name} <{p.sender.email}>:"
    else:
        short = _DAYS["en"].split()[seen.weekday()][:3]
        who = f"{p.sender.name} <{p.sender.email}>"
        head = f"On {short}, {seen.day} {seen:%b %Y} at {clock}, {who} wrote:"
    body = "\n".join(">" + (" " + line if line and not line.startswith(">") else line)
                     for line in parent.body.split("\n"))  # fmt: skip
    return f"\n\n{head}\n{body}"


# --- identifiers and headers -------------------------------------------------------------


def _hex(rng: random.Random, digits: int) -> str:
    return f"{rng.getrandbits(digits * 4):0{digits}X}"


def _message_id(sender: Person, when: datetime, rng: random.Random) -> str:
    domain = sender.email.partition("@")[2]
    if sender.client == "outlook" and domain != OWN:
        pod = rng.choice(("DB9", "AM6", "VI1", "GV0"))
        server = f"{pod}PR0{rng.randrange(1, 9)}MB{rng.randrange(1000, 9999)}"
        return f"<{server}{_hex(rng, 32)}@{server}.eurprd0{rng.randrange(1, 9)}.prod.outlook.com>"
    if sender.client == "gmail":
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-+"
        return "<CA" + "".join(rng.choice(alphabet) for _ in range(48)) + "@mail.gmail.com>"
    ident = uuid.UUID(int=rng.getrandbits(128), version=4)
    if sender.client == "apple":
        return f"<{str(ident).upper()}@{domain}>"
    if sender.client in ("bulk", "system"):
        return f"<{when:%Y%m%d%H%M%S}.{_hex(rng, 12).lower()}@{domain}>"
    return f"<{ident}@{domain}>"


def _thread_index(sender: Person, parent: BuiltMail | None, rng: random.Random) -> bytes:
    if sender.client != "outlook":
        return b""
    if parent is not None and parent.thread_index:
        return parent.thread_index + rng.randbytes(5)
    return rng.randbytes(22)


def _client_headers(spec: Mail, subject: str, index: bytes) -> list[tuple[str, str]]:
    client = spec.sender.client
    if client == "thunderbird":
        return [("User-Agent", "Mozilla Thunderbird 115.12.2"), ("Content-Language", "sv-SE")]
    if client == "apple":
        return [("X-Mailer", "Apple Mail (2.3774.600.62)")]
    if client == "outlook":
        topic = _ANY_PREFIX.sub("", subject)
        lang = {"sv": "sv-SE", "de": "de-DE", "en": "en-GB"}[spec.sender.lang]
        return [
            ("Thread-Topic", topic),
            ("Thread-Index", base64.b64encode(index).decode("ascii")),
            ("Content-Language", lang),
            ("X-MS-Has-Attach", "yes" if spec.attachments else ""),
        ]
    return []


def _transport_headers(msg: EmailMessage, spec: Mail, when: datetime, rng: random.Random) -> None:
    """What delivery adds to inbound mail; the user's own sent copies have none."""
    if spec.sender is MAJA:
        return
    arrived = when + timedelta(seconds=rng.randrange(1, 20))
    sender_domain = spec.sender.email.partition("@")[2].lower()
    msg["Return-Path"] = "<>" if spec.kind == "bounce" else f"<{spec.sender.email}>"
    msg["Delivered-To"] = MAJA.email
    if spec.kind == "bounce":
        msg["Received"] = f"by mx1.{OWN} (Postfix) id {_hex(rng, 10)}; {format_datetime(arrived)}"
        return
    msg["Received"] = (
        f"from mail.{sender_domain} (mail.{sender_domain} [192.0.2.{rng.randrange(2, 250)}]) "
        f"by mx1.{OWN} (Postfix) with ESMTPS id {_hex(rng, 10)} for <{MAJA.email}>; "
        f"{format_datetime(arrived.astimezone(sender_zone(MAJA, arrived.date())))}"
    )


_FIRST = ("Return-Path", "Delivered-To", "Received")


def _order_headers(msg: EmailMessage) -> None:
    """Transport headers first, as delivery prepends them; MIME headers last."""
    items = list(msg.raw_items())
    for name in {n for n, _ in items}:
        del msg[name]
    first = [(n, v) for n, v in items if n in _FIRST]
    mime = [(n, v) for n, v in items if n.lower().startswith(("mime-", "content-"))]
    rest = [(n, v) for n, v in items if (n, v) not in first and (n, v) not in mime]
    for name, value in (*first, *rest, *mime):
        msg.set_raw(name, value)


# --- bodies -----------------------------------------------------------------------------


def _cte(sender: Person) -> str | None:
    return "quoted-printable" if sender.client in ("outlook", "apple") else None


def _content(
    spec: Mail,
    parent: BuiltMail | None,
    body: str,
    quoted: str,
    when: datetime,
    rng: random.Random,
) -> EmailMessage:
    msg = EmailMessage(policy=default)
    if spec.kind == "bounce":
        assert parent is not None
        recipient = parent.spec.to[0].email
        return make_bounce(parent.message, reporting_mta=f"mx1.{OWN}", recipient=recipient)
    if spec.kind == "html":
        html = volumes_html(spec.text, spec.sender.signature, quoted.strip())
        msg.set_content(html, subtype="html", cte=_cte(spec.sender))
    elif spec.kind == "bulk":
        _newsletter(msg, spec, rng)
    else:
        msg.set_content(body + quoted, cte=_cte(spec.sender))
    if spec.kind == "calendar":
        _invitation(msg, spec, when, rng)
    for name in spec.attachments:
        _attach(msg, name, when, rng)
    return msg


def _newsletter(msg: EmailMessage, spec: Mail, rng: random.Random) -> None:
    domain = spec.sender.email.partition("@")[2]
    token = _hex(rng, 16).lower()
    footer = (
        "Du får det här nyhetsbrevet eftersom du prenumererar. Avregistrera dig här:"
        if spec.sender.lang == "sv"
        else "You are receiving this because you subscribed. Unsubscribe:"
    )
    link = f"https://{domain}/u/{token}"
    text = f"{spec.subject}\n\n{spec.text}\n\nLäs mer: https://{domain}/a/{token[:8]}\n\n{footer}\n{link}\n"
    msg.set_content(text)
    msg.add_alternative(
        f'<html><body><h1>{spec.text}</h1><p><a href="https://{domain}/a/{token[:8]}">'
        f'Read more</a></p><p style="font-size:small">{footer} <a href="{link}">{link}</a>'
        "</p></body></html>",
        subtype="html",
    )
    list_name = spec.sender.name.lower().replace(" ", "-")
    msg["List-Id"] = f"{spec.sender.name} <{list_name}.{domain}>"
    msg["List-Unsubscribe"] = f"<{link}>, <mailto:unsubscribe-{token}@{domain}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["Precedence"] = "bulk"


def _invitation(msg: EmailMessage, spec: Mail, when: datetime, rng: random.Random) -> None:
    start = datetime.combine(when.date() + timedelta(days=7), time(10, 0), tzinfo=when.tzinfo)
    ics = make_invitation(
        uid=_hex(rng, 32).lower(),
        stamp=when,
        start=start,
        summary=spec.subject or "",
        location="Brandt Logistik, Halle 1, Hamburg-Billbrook",
        organizer=(spec.sender.name, spec.sender.email),
        attendees=[(p.name, p.email) for p in (*spec.to, *spec.cc)],
    )
    msg.add_alternative(ics, subtype="calendar", params={"method": "REQUEST"}, cte="8bit")
    msg["Content-Class"] = "urn:content-classes:calendarmessage"


def _attach(msg: EmailMessage, name: str, when: datetime, rng: random.Random) -> None:
    if name == "offer_pdf":
        pdf = make_pdf([
            "Offert NordTrack – Fjällström Byggsystem AB",
            f"Datum: {when:%Y-%m-%d}   Giltig: 30 dagar",
            "",
            "NordTrack lagerstyrning, 2 lager           4 800 kr/mån",
            "Handskannrar, 14 st (hyra)                 7 700 kr/mån",
            "Integration mot Visma, engångsavgift      38 000 kr",
            "Utbildning på plats, 2 x halvdag           ingår",
            "",
            "Nordvik Sales AB – maja@nordvik-sales.example",
        ])  # fmt: skip
        msg.add_attachment(pdf, maintype="application", subtype="pdf",
                           filename=f"Offert NordTrack Fjällström {when:%Y}.pdf")  # fmt: skip
    elif name == "layout_zip":
        data = make_zip("Hallenplan_Hamburg_Billbrook_v3.dwg", ATTACHMENT_ZIP_SIZE, when, rng)
        msg.add_attachment(data, maintype="application", subtype="zip",
                           filename="Hallenplan_Hamburg_Billbrook.zip")  # fmt: skip
    else:
        raise KeyError(f"unknown demo attachment {name!r}")
