"""The demo's cast and stories: who writes what to whom, and when, as plain data.

Owns the words of the demo only; `demo_mail` turns each `Mail` into a message and
`demo` writes the Maildir. Every mail carries the reason code the rules engine is
expected to give it in `replies_only` mode with `contacts.vcf` imported first, so
the demo doubles as an end-to-end check of the logging rules (DESIGN.md section 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Client = Literal["outlook", "gmail", "apple", "thunderbird", "bulk", "system"]
Kind = Literal["text", "html", "calendar", "bounce", "bulk"]


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    email: str
    company: str | None
    title: str
    tz: int
    """UTC offset in hours of the sender's Date header."""
    client: Client
    lang: Literal["sv", "de", "en"]
    signature: str
    contact: bool = False
    """Listed in contacts.vcf."""


@dataclass(frozen=True, slots=True)
class Mail:
    key: str
    story: str
    day: int
    """Business days before `now` (1 = the last weekday before today)."""
    at: str
    """Sender's local time, "HH:MM"."""
    sender: Person
    to: tuple[Person, ...]
    text: str
    expected: str
    """Reason code in replies_only mode, contacts imported first."""
    subject: str | None = None
    """None for a reply: the parent's subject with the sender client's prefix."""
    parent: str | None = None
    cc: tuple[Person, ...] = ()
    bcc_log: bool = False
    """The user's logging address in Bcc (R2/R7)."""
    kind: Kind = "text"
    attachments: tuple[str, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    signed: bool = True


OWN = "nordvik-sales.example"
BCC_ADDRESS = "log-7f3a@bcc.loggbok.example"
HOST = "maja-thinkpad"


def _sig_sv(name: str, title: str, company: str, phone: str) -> str:
    return f"Med vänliga hälsningar\n{name}\n{title}, {company}\nTel. {phone}"


MAJA = Person(
    "Maja Lindqvist", f"maja@{OWN}", "Nordvik Sales AB", "Key Account Manager", 1,
    "thunderbird", "sv",
    "-- \nMaja Lindqvist\nKey Account Manager | Nordvik Sales AB\n"
    "+46 70 412 88 31 | nordvik-sales.example",
)  # fmt: skip
HENRIK = Person(
    "Henrik Dahl", f"henrik.dahl@{OWN}", "Nordvik Sales AB", "Försäljningschef", 1, "outlook",
    "sv", "/Henrik",
)  # fmt: skip
ELIN = Person(
    "Elin Sjöberg", f"elin.sjoberg@{OWN}", "Nordvik Sales AB", "Supporttekniker", 1, "outlook",
    "sv", _sig_sv("Elin Sjöberg", "Supporttekniker", "Nordvik Sales AB", "+46 8 520 114 07"),
)  # fmt: skip

_FJ, _FJD = "Fjällström Byggsystem AB", "fjallstrom-bygg.example"
ANNA = Person(
    "Anna Bergström", f"anna.bergstrom@{_FJD}", _FJ, "Inköpschef", 1, "outlook", "sv",
    _sig_sv("Anna Bergström", "Inköpschef", _FJ, "+46 33 70 215 40"), contact=True,
)  # fmt: skip
JOHAN = Person(
    "Johan Ek", f"johan.ek@{_FJD}", _FJ, "Lagerchef", 1, "outlook", "sv",
    _sig_sv("Johan Ek", "Lagerchef Borås", _FJ, "+46 33 70 215 62"), contact=True,
)  # fmt: skip
SOFIA = Person(
    "Sofia Åkesson", f"sofia.akesson@{_FJD}", _FJ, "Ekonomichef", 1, "outlook", "sv", "",
    contact=True,
)  # fmt: skip
MATS = Person(
    "Mats Lund", f"mats.lund@{_FJD}", _FJ, "IT-ansvarig", 1, "outlook", "sv",
    "Mvh\nMats Lund\nIT, Fjällström Byggsystem AB",
)  # fmt: skip

_BL, _BLD = "Brandt Logistik GmbH", "brandt-logistik.example"
LUKAS = Person(
    "Lukas Weber", f"l.weber@{_BLD}", _BL, "Leiter Lager Hamburg", 1, "apple", "de",
    "Viele Grüße\nLukas Weber\n\nBrandt Logistik GmbH | Standort Hamburg-Billbrook\n"
    "Tel. +49 40 7352 118-20",
    contact=True,
)  # fmt: skip
KATRIN = Person(
    "Katrin Hoffmann", f"k.hoffmann@{_BLD}", _BL, "Einkauf", 1, "outlook", "de",
    "Mit freundlichen Grüßen\n\nKatrin Hoffmann\nStrategischer Einkauf\nBrandt Logistik GmbH\n"
    "Amtsgericht Hamburg HRB 104 233 | Geschäftsführer: Jürgen Schäfer",
    contact=True,
)  # fmt: skip
JUERGEN = Person(
    "Jürgen Schäfer", f"j.schaefer@{_BLD}", _BL, "Geschäftsführer", 1, "outlook", "de",
    "Mit freundlichen Grüßen\nJürgen Schäfer\nGeschäftsführer, Brandt Logistik GmbH",
    contact=True,
)  # fmt: skip

_HP, _HPD = "Harrow & Pike Ltd", "harrowpike.example"
OLIVER = Person(
    "Oliver Bennett", f"oliver.bennett@{_HPD}", _HP, "Operations Director", 0, "gmail", "en",
    "Cheers,\nOliver\n\n--\nOliver Bennett | Operations Director\nHarrow & Pike Ltd, Northampton",
    contact=True,
)  # fmt: skip
CHARLOTTE = Person(
    "Charlotte Hughes", f"charlotte.hughes@{_HPD}", _HP, "Finance Manager", 0, "outlook", "en",
    "Kind regards,\nCharlotte Hughes\nFinance Manager\nHarrow & Pike Ltd",
    contact=True,
)  # fmt: skip

_SE, _SED = "Solvik Energi AB", "solvik-energi.example"
ERIK = Person(
    "Erik Sandberg", f"erik.sandberg@{_SED}", _SE, "IT-chef", 1, "outlook", "sv",
    _sig_sv("Erik Sandberg", "IT-chef", _SE, "+46 60 19 44 02"), contact=True,
)  # fmt: skip
LINNEA = Person(
    "Linnea Holm", f"linnea.holm@{_SED}", _SE, "Driftansvarig", 1, "outlook", "sv",
    _sig_sv("Linnea Holm", "Driftansvarig", _SE, "+46 60 19 44 17"), contact=True,
)  # fmt: skip
PER = Person("Per Nilsson", f"per.nilsson@{_SED}", _SE, "", 1, "outlook", "sv", "")

_KA, _KAD = "Kestrel Analytics Ltd", "kestrel-analytics.example"
PRIYA = Person(
    "Priya Shah", f"priya.shah@{_KAD}", _KA, "Head of Operations", 0, "gmail", "en",
    "Best,\nPriya\n\nPriya Shah\nHead of Operations, Kestrel Analytics\n+44 113 496 0821",
    contact=True,
)  # fmt: skip
TOM = Person("Tom Whitaker", f"tom.whitaker@{_KAD}", _KA, "CFO", 0, "gmail", "en", "", contact=True)

LOGISTIK_IDAG = Person(
    "Logistik Idag", "nyhetsbrev@news.logistikidag.example", None, "", 1, "bulk", "sv", ""
)
SAAS_WEEKLY = Person(
    "SaaS Sales Weekly", "digest@mail.saassalesweekly.example", None, "", 0, "bulk", "en", ""
)
JAKE = Person(
    "Jake Morrison", "jake@leadrocket.example", None, "", -5, "gmail", "en",
    "Jake Morrison\nAccount Executive, LeadRocket\nBook a time: leadrocket.example/jake",
)  # fmt: skip
HOTEL = Person(
    "Hotell Skeppsbron Göteborg", "bokning@hotellskeppsbron.example", None, "", 1, "system",
    "sv", "",
)  # fmt: skip
MAILER_DAEMON = Person(
    "Mail Delivery System", f"MAILER-DAEMON@mx1.{OWN}", None, "", 1, "system", "en", ""
)

CONTACTS: tuple[Person, ...] = (
    ANNA, JOHAN, SOFIA, LUKAS, KATRIN, JUERGEN, OLIVER, CHARLOTTE, ERIK, LINNEA, PRIYA, TOM,
)  # fmt: skip
"""The twelve contacts in contacts.vcf; Sofia Åkesson and Tom Whitaker never write."""

LUKAS_ALIAS = f"lukas.weber@{_BLD}"
"""Lukas Weber's second address, listed in his vCard."""
