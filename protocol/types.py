"""Typed params, results and records for every method, as msgspec Structs.

Structs are grouped by aggregate: daemon, settings, mailboxes, contacts,
timeline, messages. Params may gain optional fields; fields never change
meaning (see `version.py`). Every struct forbids unknown fields so a typo in a
script is an `Invalid params` error rather than a silent no-op.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

LoggingMode = Literal["replies_only", "all_with_contacts"]
Visibility = Literal["everyone", "team", "owner"]
"""Who sees a logged email: every member, the owner's team, or its owner only."""
Seat = Literal["core", "sales", "service", "view_only"]
"""A member's seat: `view_only` may read what visibility allows and connect no mailbox."""
Provider = Literal["maildir", "imap", "gmail", "graph", "ews"]
MailboxKind = Literal["personal", "team"]
"""`team`: a shared inbox (help desk address), R15: every inbound email is logged into
a conversation, never-log lists do not apply (since 1.16)."""
Security = Literal["tls", "starttls", "none"]
AuthKind = Literal["password", "xoauth2"]
EwsAuth = Literal["ntlm", "basic", "oauth2"]
"""How an EWS mailbox signs in: NTLM or Basic with a password (on-premises), or
OAuth2 with a Microsoft sign-in (`mailboxes.sign_in`; Exchange Online)."""
Direction = Literal["inbound", "outbound"]
MailboxStatus = Literal["new", "syncing", "idle", "auth_failed", "disconnected", "error"]
AttachmentStatus = Literal["stored", "over_limit", "pending_scan", "missing", "undecodable"]

RowId = Annotated[int, msgspec.Meta(ge=1, le=2**63 - 1)]
"""An id the store gave out (a SQLite rowid): a number outside its range is
`Invalid params`, not a lookup."""
SearchText = Annotated[str, msgspec.Meta(max_length=1000)]
"""What a user types to find something; longer is `Invalid params` (SQLite
refuses LIKE patterns past 50,000 bytes)."""


