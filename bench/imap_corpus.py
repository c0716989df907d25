"""A deterministic, realistic mailbox for the IMAP benchmarks (`bench/imap_sync.py`).

`build_corpus(n, seed)` returns N RFC 5322 messages split into INBOX and Sent
as a salesperson's real mailbox looks:

  * ~25% outbound (in Sent, from the user's own address), a quarter of those
    with the CRM logging address in Bcc; the rest inbound (INBOX);
  * conversations of 1–8 messages with proper In-Reply-To/References and
    "Re:"/"SV:"/"AW:" prefixes by the replier's country (a few replies change
    the subject), a few hundred correspondents at ~60 companies;
  * ~15% newsletters with List-Id/List-Unsubscribe;
  * Received chains, DKIM-Signature, X-Mailer/User-Agent, Thread-Index;
    bodies of 1–20 KB with quoted history, ~40% multipart/alternative with
    HTML; ~5% with a 20 KB–2 MB PDF-like attachment.

Everything comes from one `random.Random(seed)` and a fixed base date, so two
runs build byte-identical mailboxes.
"""

from __future__ import annotations

import base64
import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

ME_NAME = "Sara Lind"
ME = "sara.lind@nordljus-system.se"
COLLEAGUE = "johan.ek@nordljus-system.se"
BCC = "log-4711@bcc.loggbok-crm.example"
BASE_DATE = datetime(2023, 6, 1, 8, 0, tzinfo=UTC)

OUTBOUND_SHARE = 0.25
NEWSLETTER_SHARE = 0.15
ATTACHMENT_SHARE = 0.05
BCC_SHARE_OF_OUTBOUND = 0.25
SUBJECT_CHANGE_SHARE = 0.03
HTML_SHARE = 0.4

FIRST = [
    "Anna",
    "Erik",
    "Maria",
    "Lars",
    "Karin",
    "Anders",
    "Eva",
    "Johan",
    "Sofia",
    "Per",
    "Emma",
    "Mikael",
    "Lena",
    "Jonas",
    "Ida",
    "Stefan",
    "Klaus",
    "Petra",
    "Jürgen",
    "Sabine",
    "Thomas",
    "Julia",
    "Markus",
    "Laura",
    "James",
    "Olivia",
    "Daniel",
    "Chloé",
    "Pierre",
    "Camille",
    "Marco",
    "Giulia",
    "Sanna",
    "Mikko",
    "Aino",
    "Ole",
    "Ingrid",
    "Henrik",
    "Freja",
    "Mads",
]
LAST = [
    "Andersson",
    "Johansson",
    "Karlsson",
    "Nilsson",
    "Eriksson",
    "Larsson",
    "Olsson",
    "Persson",
    "Svensson",
    "Berg",
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Dubois",
    "Martin",
    "Bernard",
    "Rossi",
    "Russo",
    "Virtanen",
    "Korhonen",
    "Hansen",
    "Jensen",
    "Nielsen",
    "Lindqvist",
]
STEMS = [
    "Nord",
    "Väst",
    "Berg",
    "Sjö",
    "Lund",
    "Fjäll",
    "Ahl",
    "Hammar",
    "Stål",
    "Gran",
    "Ek",
    "Norr",
    "Söder",
    "Kraft",
    "Blå",
    "Grön",
    "Alp",
    "Rhein",
    "Elbe",
    "Brenner",
    "Atlas",
    "Vega",
    "Orion",
    "Polar",
    "Boreal",
    "Terra",
    "Vinter",
    "Sommar",
    "Iris",
    "Saga",
]
SUFFIXES = ("Trading", "Logistik", "Bygg", "Systems", "Medical", "Energi", "Tech", "Konsult")
TLDS = (".se", ".se", ".se", ".de", ".de", ".com", ".fi", ".dk", ".no", ".fr")
TOPICS = (
    "Offert {n}", "Avtal {y} förnyelse", "Leverans vecka {w}", "Faktura {n}",
    "Möte om licenser", "Quote for {n} seats", "Contract renewal {y}", "Angebot {n}",
    "Rahmenvertrag {y}", "Support ticket #{n}", "Prisjustering Q{q}", "Pilot project",
    "Onboarding plan", "Demo nästa vecka", "Lieferung KW {w}", "Order confirmation {n}",
)  # fmt: skip
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
    "system",
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
    "rollout",
    "Angebot",
    "Lieferung",
    "Vertrag",
    "Termin",
    "Preis",
    "bitte",
    "danke",
    "budget",
    "timeline",
    "volume",
    "discount",
    "integration",
    "migration",
    "pilot",
    "training",
    "hardware",
    "installation",
    "service",
    "level",
    "agreement",
]
NEWSLETTERS = (
    ("Branschnytt", "nyheter@branschnytt.se"), ("IT-Kanalen", "news@itkanalen.se"),
    ("Logistics Weekly", "digest@logisticsweekly.com"), ("Heise Update", "update@heise-news.de"),
    ("SaaS Insider", "hello@saasinsider.io"), ("Byggvärlden", "brev@byggvarlden.se"),
    ("Energy Brief", "brief@energybrief.eu"), ("Nordic Startups", "team@nordicstartups.co"),
    ("Upphandling.nu", "bevakning@upphandling.nu"), ("MedTech Today", "news@medtechtoday.com"),
    ("Konferens 2024", "info@konferens2024.se"), ("Cloud Digest", "digest@clouddigest.dev"),
)  # fmt: skip
MAILERS = (
    "Microsoft Outlook 16.0", "Apple Mail (2.3731)", "Mozilla Thunderbird 115.6",
    "Roundcube Webmail/1.6.5", "Gmail",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    email: str
    company: str
    tld: str


@dataclass(slots=True)
class Thread:
    """A conversation as generated: enough to APPEND a reply that continues it."""

    subject: str
    message_ids: list[str]
    customers: list[Person]
    tracked: bool
    """An outbound message with the logging address in Bcc is in it."""
    subject_changed: bool
    last_date: datetime


@dataclass(slots=True)
class Corpus:
    inbox: list[bytes] = field(default_factory=list)
    sent: list[bytes] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)
    threads: list[Thread] = field(default_factory=list)
    companies: int = 0
    newsletters: int = 0
    bcc: int = 0
    attachments: int = 0
    subject_changes: int = 0

    @property
    def total(self) -> int:
        return len(self.inbox) + len(self.sent)

    @property
    def size(self) -> int:
        return sum(map(len, self.inbox)) + sum(map(len, self.sent))

    def push_threads(self, count: int) -> list[Thread]:
        """Tracked threads whose subject never changed: a reply to these is logged."""
        fit = [t for t in self.threads if t.tracked and not t.subject_changed]
        return fit[-count:]


