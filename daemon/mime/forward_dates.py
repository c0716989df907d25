"""Dates as mail clients print them in a forwarded block, read in many languages.

Owns `read_shown_date`. A forward block shows the original's date the way the
forwarding client prints it for its user: "Mon, Jan 8, 2024 at 10:12 AM",
"Montag, 8. Januar 2024 10:12", "lundi 8 janvier 2024 10:12", "8 января 2024 г.
10:12", "08/01/2024 10:12 (GMT+01:00)", or an RFC 5322 date. A printed date
mostly carries no zone: it is the forwarding user's local time, so the zone of
the forward's own Date header stands in. A numeric day/month order that cannot
be told apart is read as the one that puts the original before (and nearest
to) the forward. Unreadable: None, never a guess at the date itself.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from .dates import parse_date

_MONTH_STEMS: tuple[tuple[str, ...], ...] = (
    ("jan", "ene", "янв"),
    ("feb", "fév", "fev", "фев"),
    ("mar", "mär", "mrz", "мар"),
    ("apr", "avr", "abr", "апр"),
    ("may", "mai", "maj", "мая", "май"),
    ("jun", "juin", "июн"),
    ("jul", "juil", "июл"),
    ("aug", "aoû", "aou", "ago", "авг"),
    ("sep", "set", "сен"),
    ("oct", "okt", "окт"),
    ("nov", "ноя"),
    ("dec", "dez", "déc", "dic", "дек"),
)
_ZONES = {
    "utc": 0, "gmt": 0, "z": 0, "wet": 0, "bst": 60, "cet": 60, "mez": 60, "cest": 120,
    "mesz": 120, "eet": 120, "eest": 180, "msk": 180, "est": -300, "edt": -240,
    "cst": -360, "cdt": -300, "mst": -420, "mdt": -360, "pst": -480, "pdt": -420,
}  # fmt: skip
_WORD = r"([^\W\d_]{3,12})\.?"
_DAY_MONTH_YEAR = re.compile(rf"(\d{{1,2}})\.?\s+(?:de\s+)?{_WORD},?\s+(?:de\s+)?(\d{{4}})")
_MONTH_DAY_YEAR = re.compile(rf"{_WORD}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})")
_ISO_DAY = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_NUMERIC_DAY = re.compile(r"(\d{1,2})[./](\d{1,2})[./](\d{4})")
_TIME = re.compile(r"(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?(?:\s*([ap])\.?\s?m\b\.?)?", re.IGNORECASE)
_OFFSET = re.compile(r"(?:\b(?:gmt|utc)\s*)?([+-])(\d{1,2})(?::?(\d{2}))?\b", re.IGNORECASE)
_NAMED_ZONE = re.compile(r"\b(" + "|".join(_ZONES) + r")\b", re.IGNORECASE)
_RFC_SHAPE = re.compile(r"\d{1,2}\s+[A-Za-z]{3}\s+\d{4}\s+\d{1,2}:\d{2}(?::\d{2})?\s+[+-]\d{4}")


def _month(word: str) -> int | None:
    word = word.casefold()
    for number, stems in enumerate(_MONTH_STEMS, start=1):
        if any(word.startswith(stem) for stem in stems):
            return number
    return None


def _days(text: str, before: datetime | None) -> list[tuple[int, int, int, int]]:
    """Candidate (year, month, day, end offset) readings of the calendar day in `text`."""
    for pattern, order in ((_DAY_MONTH_YEAR, "dmy"), (_MONTH_DAY_YEAR, "mdy")):
        for match in pattern.finditer(text):
            a, b, year = match.groups()
            day, word = (a, b) if order == "dmy" else (b, a)
            month = _month(word)
            if month is not None:
                return [(int(year), month, int(day), match.end())]
    iso = _ISO_DAY.search(text)
    if iso:
        return [(int(iso[1]), int(iso[2]), int(iso[3]), iso.end())]
    numeric = _NUMERIC_DAY.search(text)
    if numeric:
        first, second, year = int(numeric[1]), int(numeric[2]), int(numeric[3])
        end = numeric.end()
        readings = [(year, second, first, end), (year, first, second, end)]
        if before is not None and first <= 12 and second <= 12 and first != second:
            readings.sort(key=lambda r: _distance(r, before))
        return readings
    return []


def _distance(reading: tuple[int, int, int, int], before: datetime) -> float:
    try:
        when = datetime(reading[0], reading[1], reading[2], tzinfo=UTC)
    except ValueError:
        return float("inf")
    gap = (before - when).total_seconds()
    return gap if gap >= -86400 else float("inf")


def _offset_minutes(text: str) -> int | None:
    match = _OFFSET.search(text)
    if match:
        sign = -1 if match[1] == "-" else 1
        return sign * (int(match[2]) * 60 + int(match[3] or 0))
    named = _NAMED_ZONE.search(text)
    if named:
        return _ZONES[named[1].lower()]
    return None


def read_shown_date(
    text: str, default_offset_minutes: int = 0, forwarded_at: datetime | None = None
) -> tuple[str, float] | None:
    """(UTC ISO-8601, timestamp) of a date as a forward block shows it, or None."""
    text = " ".join(text.split())
    if not text:
        return None
    if _RFC_SHAPE.search(text):
        iso, ts = parse_date(text, [])
        if iso:
            return iso, ts
    for year, month, day, end in _days(text, forwarded_at):
        rest = text[end:]
        found = _TIME.search(rest)
        hour = minute = second = 0
        if found:
            hour, minute, second = int(found[1]), int(found[2]), int(found[3] or 0)
            meridiem = (found[4] or "").lower()
            if meridiem == "p" and hour < 12:
                hour += 12
            elif meridiem == "a" and hour == 12:
                hour = 0
            rest = rest[found.end() :]
        offset = _offset_minutes(rest)
        try:
            local = datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)
        except ValueError:
            continue
        when = local - timedelta(minutes=default_offset_minutes if offset is None else offset)
        if not 1970 <= when.year <= 9999:
            continue
        return when.isoformat(), float(int(when.timestamp()))
    return None