class Params(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of every params struct."""


class Record(msgspec.Struct, kw_only=True):
    """Base of every result and record struct."""


# ---------------------------------------------------------------- common


class NoParams(Params):
    pass


class IdParams(Params):
    id: RowId


class MessageRefParams(Params):
    """A message by the store's `id` or by its `Message-ID` header (with <>)."""

    id: RowId | None = None
    message_id: str | None = None


class Created(Record):
    id: int


class Ok(Record):
    ok: bool = True


class Participant(Record):
    email: str
    name: str = ""


# ---------------------------------------------------------------- daemon


class HelloParams(Params):
    client: str = ""
    protocol_version: str = ""


class HelloResult(Record):
    protocol_version: str
    daemon_version: str
    capabilities: list[str]


# ---------------------------------------------------------------- settings


class Settings(Record):
    logging_mode: LoggingMode = "replies_only"
    bcc_address: str | None = None
    forwarding_address: str | None = None
    attachment_limit_bytes: int = 52_428_800
    body_limit_bytes: int = 2_097_152
    never_log: list[str] = msgspec.field(default_factory=list)
    own_addresses: list[str] = msgspec.field(default_factory=list)
    default_visibility: Visibility = "everyone"
    excluded_folders: list[str] = msgspec.field(default_factory=list)
    """Folders not synced, besides Junk, Trash and Drafts: names or patterns ("/"
    between levels, `*` and `?` as wildcards, case-insensitive; a folder's
    subfolders go with it). INBOX and Sent are always synced. Applied at the next
    round: an excluded folder's locations go, its messages stay."""


class TeamSettings(Record):
    """Settings the whole team shares (since 1.16). `never_log`: addresses and
    @domains nobody's mail is logged onto (R16, beside each member's own list);
    `can_edit`: whether the caller may change them (team admins only)."""

    never_log: list[str] = msgspec.field(default_factory=list)
    can_edit: bool = False


class TeamSettingsSetParams(Params):
    """Only the named team settings change (admin only); the result is all of them."""

    never_log: list[str] | UnsetType = UNSET


class SettingsSetParams(Params):
    """Only the named settings change; the result is the whole new settings."""

    logging_mode: LoggingMode | UnsetType = UNSET
    bcc_address: str | UnsetType | None = UNSET
    forwarding_address: str | UnsetType | None = UNSET
    attachment_limit_bytes: int | UnsetType = UNSET
    body_limit_bytes: int | UnsetType = UNSET
    never_log: list[str] | UnsetType = UNSET
    own_addresses: list[str] | UnsetType = UNSET
    default_visibility: Visibility | UnsetType = UNSET
    excluded_folders: list[str] | UnsetType = UNSET


# ---------------------------------------------------------------- users


class User(Record):
    """A member of the team on this store (since 1.20). `email` is null for the first
    user until a daemon serves it (`loggbokd --user`)."""

    id: int
    email: str | None
    name: str
    seat: Seat
    team: str | None = None
    admin: bool = False
    active: bool = True
    can_log: bool = True
    """False for a view-only seat or a deactivated user (R12: nothing of theirs is logged)."""


class UserList(Record):
    users: list[User]


class UsersAddParams(Params):
    """Add a member (admin only). `team` is a team's name, made when new."""

    email: str
    seat: Seat
    name: str = ""
    team: str | None = None


class UsersUpdateParams(Params):
    """Change a member (admin only): only the named fields; `team` null leaves the team;
    `active` true reactivates."""

    id: RowId
    name: str | UnsetType = UNSET
    seat: Seat | UnsetType = UNSET
    team: str | UnsetType | None = UNSET
    admin: bool | UnsetType = UNSET
    active: bool | UnsetType = UNSET


# ---------------------------------------------------------------- config file


class ConfigError(Record):
    """Why the config file was not applied, with the line it is about (1-based)."""

    message: str
    line: int | None = None


class ConfigStatus(Record):
    """The config file as the daemon last read it (`docs/config.md`).

    `settings` names the keys the file manages (a socket change to one of them is
    undone at the next reload); `mailboxes` the ids of the mailboxes it declares.
    With `error` set the file was not applied: everything stays as it was.
    """

    path: str
    exists: bool
    error: ConfigError | None = None
    loaded_at: str | None = None
    settings: list[str] = msgspec.field(default_factory=list)
    mailboxes: list[int] = msgspec.field(default_factory=list)


# ---------------------------------------------------------------- mailboxes


class _MailboxAddBase(Params, tag_field="provider", kw_only=True):
    """What every provider needs. The `provider` field names the variant (a
    tagged union: `MailboxAddParams`); each variant lists only its own fields,
    so a field of another provider is `Invalid params` naming that field."""

    address: Annotated[str, msgspec.Meta(title="Address", description="you@example.com")]
    display_name: Annotated[
        str,
        msgspec.Meta(
            title="Name shown for the mailbox",
            description="accepted and not used yet",
            extra={"form": False},
        ),
    ] = ""
    visibility: Annotated[
        Visibility | None,
        msgspec.Meta(
            title="Who sees what it logs",
            description="default: your default_visibility",
            extra={"form": False},
        ),
    ] = None
    """Who sees the email this mailbox logs (since 1.20); None: the user's
    `default_visibility` at the time each message is logged."""
    kind: Annotated[
        MailboxKind,
        msgspec.Meta(
            title="Kind",
            description="team: a shared inbox (help desk), every inbound email is logged",
            extra={"form_last": True},
        ),
    ] = "personal"
    """Since 1.16: `team` for a shared inbox (R15)."""


class MaildirAddParams(_MailboxAddBase, tag="maildir", kw_only=True):
    """A local Maildir++ tree (mbsync, offlineimap, a local delivery agent)."""

    path: Annotated[str, msgspec.Meta(title="Maildir path", description="~/Mail/work")]


AUTH_HINT = "password, or xoauth2 (with no password: sign in with a browser)"


class ImapAddParams(_MailboxAddBase, tag="imap", kw_only=True):
    """Any IMAP server. `port` defaults by `security` (993 for TLS, else 143);
    `password` is the password, or for `auth: xoauth2` a JSON token secret.
    `auth: xoauth2` without a password signs in with a browser
    (`mailboxes.sign_in`, an OAuth 2.0 authorization code with PKCE and a
    loopback redirect) at `auth_uri`/`token_uri` with the installed-app client
    `client_id`/`client_secret` (since 1.16)."""

    host: Annotated[str, msgspec.Meta(title="IMAP host", description="imap.example.com")]
    port: Annotated[int, msgspec.Meta(ge=1, le=65535, title="Port")] | None = None
    security: Annotated[Security, msgspec.Meta(title="Security")] = "tls"
    username: (
        Annotated[str, msgspec.Meta(title="User name", description="default: the address")] | None
    ) = None
    password: Annotated[str, msgspec.Meta(title="Password", extra={"secret": True})] | None = None
    auth: Annotated[AuthKind, msgspec.Meta(title="Sign-in", description=AUTH_HINT)] = "password"
    client_id: (
        Annotated[
            str,
            msgspec.Meta(
                title="OAuth client ID",
                description="sign-in: default: the daemon's",
                extra={"form": False},
            ),
        ]
        | None
    ) = None
    client_secret: (
        Annotated[str, msgspec.Meta(title="OAuth client secret", extra={"form": False})] | None
    ) = None
    auth_uri: (
        Annotated[str, msgspec.Meta(title="Authorization endpoint", extra={"form": False})] | None
    ) = None
    token_uri: (
        Annotated[str, msgspec.Meta(title="Token endpoint", extra={"form": False})] | None
    ) = None


class GmailAddParams(_MailboxAddBase, tag="gmail", kw_only=True):
    """Gmail and Google Workspace over IMAP: imap.gmail.com over TLS and the
    address as user name, unless told otherwise. With `auth: xoauth2` and no
    password you sign in with Google in a browser (`mailboxes.sign_in`); the
    client is Google's installed-app (Desktop app) OAuth client given here or
    the daemon's (`LOGGBOK_GOOGLE_CLIENT_FILE`), and the endpoints default to
    Google's (since 1.16)."""

    host: Annotated[str, msgspec.Meta(title="IMAP host")] = "imap.gmail.com"
    port: Annotated[int, msgspec.Meta(ge=1, le=65535, title="Port")] | None = None
    security: Annotated[Security, msgspec.Meta(title="Security")] = "tls"
    username: (
        Annotated[str, msgspec.Meta(title="User name", description="default: the address")] | None
    ) = None
    password: (
        Annotated[str, msgspec.Meta(title="App password or token", extra={"secret": True})] | None
    ) = None
    auth: Annotated[AuthKind, msgspec.Meta(title="Sign-in", description=AUTH_HINT)] = "password"
    client_id: (
        Annotated[
            str,
            msgspec.Meta(
                title="OAuth client ID",
                description="sign-in: default: the daemon's",
                extra={"form": False},
            ),
        ]
        | None
    ) = None
    client_secret: (
        Annotated[str, msgspec.Meta(title="OAuth client secret", extra={"form": False})] | None
    ) = None
    auth_uri: (
        Annotated[str, msgspec.Meta(title="Authorization endpoint", extra={"form": False})] | None
    ) = None
    token_uri: (
        Annotated[str, msgspec.Meta(title="Token endpoint", extra={"form": False})] | None
    ) = None


class GraphAddParams(_MailboxAddBase, tag="graph", kw_only=True):
    """Microsoft 365 (Exchange Online) through Microsoft Graph; you sign in with a
    code in a browser (`mailboxes.sign_in`) instead of giving a password.

    `client_id` is the Application (client) ID of an app registered in Microsoft
    Entra ID (public client flows on, delegated Mail.Read); without it the
    daemon's `LOGGBOK_GRAPH_CLIENT_ID` is used. `graph_url` and `authority` are
    for national clouds (US Government: https://graph.microsoft.us/v1.0 and
    https://login.microsoftonline.us/{tenant}; China:
    https://microsoftgraph.chinacloudapi.cn/v1.0 and
    https://login.chinacloudapi.cn/{tenant})."""

    client_id: (
        Annotated[
            str,
            msgspec.Meta(
                title="Application (client) ID",
                description="from your app registration; default: the daemon's",
            ),
        ]
        | None
    ) = None
    tenant: Annotated[
        str,
        msgspec.Meta(title="Tenant", description="organizations, a tenant id or domain"),
    ] = "organizations"
    graph_url: Annotated[
        str, msgspec.Meta(title="Graph URL", description="national clouds have their own")
    ] = "https://graph.microsoft.com/v1.0"
    authority: (
        Annotated[
            str,
            msgspec.Meta(
                title="Sign-in authority",
                description="default: https://login.microsoftonline.com/{tenant}",
            ),
        ]
        | None
    ) = None


class EwsAddParams(_MailboxAddBase, tag="ews", kw_only=True):
    """Exchange through Exchange Web Services: Exchange Server on-premises (NTLM or
    Basic with your password) or Exchange Online (OAuth2: you sign in with a code
    in a browser, `mailboxes.sign_in`).

    Without `ews_url` the server is found by autodiscover from the address's
    domain (https://{domain}/autodiscover/, https://autodiscover.{domain}/, the
    redirect from http://autodiscover.{domain}/, then the SRV record
    _autodiscover._tcp.{domain}); OAuth2 without it is Exchange Online
    (https://outlook.office365.com/EWS/Exchange.asmx). `username` defaults to
    the address (NTLM: DOMAIN\\user or user@domain). For OAuth2, `client_id` is
    an app registered in Microsoft Entra ID with public client flows on and the
    delegated permission EWS.AccessAsUser.All (default: the daemon's
    `LOGGBOK_EWS_CLIENT_ID`)."""

    auth: Annotated[EwsAuth, msgspec.Meta(title="Sign-in")]
    ews_url: (
        Annotated[
            str,
            msgspec.Meta(
                title="EWS URL",
                description="https://mail.example.com/EWS/Exchange.asmx; default: autodiscover",
            ),
        ]
        | None
    ) = None
    username: (
        Annotated[
            str, msgspec.Meta(title="User name", description="DOMAIN\\user; default: the address")
        ]
        | None
    ) = None
    password: (
        Annotated[
            str,
            msgspec.Meta(
                title="Password", description="NTLM and Basic only", extra={"secret": True}
            ),
        ]
        | None
    ) = None
    client_id: (
        Annotated[
            str,
            msgspec.Meta(
                title="Application (client) ID",
                description="OAuth2 only; default: the daemon's",
            ),
        ]
        | None
    ) = None
    tenant: Annotated[
        str,
        msgspec.Meta(title="Tenant", description="OAuth2 only: organizations, a tenant id"),
    ] = "organizations"
    authority: (
        Annotated[
            str,
            msgspec.Meta(
                title="Sign-in authority",
                description="OAuth2 only; default: https://login.microsoftonline.com/{tenant}",
            ),
        ]
        | None
    ) = None


MailboxAddParams = MaildirAddParams | ImapAddParams | GmailAddParams | GraphAddParams | EwsAddParams
"""`mailboxes.add` and `mailboxes.test`: one variant per provider, chosen by `provider`."""

MAILBOX_ADD_VARIANTS: tuple[type[_MailboxAddBase], ...] = (
    MaildirAddParams,
    ImapAddParams,
    GmailAddParams,
    GraphAddParams,
    EwsAddParams,
)


class FieldInfo(Record):
    """One field of a provider's form, read from its params struct."""

    name: str
    title: str
    kind: Literal["text", "secret", "integer", "choice"]
    required: bool
    default: str | int | None = None
    hint: str = ""
    choices: list[str] = msgspec.field(default_factory=list)


class ProviderInfo(Record):
    """A provider the daemon can connect, with the fields `mailboxes.add` takes."""

    name: Provider
    title: str
    description: str
    fields: list[FieldInfo]
    needs_secret: bool
    capabilities: list[str] = msgspec.field(default_factory=list)


class ProviderList(Record):
    providers: list[ProviderInfo]


class FolderState(Record):
    name: str
    role: str
    state: str
    messages: int = 0
    last_sync: str | None = None
    error: str | None = None


class Mailbox(Record):
    id: int
    provider: Provider
    address: str
    status: MailboxStatus
    status_detail: str = ""
    path: str | None = None
    host: str | None = None
    port: int | None = None
    security: Security | None = None
    username: str | None = None
    auth: AuthKind | EwsAuth | None = None
    """`password` / `xoauth2` (IMAP), `ntlm` / `basic` / `oauth2` (EWS, since 1.18)."""
    last_sync: str | None = None
    blind_threads: int = 0
    unavailable_since: str | None = None
    """R13: the last successful sync before the mailbox became unavailable, while it
    is (mail from then on is read when it comes back) (since 1.16)."""
    quarantined: int = 0
    folders: list[FolderState] = msgspec.field(default_factory=list)
    managed_by_config: bool = False
    """Declared in the config file: it changes (or goes) when the file does (since 1.9)."""
    visibility: Visibility | None = None
    """Who sees what it logs; None: the user's `default_visibility` (since 1.20)."""
    kind: MailboxKind = "personal"
    """`team`: a shared inbox whose mail is logged into conversations (R15, since 1.16)."""
    retry_at: str | None = None
    """When a disconnected or failing mailbox is tried next (ISO 8601, UTC); None when
    nothing is scheduled (it works, or it waits for a new password or sign-in) (since 1.18)."""


class MailboxUpdateParams(Params):
    """Change a connected mailbox of yours (since 1.16): only the named fields change,
    and decide the mail that arrives from then on. A new `kind` (since 1.16);
    `visibility` (since 1.20), null going back to your `default_visibility`.
    `messages.redecide` decides past mail again."""

    id: RowId
    kind: MailboxKind | UnsetType = UNSET
    visibility: Visibility | UnsetType | None = UNSET


class MailboxList(Record):
    mailboxes: list[Mailbox]


class SyncResult(Record):
    id: int
    seen: int
    new: int
    logged: int
    errors: int


class MailboxTestResult(Record):
    ok: bool
    capabilities: list[str] = msgspec.field(default_factory=list)
    error_kind: str | None = None
    error: str | None = None
    warnings: list[str] = msgspec.field(default_factory=list)
    warning_codes: list[str] = msgspec.field(default_factory=list)
    """Machine-readable codes of what `warnings` say, each once (since 1.12):
    `provider_mismatch` (R14) when the provider does not fit the address's domain."""
    suggested_provider: Provider | None = None
    """With `provider_mismatch`: the provider the domain calls for (since 1.12)."""
    next_step: str = ""
    """What the user does after adding the mailbox (say, sign in), when anything."""


class MailboxAdded(Created):
    """`mailboxes.add`: the new mailbox's id, and the warnings its test gave (since 1.12;
    a mailbox is connected whatever they say)."""

    warnings: list[str] = msgspec.field(default_factory=list)
    warning_codes: list[str] = msgspec.field(default_factory=list)
    suggested_provider: Provider | None = None
    sign_in_needed: bool = False
    """The mailbox connects once signed in (`mailboxes.sign_in`), not with a secret
    given here (since 1.16): a Graph mailbox, an `auth: xoauth2` one without a password."""


class SignInPrompt(Record):
    """`mailboxes.sign_in`: what to show the user. The outcome follows as a
    `mailbox.status_changed` (syncing/idle on success, auth_failed with the reason).

    A device code (Microsoft): open `verification_uri` anywhere and enter
    `user_code`. A browser sign-in (Google, `user_code` empty): open
    `verification_uri` in a browser on the daemon's machine, which is sent back to
    the daemon's loopback address when you allow access (since 1.16)."""

    verification_uri: str
    user_code: str
    expires_in: int
    message: str


class MailboxReconnectParams(Params):
    id: RowId
    password: str | None = None


class AuditEntry(Record):
    message_id: str
    folder: str
    uid: str
    reason: str


class AuditResult(Record):
    id: int
    server_messages: int
    stored_messages: int
    missing: list[AuditEntry]
    extra: list[AuditEntry]
    folders: list[str] = msgspec.field(default_factory=list)
    """The folders compared: every synced folder (with Gmail's labels, All Mail)."""


# ---------------------------------------------------------------- contacts


class ContactCreateParams(Params):
    email: str
    name: str | None = None
    emails: list[str] = msgspec.field(default_factory=list)


class Contact(Record):
    id: int
    name: str
    emails: list[str]
    company: str | None = None
    company_id: int | None = None
    last_activity: str | None = None
    source: str = "manual"
    blind_threads: int = 0
    """R13: the contact's tracked threads that cannot be followed now (their mailbox
    is unavailable; `timeline.get`'s `blind` tells which) (since 1.16)."""


class ContactsListParams(Params):
    query: SearchText = ""
    limit: int = 50
    cursor: str | None = None


class ContactList(Record):
    contacts: list[Contact]
    next: str | None = None


class ContactUpdateParams(Params):
    id: RowId
    name: str | UnsetType = UNSET
    emails: list[str] | UnsetType = UNSET


class ContactsImportParams(Params):
    path: str


class ImportResult(Record):
    created: int
    updated: int
    skipped: int
    errors: list[str]


class ContactMergeParams(Params):
    """Merge contact `id` into contact `into`: its entries and addresses move there."""

    id: RowId
    into: RowId


class ContactDeleteResult(Record):
    id: int
    entries_removed: int
    """Timeline entries of the contact that went with it."""
    messages_unlogged: int
    """Messages that were on no other timeline: now unlogged (`manual_unlog`)."""


# ---------------------------------------------------------------- timeline


class Attachment(Record):
    index: int
    filename: str
    content_type: str
    size: int
    status: AttachmentStatus
    sha256: str | None = None


class TimelineGetParams(Params):
    contact_id: RowId
    limit: int = 50
    before: str | None = None


class TimelineEntry(Record):
    id: int
    """The store's message id, as `messages.get` takes it."""
    entry_id: int
    contact_id: int
    message_id: str
    subject: str
    from_: Participant = msgspec.field(name="from")
    to: list[Participant]
    cc: list[Participant]
    date: str
    snippet: str
    direction: Direction
    attachments: list[Attachment]
    reason: str
    thread_id: int | None = None
    new_text: str = ""
    """The message's own text: quoted history and signature removed (since 1.1)."""


class BlindThread(Record):
    """R13: a tracked thread of the contact that cannot be followed now: the mailbox it
    is tracked in is unavailable (`cause`: auth_failed, disconnected, error, removed,
    replaced) since `since` (its last successful sync). Replies after that are read
    when it comes back (since 1.16). Told to another member than the mailbox's owner
    (not an admin), which mailbox, when and why are left out: `mailbox_id` 0,
    `address` "a colleague's mailbox", `since` and `detail` empty, `cause`
    "unavailable"."""

    thread_id: int
    subject: str
    mailbox_id: int
    address: str
    since: str
    cause: str
    detail: str = ""
    reason: str = "mailbox_unavailable"


class Timeline(Record):
    entries: list[TimelineEntry]
    next: str | None = None
    blind: list[BlindThread] = msgspec.field(default_factory=list)
    """R13, on the first page only: the contact's tracked threads whose mailbox is
    unavailable now (since 1.16)."""


# ---------------------------------------------------------------- messages


class Forwarded(Record):
    """The forward a message was logged from (R8): its own sender, subject and date, and
    where the original was found. The message's other fields are the original's; its raw
    headers (`messages.headers`) are the forward's."""

    by: Participant
    subject: str
    date: str
    original_message_id: str | None = None
    found_in: str = ""


class Message(Record):
    id: int
    message_id: str
    mailbox_id: int | None
    folder: str | None
    subject: str
    from_: Participant = msgspec.field(name="from")
    to: list[Participant]
    cc: list[Participant]
    date: str
    direction: Direction
    snippet: str
    body_text: str
    new_text: str
    attachments: list[Attachment]
    logged: bool
    reason: str
    contact_ids: list[int]
    thread_id: int | None = None
    parse_error: str | None = None
    visibility: Visibility = "everyone"
    forwarded: Forwarded | None = None
    folders: list[str] = msgspec.field(default_factory=list)
    """Every folder the message is in now (one message, several locations; with
    Gmail, All Mail and the message's labels); `folder` is where it was first seen."""


class MessagesSetVisibilityParams(Params):
    """Who may see one of your logged messages (since 1.20): by `id` or `message_id`."""

    visibility: Visibility
    id: RowId | None = None
    message_id: str | None = None


class VisibilitySet(Record):
    id: int
    visibility: Visibility


class MessageHeaders(Record):
    id: int
    message_id: str
    raw: str
    """The header block decoded as UTF-8 with replacement characters."""
    raw_base64: str
    """The header block byte for byte, as received."""


class Evidence(Record):
    rule: str
    thread_id: int | None = None
    matched_id: int | None = None
    matched_message_id: str | None = None
    matched_via: str | None = None
    thread_subject: str | None = None
    subject: str | None = None
    contact_ids: list[int] = msgspec.field(default_factory=list)
    never_logged: list[str] = msgspec.field(default_factory=list)
    details: dict[str, str] = msgspec.field(default_factory=dict)


class Explanation(Record):
    id: int
    message_id: str
    logged: bool
    reason: str
    summary: str
    evidence: Evidence
    fixes: list[str]
    decided_at: str


class MessagesLogParams(Params):
    contact_ids: list[RowId]
    id: RowId | None = None
    message_id: str | None = None


class LogResult(Record):
    id: int
    contact_ids: list[int]


class MessagesUnlogParams(Params):
    """Take a message off timelines: all of them, or only the given contacts'."""

    id: RowId | None = None
    message_id: str | None = None
    contact_ids: Annotated[list[RowId], msgspec.Meta(max_length=1000)] | None = None


class UnlogResult(Record):
    id: int
    removed: list[int]
    """Contacts whose timeline no longer shows the message."""
    contact_ids: list[int]
    """Contacts whose timeline still shows it."""


class MessagesRedecideParams(Params):
    """Decide stored messages again with today's contacts and settings.

    `dry_run: true` changes nothing and returns what would change. `since` (an ISO
    date or date-time; a date is midnight UTC) limits it to messages dated from then
    on; `ids` to the given messages (since 1.4)."""

    dry_run: bool
    since: str | None = None
    ids: Annotated[list[RowId], msgspec.Meta(max_length=1000)] | None = None
    never_log: list[str] | None = None
    """Dry run only (since 1.16): decide as if the user's never-log list were this, to
    preview a change before `settings.set` saves it."""
    team_never_log: list[str] | None = None
    """Dry run only (since 1.16): decide as if the team's never-log list (for everyone)
    were this, to preview a change before `team_settings.set` saves it."""


class ReasonChange(Record):
    from_: str = msgspec.field(name="from")
    to: str
    count: int


class RedecidedMessage(Record):
    id: int
    message_id: str
    subject: str
    date: str
    old_reason: str
    new_reason: str
    old_logged: bool
    new_logged: bool
    contacts_gained: list[int]
    contacts_lost: list[int]


class RedecideResult(Record):
    dry_run: bool
    examined: int
    """Messages decided again."""
    changed: int
    """Messages whose decision changes (or changed): reason, logged or contacts."""
    kept: int
    """Messages left as they are whatever the rules say now (decided by hand, or logged
    into a team mailbox's conversation)."""
    changes: list[ReasonChange]
    """Counts by old -> new reason, most first."""
    sample: list[RedecidedMessage]
    """Up to 50 of the changed messages, oldest first."""
    entries_added: int = 0
    entries_removed: int = 0
    bodies_pending: int = 0
    """Newly logged messages whose body is still to be fetched (applied only; it is
    fetched before the call returns when the mailbox can be reached)."""


class MessagesSearchParams(Params):
    query: SearchText
    limit: int = 50


class MessageSummary(Record):
    id: int
    message_id: str
    subject: str
    from_: Participant = msgspec.field(name="from")
    to: list[Participant]
    date: str
    direction: Direction
    snippet: str
    logged: bool
    reason: str
    mailbox_id: int | None = None
    """The mailbox it was stored from when that is the caller's own (null for a
    colleague's, as in `messages.get`)."""
    contact_ids: list[int] = msgspec.field(default_factory=list)


class SearchResult(Record):
    hits: list[MessageSummary]


class MessagesListParams(Params):
    logged: bool | None = None
    reason: str | None = None
    """Only messages decided with this reason (one of `ReasonCode`); `forward_unparsed`
    is the review list of forwards whose original sender could not be read."""
    mailbox_id: RowId | None = None
    """Only messages stored from this mailbox of the caller's (another member's lists
    nothing, as a mailbox that does not exist)."""
    limit: int = 50
    before: str | None = None


class MessageList(Record):
    messages: list[MessageSummary]
    next: str | None = None


# ---------------------------------------------------------------- conversations (R15)


class ConversationsListParams(Params):
    """A team mailbox's conversations, the latest activity first, paged by `before`
    (the `next` of the previous page). Another member's mailbox, unless it is a team
    mailbox holding mail the caller may see, is "No such mailbox" (-32001), as one
    that does not exist."""

    mailbox_id: RowId
    limit: Annotated[int, msgspec.Meta(ge=1, le=500)] = 50
    before: str | None = None


class Conversation(Record):
    """A thread of a team mailbox (R15): its messages are grouped by the thread
    machinery (conversation key, In-Reply-To, References); `id` is the thread's."""

    id: int
    mailbox_id: int
    subject: str
    messages: int
    """Messages of the thread the caller may see."""
    last_date: str
    last_from: Participant
    snippet: str
    """The newest message's."""
    contact_ids: list[int] = msgspec.field(default_factory=list)
    """The contacts whose timelines show the conversation's messages."""


class ConversationList(Record):
    conversations: list[Conversation]
    next: str | None = None


class ConversationDetail(Record):
    """One conversation: its messages oldest first (inbound and the team's replies)."""

    id: int
    mailbox_id: int
    subject: str
    messages: list[MessageSummary]
    contact_ids: list[int] = msgspec.field(default_factory=list)


ATTACHMENT_PIECE_BYTES = 16 * 1024 * 1024
"""The most `attachments.get` returns per call (21.3 MiB of base64, well inside a line)."""


class AttachmentGetParams(Params):
    """A piece of a stored attachment: `length` bytes (at most
    `ATTACHMENT_PIECE_BYTES`, the default) from `offset` (0 by default)."""

    id: RowId
    index: Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]
    offset: Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)] = 0
    length: Annotated[int, msgspec.Meta(ge=1, le=2**63 - 1)] | None = None


