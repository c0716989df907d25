"""Contact files read into plain records: vCard (2.1, 3.0, 4.0) and CSV exports.

Owns parsing only; storing the contacts is the store's job. `ContactsReader`
streams a file card by card (or row by row) in bounded memory: the file is
read through a decoder a line at a time, a line is kept up to `MAX_LINE_CHARS`
(the rest of a longer one, a photo say, is dropped), and at most `MAX_ERRORS`
error lines are kept (the rest are counted). It sniffs the format from the
content and the file extension, decodes UTF-8 (with or without BOM), UTF-16
with BOM, or cp1252 (when the file is not valid UTF-8), and never raises on bad
content: each card or row that cannot be used is counted in `skipped` and
described in `errors`. Opening raises `ValueError` only when the file cannot be
read (or is not a regular file, or is over `MAX_FILE_BYTES`) or is in no known
format. `parse_contacts_file` reads a whole file into an `ImportBatch`.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import quopri
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from types import TracebackType


@dataclass(frozen=True, slots=True)
class ImportedContact:
    name: str
    """The display name; the first address when the source names nobody."""
    emails: tuple[str, ...]
    """Lower-cased, valid, de-duplicated, in source order (the first is the primary)."""
    company: str | None


@dataclass(slots=True)
class ImportBatch:
    format: str
    """"vcard" or "csv"."""
    contacts: list[ImportedContact] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    """One line each: where (line or card number) and what was wrong."""
    skipped: int = 0
    """Cards or rows that produced no contact."""


_LOCAL_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-\u0080-\uffff]+"
_DOMAIN_LABEL = (
    r"[A-Za-z0-9\u0080-\uffff](?:[A-Za-z0-9\-\u0080-\uffff]{0,61}[A-Za-z0-9\u0080-\uffff])?"
)
_ADDR_SPEC = re.compile(
    rf"{_LOCAL_ATOM}(?:\.{_LOCAL_ATOM})*@{_DOMAIN_LABEL}(?:\.{_DOMAIN_LABEL})+",
)


def normalise_email(value: str) -> str | None:
    """The lower-cased addr-spec in `value` ("a@b.se", "mailto:a@b.se", "Ann <a@b.se>"), or None."""
    text = value.strip()
    if "<" in text:
        text = parseaddr(text)[1]
    if text.lower().startswith("mailto:"):
        text = text[7:]
    text = text.strip().lower()
    if len(text) > 254 or _ADDR_SPEC.fullmatch(text) is None:
        return None
    return text


MAX_FILE_BYTES = 256 * 1024 * 1024
"""Far above any address book export (100,000 cards are ~30 MB); a path to a
device, a pipe or a huge file by mistake is refused before it is read."""


MAX_LINE_CHARS = 1024 * 1024
"""A (logical) line is kept up to this many characters; the rest is dropped."""
MAX_ERRORS = 1000
"""Error lines kept per file; past this they are counted in one last line."""
_SNIFF_CHARS = 64 * 1024
_READ_CHUNK = 1024 * 1024


class ContactsReader:
    """An open contacts file, read a batch of contacts at a time (blocking: use a thread).

    `take(n)` returns the next `n` contacts ([] at the end); `errors`, `skipped`
    and `bytes_read` grow as the file is read. Close it (or use `with`).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.total_bytes = _check_regular_file(path)
        encoding = _encoding(path)
        try:
            with path.open("r", encoding=encoding, errors="replace", newline="") as head:
                prefix = head.read(_SNIFF_CHARS)
        except OSError as exc:
            raise ValueError(f"cannot read contacts file {path}: {exc.strerror or exc}") from exc
        kind = _sniff(prefix, path.suffix.lower())
        if kind is None:
            raise ValueError(
                f"unknown contacts file format: {path.name}"
                " (expected a vCard .vcf or a .csv export)"
            )
        self.format: str = kind
        self.skipped = 0
        self._errors: list[str] = []
        self._more_errors = 0
        self._binary = path.open("rb")
        self._text = io.TextIOWrapper(
            self._binary,
            encoding=encoding,
            errors="replace",
            newline=None if kind == "vcard" else "",
        )
        self._contacts: Iterator[ImportedContact]
        if len(prefix) < _SNIFF_CHARS and not prefix.strip():
            self.error("file is empty")
            self._contacts = iter(())
        elif kind == "vcard":
            self._contacts = _parse_vcards(_bounded_lines(self._text), self)
        else:
            self._contacts = _parse_csv(_bounded_lines(self._text), _sniff_delimiter(prefix), self)
        self._finished = False

    def take(self, count: int) -> list[ImportedContact]:
        """The next `count` contacts; fewer at the end of the file, [] after it."""
        contacts = list(itertools.islice(self._contacts, count))
        if len(contacts) < count:
            self._finished = True
        return contacts

    @property
    def bytes_read(self) -> int:
        """How far into the file parsing has got (the whole size once finished)."""
        if self._finished or self._binary.closed:
            return self.total_bytes
        return min(self._binary.tell(), self.total_bytes)

    @property
    def errors(self) -> list[str]:
        """The error lines so far, with one line counting those not kept."""
        if not self._more_errors:
            return list(self._errors)
        return [*self._errors, f"... and {self._more_errors:,} more errors"]

    def error(self, line: str) -> None:
        if len(self._errors) < MAX_ERRORS:
            self._errors.append(line)
        else:
            self._more_errors += 1

    def close(self) -> None:
        self._text.close()

    def __enter__(self) -> ContactsReader:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def parse_contacts_file(path: Path) -> ImportBatch:
    """Read a whole vCard or CSV contacts file; see the module docstring."""
    with ContactsReader(path) as reader:
        contacts: list[ImportedContact] = []
        while more := reader.take(10_000):
            contacts += more
        return ImportBatch(reader.format, contacts, reader.errors, reader.skipped)


