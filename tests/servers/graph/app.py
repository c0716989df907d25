"""The routes of the Graph test server: Microsoft Graph mail (`/v1.0/...`) and the
Microsoft identity platform endpoints msal calls (`/{tenant}/...`).

Every body follows a shape file in `shapes/` (each cites the docs page it
follows). The behaviour a client must cope with is here: delta pages with next
and delta links, `@removed` items, partial updates, expired delta tokens (410
or `syncStateNotFound`), 429 with Retry-After (also per item inside `$batch`),
`$value` MIME, bearer tokens that can be revoked. What the server saw is kept
in `Observed` for the tests: requests by kind, bytes sent, the most requests
in flight at once per user, and any request that came before a Retry-After
had passed.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.servers.graph.mailstore import (
    Mailbox,
    decode_token,
    encode_token,
    properties,
)

SHAPES = Path(__file__).with_name("shapes")
DEFAULT_PAGE_SIZE = 10
"""Graph's default page size for message delta."""
TENANT_ID = "9188040d-6c67-4c5b-b112-36a304b66dad"


def shape(name: str, **values: str) -> dict[str, Any]:
    """A shape file with its `{placeholders}` filled and its `_docs` dropped."""
    text = (SHAPES / f"{name}.json").read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace("{" + key + "}", json.dumps(value)[1:-1])
    data: dict[str, Any] = json.loads(text)
    data.pop("_docs", None)
    return data


@dataclass
class Observed:
    requests: Counter[str] = field(default_factory=Counter)
    bytes_sent: int = 0
    in_flight: Counter[str] = field(default_factory=Counter)
    max_in_flight: Counter[str] = field(default_factory=Counter)
    early_requests: int = 0
    """Requests that arrived before the Retry-After the server had asked for."""
    log: list[tuple[float, str, str, int]] = field(default_factory=list)


@dataclass
class Identity:
    """Device codes, tokens and who they belong to."""

    pending: dict[str, dict[str, Any]] = field(default_factory=dict)
    approved: dict[str, str] = field(default_factory=dict)
    access: dict[str, str] = field(default_factory=dict)
    refresh: dict[str, str] = field(default_factory=dict)
    auto_approve: str | None = None
    """Approve every device code at once for this address (tests that only need a token)."""


@dataclass
class Faults:
    throttle: int = 0
    throttle_status: int = 429
    retry_after: float = 1.0
    throttle_batch_items: int = 0
    expire_with_410: bool = False
    not_before: dict[str, float] = field(default_factory=dict)


class GraphState:
    def __init__(self) -> None:
        self.mailboxes: dict[str, Mailbox] = {}
        self.identity = Identity()
        self.faults = Faults()
        self.observed = Observed()
        self.base = ""

    def mailbox(self, address: str) -> Mailbox:
        address = address.lower()
        if address not in self.mailboxes:
            self.mailboxes[address] = Mailbox(address)
        return self.mailboxes[address]

    # ------------------------------------------------------------ tokens

    def issue_tokens(self, address: str, client_id: str, scope: str) -> dict[str, Any]:
        access, refresh = "at-" + secrets.token_hex(16), "rt-" + secrets.token_hex(16)
        self.identity.access[access] = address
        self.identity.refresh[refresh] = address
        now = int(time.time())
        oid = "00000000-0000-0000-0000-" + f"{abs(hash(address)) % 10**12:012d}"
        claims = {
            "aud": client_id,
            "iss": f"{self.base}/{TENANT_ID}/v2.0",
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "name": address.split("@")[0],
            "oid": oid,
            "preferred_username": address,
            "sub": oid,
            "tid": TENANT_ID,
            "ver": "2.0",
        }
        id_token = (
            ".".join(
                _b64url(json.dumps(part).encode())
                for part in ({"alg": "RS256", "typ": "JWT", "kid": "test"}, claims)
            )
            + "."
            + _b64url(b"not-a-real-signature")
        )
        client_info = _b64url(json.dumps({"uid": oid, "utid": TENANT_ID}).encode())
        return shape(
            "token",
            scope=scope,
            access_token=access,
            refresh_token=refresh,
            id_token=id_token,
            client_info=client_info,
        )

    def revoke(self, address: str) -> None:
        """Consent revoked / password reset: every token of the user stops working."""
        address = address.lower()
        for table in (self.identity.access, self.identity.refresh):
            for token in [t for t, a in table.items() if a == address]:
                del table[token]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _error(status: int, code: str, message: str, **headers: str) -> web.Response:
    body = shape(
        "error",
        code=code,
        message=message,
        date=time.strftime("%Y-%m-%dT%H:%M:%S"),
        requestId=secrets.token_hex(8),
    )
    return web.json_response(body, status=status, headers=headers)