class _Builder:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.serial = 0

    # people -----------------------------------------------------------------------

    def companies(self, count: int) -> list[tuple[str, str, str]]:
        rng = self.rng
        seen: set[str] = set()
        out: list[tuple[str, str, str]] = []
        while len(out) < count:
            name = f"{rng.choice(STEMS)}{rng.choice(STEMS).lower()} {rng.choice(SUFFIXES)}"
            if name in seen:
                continue
            seen.add(name)
            tld = rng.choice(TLDS)
            ascii_name = name.lower().translate(str.maketrans("åäöü", "aaou"))
            out.append((name, ascii_name.replace(" ", "-") + tld, tld))
        return out

    def people(self, companies: list[tuple[str, str, str]], count: int) -> list[Person]:
        rng = self.rng
        out: list[Person] = []
        used: set[str] = set()
        for i in range(count):
            company, domain, tld = (
                companies[i % len(companies)] if i < len(companies) else (rng.choice(companies))
            )
            while True:
                first, last = rng.choice(FIRST), rng.choice(LAST)
                local = f"{first}.{last}".lower().translate(
                    str.maketrans({"ü": "ue", "é": "e", "ö": "o", "ä": "a", "å": "a"})
                )
                email = f"{local}@{domain}"
                if email not in used:
                    used.add(email)
                    break
            out.append(Person(f"{first} {last}", email, company, tld))
        return out

    # content -------------------------------------------------------------------------

    def msgid(self, domain: str) -> str:
        self.serial += 1
        token = self.rng.getrandbits(64)
        return f"<{self.serial:06d}.{token:016x}@{domain}>"

    def sentence(self, k: int) -> str:
        words = self.rng.choices(WORDS, k=k)
        return " ".join(words).capitalize() + "."

    def paragraph(self) -> str:
        return " ".join(
            self.sentence(self.rng.randint(6, 16)) for _ in range(self.rng.randint(2, 5))
        )

    def new_text(self, author: str, target: int) -> str:
        parts = [f"Hej,\r\n\r\n{self.paragraph()}"]
        size = len(parts[0])
        while size < target:
            para = self.paragraph()
            parts.append(para)
            size += len(para) + 4
        parts.append(f"Med vänliga hälsningar\r\n{author}")
        return "\r\n\r\n".join(_wrap(p) for p in parts)

    def received(self, date: datetime, sender_domain: str) -> list[str]:
        rng = self.rng
        hops = []
        when = date
        for hop in range(rng.randint(2, 3)):
            host = (
                f"mx{rng.randint(1, 9)}.{sender_domain}" if hop == 0 else "mail.nordljus-system.se"
            )
            ip = ".".join(str(rng.randint(11, 254)) for _ in range(4))
            queue = f"{rng.getrandbits(40):010X}"
            hops.append(
                f"Received: from {host} ({host} [{ip}])\r\n\tby mail.nordljus-system.se "
                f"(Postfix) with ESMTPS id {queue}\r\n\tfor <{ME}>; {format_datetime(when)}"
            )
            when += timedelta(seconds=rng.randint(1, 30))
        return list(reversed(hops))

    def dkim(self, domain: str) -> str:
        rng = self.rng
        bh = base64.b64encode(rng.randbytes(32)).decode()
        sig = base64.b64encode(rng.randbytes(256)).decode()
        folded = "\r\n\t ".join(sig[i : i + 64] for i in range(0, len(sig), 64))
        return (
            f"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d={domain};\r\n"
            f"\ts=selector1; t={rng.randint(1_600_000_000, 1_750_000_000)};\r\n"
            "\th=from:to:subject:date:message-id:in-reply-to:references;\r\n"
            f"\tbh={bh};\r\n\tb={folded}"
        )

    def pdf(self, size: int) -> bytes:
        head = (
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
            b"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n"
            b"3 0 obj\n<< /Length " + str(size).encode() + b" /Filter /FlateDecode >>\nstream\n"
        )
        tail = b"\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
        return head + self.rng.randbytes(max(0, size - len(head) - len(tail))) + tail


