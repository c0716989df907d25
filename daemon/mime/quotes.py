"""New text: a body without its quoted history and the author's signature.

Owns `new_text`. Quoted lines, attributions ("On ... wrote:", "Den ... skrev"),
"Original Message" dividers and the quoted thread are removed by
`email_reply_extractor` (stage 1, which keeps text written between and below
quotes); the common top-posted reply takes a shortcut with the same result
(`toppost`). On top of that, a small rule set of our own, conservative on purpose:

- Outlook's localized header block ("Från: / Skickat: / Till: / Ämne:",
  "Von: / Gesendet: / An: / Betreff:" ...) starts the quoted original;
- a "-- " delimiter ends the text when only a short block follows it;
- mobile taglines ("Sent from my iPhone", "Skickat från min iPhone") go;
- a closing ("Med vänliga hälsningar", "Best regards", "Kind regards" ...)
  goes with the short name block after it, only when that block ends the text.

Text that is not clearly a signature is kept: losing a customer's words costs
more than showing a signature.
"""

from __future__ import annotations

import re

from email_reply_extractor import STATUS_FAILED, extract_new_text

from .toppost import top_posted_new_text

_MAX_SIGNATURE_LINES = 10
_MAX_SIGNATURE_LINE = 80

_HEADER_LABELS = {
    "from": ("from", "från", "von", "de", "van", "fra", "lähettäjä", "od", "da", "от", "发件人"),
    "sent": ("sent", "skickat", "gesendet", "envoyé", "enviado", "verzonden", "sendt", "date",
             "datum", "lähetetty", "wysłano", "inviato", "отправлено", "发送时间"),
    "to": ("to", "till", "an", "à", "para", "aan", "til", "vastaanottaja", "do", "a", "кому",
           "收件人"),
    "subject": ("subject", "ämne", "betreff", "objet", "asunto", "assunto", "onderwerp", "emne",
                "aihe", "temat", "oggetto", "тема", "主题"),
}  # fmt: skip
_LABEL_KIND = {label: kind for kind, labels in _HEADER_LABELS.items() for label in labels}
_HEADER_LINE = re.compile(r"^\s*\*?([^\W\d_]{1,20}|发件人|发送时间|收件人|主题)\*?\s*[:：]\s*\S")

_MOBILE = re.compile(
    r"^\s*(?:sent from my \w+(?: \w+)?|sent from (?:outlook|mail) for \w+|"
    r"get outlook for \w+|skickat från min \w+|skickat från (?:outlook|e-post) för \w+|"
    r"hämta outlook för \w+|von meinem \w+ gesendet|envoyé de mon \w+|"
    r"enviado desde mi \w+|verzonden vanaf mijn \w+|sendt fra min \w+|lähetetty \w+-laitteesta)"
    r"[.!]?\s*$",
    re.IGNORECASE,
)
_SIGNATURE_DELIMITER = re.compile(r"^--\s?$")
_CLOSING = re.compile(
    r"^\s*(?:(?:med )?(?:vänlig(?:a)?|bästa|varma) hälsning(?:ar)?|mvh|hälsningar|"
    r"(?:best|kind|warm|warmest|many thanks and|with kind|yours) regards|regards|best wishes|"
    r"best|cheers|sincerely|yours sincerely|yours truly|"
    r"mit freundlichen grüßen|mit freundlichen gruessen|viele grüße|beste grüße|mfg|lg|"
    r"cordialement|bien cordialement|met vriendelijke groet(?:en)?|"
    r"med venlig hilsen|venlig hilsen|med vennlig hilsen|vennlig hilsen|"
    r"ystävällisin terveisin|terveisin|saludos(?: cordiales)?|atentamente|cordiali saluti)"
    r"\s*[,.!]?\s*$",
    re.IGNORECASE,
)
_PROSE = re.compile(r"[?]\s*$|^\s*p\.?\s?s\b", re.IGNORECASE)
_MAX_SIGNATURE_WORDS = 8
_BLANK_RUNS = re.compile(r"\n\s*\n(?:\s*\n)+")


