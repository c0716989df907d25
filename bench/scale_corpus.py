"""The deterministic corpus of `bench/scale.py`: a team's mail at CRM scale.

`ScaleCorpus(logged)` describes `logged` emails that land on timelines plus a
fifth as many that do not (bulk mail from addresses no contact has), between
20 members (`member{k}@ourteam.example`, one mailbox each) and 100,000
contacts (imported as vCards would be). The contacts are skewed as a real
CRM's: six contacts have `heavy` entries each (12,000 at a million; never
fewer than 10,000 when the corpus holds them, so page 200 of 50 exists), the
rest follow a power law (most contacts have a handful). One in ten logged
emails copies a second contact. A third are replies (In-Reply-To the previous
email with that contact).

Bodies are 40–150 words of a Zipf-distributed made-up vocabulary, plus three
words the search measurements use: `RARE` (in one email of 20,011), `ONE_PCT`
(1%) and `SIXTY_PCT` (60%). Headers carry what real mail carries (Received,
DKIM-Signature, MIME), so bytes per message are realistic.

`message(n)` renders the n-th email (n in date order, dates spread over five
years with a few days of jitter, so store ids follow dates only roughly).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

MEMBERS = 20
CONTACTS = 100_000
COMPANIES = 10_000
HEAVY = 6
TEAM_DOMAIN = "ourteam.example"
RARE = "xylophonic"
ONE_PCT = "quarterly"
SIXTY_PCT = "meeting"
RARE_EVERY = 20_011
START = datetime(2021, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=5 * 365)

_FIRST = [
    "anna",
    "erik",
    "lars",
    "karin",
    "maria",
    "johan",
    "eva",
    "anders",
    "sara",
    "per",
    "lena",
    "nils",
    "emma",
    "olof",
    "ida",
    "hans",
    "maja",
    "karl",
    "ulla",
    "sven",
    "elin",
    "jonas",
    "frida",
    "axel",
    "greta",
    "oskar",
    "linnea",
    "hugo",
    "alva",
    "viktor",
    "tove",
    "james",
    "mary",
    "john",
    "linda",
    "robert",
    "susan",
    "michael",
    "karen",
    "david",
    "nancy",
    "thomas",
    "betty",
    "daniel",
    "helen",
    "paul",
    "sandra",
    "mark",
    "donna",
    "peter",
    "carol",
    "steven",
    "ruth",
    "andrew",
    "sharon",
    "kevin",
    "laura",
    "brian",
    "emily",
    "george",
    "amanda",
    "edward",
    "melissa",
    "ronald",
    "deborah",
    "timothy",
    "stephanie",
    "jason",
    "rebecca",
    "jeffrey",
    "marta",
    "ryan",
    "cynthia",
    "jacob",
    "kathleen",
    "gary",
    "amy",
    "nicholas",
    "angela",
    "eric",
    "shirley",
    "joshua",
    "anja",
    "stefan",
    "birgit",
    "jurgen",
    "monika",
    "klaus",
    "petra",
    "uwe",
    "sabine",
    "dieter",
    "heike",
]
_LAST = [
    "andersson",
    "johansson",
    "karlsson",
    "nilsson",
    "eriksson",
    "larsson",
    "olsson",
    "persson",
    "svensson",
    "gustafsson",
    "pettersson",
    "jonsson",
    "jansson",
    "hansson",
    "bengtsson",
    "lindberg",
    "lindqvist",
    "lindgren",
    "berg",
    "axelsson",
    "lundberg",
    "lundgren",
    "mattsson",
    "sandberg",
    "forsberg",
    "sjoberg",
    "wallin",
    "engstrom",
    "eklund",
    "danielsson",
    "lund",
    "smith",
    "johnson",
    "williams",
    "brown",
    "jones",
    "miller",
    "davis",
    "wilson",
    "anderson",
    "taylor",
    "thomas",
    "moore",
    "martin",
    "jackson",
    "thompson",
    "white",
    "harris",
    "clark",
    "lewis",
    "robinson",
    "walker",
    "young",
    "allen",
    "king",
    "wright",
    "scott",
    "green",
    "baker",
    "adams",
    "nelson",
    "hill",
    "campbell",
    "mitchell",
    "roberts",
    "carter",
    "phillips",
    "evans",
    "turner",
    "torres",
    "parker",
    "collins",
    "edwards",
    "stewart",
    "morris",
    "murphy",
    "cook",
    "rogers",
    "morgan",
    "cooper",
    "peterson",
    "bailey",
    "reed",
    "kelly",
    "howard",
    "cox",
    "ward",
    "richardson",
    "watson",
    "brooks",
    "wood",
    "james",
    "bennett",
    "gray",
    "hughes",
    "price",
    "sanders",
    "myers",
    "long",
    "ross",
    "foster",
    "muller",
    "schmidt",
    "schneider",
    "fischer",
    "weber",
    "meyer",
    "wagner",
    "becker",
    "schulz",
    "hoffmann",
    "koch",
    "richter",
    "klein",
    "wolf",
    "neumann",
    "schwarz",
    "zimmermann",
    "braun",
]
_SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ne",
    "ru",
    "sa",
    "ti",
    "vo",
    "be",
    "da",
    "fe",
    "gi",
    "ho",
    "ju",
    "ky",
    "la",
    "me",
    "ni",
    "or",
    "pa",
    "qu",
    "re",
    "si",
    "tu",
    "ve",
    "wa",
    "xa",
    "yo",
    "ze",
    "an",
    "el",
    "in",
    "on",
    "ul",
    "ar",
    "er",
    "ir",
    "os",
    "us",
    "ba",
    "co",
    "di",
    "fo",
    "gu",
]
_SUBJECT_TOPICS = (
    "Offer",
    "Invoice",
    "Delivery",
    "Contract",
    "Follow-up",
    "Question about the order",
    "Renewal",
    "Support case",
    "Visit next week",
    "Pricing",
    "Agenda",
    "Samples",
)


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))


def _vocabulary(size: int = 3000) -> list[str]:
    rng = random.Random(7)
    taken = {RARE, ONE_PCT, SIXTY_PCT}
    words: list[str] = []
    while len(words) < size:
        word = _word(rng)
        if word not in taken:
            taken.add(word)
            words.append(word)
    return words


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    email: str
    company: str


class ScaleCorpus:
    def __init__(self, logged: int, seed: int = 20261206) -> None:
        self.logged = logged
        self.unlogged = logged // 5
        self.total = logged + self.unlogged
        self.seed = seed
        self.heavy = min(12_000, logged // (HEAVY * 2))
        rng = random.Random(seed)
        companies = [
            _word(rng).capitalize() + rng.choice(["", " AB", " GmbH", " Ltd", " Inc"])
            for _ in range(COMPANIES)
        ]
        self.companies = companies
        self.contacts: list[Person] = []
        for i in range(CONTACTS):
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            company = i % COMPANIES
            domain = companies[company].split()[0].lower() + f"{company}.example"
            self.contacts.append(
                Person(
                    f"{first.title()} {last.title()}",
                    f"{first}.{last}{i}@{domain}",
                    companies[company],
                )
            )
        self.members = [f"member{k}@{TEAM_DOMAIN}" for k in range(MEMBERS)]
        self.words = _vocabulary()
        # Zipf weights for the body's words (cumulative, for bisect-free choices)
        self._weights = [1.0 / (rank + 1) for rank in range(len(self.words))]
        # every index n < total is logged unless it is one of the evenly spread unlogged
        self._every_unlogged = self.total / max(1, self.unlogged)

    def is_logged(self, n: int) -> bool:
        """Every (total/unlogged)-th email is bulk mail that no rule logs."""
        return self.unlogged == 0 or int((n + 1) / self._every_unlogged) == int(
            n / self._every_unlogged
        )

    def contact_of(self, n: int, rng: random.Random) -> int:
        """Which contact the n-th email is with: the heavy six take `heavy` each."""
        if rng.random() < (HEAVY * self.heavy) / self.logged:
            return rng.randrange(HEAVY)
        return HEAVY + int((CONTACTS - HEAVY) * rng.random() ** 3)

    def member_of(self, contact: int) -> int:
        """Each contact has one member who mostly writes with them."""
        return contact % MEMBERS

    def date(self, n: int, rng: random.Random) -> datetime:
        jitter = timedelta(seconds=rng.randint(-3 * 86_400, 3 * 86_400))
        return START + SPAN * (n / self.total) + jitter

    def body(self, n: int, rng: random.Random) -> str:
        words = rng.choices(self.words, weights=self._weights, k=rng.randint(40, 150))
        if rng.random() < 0.6:
            words.insert(rng.randrange(len(words)), SIXTY_PCT)
        if rng.random() < 0.01:
            words.insert(rng.randrange(len(words)), ONE_PCT)
        if n % RARE_EVERY == 7:
            words.insert(rng.randrange(len(words)), RARE)
        lines = [" ".join(words[i : i + 12]) for i in range(0, len(words), 12)]
        return "Hello,\n\n" + "\n".join(lines) + "\n\nBest regards\n"

    def message(self, n: int, last_ids: dict[int, str]) -> tuple[int, str, bytes]:
        """(member, folder, raw) of the n-th email; `last_ids` (contact -> the last
        Message-ID with them) makes replies and is updated."""
        rng = random.Random(self.seed * 1_000_003 + n)
        date = self.date(n, rng)
        msgid = (
            f"<{hashlib.sha1(f'{self.seed}:{n}'.encode()).hexdigest()[:20]}@mail{n % 97}.example>"
        )
        extra: list[str] = []
        if self.is_logged(n):
            contact = self.contact_of(n, rng)
            member = self.member_of(contact)
            person = self.contacts[contact]
            me = self.members[member]
            outbound = rng.random() < 0.4
            sender, sender_name = (
                (me, f"Member {member}") if outbound else (person.email, person.name)
            )
            to = [(person.name, person.email)] if outbound else [(f"Member {member}", me)]
            cc: list[tuple[str, str]] = []
            if rng.random() < 0.1:
                other = self.contacts[HEAVY + rng.randrange(CONTACTS - HEAVY)]
                cc.append((other.name, other.email))
            folder = "Sent" if outbound else "INBOX"
            topic = rng.choice(_SUBJECT_TOPICS)
            parent = last_ids.get(contact)
            if parent is not None and rng.random() < 0.33:
                subject = f"Re: {topic} {contact}"
                extra += [f"In-Reply-To: {parent}", f"References: {parent}"]
            else:
                subject = f"{topic} {contact}"
            last_ids[contact] = msgid
            company = person.company
        else:
            member = n % MEMBERS
            me = self.members[member]
            sender = f"news{n % 5000}@bulk{n % 300}.example"
            sender_name = f"Newsletter {n % 5000}"
            to = [(f"Member {member}", me)]
            cc = []
            folder = "INBOX"
            subject = f"Weekly news {n}"
            company = "Bulk"
        sender_domain = sender.rpartition("@")[2]
        headers = [
            f"Received: from mx{n % 7}.{sender_domain}"
            f" (mx{n % 7}.{sender_domain} [192.0.2.{n % 250}])"
            f"\r\n\tby mx.{TEAM_DOMAIN} with ESMTPS id {msgid[1:13]}\r\n\tfor <{to[0][1]}>;"
            f" {format_datetime(date)}",
            f"Received: from [10.0.{n % 250}.{n % 199}] by smtp.{sender_domain} with ESMTPSA;"
            f" {format_datetime(date)}",
            f"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d={sender_domain}; s=s1;"
            f"\r\n\th=from:to:subject:date:message-id;"
            f" bh={hashlib.sha256(msgid.encode()).hexdigest()[:43]}=;"
            f"\r\n\tb={hashlib.sha512(msgid.encode()).hexdigest()[:86]}",
            f"From: {sender_name} <{sender}>",
            "To: " + ", ".join(f"{name} <{email}>" for name, email in to),
            *(["Cc: " + ", ".join(f"{name} <{email}>" for name, email in cc)] if cc else []),
            f"Subject: {subject}",
            f"Date: {format_datetime(date)}",
            f"Message-ID: {msgid}",
            *extra,
            f"Organization: {company}",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit",
        ]
        raw = ("\r\n".join(headers) + "\r\n\r\n" + self.body(n, rng).replace("\n", "\r\n")).encode()
        return member, folder, raw
