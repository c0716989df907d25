"""Message-ID, In-Reply-To and References values, as comparable keys.

Owns the normal form threading matches on: no angle brackets, no whitespace,
lower-cased. Garbage between ids, comments, folding inside an id and ids
without brackets are all tolerated.
"""

from __future__ import annotations

import re

_BRACKETED = re.compile(r"<([^<>]*)>")
_COMMENT = re.compile(r"\([^()]*\)")
_SPACES = re.compile(r"\s+")
_SEPARATORS = re.compile(r"[\s,;]+")
_MAX_IDS = 1000


def normalise_id(raw: str) -> str:
    """One id as a key: "<AbC@x>" -> "abc@x"."""
    return _SPACES.sub("", raw).strip("<>").lower()


def _ids_in_order(value: str) -> list[str]:
    """Ids as written (case kept), in header order."""
    found = [_SPACES.sub("", m) for m in _BRACKETED.findall(value)]
    found = [token for token in found if token]
    if not found:
        bare = _COMMENT.sub(" ", value)
        found = [t.strip("<>") for t in _SEPARATORS.split(bare) if "@" in t.strip("<>")]
    return found[:_MAX_IDS]


def parse_id_list(value: str) -> tuple[str, ...]:
    """Every id in an In-Reply-To or References value, as keys, duplicates removed."""
    keys: dict[str, None] = {}
    for token in _ids_in_order(value):
        key = normalise_id(token)
        if key:
            keys.setdefault(key, None)
    return tuple(keys)


def parse_message_id(value: str) -> tuple[str, str]:
    """(key, display form with angle brackets) of a Message-ID value; ("", "") when empty."""
    ids = _ids_in_order(value)
    if ids:
        written = ids[0]
    else:
        # An id without "@" or brackets is still the sender's id for this message.
        words = _SEPARATORS.split(_COMMENT.sub(" ", value).strip().strip("<>").strip())
        written = words[0] if words else ""
    key = normalise_id(written)
    if not key:
        return "", ""
    return key, f"<{_SPACES.sub('', written).strip('<>')}>"