def _cut_outlook_header_block(lines: list[str]) -> list[str]:
    """Cut at a localized From/Sent/To/Subject block (three or more of the four)."""
    for i, line in enumerate(lines):
        match = _HEADER_LINE.match(line)
        if match is None or _LABEL_KIND.get(match.group(1).lower()) != "from":
            continue
        kinds = {"from"}
        for follower in lines[i + 1 : i + 7]:
            nxt = _HEADER_LINE.match(follower)
            if nxt is None:
                if follower.strip():
                    break
                continue
            kind = _LABEL_KIND.get(nxt.group(1).lower())
            if kind is None:
                break
            kinds.add(kind)
        if len(kinds) >= 3:
            return lines[:i]
    return lines


def _is_short_block(lines: list[str]) -> bool:
    """Looks like a name block: few short lines, no questions, no sentences, no P.S."""
    content = [line for line in lines if line.strip()]
    return len(content) <= _MAX_SIGNATURE_LINES and all(
        len(line.strip()) <= _MAX_SIGNATURE_LINE
        and len(line.split()) < _MAX_SIGNATURE_WORDS
        and not _PROSE.search(line)
        for line in content
    )


def _cut_signature_delimiter(lines: list[str]) -> list[str]:
    for i in range(len(lines) - 1, -1, -1):
        if _SIGNATURE_DELIMITER.match(lines[i]):
            return lines[:i] if _is_short_block(lines[i + 1 :]) else lines
    return lines


def _cut_closing(lines: list[str]) -> list[str]:
    """Drop a closing and the name block after it, when that block ends the text."""
    floor = max(0, len(lines) - _MAX_SIGNATURE_LINES - 2)
    for i in range(len(lines) - 1, floor - 1, -1):
        if _CLOSING.match(lines[i]):
            tail = lines[i + 1 :]
            if _is_short_block(tail) and any(line.strip() for line in lines[:i]):
                return lines[:i]
            return lines
    return lines


def strip_signature(text: str) -> str:
    """`text` without mobile taglines, a trailing "-- " block and a closing + name block."""
    lines = [line for line in text.split("\n") if not _MOBILE.match(line)]
    lines = _cut_outlook_header_block(lines)
    lines = _cut_signature_delimiter(lines)
    lines = _cut_closing(lines)
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()


_QUOTE_MARKERS = re.compile(
    r"^\s*>|wrote:|skrev:|schrieb:|a écrit|escribió|scrisse|schreef|kirjoitti|napisał"
    r"|-{3,}\s*\w[\w ]*message|^\s*_{10,}\s*$|^\s*\*?(from|från|von|de)\*?\s*:",
    re.IGNORECASE | re.MULTILINE,
)
# `_QUOTE_MARKERS` is slow on long bodies (case-insensitive alternatives tried at
# every position). It cannot match a body holding none of these characters and
# none of the letters-only words: every other character it could match is a
# plain ASCII letter under the regex engine's case folding (the test checks
# this against every code point), so `str.lower` finds the words.
_MARKER_CHARS = re.compile("[>:\u00e9\u00c9\u00f3\u00d3\u0142\u0141\u0130\u0131\u017f\u212a]")
_MARKER_WORDS = ("scrisse", "schreef", "kirjoitti")


def has_quote_marker(body: str) -> bool:
    """`_QUOTE_MARKERS.search(body)`, answered without the regex when it cannot match."""
    if (
        _MARKER_CHARS.search(body) is None
        and "---" not in body
        and "__________" not in body
        and not any(word in body.lower() for word in _MARKER_WORDS)
    ):
        return False
    return _QUOTE_MARKERS.search(body) is not None


def new_text(body: str, html: str | None, errors: list[str], *, fast: bool = True) -> str:
    """The author's new words in `body`; never raises.

    The extractor is the costly part of parsing a message (most of it, measured on
    10,000 realistic messages), so it runs only where there is something to take
    out: a body with no quote, attribution or forwarded-header marker is all new
    text. The HTML is handed over only when it is all there is (HTML-only mail).
    A plain top-posted reply skips the extractor (`toppost`; `fast=False` does not).
    """
    if not body.strip():
        return ""
    if fast and not html:
        top = top_posted_new_text(body)  # only where a line starts with ">": a marker
        if top is not None:
            return strip_signature(top)
    if not (has_quote_marker(body) if fast else _QUOTE_MARKERS.search(body)):
        return strip_signature(body.replace("\r\n", "\n"))
    result = extract_new_text(body, html_body=html or None)
    if result.status == STATUS_FAILED:
        errors.append("reply_extraction_failed")
        text = body.replace("\r\n", "\n")
    else:
        text = result.text
    return strip_signature(text)
