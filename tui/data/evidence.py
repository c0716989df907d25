"""Explanation evidence as (label, value) rows in plain words, for the Why? screen."""

from __future__ import annotations

from collections.abc import Mapping

from loggbok.protocol import types as t


def evidence_rows(
    expl: t.Explanation, contact_names: Mapping[int, str] | None = None
) -> list[tuple[str, str]]:
    """Rows for the evidence table; contacts by name where `contact_names` knows them."""
    names = contact_names or {}
    ev = expl.evidence
    rows: list[tuple[str, str]] = [("Rule", ev.rule)]
    if ev.thread_subject is not None:
        rows.append(("Thread's subject", f"“{ev.thread_subject}”"))
    if ev.subject is not None:
        rows.append(("This message's subject", f"“{ev.subject}”"))
    if ev.matched_message_id:
        via = f" (matched by {ev.matched_via})" if ev.matched_via else ""
        rows.append(("Answers", f"{ev.matched_message_id}{via}"))
    if ev.thread_id is not None:
        rows.append(("Thread", str(ev.thread_id)))
    if ev.contact_ids:
        rows.append(("Contacts", ", ".join(names.get(c, f"#{c}") for c in ev.contact_ids)))
    if ev.never_logged:
        rows.append(("On the never-log list", ", ".join(ev.never_logged)))
    rows += [(key.replace("_", " ").capitalize(), value) for key, value in ev.details.items()]
    rows.append(("Decided at", expl.decided_at))
    return rows
