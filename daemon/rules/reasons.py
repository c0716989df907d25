"""Reason codes in plain words, and the action that fixes each unlogged case.

`explain(...)` turns a stored decision (reason + evidence details) into the
sentence the TUI and `messages.explain` show.
"""

from __future__ import annotations

from collections.abc import Mapping

_SUMMARIES: dict[str, str] = {
    "sent_from_crm": "Logged: sent from loggbok with logging on.",
    "bcc_address": "Logged: you sent it with your logging address ({bcc}) in Bcc, To or Cc; "
    "the thread is tracked from here.",
    "log_flag": "Logged: you sent it with the log flag on (X-Loggbok-Log: yes); the thread "
    "is tracked from here.",
    "reply_in_tracked_thread": "Logged: a reply in a tracked thread (it answers {matched}) "
    "that kept the subject line of {compared_message_id} ({compared_with}).",
    "contact_email": "Logged: an email exchanged with a contact (mode all_with_contacts).",
    "manual": "Logged by hand.",
    "manual_unlog": "Taken off by hand ({taken_off}{contact_deleted}); loggbok does not log it "
    "there again.",
    "forwarded_to_log": "Logged: you forwarded it to your forwarding address ({forwarding}); "
    "the original from {original_from} is on the timeline.",
    "forward_unparsed": "Not logged yet: you forwarded it to your forwarding address, but the "
    "original sender's address could not be read ({why}). Choose the contact by hand.",
    "team_inbox": "Logged: mail of a team mailbox (a shared inbox), in its conversation; "
    "never-log lists do not apply there{never_log_ignored_note}.",
    "subject_changed": "Not logged: the subject line changed from “{compared_subject}” "
    "({compared_with}, {compared_message_id}) to “{subject}”; this started a new thread.",
    "log_flag_off": "Not logged: you sent it with the log flag off (X-Loggbok-Log: no), "
    "which wins over the logging address and every other rule.",
    "not_in_tracked_thread": "Not logged: a new email from a contact, not a reply in a tracked "
    "thread (mode replies_only).",
    "no_contact_participant": "Not logged: none of the participants is a contact, and no "
    "contact is created for them.",
    "never_log": "Not logged: every contact on it is on a never-log list ({never_logged})"
    "{never_log_everyone_note}.",
    "auto_reply": "Not logged: an automatic reply (out-of-office or similar).",
    "bounce": "Not logged: a delivery failure report (bounce).",
    "bulk": "Not logged: bulk or mailing-list mail.",
    "calendar": "Not logged: a calendar invitation or response.",
    "internal_only": "Not logged: only your own addresses and colleagues take part.",
    "seat_cannot_log": "Not logged: your seat may not log email.",
    "mailbox_unavailable": "Not logged: the mailbox was unavailable.",
    "parse_error": "Not logged yet: the message could not be read ({error}).",
    "attachment_pending_scan": "An attachment was a security scanner's placeholder "
    "({placeholders}) and is fetched again until the real file replaces it.",
    "provider_mismatch": "Warning: the mailbox's provider does not fit its domain; "
    "use {suggested_provider}.",
}

_FIXES: dict[str, list[str]] = {
    "manual_unlog": ["log_manually"],
    "forward_unparsed": ["log_manually"],
    "subject_changed": ["log_manually"],
    "not_in_tracked_thread": ["log_manually"],
    "log_flag_off": ["log_manually"],
    "no_contact_participant": ["add_contact", "log_manually"],
    "never_log": ["log_manually"],
    "mailbox_unavailable": ["reconnect_mailbox"],
    "parse_error": ["log_manually"],
    "internal_only": ["log_manually"],
    "auto_reply": ["log_manually"],
    "bulk": ["log_manually"],
    "calendar": ["log_manually"],
    "bounce": ["log_manually"],
}


_UNTRACKED_REPLY = (
    "Not logged: a reply ({answers}) in a thread loggbok does not track: you did not send "
    "the first message with your logging address{logging_address} in Bcc, and the mode "
    "(replies_only) logs only replies in tracked threads. Log this message by hand; to "
    "track such a thread from the start, put the logging address in Bcc when you write first."
)
"""`not_in_tracked_thread` for a message that answers another (its details name it)."""


_SAME_MESSAGE = (
    "Logged: a reply in a tracked thread (it answers {matched}) that kept its subject line."
)
"""`reply_in_tracked_thread` when the subject was compared with the message it answers."""


_CHANGED_FROM_HIDDEN = (
    "Not logged: the subject line changed from that of {compared_message_id} "
    "({compared_with}) to “{subject}”; this started a new thread."
)
"""`subject_changed` when the subject compared with is a colleague's the reader may not see
(`store/explain_redact.py` leaves it out)."""


class _Missing(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "" if key in _OPTIONAL else "?"


_OPTIONAL = frozenset(
    {"taken_off", "contact_deleted", "never_log_ignored_note", "never_log_everyone_note"}
)
"""Details that only some decisions of a reason carry (empty when absent)."""


def _notes(details: Mapping[str, str]) -> dict[str, str]:
    """Clauses made of optional evidence (R15, R16)."""
    notes: dict[str, str] = {}
    if details.get("never_log_ignored"):
        notes["never_log_ignored_note"] = f" (logged all the same: {details['never_log_ignored']})"
    if details.get("never_log_everyone"):
        notes["never_log_everyone_note"] = (
            f"; the team's list for everyone holds {details['never_log_everyone']}"
        )
    return notes


def summary(reason: str, details: Mapping[str, str]) -> str:
    template = _SUMMARIES.get(reason, f"Decision: {reason}.")
    compared = details.get("compared_message_id", "")
    if (
        reason == "reply_in_tracked_thread"
        and compared.lower() == details.get("matched", "").lower()
    ):
        template = _SAME_MESSAGE
    if reason == "subject_changed" and "compared_subject" not in details:
        template = _CHANGED_FROM_HIDDEN
    if reason == "not_in_tracked_thread" and details.get("answers"):
        address = details.get("logging_address")
        details = {**details, "logging_address": f" ({address})" if address else ""}
        template = _UNTRACKED_REPLY
    return template.format_map(_Missing({**details, **_notes(details)}))


def scan_note(details: Mapping[str, str]) -> str:
    """R11's sentence after the decision's, from the rescan's evidence ("" without one)."""
    names = details.get("attachment_pending_scan")
    if not names:
        return ""
    head = (
        f"An attachment arrived as a security scanner's placeholder ({names}, Dynamic"
        f" Delivery) at {details.get('scan_pending_since', '?')}"
    )
    if "scan_replaced_at" in details:
        return f"{head}; the real file replaced it at {details['scan_replaced_at']}."
    if "scan_gave_up_at" in details:
        return f"{head}; no real file came in time ({details['scan_gave_up_at']}): not stored."
    return (
        f"{head}; it is fetched again until the real file replaces it"
        f" ({details.get('scan_attempts', '0')} attempts so far)."
    )


def fixes(reason: str, logged: bool) -> list[str]:
    return [] if logged else list(_FIXES.get(reason, []))
