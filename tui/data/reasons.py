"""Reason codes as short human labels, for group headings and table cells."""

from __future__ import annotations

from collections.abc import Mapping

LABELS: dict[str, str] = {
    "sent_from_crm": "Sent from loggbok",
    "bcc_address": "Logging address in Bcc",
    "log_flag": "Logged with the log flag",
    "log_flag_off": "Log flag off",
    "reply_in_tracked_thread": "Reply in a tracked thread",
    "contact_email": "Email with a contact",
    "manual": "Logged by hand",
    "manual_unlog": "Taken off by hand",
    "forwarded_to_log": "Forwarded to log",
    "forward_unparsed": "Forward could not be read",
    "team_inbox": "Team inbox",
    "subject_changed": "Subject line changed",
    "not_in_tracked_thread": "Not in a tracked thread",
    "no_contact_participant": "No contact takes part",
    "never_log": "On the never-log list",
    "auto_reply": "Automatic reply",
    "bounce": "Bounce",
    "bulk": "Bulk or list mail",
    "calendar": "Calendar invitation",
    "internal_only": "Internal only",
    "seat_cannot_log": "Seat may not log",
    "mailbox_unavailable": "Mailbox unavailable",
    "parse_error": "Could not be read",
    "attachment_pending_scan": "Attachment pending a security scan",
    "provider_mismatch": "Provider does not fit the domain",
}

FIX_LABELS: dict[str, str] = {
    "log_manually": "Log manually",
    "add_contact": "Add sender as contact",
    "reconnect_mailbox": "Reconnect mailbox",
}


def label(reason: str, details: Mapping[str, str] | None = None) -> str:
    """The reason's label; a reply in an untracked thread (its details name the
    message it answers) is told apart from a new email."""
    if reason == "not_in_tracked_thread" and details and details.get("answers"):
        return "Reply in a thread that is not tracked"
    return LABELS.get(reason, reason.replace("_", " ").capitalize())
