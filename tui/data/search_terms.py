"""The words of a search query (FTS5 syntax) as a pattern that finds them in a hit.

`terms("subject:offer \\"lager system\\" pump* NOT old")` gives the words the
user looks for (`offer`, `lager system`, `pump*`; operators, column names and
NOT'd words left out); `pattern` matches them case-insensitively, a `*` word
as a prefix. `window` moves a long snippet so the first match shows.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r'"([^"]*)"|(\S+)')
OPERATORS = frozenset({"AND", "OR", "NOT", "NEAR"})


def terms(query: str) -> list[str]:
    found: list[str] = []
    negate = False
    for phrase, word in _TOKEN.findall(query):
        if word in OPERATORS:
            negate = word == "NOT"
            continue
        value = phrase if phrase else word.partition(":")[2] if ":" in word else word
        value = value.strip("()^+-").strip()
        if value and not negate:
            found.append(value)
        negate = False
    return found


def pattern(words: list[str]) -> re.Pattern[str] | None:
    """A case-insensitive pattern for the words (longest first), None without any."""
    parts = []
    for word in sorted(set(words), key=len, reverse=True):
        prefix = word.endswith("*")
        core = re.escape(word.rstrip("*")).replace(r"\ ", r"\s+")
        if core:
            parts.append(rf"\b{core}\w*" if prefix else rf"\b{core}\b")
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None


def window(text: str, found: re.Pattern[str] | None, width: int, lead: int = 20) -> str:
    """`text` from a little before its first match when the match would not show."""
    match = found.search(text) if found is not None else None
    if match is None or match.end() <= width - 1:
        return text
    start = max(0, match.start() - lead)
    return "…" + text[start:].lstrip()