class AttachmentContent(Record):
    """One piece of an attachment; `size` is the whole attachment's, `next_offset`
    where the next piece starts (null after the last)."""

    filename: str
    content_type: str
    size: int
    data_base64: str
    offset: int = 0
    next_offset: int | None = None


# ---------------------------------------------------------------- archive (export, import, backup)

EXPORT_PAGE_MAX = 200


class ArchiveExportParams(Params):
    """A page of logged mail, oldest first: every message on any timeline (or on
    `contact_id`'s), dated `since` or later (an ISO date or date-time), after the
    `after` cursor of the previous page. With `raw`, each message's original bytes
    (read from its mailbox; rebuilt from what is stored when that cannot be read)."""

    contact_id: RowId | None = None
    since: str | None = None
    after: str | None = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=EXPORT_PAGE_MAX)] = 100
    raw: bool = False


class ArchiveContact(Record):
    id: int
    name: str
    emails: list[str]
    company: str | None = None


class ArchiveEntry(Record):
    """The message sits on this contact's timeline, logged for this reason."""

    contact_id: int
    reason: str


class ArchiveMessage(Record):
    id: int
    message_id: str
    subject: str
    from_: Participant = msgspec.field(name="from")
    to: list[Participant]
    cc: list[Participant]
    date: str
    date_ts: float
    direction: Direction
    reason: str
    visibility: Visibility
    snippet: str
    body_text: str
    new_text: str
    attachments: list[Attachment]
    entries: list[ArchiveEntry]
    thread_id: int | None = None
    raw_base64: str | None = None
    raw_source: Literal["mailbox", "rebuilt"] | None = None
    """Where `raw_base64` came from: the mailbox (the original bytes), or rebuilt from
    the stored headers, text and attachments when the mailbox could not be read."""