def _not_found() -> web.Response:
    return _error(404, "ErrorItemNotFound", "The specified object was not found in the store.")


def _token_error(error: str, description: str) -> web.Response:
    body = shape(
        "token_error",
        error=error,
        error_description=description,
        date=time.strftime("%Y-%m-%d %H:%M:%SZ"),
    )
    return web.json_response(body, status=400)


# ------------------------------------------------------------------ middleware


def build_app(state: GraphState) -> web.Application:
    @web.middleware
    async def observe(request: web.Request, handler: Any) -> web.StreamResponse:
        graph = request.path.startswith("/v1.0/")
        user = request.headers.get("Authorization", "")[7:] if graph else "identity"
        user = state.identity.access.get(user, user)
        now = time.monotonic()
        if graph and now < state.faults.not_before.get(user, 0.0):
            state.observed.early_requests += 1
        state.observed.in_flight[user] += 1
        state.observed.max_in_flight[user] = max(
            state.observed.max_in_flight[user], state.observed.in_flight[user]
        )
        try:
            if graph and state.faults.throttle > 0:
                state.faults.throttle -= 1
                state.faults.not_before[user] = now + state.faults.retry_after
                status = state.faults.throttle_status
                response: web.StreamResponse = _error(
                    status,
                    "TooManyRequests" if status == 429 else "ServiceUnavailable",
                    "Application is over its MailboxConcurrency limit.",
                    **{"Retry-After": str(int(state.faults.retry_after))},
                )
            else:
                response = await handler(request)
        finally:
            state.observed.in_flight[user] -= 1
        kind = _kind(request.path)
        state.observed.requests[kind] += 1
        if isinstance(response, web.Response) and response.body is not None:
            state.observed.bytes_sent += len(response.body)  # type: ignore[arg-type]
        state.observed.log.append((now, request.method, request.path_qs, response.status))
        return response

    app = web.Application(middlewares=[observe])
    graph = GraphRoutes(state)
    identity = IdentityRoutes(state)
    app.router.add_get("/v1.0/me/mailFolders", graph.folders)
    app.router.add_get("/v1.0/me/mailFolders/{folder}", graph.folder)
    app.router.add_get("/v1.0/me/mailFolders/{folder}/childFolders", graph.child_folders)
    app.router.add_get("/v1.0/me/mailFolders/{folder}/messages/delta", graph.delta)
    # the form Graph's own next and delta links take: /me/mailfolders('ID')/messages/delta
    app.router.add_get(r"/v1.0/me/mailfolders('{folder:[^/']+}')/messages/delta", graph.delta)
    app.router.add_get("/v1.0/me/messages/{id}/$value", graph.value)
    app.router.add_get("/v1.0/me/messages/{id}", graph.message)
    app.router.add_post("/v1.0/$batch", graph.batch)
    app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", identity.openid)
    app.router.add_post("/{tenant}/oauth2/v2.0/devicecode", identity.devicecode)
    app.router.add_post("/{tenant}/oauth2/v2.0/token", identity.token)
    return app


def _kind(path: str) -> str:
    if path.endswith("/$value"):
        return "value"
    if path.endswith("/messages/delta"):
        return "delta"
    if path.endswith("/$batch"):
        return "batch"
    if path.startswith("/v1.0/me/mailFolders"):
        return "folders"
    if path.startswith("/v1.0/"):
        return "message"
    return "identity"


# ------------------------------------------------------------------ Graph


