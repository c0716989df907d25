"""Security-scanner placeholders standing in for real attachments (R11).

Microsoft Defender for Office 365 "Safe Attachments" with Dynamic Delivery
delivers the body at once and swaps each attachment for a stand-in while the
real file is detonated; the real file replaces it minutes later under the same
Message-ID. Seen in the wild (Microsoft's Dynamics 365 support note KB 4522769,
Graph API clients): an attachment named "ATP Scan In Progress" (Graph) or
"ATP Scan in Progress.eml" (MIME), newer tenants "Safe Attachments Scan In
Progress"; a few hundred bytes to a few KB of text or HTML saying the scan is
running.

Mail that Safe Attachments scanned carries `X-MS-Exchange-AtpMessageProperties:
SA` (or `SA|SL`, Safe Links too): a hint that placeholders are to be expected,
kept as evidence (`atp_properties`), never taken as proof on its own.

The heuristic, kept deliberately narrow so a real attachment is never marked:
  1. the file name (any case, any extension) says "ATP scan in progress" or
     "Safe Attachment(s) scan in progress"; or
  2. the attachment is small (at most 16 KiB), textual (text/*, message/rfc822,
     .eml/.htm/.html/.txt) and its content says "ATP Scan In Progress", or
     mentions both "Dynamic Delivery" and a scan in progress.
"""

from __future__ import annotations

import re

MAX_PLACEHOLDER_BYTES = 16 * 1024

_NAME = re.compile(r"\b(?:atp|safe\s*attachments?)\s*scan\s*in\s*progress\b", re.IGNORECASE)
_BODY_STRONG = re.compile(
    rb"atp\s+scan\s+in\s+progress|safe\s+attachments?\s+scan\s+in\s+progress", re.IGNORECASE
)
_BODY_DYNAMIC = re.compile(rb"dynamic\s+delivery", re.IGNORECASE)
_BODY_SCANNING = re.compile(
    rb"scan(?:ning)?\s+(?:is\s+)?in\s+progress|being\s+scanned", re.IGNORECASE
)
_TEXTUAL_SUFFIXES = (".eml", ".htm", ".html", ".txt")
_ATP_HEADER = re.compile(
    rb"^x-ms-exchange-atpmessageproperties[ \t]*:[ \t]*(.*(?:\r?\n[ \t].*)*)",
    re.IGNORECASE | re.MULTILINE,
)


def atp_properties(raw_header: bytes) -> str | None:
    """The value of `X-MS-Exchange-AtpMessageProperties` (say "SA|SL"), None without one."""
    found = _ATP_HEADER.search(raw_header)
    if found is None:
        return None
    return " ".join(found.group(1).decode("ascii", "replace").split()) or None


def scanned_by_safe_attachments(properties: str | None) -> bool:
    """Whether those properties say Safe Attachments scanned the message ("SA")."""
    return properties is not None and "SA" in (p.strip().upper() for p in properties.split("|"))


def is_scan_placeholder(filename: str, content_type: str, payload: bytes) -> bool:
    """True when this attachment looks like a scanner's stand-in (see module docstring)."""
    if _NAME.search(filename):
        return True
    if len(payload) > MAX_PLACEHOLDER_BYTES:
        return False
    textual = content_type.startswith(("text/", "message/rfc822")) or filename.lower().endswith(
        _TEXTUAL_SUFFIXES
    )
    if not textual:
        return False
    if _BODY_STRONG.search(payload):
        return True
    return bool(_BODY_DYNAMIC.search(payload) and _BODY_SCANNING.search(payload))
