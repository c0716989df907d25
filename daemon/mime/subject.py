"""Subject normalisation: the key R3/R4 compare to decide "same subject line".

Strips stacked reply and forward prefixes in many languages ("Re:", "AW:",
"Sv:", "回复：", "Re[2]:", "RE :"...), list tags such as "[sales]" among them, a
trailing "(fwd)", collapses whitespace and casefolds. A prefix only counts when
followed by a colon, so "Return policy" and "Sverige" are left alone.
"""

from __future__ import annotations

import re
import unicodedata

_PREFIXES = (
    # English, and what most clients send whatever the language
    "re", "fw", "fwd",
    # German, Dutch, Scandinavian, Finnish, Estonian
    "aw", "wg", "antw", "antwort", "doorst", "sv", "vs", "vb", "vl", "vid", "fs",
    # French, Spanish, Portuguese, Italian
    "tr", "réf", "ref", "rv", "enc", "res", "rif", "r", "i",
    # Polish, Czech, Slovak, Hungarian, Turkish, Baltic
    "odp", "pd", "odg", "pr", "vá", "továbbítás", "ynt", "ilt", "i̇lt", "atb", "ats", "pārs",
    # Greek, Russian, Ukrainian, Hebrew, Arabic
    "απ", "σχετ", "πρθ", "отв", "ответ", "пересл", "відп", "השב", "הועבר", "رد", "تحويل",
    # Chinese, Japanese, Korean
    "答复", "回复", "转发", "轉寄", "回覆", "轉發", "答覆", "返信", "転送", "회신", "전달",
)  # fmt: skip

_PREFIX = (
    "(?:"
    + "|".join(sorted((re.escape(p) for p in _PREFIXES), key=len, reverse=True))
    + r")(?:\s*(?:\[\d{1,4}\]|\(\d{1,4}\)|\^\d{1,4}))?\s*:"
)
_TAG = r"\[[^\[\]]{0,100}\]"
_LEADING = re.compile(rf"\s*(?:{_PREFIX}|{_TAG})\s*", re.IGNORECASE)
_TRAILING_FWD = re.compile(r"\s*\((?:fwd|fw)\)\s*$", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")


def normalise_subject(subject: str) -> str:
    """The comparable form of a subject line: prefixes and tags gone, casefolded.

    "Re: [sales] Fwd: Offer  Q3" and "offer q3" normalise equal.
    """
    text = unicodedata.normalize("NFKC", _INVISIBLE.sub("", subject))
    pos = 0
    while True:
        match = _LEADING.match(text, pos)
        if match is None or match.end() == pos:
            break
        pos = match.end()
    text = _TRAILING_FWD.sub("", text[pos:])
    return _SPACES.sub(" ", text).strip().casefold()
