"""Explanation evidence as (label, value) rows in plain words, for the Why? screen.

`evidence_rows` is what every user reads: no rule numbers, thread ids or
reason codes. `support_rows` keeps those for support, shown folded under
"Details for support".
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from loggbok.protocol import types as t
from loggbok.tui.data.text import format_date

DETAIL_LABELS: dict[str, str] = {
    "answers": "Answers",
    "logging_address": "Logging address",
    "compared_with": "Subject compared with",
    "compared_subject": "Compared subject",
    "compared_message_id": "Compared message",
    "log_flag": "Log flag",
    "forwarding": "Forwarding address",
    "original_from": "Original sender",
    "attachment_pending_scan": "Attachment waiting for a scan",
    "scan_pending_since": "Waiting for a scan since",
    "scan_replaced_at": "Real file arrived",
    "scan_gave_up_at": "Scan given up",
    "scan_attempts": "Fetch attempts",
    "thread_subjects": "Subjects in the thread",
}
"""Evidence detail keys the daemon sends, as labels."""

DATES = frozenset({"scan_pending_since", "scan_replaced_at", "scan_gave_up_at"})
HIDDEN = frozenset({"logging_address"})
"""Details said in the summary already (the logging address is in Settings)."""


def evidence_rows(
    expl: t.Explanation, contact_names: Mapping[int, str] | None = None
) -> list[tuple[str, str]]:
    """Rows for the evidence table; contacts by name where `contact_names` knows them."""
    names = contact_names or {}
    ev = expl.evidence
    rows: list[tuple[str, str]] = []
    if ev.thread_subject is not None:
        rows.append(("Thread's subject", f"“{ev.thread_subject}”"))
    if ev.subject is not None:
        rows.append(("This message's subject", f"“{ev.subject}”"))
    if ev.matched_message_id:
        via = f" (matched by {ev.matched_via})" if ev.matched_via else ""
        rows.append(("Answers", f"{ev.matched_message_id}{via}"))
    if ev.contact_ids:
        rows.append(("Contacts", ", ".join(names.get(c, "a contact") for c in ev.contact_ids)))
    if ev.never_logged:
        rows.append(("On the never-log list", ", ".join(ev.never_logged)))
    for key, value in ev.details.items():
        if key in HIDDEN or (key == "answers" and ev.matched_message_id):
            continue
        if key == "subject" and ev.subject is not None:
            continue
        shown = format_date(value) if key in DATES else listed(value)
        rows.append((DETAIL_LABELS.get(key, key.replace("_", " ").capitalize()), shown))
    rows.append(("Decided", format_date(expl.decided_at)))
    return rows


def listed(value: str) -> str:
    """A detail holding a JSON list of texts as “a”, “b”; anything else as it is."""
    if not value.startswith("["):
        return value
    try:
        items = json.loads(value)
    except ValueError:
        return value
    if not isinstance(items, list):
        return value
    return ", ".join(f"“{item}”" if isinstance(item, str) else str(item) for item in items)


def support_rows(expl: t.Explanation) -> list[tuple[str, str]]:
    """The codes support asks for: rule, reason code, thread, ids, the raw time."""
    ev = expl.evidence
    rows = [
        ("Rule", ev.rule),
        ("Reason code", expl.reason),
        ("Message", f"{expl.id} · {expl.message_id}"),
    ]
    if ev.thread_id is not None:
        rows.append(("Thread", str(ev.thread_id)))
    if ev.contact_ids:
        rows.append(("Contact ids", ", ".join(map(str, ev.contact_ids))))
    rows.append(("Decided at (UTC)", expl.decided_at))
    return rows
