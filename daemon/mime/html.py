"""HTML bodies rendered as readable text, with inscriptis (tables stay aligned).

Owns the HTML-to-text step. Input is capped before rendering so a hostile
body cannot make rendering slow; a renderer failure falls back to a crude
tag strip rather than losing the body.
"""

from __future__ import annotations

import html as html_entities
import re

from inscriptis import get_text

MAX_HTML_CHARS = 4 * 1024 * 1024
"""Longest HTML we hand to the renderer; longer markup is cut first."""

_TAGS = re.compile(r"<[^>]{0,10000}>")
_BLANK_RUNS = re.compile(r"\n[ \t]*(?:\n[ \t]*){2,}")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")


def _tidy(text: str) -> str:
    text = _TRAILING_SPACE.sub("\n", text)
    return _BLANK_RUNS.sub("\n\n", text).strip()


def html_to_text(markup: str, errors: list[str]) -> str:
    """Readable text for an HTML body; never raises."""
    if len(markup) > MAX_HTML_CHARS:
        errors.append("html_truncated")
        markup = markup[:MAX_HTML_CHARS]
    if not markup.strip():
        return ""
    try:
        rendered: str = get_text(markup)
    except Exception as exc:  # the renderer is third-party code: never let it drop a body
        errors.append(f"html_render_failed:{type(exc).__name__}")
        rendered = html_entities.unescape(_TAGS.sub(" ", markup))
    return _tidy(rendered)
