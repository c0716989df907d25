"""The method and notification registry: every name on the wire, with its types.

`METHODS` maps a method name to its `Method` (params struct, result type and a
one-line summary); `NOTIFICATIONS` maps a notification name to its params
struct. The daemon dispatches by this table, the client types its calls by it,
and `openrpc.py` generates the published document from it.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from loggbok.protocol import types as t

P = TypeVar("P", bound=t.Params)
R = TypeVar("R")


@dataclass(frozen=True)
class Method(Generic[P, R]):
    """A method: `params` is a Params struct, or a tagged union of them (the
    `provider` variants of `mailboxes.add`), which msgspec decodes the same way."""

    name: str
    params: type[P]
    result: type[R]
    summary: str


def param_variants(params: Any) -> tuple[type[t.Params], ...]:
    """The structs a method's params may be: itself, or each variant of a tagged union."""
    return typing.get_args(params) or (params,)


@dataclass(frozen=True)
class Notification(Generic[R]):
    name: str
    params: type[R]
    summary: str


# daemon
HELLO = Method(
    "daemon.hello",
    t.HelloParams,
    t.HelloResult,
    "Handshake: protocol version, daemon version and capabilities.",
)
DISCOVER = Method(
    "rpc.discover",
    t.NoParams,
    dict[str, Any],
    "The OpenRPC document describing every method and notification.",
)
# settings
SETTINGS_GET = Method("settings.get", t.NoParams, t.Settings, "The user's logging settings.")
SETTINGS_SET = Method(
    "settings.set",
    t.SettingsSetParams,
    t.Settings,
    "Change the named settings; returns all settings.",
)
TEAM_SETTINGS_GET = Method(
    "team_settings.get",
    t.NoParams,
    t.TeamSettings,
    "The settings the whole team shares: the never-log list for everyone (R16).",
)
TEAM_SETTINGS_SET = Method(
    "team_settings.set",
    t.TeamSettingsSetParams,
    t.TeamSettings,
    "Change the team's settings (admins only, -32006 otherwise); returns all of them.",
)
# config file
CONFIG_STATUS = Method(
    "config.status",
    t.NoParams,
    t.ConfigStatus,
    "The config file as last read: its path, the settings and mailboxes it manages, its error.",
)
CONFIG_RELOAD = Method(
    "config.reload",
    t.NoParams,
    t.ConfigStatus,
    "Read the config file again now (as SIGHUP does); an invalid file changes nothing.",
)
# mailboxes
_MAILBOX_ADD_PARAMS = cast("type[t.MailboxAddParams]", t.MailboxAddParams)
MAILBOXES_ADD = Method[t.MailboxAddParams, t.MailboxAdded](
    "mailboxes.add",
    _MAILBOX_ADD_PARAMS,
    t.MailboxAdded,
    "Connect a mailbox (params by provider); secrets go to the keyring, never the database;"
    " the result carries the warnings `mailboxes.test` would give (R14 provider_mismatch).",
)
MAILBOXES_PROVIDERS = Method(
    "mailboxes.providers",
    t.NoParams,
    t.ProviderList,
    "The providers this daemon can connect, with the fields each one takes.",
)
MAILBOXES_LIST = Method(
    "mailboxes.list", t.NoParams, t.MailboxList, "Every connected mailbox with status and folders."
)
MAILBOXES_REMOVE = Method(
    "mailboxes.remove", t.IdParams, t.Ok, "Disconnect a mailbox; what it logged stays logged."
)
MAILBOXES_SYNC = Method(
    "mailboxes.sync", t.IdParams, t.SyncResult, "Sync a mailbox now; returns when done."
)
MAILBOXES_TEST = Method[t.MailboxAddParams, t.MailboxTestResult](
    "mailboxes.test",
    _MAILBOX_ADD_PARAMS,
    t.MailboxTestResult,
    "Check login and capabilities without saving anything.",
)
MAILBOXES_RECONNECT = Method(
    "mailboxes.reconnect",
    t.MailboxReconnectParams,
    t.Ok,
    "Retry a failing mailbox, optionally with a new password.",
)
MAILBOXES_SIGN_IN = Method(
    "mailboxes.sign_in",
    t.IdParams,
    t.SignInPrompt,
    "Start signing a mailbox in (a device code to enter in a browser); returns at once,"
    " the outcome follows as mailbox.status_changed. -32007 for providers without sign-in.",
)
MAILBOXES_UPDATE = Method(
    "mailboxes.update",
    t.MailboxUpdateParams,
    t.Mailbox,
    "Change a mailbox of yours: its kind (personal, or team: a shared inbox, R15) or who"
    " sees what it logs from now on (`visibility`); returns the mailbox.",
)
MAILBOXES_AUDIT = Method(
    "mailboxes.audit", t.IdParams, t.AuditResult, "Compare the server's messages with the store."
)
# contacts
CONTACTS_CREATE = Method("contacts.create", t.ContactCreateParams, t.Created, "Create a contact.")
CONTACTS_GET = Method("contacts.get", t.IdParams, t.Contact, "One contact.")
CONTACTS_LIST = Method(
    "contacts.list",
    t.ContactsListParams,
    t.ContactList,
    "Contacts matching a query, by last activity, paged by cursor.",
)
CONTACTS_UPDATE = Method(
    "contacts.update", t.ContactUpdateParams, t.Contact, "Change a contact's name or addresses."
)
CONTACTS_IMPORT = Method(
    "contacts.import",
    t.ContactsImportParams,
    t.ImportResult,
    "Import contacts from a vCard (.vcf) or CSV file.",
)
CONTACTS_DELETE = Method(
    "contacts.delete",
    t.IdParams,
    t.ContactDeleteResult,
    "Delete a contact: its timeline entries go, its addresses are freed, messages stay.",
)
CONTACTS_MERGE = Method(
    "contacts.merge",
    t.ContactMergeParams,
    t.Contact,
    "Merge a contact into another: entries and addresses move, duplicates collapse.",
)
# timeline
TIMELINE_GET = Method(
    "timeline.get",
    t.TimelineGetParams,
    t.Timeline,
    "A contact's logged emails, newest first, paged by `before`.",
)
# messages
MESSAGES_GET = Method("messages.get", t.MessageRefParams, t.Message, "One message, parsed.")
MESSAGES_HEADERS = Method(
    "messages.headers",
    t.MessageRefParams,
    t.MessageHeaders,
    "The raw header block exactly as received (a Bcc line only for the message's owner).",
)
MESSAGES_EXPLAIN = Method(
    "messages.explain",
    t.MessageRefParams,
    t.Explanation,
    "Why a message was or was not logged: rule, reason, evidence.",
)
MESSAGES_LOG = Method(
    "messages.log",
    t.MessagesLogParams,
    t.LogResult,
    "Log a message by hand onto chosen contacts (R9).",
)
MESSAGES_SEARCH = Method(
    "messages.search",
    t.MessagesSearchParams,
    t.SearchResult,
    "Full-text search over logged mail (SQLite FTS5 syntax): by relevance when at most"
    " 1,000 messages match, else the most recently stored matches, newest first.",
)
MESSAGES_LIST = Method(
    "messages.list",
    t.MessagesListParams,
    t.MessageList,
    "Recent messages, filtered by logged/reason/mailbox, newest first"
    " (reason `forward_unparsed`: forwards waiting for review).",
)
MESSAGES_RETRY = Method(
    "messages.retry",
    t.MessageRefParams,
    t.Message,
    "Fetch and parse a message again (quarantined, or kept by its headers only).",
)
MESSAGES_UNLOG = Method(
    "messages.unlog",
    t.MessagesUnlogParams,
    t.UnlogResult,
    "Take a message off timelines by hand (manual_unlog); nothing logs it there again.",
)
MESSAGES_REDECIDE = Method(
    "messages.redecide",
    t.MessagesRedecideParams,
    t.RedecideResult,
    "Decide stored messages again with today's contacts and settings (dry_run previews).",
)
MESSAGES_SET_VISIBILITY = Method(
    "messages.set_visibility",
    t.MessagesSetVisibilityParams,
    t.VisibilitySet,
    "Who may see one of your messages: everyone, your team, or you (its owner only).",
)
ATTACHMENTS_GET = Method(
    "attachments.get",
    t.AttachmentGetParams,
    t.AttachmentContent,
    "A stored attachment's content, base64, at most 16 MiB a call from `offset`;"
    " `next_offset` says where the next piece starts (null after the last).",
)
# users
USERS_ME = Method(
    "users.me", t.NoParams, t.User, "The member this daemon serves, with seat and team."
)
USERS_LIST = Method("users.list", t.NoParams, t.UserList, "Every member of the store (admin only).")
USERS_ADD = Method(
    "users.add", t.UsersAddParams, t.User, "Add a member with a seat and a team (admin only)."
)
USERS_UPDATE = Method(
    "users.update",
    t.UsersUpdateParams,
    t.User,
    "Change a member's name, seat, team, admin flag or activity (admin only).",
)
USERS_DEACTIVATE = Method(
    "users.deactivate",
    t.IdParams,
    t.User,
    "Deactivate a member: nothing of theirs is logged from then on (admin only).",
)
# conversations (R15)
CONVERSATIONS_LIST = Method(
    "conversations.list",
    t.ConversationsListParams,
    t.ConversationList,
    "A team mailbox's conversations (its threads), latest activity first, paged by `before`.",
)
CONVERSATIONS_GET = Method(
    "conversations.get",
    t.IdParams,
    t.ConversationDetail,
    "One conversation of a team mailbox: its messages, oldest first.",
)
# archive
ARCHIVE_EXPORT = Method(
    "archive.export",
    t.ArchiveExportParams,
    t.ArchivePage,
    "A page of logged mail with its timeline entries and contacts, oldest first;"
    " with `raw` the original bytes.",
)
ARCHIVE_IMPORT = Method(
    "archive.import",
    t.ArchiveImportParams,
    t.ArchiveImportResult,
    "Put exported mail on timelines: contacts matched by address or created,"
    " messages already stored only gain missing entries.",
)
ARCHIVE_BACKUP = Method(
    "archive.backup",
    t.ArchiveBackupParams,
    t.ArchiveBackupResult,
    "A consistent copy of the database (SQLite backup API) and the attachments into a folder;"
    " a PostgreSQL store is backed up with pg_dump instead (-32007, `data.command`).",
)

