"""Pure text helpers: dates, sizes, participants, attachment marks, quoted-history folding.

No I/O and no widgets, so each is tested on its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from loggbok.protocol import types as t
from loggbok.tui.data.files import shown_name

_QUOTE_HEADER = re.compile(
    r"^\s*(?:"
    r"On .{1,200} wrote:"
    r"|Den .{1,200} skrev .{0,200}:"
    r"|Am .{1,200} schrieb .{0,200}:"
    r"|Le .{1,200} a écrit ?:"
    r"|-{2,}\s*(?:Original Message|Ursprungligt meddelande|Forwarded message"
    r"|Vidarebefordrat meddelande|Ursprüngliche Nachricht)\s*-{2,}"
    r"|(?:From|Från|Von|De):\s.+"
    r"|_{10,}"
    r")\s*$",
    re.IGNORECASE,
)


_INLINE_ATTRIBUTION = re.compile(
    r"\s(?:On|Den|Am|Le)\s[^\n]{1,200}?\s(?:wrote|skrev|schrieb|a écrit)\b[^\n:]{0,80}:"
    r"|\s-{2,}\s*Original Message\s*-{2,}",
)


@dataclass(frozen=True)
class Folded:
    """A body split into the new text and the quoted history below it."""

    new_text: str
    quoted_lines: int


def fold_quoted(text: str) -> Folded:
    """Keep the text before the first quote marker; count the quoted lines after it.

    Lines starting with `>` that follow new text are quoted history, as is
    everything after an attribution line ("On … wrote:", "Från: …",
    "-----Original Message-----"). New text written below a quote is kept.
    """
    lines = text.replace("\r\n", "\n").split("\n")
    kept: list[str] = []
    quoted = 0
    in_attribution = False
    for line in lines:
        if in_attribution:
            quoted += 1
            continue
        if _QUOTE_HEADER.match(line):
            in_attribution = True
            quoted += 1
            continue
        if line.lstrip().startswith(">"):
            quoted += 1
            continue
        inline = _INLINE_ATTRIBUTION.search(line)
        if inline is not None:  # a one-line snippet with the attribution run in
            kept.append(line[: inline.start()])
            in_attribution = True
            quoted += 1
            continue
        kept.append(line)
    new = "\n".join(kept).strip()
    return Folded(re.sub(r"\n{3,}", "\n\n", new), quoted)


def parse_date(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def format_date(value: str) -> str:
    """An ISO date as local "YYYY-MM-DD HH:MM"; the raw text when it does not parse."""
    parsed = parse_date(value)
    if parsed is None:
        return value
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone()
    return parsed.strftime("%Y-%m-%d %H:%M")


def hanging(head: str, items: list[str], width: int, sep: str = ", ") -> str:
    """ "To:      a, b" packed into lines of `width`, later lines indented under the
    first item (an address is never split, nor wrapped to the left edge; one
    longer than a line is cut with "…")."""
    indent = " " * len(head)
    room = max(8, width - len(head))
    lines: list[str] = []
    line = ""
    for index, item in enumerate(items):
        piece = item + (sep.rstrip() if index < len(items) - 1 else "")
        piece = cut(piece, room)
        if line and len(line) + 1 + len(piece) > room:
            lines.append(line)
            line = piece
        else:
            line = f"{line} {piece}" if line else piece
    lines.append(line)
    return "\n".join((head if i == 0 else indent) + part for i, part in enumerate(lines))


def cut(value: str, chars: int) -> str:
    """`value` in at most `chars` characters, "…" marking a cut (for narrow columns)."""
    return value if len(value) <= chars else value[: max(0, chars - 1)] + "…"


def plural(count: int, word: str, words: str | None = None) -> str:
    """ "1 mailbox", "2 mailboxes", "0 contacts": the count with its noun in the right number.

    `words` is the plural when adding "s" (or "es" after s, x, ch, sh) is wrong."""
    if count == 1:
        return f"1 {word}"
    if words is None:
        words = word + ("es" if word.endswith(("s", "x", "ch", "sh")) else "s")
    return f"{count:,} {words}"


def format_size(size: int) -> str:
    """Sizes in binary units as mail clients show them: 52428800 is "50.0 MB"."""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover - loop always returns


def participant(p: t.Participant) -> str:
    return f"{p.name} <{p.email}>" if p.name else p.email


def participants(people: Iterable[t.Participant], limit: int | None = None) -> str:
    """Comma-separated; past `limit` people, "+N more"."""
    everyone = list(people)
    shown = everyone if limit is None else everyone[:limit]
    text = ", ".join(participant(p) for p in shown)
    rest = len(everyone) - len(shown)
    return f"{text} +{rest} more" if rest else text


def short_participant(p: t.Participant) -> str:
    return p.name or p.email


def attachment_mark(att: t.Attachment, limit_bytes: int | None = None) -> str:
    """ "name (size)" with the store's mark: not stored over the cap, pending scan,
    undecodable (the size is the encoded one), missing."""
    base = f"{shown_name(att.filename) or '(unnamed)'} ({format_size(att.size)})"
    if att.status == "over_limit":
        cap = format_size(limit_bytes) if limit_bytes else "the limit"
        cap = cap.replace(".0 ", " ")
        return f"{base} — not stored: over {cap}"
    if att.status == "pending_scan":
        return f"{base} — scan pending"
    if att.status == "undecodable":
        return f"{base} — not stored: its encoding is broken"
    if att.status == "missing":
        return f"{base} — not stored"
    return base


def direction_arrow(direction: str) -> str:
    return "→ sent" if direction == "outbound" else "← received"
