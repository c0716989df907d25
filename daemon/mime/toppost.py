"""The top-posted reply, cut without the reply extractor: text above, quotes below.

Owns `top_posted_new_text`. Most replies are written above an attribution
("On ... wrote:", "Den ... skrev ...:") with nothing but ">" lines and blank
lines under it. For exactly that shape the answer of `email_reply_extractor`
(generation 5) is known without running it, and this module gives it at a
fraction of the cost:

- the scanner files every line from the attribution's successor down as one
  quoted fragment (blank lines join a quoted fragment; ">" lines are quoted),
  and the last unquoted line joins it too when it matches "On.*wrote:$";
- above that, no rule of the cleanup pass fires when no line above the last
  unquoted one is a quote, a "From:" line, a divider, a dashed rule, an
  attribution or the start of one, or mentions "wrote:";
- so the text is the lines above the quotes, each right-stripped, blank edges
  dropped, with the last line left out when the extractor takes it for an
  attribution.

Anything else, or any doubt (a "wrote:" collapse that would reach above the
quotes, a backslash the scanner would read as a template escape), returns None
and the caller runs the extractor. tests/unit/test_mime_fast.py holds the two
equal on a realistic corpus.
"""

from __future__ import annotations

import re

from email_reply_extractor import EXTRACTION_VERSION
from email_reply_extractor.extraction import is_attribution_line, is_quote_line

SUPPORTED_GENERATION = 5
"""The extractor generation whose behaviour this module reproduces; any other disables it."""

_ZERO_WIDTH = re.compile("[\ufeff\u200b\u200c\u200d\u2060]")

# A line above the quotes that some extractor rule could act on: a quote marker,
# a quote-header "From:", an attribution start (case-sensitive, as in the
# extractor) or a dashed rule the scanner splits at. Matched on "\n" + text, so
# that the literal first character lets the engine skip ahead.
_HEAD_LINE_DECLINE = re.compile(
    r"\n(?:[ \t]*(?:\.{2,}[ \t]*)?>"
    r"|[ \t]*(?:From:|发件人)"
    r"|[ \t]*(?:(?:On|Am|Le|El|El día)\b|\d{4}(?:年|[/.-]))"
    r"| ?[_-]{7,})"
)
# An "Original/Forwarded message" divider, anywhere in a line.
_DIVIDER = re.compile(
    r"--+[ \t]*(?:(?:original|forwarded)[ \t]+message|邮件原件|原始邮件)[ \t]*-{2,}",
    re.IGNORECASE,
)
_LAST_DECLINE = re.compile(r"[ \t]*(?:From:|发件人)| ?[_-]{7,}")


def _divider(text: str) -> bool:
    return "--" in text and _DIVIDER.search(text) is not None


_ATTRIBUTION_START = re.compile(r"^[ \t]*(?:(?:On|Am|Le|El|El día)\b|\d{4}(?:年|[/.-]))")
_ATTRIBUTION_END = re.compile(
    r"(?:wrote:|\bschrieb\b.*:|\ba écrit\s*:|\bescribió:|のメール:)[ \t]*$"
)
_SCANNER_QUOTE_HEADER = re.compile("On.*wrote:$")
_ON_SPACE = re.compile(r"On\s")


def _collapse_is_harmless(text: str) -> bool:
    """Whether the scanner's "On ... wrote:" collapse leaves the outcome alone.

    The scanner finds the last "On<space>" with a "wrote:" after it and deletes
    the newlines up to the first such "wrote:", using the match as a re.sub
    template. Harmless when that span has no backslash and either no newline or
    joins only quoted lines (and blank lines between them) into one quoted line.
    """
    last_wrote = text.rfind("wrote:")
    if last_wrote < 0:
        return True
    start = -1
    for match in _ON_SPACE.finditer(text, 0, last_wrote - 1):
        start = match.start()
    if start < 0:
        return True
    end = text.find("wrote:", start + 4) + 6
    span = text[start:end]
    if "\\" in span:
        return False
    if "\n" not in span:
        return True
    touched = text[text.rfind("\n", 0, start) + 1 : end].split("\n")
    return all(line[:1] == ">" or not line.strip() for line in touched) and touched[-1][:1] == ">"


def _plain_line(line: str) -> bool:
    """An unquoted line at or below the attribution that no cleanup rule acts on."""
    if is_quote_line(line) or _LAST_DECLINE.match(line) or _divider(line):
        return False
    return not (_ATTRIBUTION_START.match(line) and not _ATTRIBUTION_END.search(line))


def top_posted_new_text(body: str) -> str | None:
    """The extractor's stage-1 text for a top-posted reply, or None when not that shape.

    The shape: text, a last unquoted line (the attribution), then ">" lines and
    blank lines, with at most further unquoted lines that the extractor keeps
    as they are (flat histories: "Den ... skrev X:" above each quoted block).
    """
    if EXTRACTION_VERSION != SUPPORTED_GENERATION:
        return None
    if "\r" in body or _ZERO_WIDTH.search(body):
        return None  # the extractor would see lines that the marker check does not
    text = body
    first_quote = text.find("\n>")
    if first_quote < 0:
        return None
    head = text[:first_quote].split("\n")
    while head and not head[-1].strip():
        head.pop()
    if not head:
        return None
    final = head.pop()
    head_text = "\n" + "\n".join(head)
    if not _plain_line(final) or "wrote:" in head_text:
        return None
    if _HEAD_LINE_DECLINE.search(head_text) or _divider(head_text):
        return None
    if not _collapse_is_harmless(text):
        return None
    # The scanner, bottom-up: ">" lines are quoted, and so is every blank line
    # directly above them; other lines and blank lines stay.
    kept: list[str] = []
    inner = False
    below_is_quote = False
    for line in reversed(text[first_quote + 1 :].split("\n")):
        if line[:1] == ">":
            below_is_quote = True
        elif not line.strip():
            if not below_is_quote:
                kept.append(line)
        else:
            if not _plain_line(line) or is_attribution_line(line):
                return None
            if _SCANNER_QUOTE_HEADER.match(line):
                return None
            kept.append(line)
            inner = True
            below_is_quote = False
    kept.reverse()
    attribution = is_attribution_line(final)
    scanner_quoted = _SCANNER_QUOTE_HEADER.match(final) is not None
    if scanner_quoted and not attribution:
        return None  # the over-strip guard would count a line the text lost
    if attribution and inner:
        return None
    if not (attribution or scanner_quoted):
        head.append(final)
    lines = [line.rstrip() for line in head + kept]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)
