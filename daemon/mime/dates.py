"""Date header values to UTC: an ISO-8601 string and a POSIX timestamp.

Owns date reading. RFC 5322 dates, their common corruptions (two-digit years,
missing zone, named zones, extra words) and stray ISO-8601 are read; anything
else gives ("", 0.0) and an error note.
"""

from __future__ import annotations

import email.utils
import re
from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MIN_YEAR = 1970
_MAX_YEAR = 9999
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")
_PAREN = re.compile(r"\([^()]*\)")
_CANONICAL = re.compile(
    r"\s*(?:[A-Za-z]{3},\s*)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})\s+"
    r"(\d{1,2}):(\d{2})(?::(\d{2}))?\s+([+-])(\d{2})(\d{2})(?:\s*\([^()]*\))?\s*"
)
"""The shape nearly every mail has ("Mon, 4 Mar 2024 10:12:00 +0100"), read directly."""
_MONTHS = {
    m: i
    for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun",
                           "jul", "aug", "sep", "oct", "nov", "dec"), 1)
}  # fmt: skip


def _from_canonical(value: str) -> datetime | None:
    match = _CANONICAL.fullmatch(value)
    if match is None:
        return None
    day, mon, year, hour, minute, second, sign, oh, om = match.groups()
    month = _MONTHS.get(mon.lower())
    if month is None:
        return None
    offset = (int(oh) * 3600 + int(om) * 60) * (-1 if sign == "-" else 1)
    try:
        naive = datetime(int(year), month, int(day), int(hour), int(minute), int(second or 0))
        return naive.replace(tzinfo=UTC) - timedelta(seconds=offset)
    except (ValueError, OverflowError):
        return None


def _from_rfc5322(value: str, errors: list[str]) -> datetime | None:
    try:
        parts = email.utils.parsedate_tz(_PAREN.sub(" ", value))
    except (ValueError, IndexError, TypeError, OverflowError):
        return None
    if parts is None:
        return None
    year, month, day, hour, minute, second = parts[:6]
    offset = parts[9]
    if offset is None:
        errors.append("date_without_zone")
        offset = 0
    try:
        naive = datetime(year, month, day, hour, minute, min(second, 59))
    except (ValueError, OverflowError):
        return None
    try:
        return naive.replace(tzinfo=UTC) - timedelta(seconds=offset)
    except OverflowError:
        return None


def _from_iso(value: str) -> datetime | None:
    match = _ISO.search(value)
    if match is None:
        return None
    try:
        parsed = datetime.fromisoformat(match.group(0).replace(" ", "T", 1))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_date(value: str, errors: list[str]) -> tuple[str, float]:
    """(UTC ISO-8601, timestamp) for a Date value; ("", 0.0) with a note when unreadable."""
    if not value.strip():
        errors.append("date_missing")
        return "", 0.0
    when = _from_canonical(value) or _from_rfc5322(value, errors) or _from_iso(value)
    if when is None:
        errors.append("date_unparseable")
        return "", 0.0
    if not _MIN_YEAR <= when.year <= _MAX_YEAR:
        errors.append("date_out_of_range")
        return "", 0.0
    when = when.replace(microsecond=0)
    return when.isoformat(), float(int((when - _EPOCH).total_seconds()))