class GraphRoutes:
    def __init__(self, state: GraphState) -> None:
        self.state = state

    def _me(self, request: web.Request) -> Mailbox | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return None
        address = self.state.identity.access.get(header[7:])
        return None if address is None else self.state.mailbox(address)

    @staticmethod
    def _unauthorized() -> web.Response:
        return _error(
            401,
            "InvalidAuthenticationToken",
            "Access token validation failure. Invalid audience.",
            **{"WWW-Authenticate": 'Bearer realm="", error="invalid_token"'},
        )

    def _folder_json(self, mailbox: Mailbox, folder_id: str) -> dict[str, Any]:
        folder = mailbox.folders[folder_id]
        children = [f for f in mailbox.folders.values() if f.parent_id == folder.id]
        return shape(
            "mail_folder",
            id=folder.id,
            displayName=folder.display_name,
            parentFolderId=folder.parent_id,
        ) | {
            "childFolderCount": len(children),
            "totalItemCount": len(mailbox.in_folder(folder.id)),
        }

    async def folders(self, request: web.Request) -> web.Response:
        mailbox = self._me(request)
        if mailbox is None:
            return self._unauthorized()
        root = next(iter(mailbox.folders.values())).parent_id
        return self._folder_list(mailbox, root)

    async def child_folders(self, request: web.Request) -> web.Response:
        mailbox = self._me(request)
        if mailbox is None:
            return self._unauthorized()
        folder = mailbox.folder(request.match_info["folder"])
        if folder is None:
            return _error(404, "ErrorItemNotFound", "The specified object was not found.")
        return self._folder_list(mailbox, folder.id)

    def _folder_list(self, mailbox: Mailbox, parent: str) -> web.Response:
        body = shape("mail_folders", base=self.state.base, user=mailbox.address)
        body["value"] = [
            self._folder_json(mailbox, f.id)
            for f in mailbox.folders.values()
            if f.parent_id == parent
        ]
        return web.json_response(body)

    async def folder(self, request: web.Request) -> web.Response:
        mailbox = self._me(request)
        if mailbox is None:
            return self._unauthorized()
        folder = mailbox.folder(request.match_info["folder"])
        if folder is None:
            return _error(404, "ErrorItemNotFound", "The specified object was not found.")
        return web.json_response(self._folder_json(mailbox, folder.id))

    async def delta(self, request: web.Request) -> web.Response:
        mailbox = self._me(request)
        if mailbox is None:
            return self._unauthorized()
        folder = mailbox.folder(request.match_info["folder"])
        if folder is None:
            return _error(404, "ErrorItemNotFound", "The specified object was not found.")
        page_size = _max_page_size(request.headers.get("Prefer", ""))
        query = request.query
        token = query.get("$skiptoken") or query.get("$deltatoken")
        if token is not None:
            state = decode_token(token)
            if state is None or state.get("folder") != folder.id:
                return _error(400, "ErrorInvalidUrlQuery", "The delta token is not valid.")
            if state["epoch"] != mailbox.epoch:
                if self.state.faults.expire_with_410:
                    return _error(
                        410,
                        "resyncRequired",
                        "The delta token has expired: resync.",
                        Location=self._link(folder.id, "$deltatoken", ""),
                    )
                return _error(400, "syncStateNotFound", "The sync state cannot be found.")
            select = state["select"]
            expand = state.get("expand", [])
        else:
            select = [s for s in query.get("$select", "").split(",") if s]
            expand = _expanded(query.get("$expand", ""))
            state = {"folder": folder.id, "epoch": mailbox.epoch, "since": None, "offset": 0}
        until = state.get("until", mailbox.seq)
        if state.get("since") is None:
            listed = [(m.id, "upsert") for m in mailbox.in_folder(folder.id)]
        else:
            listed = mailbox.changes_since(folder.id, state["since"], until)
        offset = state.get("offset", 0)
        page = [
            _selected(self._item(mailbox, folder.id, message_id, kind), select, expand)
            for message_id, kind in listed[offset : offset + page_size]
        ]
        body = shape("delta_page", base=self.state.base)
        body["value"] = page
        common = {"folder": folder.id, "epoch": mailbox.epoch, "select": select, "expand": expand}
        if offset + page_size < len(listed):
            token = encode_token(
                common | {"since": state.get("since"), "until": until, "offset": offset + page_size}
            )
            body["@odata.nextLink"] = self._link(folder.id, "$skiptoken", token)
        else:
            token = encode_token(common | {"since": until, "offset": 0})
            body["@odata.deltaLink"] = self._link(folder.id, "$deltatoken", token)
        return web.json_response(body)

    @staticmethod
    def _item(mailbox: Mailbox, folder_id: str, message_id: str, kind: str) -> dict[str, Any]:
        """One delta item: the message, a partial update, or @removed."""
        stored = mailbox.messages.get(message_id)
        if kind == "removed" or stored is None or stored.folder_id != folder_id:
            return shape("removed", id=message_id)
        if kind == "read":
            return shape(
                "updated_partial",
                id=message_id,
                changeKey=f"CQAAAB{stored.change_key}",
                parentFolderId=folder_id,
            )
        return properties(stored)

    def _link(self, folder_id: str, key: str, token: str) -> str:
        quoted = urllib.parse.quote(token, safe="")
        return f"{self.state.base}/v1.0/me/mailfolders('{folder_id}')/messages/delta?{key}={quoted}"

    async def message(self, request: web.Request) -> web.Response:
        mailbox = self._me(request)
        if mailbox is None:
            return self._unauthorized()
        stored = mailbox.messages.get(request.match_info["id"])
        if stored is None:
            return _error(
                404, "ErrorItemNotFound", "The specified object was not found in the store."
            )
        select = [s for s in request.query.get("$select", "").split(",") if s]
        return web.json_response(_selected(properties(stored), select))

    async def value(self, request: web.Request) -> web.Response:
        mailbox = self._me(request)
        if mailbox is None:
            return self._unauthorized()
        stored = mailbox.messages.get(request.match_info["id"])
        if stored is None:
            return _error(
                404, "ErrorItemNotFound", "The specified object was not found in the store."
            )
        return web.Response(body=stored.mime, content_type="text/plain")

    async def batch(self, request: web.Request) -> web.Response:
        mailbox = self._me(request)
        if mailbox is None:
            return self._unauthorized()
        requests = (await request.json()).get("requests", [])
        if len(requests) > 20:
            return _error(400, "BadRequest", "The number of requests in a batch exceeds 20.")
        responses = []
        for item in requests:
            url = str(item.get("url", ""))
            if self.state.faults.throttle_batch_items > 0:
                self.state.faults.throttle_batch_items -= 1
                retry = str(int(self.state.faults.retry_after))
                responses.append(
                    {
                        "id": item["id"],
                        "status": 429,
                        "headers": {"Retry-After": retry, "Content-Type": "application/json"},
                        "body": shape("error", code="TooManyRequests", message="Too many requests",
                                      date="", requestId=""),
                    }
                )  # fmt: skip
                continue
            parts = url.split("?")[0].strip("/").split("/")
            # mail folders by id or well-known name, messages, their $value
            if len(parts) == 3 and parts[:2] == ["me", "mailFolders"]:
                self.state.observed.requests["batch_folder"] += 1
                folder = mailbox.folder(urllib.parse.unquote(parts[2]))
                responses.append(
                    {
                        "id": item["id"],
                        "status": 200 if folder else 404,
                        "headers": {"Content-Type": "application/json"},
                        "body": self._folder_json(mailbox, folder.id) if folder
                        else shape("error", code="ErrorItemNotFound",
                                   message="The specified object was not found.",
                                   date="", requestId=""),
                    }
                )  # fmt: skip
                continue
            stored = (
                mailbox.messages.get(parts[2])
                if len(parts) >= 3 and parts[:2] == ["me", "messages"]
                else None
            )
            if stored is None:
                responses.append(
                    {
                        "id": item["id"],
                        "status": 404,
                        "headers": {"Content-Type": "application/json"},
                        "body": shape("error", code="ErrorItemNotFound",
                                      message="The specified object was not found in the store.",
                                      date="", requestId=""),
                    }
                )  # fmt: skip
            elif parts[-1] == "$value":
                self.state.observed.requests["batch_value"] += 1
                responses.append(
                    {
                        "id": item["id"],
                        "status": 200,
                        "headers": {"Content-Type": "text/plain"},
                        "body": base64.b64encode(stored.mime).decode(),
                    }
                )
            else:
                self.state.observed.requests["batch_message"] += 1
                responses.append(
                    {
                        "id": item["id"],
                        "status": 200,
                        "headers": {"Content-Type": "application/json"},
                        "body": _selected(
                            properties(stored),
                            _select_of(url),
                            _expanded(_query_of(url, "$expand")),
                        ),
                    }
                )
        body = shape("batch_response")
        body["responses"] = responses
        self.state.observed.requests["batch_items"] += len(requests)
        return web.json_response(body)