def _check_regular_file(path: Path) -> int:
    """The size of `path`, a regular file of at most `MAX_FILE_BYTES`."""
    try:
        info = path.stat()
    except OSError as exc:
        raise ValueError(f"cannot read contacts file {path}: {exc.strerror or exc}") from exc
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(f"cannot read contacts file {path}: not a regular file")
    if info.st_size > MAX_FILE_BYTES:
        raise ValueError(f"cannot read contacts file {path}: larger than {MAX_FILE_BYTES:,} bytes")
    return info.st_size


def _encoding(path: Path) -> str:
    """UTF-8 (BOM skipped) or UTF-16 by their BOM; else UTF-8 when the whole file
    decodes as UTF-8 (checked in one pass, a chunk at a time), else cp1252."""
    try:
        with path.open("rb") as file:
            head = file.read(4)
            if head.startswith(codecs.BOM_UTF8):
                return "utf-8-sig"
            if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                return "utf-16"
            file.seek(0)
            decoder = codecs.getincrementaldecoder("utf-8")()
            while chunk := file.read(_READ_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        # cp1252 leaves five bytes undefined; those become U+FFFD rather than an error.
        return "cp1252"
    except OSError as exc:
        raise ValueError(f"cannot read contacts file {path}: {exc.strerror or exc}") from exc
    return "utf-8"


def _bounded_lines(text: io.TextIOBase) -> Iterator[str]:
    """The file's lines with their endings, each cut at `MAX_LINE_CHARS` (the rest
    of a longer line is read and dropped, so memory stays bounded)."""
    while line := text.readline(MAX_LINE_CHARS):
        if len(line) == MAX_LINE_CHARS and not line.endswith(("\n", "\r")):
            while (rest := text.readline(MAX_LINE_CHARS)) and not rest.endswith(("\n", "\r")):
                pass
            line += "\n"
        yield line


def _sniff(prefix: str, suffix: str) -> str | None:
    head = prefix.lstrip()[:200].upper()
    if head.startswith("BEGIN:VCARD"):
        return "vcard"
    if suffix in (".vcf", ".vcard"):
        return "vcard"
    if suffix in (".csv", ".tsv"):
        return "csv"
    first = prefix.lstrip().split("\n", 1)[0]
    if any(d in first for d in ",;\t") and ("mail" in first.lower() or "@" in first):
        return "csv"
    return None


# --- vCard ------------------------------------------------------------------------------

_QP_PARAM = re.compile(r"(?:^|;)\s*(?:ENCODING\s*=\s*)?QUOTED-PRINTABLE\s*(?:;|$)", re.I)


@dataclass(slots=True)
class _Card:
    number: int
    line: int
    fn: str = ""
    n: str = ""
    org: str = ""
    emails: list[str] = field(default_factory=list)
    bad: list[str] = field(default_factory=list)


def _logical_lines(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    """Unfold: a line starting with space/tab continues the previous one (RFC 6350
    3.2); a quoted-printable value ending in "=" continues on the next (vCard 2.1).
    Numbered as `str.splitlines` numbers the whole text; each kept up to
    `MAX_LINE_CHARS`."""
    pending: tuple[int, str] | None = None
    physical = (part for line in lines for part in line.splitlines())
    for number, line in enumerate(physical, start=1):
        if pending is not None:
            prev_no, prev = pending
            if line[:1] in (" ", "\t"):
                pending = (prev_no, (prev + line[1:])[:MAX_LINE_CHARS])
                continue
            name, _, _ = prev.partition(":")
            if prev.endswith("=") and _QP_PARAM.search(name):
                pending = (prev_no, (prev[:-1] + line)[:MAX_LINE_CHARS])
                continue
            yield pending
        pending = (number, line)
    if pending is not None:
        yield pending


def _split_property(line: str) -> tuple[str, str, str] | None:
    """(NAME, params, value) of a content line; the group prefix ("item1.") dropped."""
    index = line.find(":")
    if index < 0:
        return None
    if '"' in line[:index]:  # a quoted parameter value may hold ":"
        index = _colon_outside_quotes(line)
        if index < 0:
            return None
    head, value = line[:index], line[index + 1 :]
    name, _, params = head.partition(";")
    name = name.rpartition(".")[2].strip().upper()
    return (name, params, value) if name else None


def _colon_outside_quotes(line: str) -> int:
    in_quote = False
    for index, ch in enumerate(line):
        if ch == '"':
            in_quote = not in_quote
        elif ch == ":" and not in_quote:
            return index
    return -1


def _param(params: str, key: str) -> str:
    for part in params.split(";"):
        k, sep, v = part.partition("=")
        if sep and k.strip().upper() == key:
            return v.strip().strip('"')
    return ""


def _decode_value(params: str, value: str) -> str:
    if not _QP_PARAM.search(";" + params):
        return value
    data = quopri.decodestring(value.encode("ascii", errors="replace"))
    charset = _param(params, "CHARSET") or "utf-8"
    try:
        return data.decode(charset)
    except (LookupError, UnicodeDecodeError):
        return data.decode("cp1252", errors="replace")


def _split_components(value: str) -> list[str]:
    """Split on unescaped ";" and unescape each text component."""
    if "\\" not in value:
        return [part.strip() for part in value.split(";")]
    parts: list[str] = []
    current: list[str] = []
    escaped = False
    for ch in value:
        if escaped:
            current.append("\n" if ch in "nN" else ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == ";":
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    parts.append("".join(current).strip())
    return parts


def _text(value: str) -> str:
    """A name or company as text: without NULs (a NUL is no text; PostgreSQL's text
    refuses it), trimmed. An address holding one is invalid instead (`normalise_email`)."""
    return value.replace("\x00", "").strip()


def _name_from_n(n: str) -> str:
    parts = [*_split_components(n), "", "", "", "", ""]
    family, given, additional, prefix, suffix = parts[:5]
    return " ".join(p for p in (prefix, given, additional, family, suffix) if p)


def _parse_vcards(lines: Iterable[str], out: ContactsReader) -> Iterator[ImportedContact]:
    card: _Card | None = None
    count = 0
    for number, line in _logical_lines(lines):
        if not line.strip():
            continue
        prop = _split_property(line)
        if prop is None:
            if card is not None:
                out.error(f"card {card.number} (line {number}): unreadable line ignored")
            continue
        name, params, raw_value = prop
        value = raw_value.strip()
        if name == "BEGIN" and value.upper() == "VCARD":
            if card is not None:
                out.error(f"card {card.number} (line {card.line}): missing END:VCARD")
                if (contact := _finish_card(card, out)) is not None:
                    yield contact
            count += 1
            card = _Card(number=count, line=number)
        elif name == "END" and value.upper() == "VCARD":
            if card is not None and (contact := _finish_card(card, out)) is not None:
                yield contact
            card = None
        elif card is None:
            continue
        elif name == "FN":
            card.fn = _text(_split_components(_decode_value(params, value))[0])
        elif name == "N":
            card.n = _text(_decode_value(params, value))
        elif name == "ORG":
            card.org = _text(_split_components(_decode_value(params, value))[0])
        elif name == "EMAIL":
            address = _decode_value(params, value)
            email = normalise_email(address)
            if email is None:
                card.bad.append(address)
            elif email not in card.emails:
                card.emails.append(email)
    if card is not None:
        out.error(f"card {card.number} (line {card.line}): missing END:VCARD")
        if (contact := _finish_card(card, out)) is not None:
            yield contact
    if count == 0:
        out.error("no BEGIN:VCARD found")


def _finish_card(card: _Card, out: ContactsReader) -> ImportedContact | None:
    name = card.fn.strip() or _name_from_n(card.n)
    where = f"card {card.number} (line {card.line}{', ' + name if name else ''})"
    for bad in card.bad:
        out.error(f"{where}: invalid email address {bad!r} ignored")
    if not card.emails:
        out.error(f"{where}: no valid email address, skipped")
        out.skipped += 1
        return None
    company = card.org.strip() or None
    return ImportedContact(name or card.emails[0], tuple(card.emails), company)


# --- CSV --------------------------------------------------------------------------------

_NAME_KEYS = {"name", "fullname", "displayname", "contactname", "namn", "fulltnamn"}
_FIRST_KEYS = {"firstname", "givenname", "förnamn", "vorname", "first"}
_MIDDLE_KEYS = {"middlename", "additionalname"}
_LAST_KEYS = {"lastname", "familyname", "surname", "efternamn", "nachname", "last"}
_COMPANY_KEYS = {
    "company", "companyname", "organization", "organisation", "organization1name",
    "organizationname", "organisationname", "företag", "firma", "accountname", "org",
}  # fmt: skip
_EMAIL_SKIP = (
    "type", "label", "display", "kind", "mailing", "opt", "status", "domain", "bounce",
    "verified", "consent", "subscri",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Columns:
    name: int | None
    first: int | None
    middle: int | None
    last: int | None
    company: int | None
    emails: tuple[int, ...]


def _key(header: str) -> str:
    return re.sub(r"[^\w]", "", header.strip().lstrip("\ufeff").casefold().replace("_", ""))


def _is_email_header(key: str) -> bool:
    mail = "mail" in key or "epost" in key
    return mail and not any(word in key for word in _EMAIL_SKIP)


def _header_columns(row: list[str]) -> _Columns | None:
    keys = [_key(cell) for cell in row]

    def find(options: set[str]) -> int | None:
        return next((i for i, k in enumerate(keys) if k in options), None)

    emails = tuple(i for i, k in enumerate(keys) if _is_email_header(k))
    if not emails:
        return None
    return _Columns(
        find(_NAME_KEYS), find(_FIRST_KEYS), find(_MIDDLE_KEYS), find(_LAST_KEYS),
        find(_COMPANY_KEYS), emails,
    )  # fmt: skip


def _sniff_delimiter(prefix: str) -> str:
    first = prefix.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def _cell(row: list[str], index: int | None) -> str:
    if index is None or index >= len(row):
        return ""
    return row[index].strip()


def _parse_csv(
    lines: Iterable[str], delimiter: str, out: ContactsReader
) -> Iterator[ImportedContact]:
    reader = csv.reader(lines, delimiter=delimiter)
    columns: _Columns | None = None
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if columns is None:
                columns = _header_columns(row)
                if columns is not None:
                    continue
                if not any(normalise_email(cell) for cell in row):
                    out.error(
                        f"line {line}: no email column found in the header {row!r}; "
                        "nothing imported"
                    )
                    out.skipped += sum(1 for r in reader if any(c.strip() for c in r))
                    return
                columns = _headerless_columns(row)
            if (contact := _csv_row(row, line, columns, out)) is not None:
                yield contact
    except csv.Error as exc:
        out.error(f"line {reader.line_num}: unreadable CSV ({exc}); stopped there")


def _headerless_columns(row: list[str]) -> _Columns:
    """ "name,email" without a header: the email cells, and the first other cell as name."""
    emails = tuple(i for i, cell in enumerate(row) if normalise_email(cell))
    name = next((i for i, cell in enumerate(row) if i not in emails and cell.strip()), None)
    return _Columns(name, None, None, None, None, emails)


def _csv_row(
    row: list[str], line: int, columns: _Columns, out: ContactsReader
) -> ImportedContact | None:
    emails: list[str] = []
    for index in columns.emails:
        # Google packs several addresses in one cell: "a@x.se ::: b@y.se"; others use ";".
        for value in re.split(r":::|;", _cell(row, index)):
            if not value.strip():
                continue
            email = normalise_email(value)
            if email is None:
                out.error(f"line {line}: invalid email address {value.strip()!r}")
            elif email not in emails:
                emails.append(email)
    parts = (_cell(row, columns.first), _cell(row, columns.middle), _cell(row, columns.last))
    name = _text(_cell(row, columns.name)) or " ".join(p for p in map(_text, parts) if p)
    if not emails:
        out.error(
            f"line {line}{' (' + name + ')' if name else ''}: no valid email address, skipped"
        )
        out.skipped += 1
        return None
    company = _text(_cell(row, columns.company)) or None
    return ImportedContact(name or emails[0], tuple(emails), company)
