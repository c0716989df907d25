"""How one timeline entry or message summary looks: a few lines of styled `Content`.

Direction, date, subject; participants; the message's own text (the daemon's
`new_text`, quoted history and signature already removed; older daemons send
only a snippet, folded here with a heuristic); attachments with their marks.
"""

from __future__ import annotations

import re

from textual.content import Content

from loggbok.protocol import types as t
from loggbok.tui.data import text
from loggbok.tui.data.search_terms import window

NEW_TEXT_LINES = 3


def entry_content(
    entry: t.TimelineEntry, limit_bytes: int | None = None, width: int = 100
) -> Content:
    """The lines of one timeline entry."""
    own_text, quoted_lines = _own_text(entry)
    arrow_style = "$success" if entry.direction == "inbound" else "$accent"
    parts: list[Content] = [
        Content.assemble(
            (text.direction_arrow(entry.direction), f"bold {arrow_style}"),
            "  ",
            (text.format_date(entry.date), "$text-muted"),
            "  ",
            (entry.subject or "(no subject)", "bold"),
        ),
        Content.assemble(
            "  ",
            (text.participant(entry.from_), ""),
            (" → ", "$text-muted"),
            (text.participants([*entry.to, *entry.cc], limit=2) or "(no recipients)", ""),
        ),
    ]
    parts = [part.truncate(width, ellipsis=True) for part in parts]
    new_lines = [line for line in own_text.splitlines() if line.strip()]
    for line in new_lines[:NEW_TEXT_LINES]:
        clipped = line if len(line) <= width else line[: width - 1] + "…"
        parts.append(Content.assemble("  ", (clipped, "")))
    if len(new_lines) > NEW_TEXT_LINES:
        parts.append(Content.assemble(("  …", "$text-muted")))
    if quoted_lines:
        parts.append(
            Content.assemble(
                (f"  ┄ quoted history folded ({quoted_lines} lines)", "$text-muted italic")
            )
        )
    if entry.attachments:
        marks = [_attachment(a, limit_bytes) for a in entry.attachments]
        parts.append(Content.assemble("  ", *_join(marks, Content("  ·  "))))
    parts.append(Content(""))
    return Content("\n").join(parts)


def _own_text(entry: t.TimelineEntry) -> tuple[str, int]:
    """The entry's own text and how many quoted lines were cut from what was sent.

    The daemon's `new_text` (protocol 1.1) is used as it is; only when it is
    empty is the one-line snippet folded here.
    """
    if entry.new_text.strip():
        return entry.new_text.strip(), 0
    folded = text.fold_quoted(entry.snippet)
    return folded.new_text, folded.quoted_lines


def _attachment(att: t.Attachment, limit_bytes: int | None) -> Content:
    style = "" if att.status == "stored" else "$warning"
    return Content.assemble(("▪ ", "$text-muted"), (text.attachment_mark(att, limit_bytes), style))


def _join(items: list[Content], sep: Content) -> list[Content]:
    out: list[Content] = []
    for i, item in enumerate(items):
        if i:
            out.append(sep)
        out.append(item)
    return out


MATCH_STYLE = "bold reverse"
"""How a searched word shows in a hit."""


def summary_content(
    msg: t.MessageSummary, width: int = 100, found: re.Pattern[str] | None = None
) -> Content:
    """Two or three lines for a message summary (search hits, unlogged mail).

    Each line is cut to `width` with "…" (a long address never wraps to the
    left edge, so the lines stay aligned); with `found` (a search's words) the
    matches are marked, and a long snippet starts near its first match.
    """
    snippet = text.fold_quoted(msg.snippet).new_text.split("\n")[0]
    lines = [
        Content.assemble(
            (text.direction_arrow(msg.direction), "bold"),
            "  ",
            (text.format_date(msg.date), "$text-muted"),
            "  ",
            (msg.subject or "(no subject)", "bold"),
        ),
        Content.assemble(
            "  ",
            text.participant(msg.from_),
            (" → ", "$text-muted"),
            text.participants(msg.to, limit=2) or "(no recipients)",
        ),
    ]
    if snippet:
        shown = window(snippet, found, width - 2)
        lines.append(Content.assemble("  ", (shown, "$text-muted")))
    if found is not None:
        lines = [line.highlight_regex(found, style=MATCH_STYLE) for line in lines]
    return Content("\n").join(line.truncate(width, ellipsis=True) for line in lines)