def _wrap(text: str, width: int = 76) -> str:
    lines: list[str] = []
    for raw in text.split("\r\n"):
        line = ""
        for word in raw.split(" "):
            if line and len(line) + 1 + len(word) > width:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        lines.append(line)
    return "\r\n".join(lines)


def _html(text: str) -> str:
    paras = "".join(
        f"<p>{p.replace(chr(13) + chr(10), '<br>')}</p>\r\n" for p in text.split("\r\n\r\n")
    )
    return (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
        '</head>\r\n<body><div style="font-family:Calibri,sans-serif;font-size:11pt">\r\n'
        f"{paras}</div></body></html>\r\n"
    )


def _encode_header(value: str) -> str:
    """RFC 2047 for non-ASCII header text (UTF-8, Q encoding kept simple: base64)."""
    if value.isascii():
        return value
    return "=?utf-8?b?" + base64.b64encode(value.encode()).decode() + "?="


def _addr(person: Person) -> str:
    return f"{_encode_header(person.name)} <{person.email}>"


def _reply_prefix(tld: str) -> str:
    return {".se": "SV: ", ".de": "AW: ", ".no": "SV: ", ".dk": "SV: ", ".fi": "VS: "}.get(
        tld, "Re: "
    )


def render(
    b: _Builder,
    *,
    sender: Person,
    to: list[Person],
    cc: list[Person],
    bcc: list[str],
    subject: str,
    message_id: str,
    date: datetime,
    parents: list[str],
    body_text: str,
    inbound: bool,
    newsletter: tuple[str, str] | None = None,
    attachment: int = 0,
) -> bytes:
    """One message, bytes exactly as a server stores them (CRLF)."""
    rng = b.rng
    domain = sender.email.split("@", 1)[1]
    headers: list[str] = []
    if inbound:
        headers.append(f"Return-Path: <{sender.email}>")
        headers.append(f"Delivered-To: {ME}")
        headers += b.received(date, domain)
        headers.append(b.dkim(domain))
        headers.append(
            f"Authentication-Results: mail.nordljus-system.se; dkim=pass header.d={domain}; "
            "spf=pass smtp.mailfrom=" + domain
        )
    headers += [
        f"From: {_addr(sender)}",
        "To: " + ", ".join(_addr(p) for p in to),
    ]
    if cc:
        headers.append("Cc: " + ", ".join(_addr(p) for p in cc))
    if bcc:
        headers.append("Bcc: " + ", ".join(bcc))
    headers += [
        f"Subject: {_encode_header(subject)}",
        f"Date: {format_datetime(date)}",
        f"Message-ID: {message_id}",
    ]
    if parents:
        headers.append(f"In-Reply-To: {parents[-1]}")
        refs = parents[-10:]
        headers.append("References: " + "\r\n ".join(refs))
    mailer = rng.choice(MAILERS)
    if mailer.startswith("Microsoft"):
        headers.append(f"Thread-Index: {base64.b64encode(rng.randbytes(22)).decode()}")
        headers.append(f"X-Mailer: {mailer}")
    elif newsletter is None:
        headers.append(f"User-Agent: {mailer}")
    if newsletter is not None:
        list_name, list_addr = newsletter
        list_domain = list_addr.split("@", 1)[1]
        headers += [
            f"List-Id: {list_name} <news.{list_domain}>",
            f"List-Unsubscribe: <https://{list_domain}/unsubscribe?u={rng.getrandbits(48):x}>,"
            f" <mailto:unsubscribe@{list_domain}>",
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
            "Precedence: bulk",
            f"X-Campaign-Id: {rng.getrandbits(32):08x}",
        ]
    headers.append("MIME-Version: 1.0")
    boundary_alt = f"=_alt_{rng.getrandbits(64):016x}"
    boundary_mix = f"=_mix_{rng.getrandbits(64):016x}"
    text_part = (
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + body_text
        + "\r\n"
    )
    if newsletter is not None or rng.random() < HTML_SHARE:
        html = _html(body_text)
        content = (
            f'Content-Type: multipart/alternative; boundary="{boundary_alt}"\r\n\r\n'
            f"--{boundary_alt}\r\n{text_part}\r\n--{boundary_alt}\r\n"
            "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            f"{html}\r\n--{boundary_alt}--\r\n"
        )
    else:
        content = text_part
    if attachment:
        data = base64.encodebytes(b.pdf(attachment)).decode().replace("\n", "\r\n")
        name = rng.choice(("Offert", "Avtal", "Angebot", "Quote", "Faktura", "Specifikation"))
        filename = f"{name}_{rng.randint(1000, 9999)}.pdf"
        content = (
            f'Content-Type: multipart/mixed; boundary="{boundary_mix}"\r\n\r\n'
            f"This is a multi-part message in MIME format.\r\n\r\n--{boundary_mix}\r\n{content}\r\n"
            f'--{boundary_mix}\r\nContent-Type: application/pdf; name="{filename}"\r\n'
            f'Content-Disposition: attachment; filename="{filename}"\r\n'
            f"Content-Transfer-Encoding: base64\r\n\r\n{data}\r\n--{boundary_mix}--\r\n"
        )
    head, _, rest = content.partition("\r\n\r\n")
    return ("\r\n".join(headers) + "\r\n" + head + "\r\n\r\n" + rest).encode()