METHODS: dict[str, Method[Any, Any]] = {
    m.name: m
    for m in (
        HELLO,
        DISCOVER,
        SETTINGS_GET,
        SETTINGS_SET,
        TEAM_SETTINGS_GET,
        TEAM_SETTINGS_SET,
        CONFIG_STATUS,
        CONFIG_RELOAD,
        MAILBOXES_ADD,
        MAILBOXES_PROVIDERS,
        MAILBOXES_LIST,
        MAILBOXES_REMOVE,
        MAILBOXES_SYNC,
        MAILBOXES_TEST,
        MAILBOXES_RECONNECT,
        MAILBOXES_SIGN_IN,
        MAILBOXES_UPDATE,
        MAILBOXES_AUDIT,
        CONTACTS_CREATE,
        CONTACTS_GET,
        CONTACTS_LIST,
        CONTACTS_UPDATE,
        CONTACTS_IMPORT,
        CONTACTS_DELETE,
        CONTACTS_MERGE,
        TIMELINE_GET,
        MESSAGES_GET,
        MESSAGES_HEADERS,
        MESSAGES_EXPLAIN,
        MESSAGES_LOG,
        MESSAGES_SEARCH,
        MESSAGES_LIST,
        MESSAGES_RETRY,
        MESSAGES_UNLOG,
        MESSAGES_REDECIDE,
        MESSAGES_SET_VISIBILITY,
        ATTACHMENTS_GET,
        USERS_ME,
        USERS_LIST,
        USERS_ADD,
        USERS_UPDATE,
        USERS_DEACTIVATE,
        CONVERSATIONS_LIST,
        CONVERSATIONS_GET,
        ARCHIVE_EXPORT,
        ARCHIVE_IMPORT,
        ARCHIVE_BACKUP,
    )
}

