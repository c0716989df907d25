"""Handlers: mailboxes.add/providers/list/update/remove/sync/test/reconnect/sign_in/audit.

A daemon sees and works only the mailboxes of its own user (`Context.viewer`):
another member's mailbox is "No such mailbox". A view-only or deactivated member
cannot connect one (R12: -32006 with the reason `seat_cannot_log`), nor may anyone
connect an address another member's connected mailbox has (-32006, `address_taken`:
no member reads another's mail by naming their address); a team mailbox (`kind`
`team`, added or updated) is an admin's to make (-32010).

A mailbox's `kind` (`personal`, or `team`: a shared inbox, R15) is given to
`mailboxes.add` with any provider and changed by `mailboxes.update` (as its
`visibility` is); each sync round reads them, so a change decides the mail that
arrives from then on.

`mailboxes.test` and `mailboxes.add` run the provider's probe and the R14
check of the address's domain (`providers/domains.py`) side by side; a
mismatch is a warning with the code `provider_mismatch`, never a refusal.

Secrets given with `mailboxes.add` or `mailboxes.reconnect` go to the secret
store (system keyring or a 0600 file) under "mailbox:<id>", never into the
database, the logs or an error message.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from msgspec import UNSET

from loggbok.daemon.mime.headers import parse_headers
from loggbok.daemon.rpc.access import require_admin, require_can_log
from loggbok.daemon.rpc.context import Context
from loggbok.daemon.rpc.dispatch import Handler
from loggbok.daemon.secrets import mailbox_secret_key as secret_key
from loggbok.daemon.sync.backend import AuthError, BackendError
from loggbok.daemon.sync.folder_choice import chosen, skipped_by_labels
from loggbok.daemon.sync.providers import domains
from loggbok.daemon.sync.providers.base import SIGN_IN_NEEDED, Provider
from loggbok.daemon.sync.providers.registry import (
    describe_providers,
    provider_for,
    provider_of,
)
from loggbok.protocol import types as t
from loggbok.protocol.errors import ErrorCode, RpcError

log = logging.getLogger(__name__)


async def _probe(
    params: t.MailboxAddParams,
) -> tuple[Provider, dict[str, Any], t.MailboxTestResult]:
    if "@" not in params.address:
        raise RpcError(ErrorCode.INVALID_PARAMS, "Invalid params", "address is not an address")
    provider = provider_for(params)
    config = provider.config_of(params)
    probe, found = await asyncio.gather(
        provider.probe(config, provider.secret_of(params)),
        domains.check(provider, config, params.address),
    )
    if found is not None:
        log.info("mailbox %s: %s", params.address, found.message)
        probe.warnings.append(found.message)
        if found.code not in probe.warning_codes:
            probe.warning_codes.append(found.code)
        probe.suggested_provider = found.suggested_provider
    return provider, config, probe


async def add(ctx: Context, params: t.MailboxAddParams) -> t.MailboxAdded:
    await require_can_log(ctx, "connect a mailbox")
    if params.kind == "team":
        await require_admin(ctx)
    await ctx.store.mailboxes.may_connect(ctx.viewer, params.address, params.kind)
    provider, config, probe = await _probe(params)
    if not probe.ok:
        code = ErrorCode.AUTH_FAILED if probe.error_kind == "auth" else ErrorCode.CONNECTION_FAILED
        raise RpcError(
            code, "Cannot connect the mailbox", {"kind": probe.error_kind, "error": probe.error}
        )
    mailbox_id = await ctx.store.mailboxes.add(
        provider.name,
        params.address,
        config,
        user_id=ctx.viewer,
        visibility=params.visibility,
        kind=params.kind,
    )
    secret = provider.secret_of(params)
    if secret is not None:
        await asyncio.to_thread(ctx.secrets.set, secret_key(mailbox_id), secret)
    await ctx.sync.added(mailbox_id)
    sign_in_needed = secret is None and provider.signs_in_with(config)
    if sign_in_needed:
        # Told through the worker (whose task has not run yet) before the answer, so
        # the worker's own "sign in to connect" is no change and a client's sign-in
        # dialog never sees it.
        await ctx.sync.worker(mailbox_id).set_status("auth_failed", SIGN_IN_NEEDED)
    return t.MailboxAdded(
        id=mailbox_id,
        warnings=probe.warnings,
        warning_codes=probe.warning_codes,
        suggested_provider=probe.suggested_provider,
        sign_in_needed=sign_in_needed,
    )


async def providers(ctx: Context, params: t.NoParams) -> t.ProviderList:
    return t.ProviderList(providers=describe_providers())


async def list_(ctx: Context, params: t.NoParams) -> t.MailboxList:
    return t.MailboxList(
        mailboxes=ctx.sync.live(await ctx.store.mailboxes.describe(user_id=ctx.viewer))
    )


async def update(ctx: Context, params: t.MailboxUpdateParams) -> t.Mailbox:
    await ctx.store.mailboxes.get_row(params.id, ctx.viewer)
    if params.visibility is not UNSET:
        await ctx.store.mailboxes.set_visibility(params.id, params.visibility)
    if params.kind == "team":
        await require_admin(ctx)
    if isinstance(params.kind, str):
        await ctx.store.mailboxes.set_kind(params.id, params.kind)
    [mailbox] = ctx.sync.live(await ctx.store.mailboxes.describe(params.id, user_id=ctx.viewer))
    worker = ctx.sync.workers.get(params.id)
    if worker is not None:  # its next round logs with the new visibility and kind
        worker.mailbox = await ctx.store.mailboxes.get_row(params.id, ctx.viewer)
    return mailbox


async def remove(ctx: Context, params: t.IdParams) -> t.Ok:
    await ctx.store.mailboxes.get_row(params.id, ctx.viewer)
    await ctx.store.mailboxes.remove(params.id)
    await ctx.sync.removed(params.id)
    if ctx.sign_ins is not None:
        ctx.sign_ins.forget(params.id)
    await asyncio.to_thread(ctx.secrets.delete, secret_key(params.id))
    return t.Ok()


async def sync(ctx: Context, params: t.IdParams) -> t.SyncResult:
    await ctx.store.mailboxes.get_row(params.id, ctx.viewer)
    try:
        return await ctx.sync.worker(params.id).sync_now()
    except AuthError as exc:
        raise RpcError(ErrorCode.AUTH_FAILED, "Authentication failed", str(exc)) from None
    except BackendError as exc:
        raise RpcError(ErrorCode.MAILBOX_UNAVAILABLE, "Mailbox unavailable", str(exc)) from None


async def test(ctx: Context, params: t.MailboxAddParams) -> t.MailboxTestResult:
    return (await _probe(params))[2]


async def reconnect(ctx: Context, params: t.MailboxReconnectParams) -> t.Ok:
    await require_can_log(ctx, "connect a mailbox")
    row = await ctx.store.mailboxes.get_row(params.id, ctx.viewer)
    if params.password is not None:
        await asyncio.to_thread(ctx.secrets.set, secret_key(params.id), params.password)
    ctx.sync.worker(params.id).reconnect(row)
    return t.Ok()


async def sign_in(ctx: Context, params: t.IdParams) -> t.SignInPrompt:
    await require_can_log(ctx, "connect a mailbox")
    row = await ctx.store.mailboxes.get_row(params.id, ctx.viewer)
    try:
        provider = provider_of(row.provider)
    except BackendError:
        provider = None
    if provider is None or not provider.signs_in_with(row.config) or ctx.sign_ins is None:
        raise RpcError(
            ErrorCode.UNSUPPORTED,
            "This mailbox does not sign in",
            {"provider": row.provider, "hint": "use mailboxes.reconnect with a password"},
        )
    try:
        return await ctx.sign_ins.start(row, provider)
    except BackendError as exc:
        raise RpcError(ErrorCode.CONNECTION_FAILED, "Cannot start signing in", str(exc)) from None


async def audit(ctx: Context, params: t.IdParams) -> t.AuditResult:
    await ctx.store.mailboxes.get_row(params.id, ctx.viewer)
    stored = await ctx.store.mailboxes.folder_message_keys(params.id)
    stored_ids = {(r["folder"], r["remote_id"]): r for r in stored}
    missing: list[t.AuditEntry] = []
    server_ids: set[tuple[str, str]] = set()
    excluded = (await ctx.store.settings.get(ctx.viewer)).excluded_folders
    audited: list[str] = []
    try:
        async with ctx.sync.open_backend(params.id) as backend:
            for folder in chosen(await backend.folders(), excluded, labels=backend.labels):
                audited.append(folder.name)
                changes = await backend.changes(folder, None)
                server_ids.update((folder.name, r) for r in changes.new)
                absent = [r for r in changes.new if (folder.name, r) not in stored_ids]
                for item in await backend.fetch_headers(folder, absent):
                    if item.labels is not None and skipped_by_labels(item.labels, excluded):
                        server_ids.discard((folder.name, item.remote_id))
                        continue
                    facts = parse_headers(item.raw_header)
                    missing.append(
                        t.AuditEntry(
                            message_id=facts.message_id,
                            folder=folder.name,
                            uid=item.remote_id,
                            reason="not synced yet",
                        )
                    )
    except BackendError as exc:
        raise RpcError(ErrorCode.MAILBOX_UNAVAILABLE, "Mailbox unavailable", str(exc)) from None
    extra = [
        t.AuditEntry(
            message_id=r["message_id"] or "",
            folder=r["folder"],
            uid=r["remote_id"],
            reason="no longer in this folder (moved or deleted)",
        )
        for key, r in stored_ids.items()
        if key not in server_ids
    ]
    return t.AuditResult(
        id=params.id,
        server_messages=len(server_ids),
        stored_messages=len(stored_ids),
        missing=missing,
        extra=extra,
        folders=audited,
    )


HANDLERS: dict[str, Handler] = {
    "mailboxes.add": add,
    "mailboxes.providers": providers,
    "mailboxes.list": list_,
    "mailboxes.update": update,
    "mailboxes.remove": remove,
    "mailboxes.sync": sync,
    "mailboxes.test": test,
    "mailboxes.reconnect": reconnect,
    "mailboxes.sign_in": sign_in,
    "mailboxes.audit": audit,
}