class ArchivePage(Record):
    messages: list[ArchiveMessage]
    contacts: list[ArchiveContact]
    """The contacts this page's entries name."""
    next: str | None = None


class ArchiveImportParams(Params):
    """Logged mail to put on timelines, as `archive.export` gave it. Entries name
    contacts by the `id` they have in `contacts` (the exporting store's ids); each is
    matched here by address, or created."""

    contacts: list[ArchiveContact] = msgspec.field(default_factory=list)
    messages: list[ArchiveMessage] = msgspec.field(default_factory=list)


class ArchiveImportResult(Record):
    contacts_created: int
    contacts_matched: int
    messages_created: int
    messages_existing: int
    entries_created: int


class ArchiveBackupParams(Params):
    """A folder (absolute path) to copy the database and attachments into."""

    path: str


class ArchiveBackupResult(Record):
    path: str
    database_bytes: int
    blobs_copied: int
    blobs_present: int
    """Attachment files already in the folder from an earlier backup (content-addressed)."""


# ---------------------------------------------------------------- notifications


class TimelineAppended(Record):
    contact_id: int
    entry: TimelineEntry


class TimelineChanged(Record):
    """Many entries were logged at once (a bulk sync batch): re-read what you show.

    Sent instead of one `timeline.appended` per entry when a batch logs more than a
    few entries, so an initial sync does not stream every entry's text to every
    client.
    """

    contact_ids: list[int]
    entries: int


