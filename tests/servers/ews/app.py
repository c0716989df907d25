"""The routes of the EWS test server: `/EWS/Exchange.asmx` (SOAP), the SOAP
Autodiscover endpoint exchangelib 5 asks (`/autodiscover/autodiscover.svc`,
GetUserSettings), and the Microsoft identity endpoints of the Graph test server
(for OAuth2 mailboxes signed in with msal).

Operations: GetFolder, FindFolder, SyncFolderItems (sync states are positions
in the mail store's change log; an older epoch is ErrorInvalidSyncStateData),
GetItem (properties, InternetMessageHeaders, MimeContent), Subscribe (streaming),
GetStreamingEvents (a chunked response, one envelope per chunk), Unsubscribe.
Anything else is ErrorInvalidOperation: loggbok never writes to a mailbox, and
a request that would is noticed (`Observed.writes`).

Authentication: Basic, NTLM (a real NTLMv2 acceptor from pyspnego checks the
type 3 message against the user's password; the handshake is per connection,
as IIS does it) and Bearer tokens the identity endpoints issued.
`ErrorServerBusy` faults carry BackOffMilliseconds; a request from the same
user before that time has passed is counted in `Observed.early_requests`.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import time
import weakref
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import spnego
from aiohttp import web
from lxml import etree

from tests.servers.ews.items import change_key, item_xml
from tests.servers.ews.soap import (
    A,
    M,
    Raw,
    T,
    envelope,
    field_uris,
    fill,
    folder_refs,
    local,
    parse,
)
from tests.servers.graph.app import GraphState, IdentityRoutes
from tests.servers.graph.mailstore import Mailbox, MailFolder, decode_token, encode_token

EWS_PATH = "/EWS/Exchange.asmx"
AUTODISCOVER_PATH = "/autodiscover/autodiscover.svc"
DISTINGUISHED = {
    "inbox": "inbox",
    "sentitems": "sentitems",
    "drafts": "drafts",
    "deleteditems": "deleteditems",
    "junkemail": "junkemail",
}
"""EWS distinguished folder ids -> the mail store's well-known names."""
MAX_SYNC_CHANGES = 512
WRITES = frozenset(
    {
        "CreateItem", "UpdateItem", "DeleteItem", "MoveItem", "CopyItem", "SendItem",
        "CreateFolder", "UpdateFolder", "DeleteFolder", "EmptyFolder", "MarkAsJunk",
        "CreateAttachment", "DeleteAttachment", "ArchiveItem", "UploadItems",
    }
)  # fmt: skip


@dataclass
class User:
    address: str
    username: str
    password: str
    domain: str = "FIRMA"


@dataclass
class Subscription:
    id: str
    address: str
    folders: set[str]
    seq: int
    closed: bool = False


@dataclass
class EwsFaults:
    busy: int = 0
    """This many requests in a row are answered ErrorServerBusy."""
    back_off_ms: int = 1000
    not_before: dict[str, float] = field(default_factory=dict)
    minute: float = 60.0
    """Seconds in a GetStreamingEvents ConnectionTimeout minute (shorter in tests)."""
    heartbeat: float = 5.0


@dataclass
class EwsObserved:
    requests: Counter[str] = field(default_factory=Counter)
    bytes_sent: int = 0
    early_requests: int = 0
    writes: list[str] = field(default_factory=list)
    auth: Counter[str] = field(default_factory=Counter)
    """Requests let in, by scheme ("basic", "ntlm", "bearer")."""
    ntlm_verified: list[str] = field(default_factory=list)
    """User names whose NTLMv2 response the acceptor verified."""
    streams: int = 0
    subscribes: int = 0


class EwsState:
    def __init__(self, graph: GraphState) -> None:
        self.graph = graph
        self.users: dict[str, User] = {}
        self.subscriptions: dict[str, Subscription] = {}
        self.faults = EwsFaults()
        self.observed = EwsObserved()
        self.ews_url = ""
        self.ntlm_file = ""
        self.roots: dict[str, tuple[str, str]] = {}
        """Address -> (root id, msgfolderroot id)."""

    def mailbox(self, address: str) -> Mailbox:
        return self.graph.mailbox(address)

    def add_user(self, address: str, password: str, username: str | None = None) -> User:
        user = User(address.lower(), username or address.split("@")[0], password)
        self.users[user.username.lower()] = user
        self.mailbox(address)
        return user

    def root_ids(self, box: Mailbox) -> tuple[str, str]:
        if box.address not in self.roots:
            top = next(iter(box.folders.values())).parent_id
            self.roots[box.address] = ("R" + top[4:], top)
        return self.roots[box.address]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _soap(body: str, status: int = 200) -> web.Response:
    return web.Response(
        body=envelope(body), status=status, content_type="text/xml", charset="utf-8"
    )


