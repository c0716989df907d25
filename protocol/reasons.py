"""The reason codes a decision can carry, each with its meaning: part of the contract.

`Message.reason`, `TimelineEntry.reason`, `Explanation.reason` and the
`messages.list` filter carry one of these. They stay plain strings on the wire
(a client meeting a code newer than itself shows it as it is); the list is
published in the OpenRPC document (`rpc.discover`) as the `ReasonCode` schema.
Two codes mark something other than a message's decision: `provider_mismatch`
is a warning of `mailboxes.test`/`mailboxes.add` (`warning_codes`), and
`attachment_pending_scan` a note on a logged message's attachments in
`messages.explain` (its evidence details).
"""

from __future__ import annotations

REASON_CODES: dict[str, str] = {
    "sent_from_crm": "R1: sent from loggbok with logging on",
    "bcc_address": "R2/R7: sent by the user with the logging (BCC) address in Bcc, To or Cc",
    "log_flag": "R7: sent by the user with the header `X-Loggbok-Log: yes`",
    "log_flag_off": "R7: sent by the user with `X-Loggbok-Log: no`; not logged, whatever else",
    "reply_in_tracked_thread": "R3: a reply in a tracked thread that kept the subject line",
    "contact_email": "R5: an email with a contact (mode all_with_contacts)",
    "manual": "R9: logged by hand",
    "manual_unlog": "R9: taken off timelines by hand (messages.unlog, or its contact deleted);"
    " nothing logs it there again",
    "forwarded_to_log": "R8: forwarded by the user to the forwarding address; logged as the"
    " original it carries, on the original sender's contact",
    "forward_unparsed": "R8: forwarded to the forwarding address, but the original sender's"
    " address cannot be read; not logged, waits for review (`messages.list` by this reason)",
    "team_inbox": "R15: mail of a team mailbox (shared inbox, help desk): logged into its"
    " conversation, the sender's contact created when unknown; never-log lists do not apply",
    "subject_changed": "R4: a reply whose sender changed the subject line; not logged",
    "not_in_tracked_thread": "R5: a new email from a contact, no tracked thread; not logged",
    "no_contact_participant": "R6: no participant is a contact; not logged",
    "never_log": "R16: every contact on it is on a never-log list (the user's own or the"
    " team's for everyone); not logged",
    "auto_reply": "R17: an automatic reply; not logged",
    "bounce": "R17: a delivery failure report; not logged",
    "bulk": "R17: bulk or mailing-list mail; not logged",
    "calendar": "R17: a calendar invitation or response; not logged",
    "internal_only": "R17: only the user's own addresses and colleagues; not logged",
    "seat_cannot_log": "R12: the user's seat may not log",
    "mailbox_unavailable": "R13: the mailbox was unavailable",
    "parse_error": "the message could not be read; not logged yet",
    "attachment_pending_scan": "R11: an attachment was a security scanner's placeholder"
    " (Dynamic Delivery), fetched again until the real file replaced it (a note in"
    " messages.explain, beside the decision)",
    "provider_mismatch": "R14: the mailbox's provider does not fit its address's domain"
    " (a warning of mailboxes.test and mailboxes.add, naming the right provider)",
}