def _thread_length(rng: random.Random) -> int:
    return rng.choices(range(1, 9), weights=(22, 22, 17, 13, 10, 7, 5, 4))[0]


def _attachment_size(rng: random.Random) -> int:
    """Log-uniform between 20 KB and 2 MB."""
    return int(math.exp(rng.uniform(math.log(20_000), math.log(2_000_000))))


def build_corpus(n: int, seed: int = 20240601) -> Corpus:
    """N messages (INBOX + Sent) from `seed`; see the module docstring."""
    b = _Builder(seed)
    rng = b.rng
    companies = b.companies(60)
    people = b.people(companies, 320)
    by_company: dict[str, list[Person]] = {}
    for person in people:
        by_company.setdefault(person.company, []).append(person)
    me = Person(ME_NAME, ME, "Nordljus System", ".se")
    colleague = Person("Johan Ek", COLLEAGUE, "Nordljus System", ".se")
    corpus = Corpus(people=people, companies=len(companies))
    # Shares among conversation messages (mean thread length 3.28), so that the
    # totals come out at ~15% newsletters, ~25% outbound and ~5% attachments.
    p_out = OUTBOUND_SHARE / (1 - NEWSLETTER_SHARE)
    p_attachment = ATTACHMENT_SHARE / (1 - NEWSLETTER_SHARE)
    mean_length = 3.28
    p_newsletter = (
        NEWSLETTER_SHARE * mean_length / (1 - NEWSLETTER_SHARE + NEWSLETTER_SHARE * mean_length)
    )
    span = timedelta(days=720)
    produced = 0
    used_people: set[str] = set()
    while produced < n:
        start = BASE_DATE + timedelta(seconds=rng.uniform(0, span.total_seconds()))
        if rng.random() < p_newsletter:
            list_name, list_addr = rng.choice(NEWSLETTERS)
            sender = Person(list_name, list_addr, list_name, ".com")
            raw = render(
                b,
                sender=sender,
                to=[me],
                cc=[],
                bcc=[],
                subject=f"{list_name}: {b.sentence(rng.randint(4, 8))[:-1]}",
                message_id=b.msgid(list_addr.split("@", 1)[1]),
                date=start,
                parents=[],
                body_text=b.new_text(list_name, rng.randint(2_000, 12_000)),
                inbound=True,
                newsletter=(list_name, list_addr),
            )
            corpus.inbox.append(raw)
            corpus.newsletters += 1
            produced += 1
            continue
        company = rng.choice(companies)[0]
        staff = by_company[company]
        customers = rng.sample(staff, k=min(len(staff), rng.choice((1, 1, 1, 2, 2, 3))))
        used_people.update(p.email for p in customers)
        topic = rng.choice(TOPICS).format(
            n=rng.randint(1000, 99999), y=rng.randint(2023, 2025), w=rng.randint(1, 52),
            q=rng.randint(1, 4),
        )  # fmt: skip
        length = min(_thread_length(rng), n - produced)
        thread = Thread(topic, [], customers, False, False, start)
        subject = topic
        history: list[tuple[str, datetime, str]] = []
        date = start
        for position in range(length):
            outbound = rng.random() < p_out
            author = me if outbound else rng.choice(customers)
            if outbound:
                to, cc = customers[:1], customers[1:]
                if rng.random() < 0.1:
                    cc = [*cc, colleague]
            else:
                others = [c for c in customers if c is not author]
                to, cc = [me], others
            if position > 0:
                if rng.random() < SUBJECT_CHANGE_SHARE:
                    subject = f"{rng.choice(TOPICS).split(' {')[0]} (ny fråga)"
                    thread.subject_changed = True
                    corpus.subject_changes += 1
                    shown = subject
                else:
                    prefix = _reply_prefix(author.tld)
                    shown = prefix + ("Re: " if rng.random() < 0.1 else "") + subject
            else:
                shown = subject
            target = rng.randint(600, 6_000)
            text = b.new_text(author.name, target)
            quoted = ""
            for quoted_author, quoted_date, quoted_text in reversed(history):
                block = f"\r\n\r\nDen {format_datetime(quoted_date)} skrev {quoted_author}:\r\n"
                block += "\r\n".join("> " + line for line in quoted_text.split("\r\n"))
                if len(text) + len(quoted) + len(block) > 19_000:
                    break
                quoted += block
            body = text + quoted
            bcc = [BCC] if outbound and rng.random() < BCC_SHARE_OF_OUTBOUND else []
            attachment = _attachment_size(rng) if rng.random() < p_attachment else 0
            domain = author.email.split("@", 1)[1]
            message_id = b.msgid(domain)
            raw = render(
                b,
                sender=author,
                to=to,
                cc=cc,
                bcc=bcc,
                subject=shown,
                message_id=message_id,
                date=date,
                parents=list(thread.message_ids),
                body_text=body,
                inbound=not outbound,
                attachment=attachment,
            )
            (corpus.sent if outbound else corpus.inbox).append(raw)
            corpus.bcc += bool(bcc)
            corpus.attachments += bool(attachment)
            thread.tracked = thread.tracked or bool(bcc)
            thread.message_ids.append(message_id)
            thread.last_date = date
            history.append((author.name, date, text))
            date += timedelta(minutes=rng.randint(10, 3 * 24 * 60))
            produced += 1
        thread.subject = subject
        corpus.threads.append(thread)
    corpus.people = [p for p in people if p.email in used_people]
    return corpus


def push_reply(corpus: Corpus, thread: Thread, number: int, when: datetime) -> tuple[str, bytes]:
    """A customer's reply continuing `thread` (same subject), dated `when`."""
    b = _Builder(number * 7919 + 1)
    author = thread.customers[0]
    message_id = f"<push.{number}.{b.rng.getrandbits(48):012x}@{author.email.split('@', 1)[1]}>"
    raw = render(
        b,
        sender=author,
        to=[Person(ME_NAME, ME, "Nordljus System", ".se")],
        cc=thread.customers[1:],
        bcc=[],
        subject=_reply_prefix(author.tld) + thread.subject,
        message_id=message_id,
        date=when,
        parents=list(thread.message_ids),
        body_text=b.new_text(author.name, 1_500),
        inbound=True,
    )
    thread.message_ids.append(message_id)
    return message_id, raw