def _error(service: str, code: str, text: str) -> web.Response:
    message = fill("error_message", service=Raw(service), code=code, text=text)
    return _soap(fill("error_response", service=Raw(service), messages=message))


# ------------------------------------------------------------------ auth


class Auth:
    """Who sent a request: Basic, NTLM (per connection) or Bearer."""

    def __init__(self, state: EwsState) -> None:
        self.state = state
        self._ntlm: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
        """Connection (its transport) -> the acceptor of its handshake, then the user.
        Weakly keyed by the transport itself: keyed by `id(transport)`, a new
        connection whose transport reused a closed one's address was taken as the
        closed one, already authenticated (a changed password then went unnoticed
        by the next NTLM handshake, now and then, under load)."""

    def challenge(self) -> web.Response:
        response = web.Response(status=401, text="401 Unauthorized")
        response.headers.add("WWW-Authenticate", "NTLM")
        response.headers.add("WWW-Authenticate", 'Basic realm="loggbok-ews"')
        response.headers.add(
            "WWW-Authenticate", 'Bearer authorization_uri="", error="invalid_token"'
        )
        return response

    def user_of(self, request: web.Request) -> User | web.Response:
        connection = request.transport
        known = self._ntlm.get(connection) if connection is not None else None
        if isinstance(known, User):
            return known
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        scheme = scheme.lower()
        if scheme == "basic":
            try:
                name, _, password = base64.b64decode(value).decode().partition(":")
            except ValueError:
                return self.challenge()
            user = self.state.users.get(name.split("\\")[-1].lower())
            if user is None or not secrets.compare_digest(user.password, password):
                return self.challenge()
            self.state.observed.auth["basic"] += 1
            return user
        if scheme == "bearer":
            address = self.state.graph.identity.access.get(value.strip())
            if address is None:
                return self.challenge()
            self.state.observed.auth["bearer"] += 1
            return next(
                (u for u in self.state.users.values() if u.address == address),
                User(address, address, ""),
            )
        if scheme == "ntlm" and connection is not None:
            return self._ntlm_step(connection, base64.b64decode(value))
        return self.challenge()

    def _ntlm_step(self, connection: Any, token: bytes) -> User | web.Response:
        """Type 1 -> a type 2 challenge; type 3 -> verified by pyspnego's acceptor
        (NTLMv2 against the password in the NTLM_USER_FILE), else 401."""
        if token[8:12] == b"\x01\x00\x00\x00":
            acceptor = spnego.server(protocol="ntlm")
            challenge = acceptor.step(token)
            self._ntlm[connection] = acceptor
            response = web.Response(status=401, text="401 Unauthorized")
            response.headers["WWW-Authenticate"] = "NTLM " + base64.b64encode(challenge).decode()
            return response
        acceptor = self._ntlm.pop(connection, None)
        if acceptor is None or isinstance(acceptor, User):
            return self.challenge()
        try:
            acceptor.step(token)
        except spnego.exceptions.SpnegoError:
            return self.challenge()
        if not acceptor.complete:
            return self.challenge()
        name = str(acceptor.client_principal or "").split("\\")[-1].lower()
        user = self.state.users.get(name)
        if user is None:
            return self.challenge()
        self.state.observed.ntlm_verified.append(name)
        self.state.observed.auth["ntlm"] += 1
        self._ntlm[connection] = user
        return user


# ------------------------------------------------------------------ EWS