class MessageChanged(Record):
    """A stored message changed after clients heard of it (since 1.9): re-read it, and
    the timelines of `contact_ids` (it is on them). `change` says what:
    `attachments_scanned` (R11: the real files replaced a security scanner's
    placeholders, now `stored`), `scan_gave_up` (none came within a day: those
    attachments are `missing`). A client meeting another value re-reads all the same."""

    id: int
    contact_ids: list[int]
    change: str


class MailboxStatusChanged(Record):
    id: int
    status: MailboxStatus
    detail: str = ""
    retry_at: str | None = None
    """As `Mailbox.retry_at`: when the daemon tries this mailbox again (since 1.18)."""


class SyncProgress(Record):
    """How far a round has got. `done`/`total` count within `folder` and `phase`
    (they start again with each); `round_done`/`round_total` count the whole
    round and only grow: `round_total` is the round's new messages, and
    `round_done` counts a message half when its headers are read and whole when
    it is decided (since 1.18)."""

    mailbox_id: int
    folder: str
    phase: str
    done: int
    total: int
    round_done: int = 0
    round_total: int = 0


class ContactsImportProgress(Record):
    """How far a running `contacts.import` has got, after each batch it wrote.

    Every count only grows; the last one of an import has `bytes_read ==
    total_bytes`. `done` counts the cards (or rows) read so far.
    """

    path: str
    done: int
    total_bytes: int
    bytes_read: int
    created: int
    updated: int
    skipped: int


OpenRpcDocument = dict[str, Any]
