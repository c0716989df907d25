"""Find a forwarded message's header block in a body's text, in many languages.

Owns `find_header_block` and `read_address`. Mail clients write the header
block of an inline forward as "label: value" lines under a separator ("----------
Forwarded message ---------", "-----Original Message-----", "Begin forwarded
message:", a rule, or nothing at all), with labels in the user's language
("From:", "Von:", "De :", "Från:", "От:", "Sent:", "Gesendet:", "Envoyé :",
"Skickat:", "Отправлено:" ...), quoted with "> " (iOS, Apple Mail), in bold
("*From:*"), with tab padding (Thunderbird), and with a long address wrapped
onto the next line. The first block that names a sender and at least one more
field (date, subject, recipients) is the forwarded message's; its body is what
follows. `read_address` reads the sender's address out of a value ("Name
<a@b>", "Name [mailto:a@b]", "a@b<mailto:a@b>", a bare address); a value
with no address gives a name only: nothing is guessed from elsewhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .addresses import parse_address
from .facts import Address

LABELS: dict[str, str] = {
    # sender
    "from": "from", "von": "from", "de": "from", "от": "from", "от кого": "from",
    "från": "from", "fra": "from", "van": "from", "da": "from", "od": "from",
    "expéditeur": "from", "remitente": "from", "avsändare": "from", "absender": "from",
    "отправитель": "from",
    # recipients
    "to": "to", "an": "to", "à": "to", "a": "to", "para": "to", "pour": "to",
    "destinataire": "to", "destinataires": "to", "destinatario": "to", "кому": "to",
    "till": "to", "til": "to", "aan": "to", "empfänger": "to", "получатель": "to",
    "cc": "cc", "kopie": "cc", "kopia": "cc", "копия": "cc", "cópia": "cc", "copie": "cc",
    "bcc": "bcc", "cco": "bcc", "blindkopie": "bcc", "hemlig kopia": "bcc",
    "reply-to": "reply-to", "antwort an": "reply-to", "répondre à": "reply-to",
    "responder a": "reply-to", "svara till": "reply-to",
    # date
    "date": "date", "sent": "date", "datum": "date", "gesendet": "date",
    "envoyé": "date", "envoyé le": "date", "enviado": "date", "enviado el": "date",
    "fecha": "date", "дата": "date", "отправлено": "date", "skickat": "date",
    "sendt": "date", "data": "date", "inviato": "date", "verzonden": "date",
    "received": "date",
    # subject
    "subject": "subject", "betreff": "subject", "objet": "subject", "sujet": "subject",
    "asunto": "subject", "тема": "subject", "ämne": "subject", "onderwerp": "subject",
    "emne": "subject", "oggetto": "subject", "assunto": "subject",
}  # fmt: skip
"""Field labels as clients print them (casefolded) -> the header they stand for."""

MAX_BLOCK_LINES = 20
MAX_WRAPPED = 3
"""Lines an address may be wrapped over (after its label's line)."""

_QUOTE = re.compile(r"^(?:[ \t]*>)+[ \t]?")
_LABEL_LINE = re.compile(
    r"^\*?([^\W\d_][\w .'-]{0,24}?)\*?[ \t\u00a0]*[:：]\*?(?:[ \t\u00a0]+|$)(.*)$"
)
_ADDR = r"[^\s<>()\[\]\"',;:@]+@[^\s<>()\[\]\"',;:@]+\.[^\s<>()\[\]\"',;:@]+"
_MAILTO = re.compile(rf"mailto:({_ADDR})", re.IGNORECASE)
_ANGLE = re.compile(rf"<\s*({_ADDR})\s*>")
_BRACKET = re.compile(rf"[\[(]\s*({_ADDR})\s*[\])]")
_BARE = re.compile(_ADDR)
_TRIM_NAME = " \t\"'<>[],;:*"


@dataclass(slots=True)
class HeaderBlock:
    fields: dict[str, str] = field(default_factory=dict)
    """"from", "to", "cc", "date", "subject" ... -> the value as shown."""
    start: int = 0
    end: int = 0
    """Line numbers: the block is lines[start:end]; the body follows."""
    quoted: bool = False


def _unquote(line: str) -> tuple[str, bool]:
    stripped = _QUOTE.sub("", line, count=1)
    return stripped.replace("\u00a0", " ").strip(), stripped != line


def _label(line: str) -> tuple[str, str] | None:
    """(header, value) for a known "label: value" line, else None."""
    match = _LABEL_LINE.match(line)
    if match is None:
        return None
    name = " ".join(match.group(1).replace("*", " ").split()).casefold()
    header = LABELS.get(name)
    return (header, match.group(2).strip().strip("*").strip()) if header else None


def _unknown_label(line: str) -> bool:
    """A "Label: value" line of a field we do not read (Importance:, Attachments:)."""
    return _LABEL_LINE.match(line) is not None and _label(line) is None


def _continues(header: str, value: str, line: str) -> bool:
    """Whether `line` carries on a wrapped address value."""
    if header not in ("from", "to", "cc", "bcc", "reply-to") or _label(line) is not None:
        return False
    if value.count("<") > value.count(">") or value.count("[") > value.count("]"):
        return True
    return line.startswith(("<", "[", "(")) or bool(_BARE.search(line))


def _read_block(lines: list[str], start: int) -> HeaderBlock | None:
    block = HeaderBlock(start=start)
    last: str | None = None
    wrapped = 0
    n = start
    quoted_any = False
    while n < len(lines) and n - start < MAX_BLOCK_LINES:
        text, quoted = _unquote(lines[n])
        if not text:
            if block.fields:
                break
            n += 1
            continue
        found = _label(text)
        if found is not None:
            header, value = found
            if header in block.fields:
                break  # a second block begins: this one is over
            block.fields[header] = value
            last, wrapped = header, 0
            quoted_any = quoted_any or quoted
        elif (
            last is not None
            and wrapped < MAX_WRAPPED
            and _continues(last, block.fields[last], text)
        ):
            joiner = "" if block.fields[last].endswith(("<", "[")) else " "
            block.fields[last] = (block.fields[last] + joiner + text).strip()
            wrapped += 1
        elif last is not None and _unknown_label(text):
            last = None
        else:
            break
        n += 1
    block.end = n
    block.quoted = quoted_any
    others = {"date", "subject", "to"} & set(block.fields)
    return block if "from" in block.fields and others else None


def find_header_block(text: str) -> tuple[HeaderBlock, list[str]] | None:
    """The first forwarded header block in `text` and the text's lines, or None."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for n, line in enumerate(lines):
        if _label(_unquote(line)[0]) is None:
            continue
        if n and _label(_unquote(lines[n - 1])[0]) is not None:
            continue  # not the first line of a block: tried from there already
        block = _read_block(lines, n)
        if block is not None:
            return block, lines
    return None


def body_after(block: HeaderBlock, lines: list[str]) -> str:
    """The forwarded message's text: the lines after its header block, unquoted once
    when the block was quoted."""
    rest = lines[block.end :]
    if block.quoted:
        rest = [_QUOTE.sub("", line, count=1) for line in rest]
    return "\n".join(rest).strip("\n").strip()


def read_address(value: str) -> Address:
    """The address a shown header value names, with its display name; Address("", name)
    when it names a person without an address."""
    value = " ".join(value.split())
    email = ""
    for pattern in (_MAILTO, _ANGLE, _BRACKET):
        match = pattern.search(value)
        if match:
            email = match.group(1)
            break
    else:
        bare = _BARE.search(value)
        if bare:
            email = bare.group(0)
    if not email:
        return Address("", value.strip(_TRIM_NAME))
    checked = parse_address(f"<{email}>").email
    cut = min(
        (i for i in (value.find("<"), value.find("["), value.find(email)) if i >= 0),
        default=len(value),
    )
    name = value[:cut].strip(_TRIM_NAME)
    return Address(checked, "" if "@" in name else name)


def read_addresses(value: str) -> tuple[Address, ...]:
    """Every address a shown recipients value names, in order (names without an
    address are left out)."""
    found: list[Address] = []
    for part in re.split(r"[;]|,(?=[^<>]*(?:<|$))(?![^<]*>)", value):
        address = read_address(part)
        if address.email and address.email not in {a.email for a in found}:
            found.append(address)
    return tuple(found)
