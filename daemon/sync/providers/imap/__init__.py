"""IMAP backend (stdlib imaplib on per-mailbox threads): ImapBackend and probe.

Modules, one job each: `responses` (reading and parsing server responses),
`folders` (names, modified UTF-7, INBOX/Sent roles), `connection` (one
blocking logged-in connection and error mapping), `idle` (push on its own
connection), `backend` (the Backend contract), `probe` (mailboxes.test).
"""

from loggbok.daemon.sync.providers.imap.backend import ImapBackend
from loggbok.daemon.sync.providers.imap.connection import ImapConnectError, ServerSettings
from loggbok.daemon.sync.providers.imap.probe import ProbeResult, ProbeWarning, probe

__all__ = [
    "ImapBackend",
    "ImapConnectError",
    "ProbeResult",
    "ProbeWarning",
    "ServerSettings",
    "probe",
]