def _selected(
    item: dict[str, Any], select: list[str], expand: list[str] | None = None
) -> dict[str, Any]:
    """The item with only the `$select`ed properties, and the extended properties
    `$expand` asked for (those the message has)."""
    if "@removed" in item:
        return item
    keep = {"id", "@odata.type", "@odata.etag", *select}
    found = {k: v for k, v in item.items() if not k.startswith("_") and (not select or k in keep)}
    if expand:
        extended = item.get("_extended", {})
        found["singleValueExtendedProperties"] = [
            shape("extended_property", id=prop, value=extended[prop])
            for prop in expand
            if prop in extended
        ]
    return found


def _expanded(expand: str) -> list[str]:
    """The extended property ids named in `$expand=singleValueExtendedProperties(
    $filter=id eq 'String 0x1042' or id eq ...)`."""
    if "singleValueExtendedProperties" not in expand:
        return []
    return re.findall(r"id eq '([^']+)'", expand)


def _query_of(url: str, name: str) -> str:
    return urllib.parse.parse_qs(urllib.parse.urlsplit(url).query).get(name, [""])[0]


def _select_of(url: str) -> list[str]:
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    return [s for s in query.get("$select", [""])[0].split(",") if s]


def _max_page_size(prefer: str) -> int:
    for part in prefer.split(","):
        name, _, value = part.strip().partition("=")
        if name.strip() == "odata.maxpagesize" and value.strip().isdigit():
            return max(1, int(value))
    return DEFAULT_PAGE_SIZE