TIMELINE_APPENDED = Notification(
    "timeline.appended", t.TimelineAppended, "A message was logged onto a contact's timeline."
)
TIMELINE_CHANGED = Notification(
    "timeline.changed",
    t.TimelineChanged,
    "Many entries were logged at once onto these contacts' timelines (a bulk sync batch,"
    " instead of one timeline.appended each), or entries were removed or moved (unlog,"
    " redecide, contact delete or merge); re-read what you show.",
)
MESSAGE_CHANGED = Notification(
    "message.changed",
    t.MessageChanged,
    "A stored message changed (R11: its real attachments replaced a scanner's placeholders);"
    " re-read it and the timelines it is on.",
)
MAILBOX_STATUS_CHANGED = Notification(
    "mailbox.status_changed", t.MailboxStatusChanged, "A mailbox's connection status changed."
)
SYNC_PROGRESS = Notification(
    "sync.progress", t.SyncProgress, "Progress of a running sync, per folder and phase."
)

CONTACTS_IMPORT_PROGRESS = Notification(
    "contacts.import_progress",
    t.ContactsImportProgress,
    "Progress of a running contacts.import, after each batch it wrote.",
)

CONFIG_CHANGED = Notification(
    "config.changed",
    t.ConfigStatus,
    "The config file was read again (at a change, SIGHUP or config.reload); error when invalid.",
)

NOTIFICATIONS: dict[str, Notification[Any]] = {
    n.name: n
    for n in (
        TIMELINE_APPENDED,
        TIMELINE_CHANGED,
        MESSAGE_CHANGED,
        MAILBOX_STATUS_CHANGED,
        SYNC_PROGRESS,
        CONTACTS_IMPORT_PROGRESS,
        CONFIG_CHANGED,
    )
}
