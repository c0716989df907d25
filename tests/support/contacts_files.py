"""Generated contacts files (vCard, CSV) of any size, for the import tests and bench."""

from __future__ import annotations

from pathlib import Path

_FIRST = ("Anna", "Erik", "Sofia", "Lukas", "Priya", "Tom", "Åsa", "Jürgen", "Maja", "Oliver")
_LAST = ("Berg", "Weber", "Öberg", "Bennett", "Schäfer", "Lind", "Nakamura", "Dahl", "Moreau")


def vcard_text(count: int, start: int = 0, note_chars: int = 0) -> str:
    """`count` vCard 3.0 cards (FN and one work address each, ~85 bytes a card, as a
    phone's export has them); addresses are unique, spread over 1,000 company domains.
    With `note_chars`, each card also has a NOTE of about that length, folded."""
    lines: list[str] = []
    note = _folded_note(note_chars) if note_chars else []
    for number in range(start, start + count):
        first, last = _FIRST[number % len(_FIRST)], _LAST[number // 10 % len(_LAST)]
        lines += (
            "BEGIN:VCARD",
            "VERSION:3.0",
            f"FN:{first} {last} {number}",
            f"EMAIL:c{number}@kund{number % 1000}.example",
            *note,
            "END:VCARD",
        )
    return "\r\n".join(lines) + "\r\n"


def _folded_note(chars: int) -> list[str]:
    text = ("Met at the fair; wants a demo of the new line. " * (chars // 47 + 1))[:chars]
    return ["NOTE:" + text[:70], *(" " + text[i : i + 74] for i in range(70, len(text), 74))]


def write_vcard(path: Path, count: int, note_chars: int = 0) -> Path:
    """Write a `count`-card vCard file in pieces (a large one is never held whole)."""
    with path.open("w", encoding="utf-8", newline="") as out:
        for start in range(0, count, 10_000):
            out.write(vcard_text(min(10_000, count - start), start, note_chars))
    return path