# ------------------------------------------------------------------ identity


class IdentityRoutes:
    def __init__(self, state: GraphState) -> None:
        self.state = state

    async def openid(self, request: web.Request) -> web.Response:
        tenant = request.match_info["tenant"]
        authority = f"{self.state.base}/{tenant}"
        return web.json_response(
            shape(
                "openid_configuration",
                authority=authority,
                base=self.state.base,
                tenant=tenant,
                tenant_id=TENANT_ID,
            )
        )

    async def devicecode(self, request: web.Request) -> web.Response:
        form = await request.post()
        device_code = "dc-" + secrets.token_hex(16)
        user_code = secrets.token_hex(4).upper()
        self.state.identity.pending[device_code] = {
            "user_code": user_code,
            "client_id": str(form.get("client_id", "")),
            "scope": str(form.get("scope", "")),
            "expires": time.time() + 900,
        }
        if self.state.identity.auto_approve:
            self.state.identity.approved[user_code] = self.state.identity.auto_approve
        return web.json_response(
            shape("device_code", device_code=device_code, user_code=user_code, base=self.state.base)
        )

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        grant = str(form.get("grant_type", ""))
        client_id = str(form.get("client_id", ""))
        scope = str(form.get("scope", ""))
        if grant == "urn:ietf:params:oauth:grant-type:device_code":
            pending = self.state.identity.pending.get(str(form.get("device_code", "")))
            if pending is None:
                return _token_error("bad_verification_code", "AADSTS70019: the code is not known.")
            if time.time() > pending["expires"]:
                return _token_error("expired_token", "AADSTS70020: the device code expired.")
            address = self.state.identity.approved.get(pending["user_code"])
            if address is None:
                return _token_error(
                    "authorization_pending", "AADSTS70016: OAuth 2.0 device flow error."
                )
            del self.state.identity.pending[str(form["device_code"])]
            return web.json_response(self.state.issue_tokens(address, client_id, pending["scope"]))
        if grant == "refresh_token":
            address = self.state.identity.refresh.pop(str(form.get("refresh_token", "")), None)
            if address is None:
                return _token_error(
                    "invalid_grant",
                    "AADSTS50173: The provided grant has expired due to it being revoked.",
                )
            return web.json_response(self.state.issue_tokens(address, client_id, scope))
        return _token_error("unsupported_grant_type", f"AADSTS70003: {grant} is not supported.")