class EwsRoutes:
    def __init__(self, state: EwsState) -> None:
        self.state = state
        self.auth = Auth(state)

    async def ews(self, request: web.Request) -> web.StreamResponse:
        user = self.auth.user_of(request)
        if isinstance(user, web.Response):
            await request.read()
            return user
        data = await request.read()
        try:
            operation = parse(data)
        except (ValueError, etree.XMLSyntaxError):
            return web.Response(status=400, text="not SOAP")
        service = local(operation)
        observed, faults = self.state.observed, self.state.faults
        observed.requests[service] += 1
        now = time.monotonic()
        if now < faults.not_before.get(user.address, 0.0):
            observed.early_requests += 1
        if faults.busy > 0:
            faults.busy -= 1
            faults.not_before[user.address] = now + faults.back_off_ms / 1000
            return _soap(fill("server_busy", back_off_ms=faults.back_off_ms), status=500)
        if service in WRITES:
            observed.writes.append(service)
            return _error(service, "ErrorAccessDenied", "The test server refuses writes.")
        box = self.state.mailbox(user.address)
        handler = {
            "GetFolder": self.get_folder,
            "FindFolder": self.find_folder,
            "SyncFolderItems": self.sync_folder_items,
            "GetItem": self.get_item,
            "Subscribe": self.subscribe,
            "Unsubscribe": self.unsubscribe,
        }.get(service)
        if service == "GetStreamingEvents":
            return await self.get_streaming_events(request, box, operation)
        if handler is None:
            return _error(service, "ErrorInvalidOperation", f"{service} is not served here.")
        response = handler(box, operation)
        observed.bytes_sent += len(response.body or b"")  # type: ignore[arg-type]
        return response

    # ------------------------------------------------------------ folders

    def _folder(self, box: Mailbox, ref: str) -> MailFolder | str | None:
        """A mail folder, "root" / "msgfolderroot" (their ids), or None."""
        root, top = self.state.root_ids(box)
        if ref in ("root", root):
            return root
        if ref in ("msgfolderroot", top):
            return top
        well_known = DISTINGUISHED.get(ref)
        if well_known is not None:
            return box.folder(well_known)
        return box.folders.get(ref)

    def _folder_xml(self, box: Mailbox, ref: MailFolder | str) -> Raw:
        root, _ = self.state.root_ids(box)
        if isinstance(ref, str):
            is_root = ref == root
            return fill(
                "folder",
                id=ref,
                parent=root if not is_root else "",
                folder_class="" if is_root else "IPF.Note",
                name="root" if is_root else "Top of Information Store",
                total=0,
                children=1 if is_root else len(box.folders),
                unread=0,
            )
        messages = box.in_folder(ref.id)
        return fill(
            "folder",
            id=ref.id,
            parent=ref.parent_id,
            folder_class="IPF.Note",
            name=ref.display_name,
            total=len(messages),
            children=sum(1 for f in box.folders.values() if f.parent_id == ref.id),
            unread=sum(1 for m in messages if not m.is_read),
        )

    def get_folder(self, box: Mailbox, operation: etree._Element) -> web.Response:
        messages = []
        for ref in folder_refs(operation.find(f"{{{M}}}FolderIds")):
            found = self._folder(box, ref)
            if found is None:
                messages.append(
                    fill("error_message", service=Raw("GetFolder"), code="ErrorFolderNotFound",
                         text="The specified folder could not be found in the store.")
                )  # fmt: skip
            else:
                messages.append(fill("get_folder_message", folder=self._folder_xml(box, found)))
        return _soap(fill("get_folder_response", messages=Raw("".join(messages))))

    def find_folder(self, box: Mailbox, operation: etree._Element) -> web.Response:
        refs = folder_refs(operation.find(f"{{{M}}}ParentFolderIds"))
        parent = self._folder(box, refs[0]) if refs else None
        if parent is None:
            return _error("FindFolder", "ErrorFolderNotFound", "The folder could not be found.")
        root, top = self.state.root_ids(box)
        deep = operation.get("Traversal") == "Deep"
        parent_id = parent if isinstance(parent, str) else parent.id
        found: list[MailFolder | str] = []
        if parent_id == root:
            found.append(top)
            if deep:
                found += list(box.folders.values())
        else:
            found += [f for f in box.folders.values() if f.parent_id == parent_id]
        folders = "".join(self._folder_xml(box, f) for f in found)
        return _soap(fill("find_folder_response", count=len(found), folders=Raw(folders)))

    # ------------------------------------------------------------ items

    def sync_folder_items(self, box: Mailbox, operation: etree._Element) -> web.Response:
        refs = folder_refs(operation.find(f"{{{M}}}SyncFolderId"))
        folder = self._folder(box, refs[0]) if refs else None
        if not isinstance(folder, MailFolder):
            return _soap(
                fill("sync_folder_items_error", code="ErrorFolderNotFound",
                     text="The specified folder could not be found in the store.")
            )  # fmt: skip
        base, uris = field_uris(operation.find(f"{{{M}}}ItemShape"))
        size = int(operation.findtext(f"{{{M}}}MaxChangesReturned") or MAX_SYNC_CHANGES)
        size = max(1, min(size, MAX_SYNC_CHANGES))
        given = (operation.findtext(f"{{{M}}}SyncState") or "").strip()
        if given:
            state = decode_token(given)
            if state is None or state.get("folder") != folder.id or state["epoch"] != box.epoch:
                return _soap(
                    fill("sync_folder_items_error", code="ErrorInvalidSyncStateData",
                         text="Synchronization state data is corrupt or otherwise invalid.")
                )  # fmt: skip
        else:
            state = {"folder": folder.id, "epoch": box.epoch, "since": None, "offset": 0}
        until = state.get("until", box.seq)
        since = state.get("since")
        if since is None:
            listed = [(m.id, "create") for m in box.in_folder(folder.id)]
        else:
            listed = [
                (message_id, self._sync_kind(box, folder.id, message_id, kind, since))
                for message_id, kind in box.changes_since(folder.id, since, until)
            ]
        offset = state.get("offset", 0)
        changes = [
            self._change(box, folder.id, i, k, base, uris)
            for i, k in listed[offset : offset + size]
        ]
        common = {"folder": folder.id, "epoch": box.epoch}
        last = offset + size >= len(listed)
        if last:
            token = encode_token(common | {"since": until, "offset": 0})
        else:
            token = encode_token(common | {"since": since, "until": until, "offset": offset + size})
        return _soap(
            fill(
                "sync_folder_items_response",
                sync_state=token,
                last="true" if last else "false",
                changes=Raw("".join(changes)),
            )
        )

    @staticmethod
    def _sync_kind(box: Mailbox, folder_id: str, message_id: str, kind: str, since: int) -> str:
        if kind != "upsert":
            return kind
        seen = any(
            e.seq <= since and e.folder_id == folder_id and e.message_id == message_id
            for e in box.log
        )
        return "update" if seen else "create"

    @staticmethod
    def _change(
        box: Mailbox, folder_id: str, message_id: str, kind: str, base: str, uris: set[str]
    ) -> str:
        stored = box.messages.get(message_id)
        if kind == "removed" or stored is None or stored.folder_id != folder_id:
            return fill("sync_delete", id=message_id, change_key="CQAAAA==")
        if kind == "read":
            return fill(
                "sync_read_flag", id=message_id, change_key=change_key(stored),
                is_read="true" if stored.is_read else "false",
            )  # fmt: skip
        return fill(
            "sync_change",
            kind=Raw("Create" if kind == "create" else "Update"),
            properties=item_xml(stored, base, uris),
        )

    def get_item(self, box: Mailbox, operation: etree._Element) -> web.Response:
        base, uris = field_uris(operation.find(f"{{{M}}}ItemShape"))
        messages = []
        ids = operation.find(f"{{{M}}}ItemIds")
        for ref in ids.iter(f"{{{T}}}ItemId") if ids is not None else []:
            stored = box.messages.get(str(ref.get("Id", "")))
            if stored is None:
                messages.append(
                    fill("error_message", service=Raw("GetItem"), code="ErrorItemNotFound",
                         text="The specified object was not found in the store.")
                )  # fmt: skip
                continue
            if "item:MimeContent" in uris:
                self.state.observed.requests["mime_items"] += 1
            else:
                self.state.observed.requests["header_items"] += 1
            messages.append(fill("get_item_message", properties=item_xml(stored, base, uris)))
        return _soap(fill("get_item_response", messages=Raw("".join(messages))))

    # ------------------------------------------------------------ notifications

    def subscribe(self, box: Mailbox, operation: etree._Element) -> web.Response:
        request = operation.find(f"{{{M}}}StreamingSubscriptionRequest")
        if request is None:
            return _error("Subscribe", "ErrorInvalidSubscriptionRequest", "Streaming only here.")
        folders = set()
        for ref in folder_refs(request.find(f"{{{T}}}FolderIds")):
            found = self._folder(box, ref)
            if isinstance(found, MailFolder):
                folders.add(found.id)
        subscription = Subscription("S" + secrets.token_hex(12), box.address, folders, box.seq)
        self.state.subscriptions[subscription.id] = subscription
        self.state.observed.subscribes += 1
        return _soap(fill("subscribe_response", subscription=subscription.id))

    def unsubscribe(self, box: Mailbox, operation: etree._Element) -> web.Response:
        ref = (operation.findtext(f"{{{M}}}SubscriptionId") or "").strip()
        subscription = self.state.subscriptions.pop(ref, None)
        if subscription is None:
            return _error("Unsubscribe", "ErrorSubscriptionNotFound", "No such subscription.")
        subscription.closed = True
        return _soap(fill("unsubscribe_response"))

    async def get_streaming_events(
        self, request: web.Request, box: Mailbox, operation: etree._Element
    ) -> web.StreamResponse:
        ids = [(e.text or "").strip() for e in operation.iter(f"{{{T}}}SubscriptionId")]
        subscriptions = [self.state.subscriptions.get(i) for i in ids]
        if not ids or any(s is None or s.address != box.address for s in subscriptions):
            return _error(
                "GetStreamingEvents", "ErrorSubscriptionNotFound",
                "The specified subscription was not found.",
            )  # fmt: skip
        minutes = int(operation.findtext(f"{{{M}}}ConnectionTimeout") or "30")
        opened = time.monotonic()
        response = web.StreamResponse(headers={"Content-Type": "text/xml; charset=utf-8"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        self.state.observed.streams += 1
        beat = time.monotonic()

        async def send(notifications: str, status: str) -> None:
            chunk = envelope(
                fill("streaming_events", notifications=Raw(notifications), status=status)
            )
            self.state.observed.bytes_sent += len(chunk)
            await response.write(chunk)

        await send("", "OK")
        try:
            while time.monotonic() < opened + minutes * self.state.faults.minute:
                live = [s for s in subscriptions if s is not None and not s.closed]
                if not live:
                    break
                notes = "".join(self._notification(box, s) for s in live)
                if notes:
                    await send(notes, "OK")
                    beat = time.monotonic()
                elif time.monotonic() - beat > self.state.faults.heartbeat:
                    await send("", "OK")
                    beat = time.monotonic()
                await asyncio.sleep(0.05)
            await send("", "Closed")
            await response.write_eof()
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        return response

    @staticmethod
    def _notification(box: Mailbox, subscription: Subscription) -> str:
        events = []
        start = len(box.log)
        while start > 0 and box.log[start - 1].seq > subscription.seq:
            start -= 1  # the log is in seq order: only its tail is new
        for event in box.log[start:]:
            if event.folder_id not in subscription.folders:
                continue
            stored = box.messages.get(event.message_id)
            key = change_key(stored) if stored is not None else "CQAAAA=="
            kinds = {"upsert": ("NewMailEvent", "CreatedEvent"), "removed": ("DeletedEvent",)}
            for kind in kinds.get(event.kind, ("ModifiedEvent",)):
                events.append(
                    fill("event", kind=Raw(kind), timestamp=_now(), id=event.message_id,
                         change_key=key, folder=event.folder_id)
                )  # fmt: skip
        subscription.seq = box.seq
        if not events:
            return ""
        return fill("notification", subscription=subscription.id, events=Raw("".join(events)))

    # ------------------------------------------------------------ autodiscover

    async def autodiscover(self, request: web.Request) -> web.Response:
        if request.method in ("GET", "HEAD"):
            return web.Response(status=200, text="")
        user = self.auth.user_of(request)
        if isinstance(user, web.Response):
            await request.read()
            return user
        operation = parse(await request.read())
        self.state.observed.requests["GetUserSettings"] += 1
        mailbox = operation.findtext(f".//{{{A}}}Mailbox") or ""
        known = {u.address for u in self.state.users.values()}
        if mailbox.lower() not in known:
            body = fill("autodiscover_response", error_code="InvalidUser",
                        error_message=f"Invalid user: '{mailbox}'", settings=Raw(""))  # fmt: skip
        else:
            settings = "".join(
                fill("autodiscover_setting", name=name, value=value)
                for name, value in (
                    ("AutoDiscoverSMTPAddress", mailbox.lower()),
                    ("ExternalEwsUrl", self.state.ews_url),
                    (
                        "EwsSupportedSchemas",
                        "Exchange2007, Exchange2010, Exchange2013, Exchange2016",
                    ),
                )
            )
            body = fill("autodiscover_response", error_code="NoError",
                        error_message="No error.", settings=Raw(settings))  # fmt: skip
        return web.Response(body=body.encode(), content_type="text/xml", charset="utf-8")


def build_app(state: EwsState) -> web.Application:
    app = web.Application()
    ews = EwsRoutes(state)
    identity = IdentityRoutes(state.graph)
    app.router.add_post(EWS_PATH, ews.ews)
    app.router.add_route("*", AUTODISCOVER_PATH, ews.autodiscover)
    app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", identity.openid)
    app.router.add_post("/{tenant}/oauth2/v2.0/devicecode", identity.devicecode)
    app.router.add_post("/{tenant}/oauth2/v2.0/token", identity.token)
    return app
