"""Handlers: messages.get/headers/explain/log/unlog/redecide/search/list/set_visibility
and attachments.get.

Every message is resolved for the daemon's user first (`store.messages.resolve`,
the store's one visibility rule): a message hidden from them is "No such message".
Only its owner or an admin changes a message the caller may see (log, unlog,
retry: -32006 with the reason `not_owner`); only its owner sets its visibility."""

from __future__ import annotations

import base64
import contextlib
from datetime import UTC, datetime

from loggbok.daemon.rpc.access import require_can_log, require_owner_or_admin
from loggbok.daemon.rpc.context import Context
from loggbok.daemon.rpc.dispatch import Handler
from loggbok.daemon.rpc.raw_results import RawMessageList
from loggbok.daemon.rules.context import RuleSettings
from loggbok.daemon.settings_rules import SettingInvalid, check_never_log
from loggbok.daemon.store.bodies import StoredBody
from loggbok.daemon.store.errors import StoreError
from loggbok.daemon.store.redecisions import Scope
from loggbok.daemon.store.settings import normalise_list
from loggbok.daemon.sync.backend import BackendError
from loggbok.daemon.sync.bodies import build_body_async
from loggbok.daemon.sync.engine import rule_settings
from loggbok.daemon.sync.redecide import Preview
from loggbok.daemon.sync.redecide import redecide as redecide_messages
from loggbok.protocol import types as t
from loggbok.protocol.errors import ErrorCode, RpcError


async def _resolve(
    ctx: Context, params: t.MessageRefParams | t.MessagesLogParams | t.MessagesUnlogParams
) -> int:
    return await ctx.store.messages.resolve(params.id, params.message_id, ctx.viewer)


async def get(ctx: Context, params: t.MessageRefParams) -> t.Message:
    return await ctx.store.messages.get(await _resolve(ctx, params), ctx.viewer)


async def headers(ctx: Context, params: t.MessageRefParams) -> t.MessageHeaders:
    return await ctx.store.messages.headers(await _resolve(ctx, params), ctx.viewer)


async def explain(ctx: Context, params: t.MessageRefParams) -> t.Explanation:
    return await ctx.store.messages.explain(await _resolve(ctx, params), ctx.viewer)


async def log(ctx: Context, params: t.MessagesLogParams) -> t.LogResult:
    await require_can_log(ctx, "log email")
    message = await _resolve(ctx, params)
    await require_owner_or_admin(ctx, message, "log it")
    wanted = list(dict.fromkeys(params.contact_ids))
    if not wanted:
        raise RpcError(ErrorCode.INVALID_PARAMS, "Invalid params", "contact_ids is empty")
    await _require_contacts(ctx, wanted)
    body = None
    state = await ctx.store.messages.body_state(message)
    if state == "headers":
        body = await _fetch_body(ctx, message)
    elif not await ctx.store.messages.is_logged(message):
        # The body of a message that was not logged (a forward_unparsed, a calendar
        # turned down) was kept without its attachments and search row: read it again
        # so the logged message is whole; when the mailbox cannot give it, log it as is.
        with contextlib.suppress(RpcError, StoreError):
            body = await _fetch_body(ctx, message)
    added = await ctx.store.messages.log_manually(message, wanted, body)
    for entry in await ctx.store.timeline.entries_for(message, added, ctx.viewer):
        await ctx.sync.notify(
            "timeline.appended", t.TimelineAppended(contact_id=entry.contact_id, entry=entry)
        )
    return t.LogResult(id=message, contact_ids=await ctx.store.messages.contact_ids(message))


async def _require_contacts(ctx: Context, wanted: list[int]) -> None:
    known = await ctx.store.contacts.exists(wanted)
    missing = [c for c in wanted if c not in known]
    if missing:
        raise RpcError(ErrorCode.NOT_FOUND, "No such contact", {"ids": missing})


async def unlog(ctx: Context, params: t.MessagesUnlogParams) -> t.UnlogResult:
    message = await _resolve(ctx, params)
    await require_owner_or_admin(ctx, message, "take it off timelines")
    wanted = None if params.contact_ids is None else list(dict.fromkeys(params.contact_ids))
    if wanted is not None:
        if not wanted:
            raise RpcError(ErrorCode.INVALID_PARAMS, "Invalid params", "contact_ids is empty")
        await _require_contacts(ctx, wanted)
    async with ctx.sync.edits:
        done = await ctx.store.by_hand.unlog(message, wanted)
    if done.removed:
        await ctx.sync.notify(
            "timeline.changed",
            t.TimelineChanged(contact_ids=sorted(done.removed), entries=len(done.removed)),
        )
    return t.UnlogResult(id=message, removed=done.removed, contact_ids=done.remaining)


def _since(value: str | None) -> float | None:
    """An ISO date (midnight UTC) or date-time (UTC unless it names its offset)."""
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise RpcError(
            ErrorCode.INVALID_PARAMS,
            "Invalid params",
            f"since: {value!r} is not an ISO date or date-time",
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


async def redecide(ctx: Context, params: t.MessagesRedecideParams) -> t.RedecideResult:
    ids = None
    if params.ids is not None:
        ids = tuple(
            [
                await ctx.store.messages.resolve(i, None, ctx.viewer)
                for i in dict.fromkeys(params.ids)
            ]
        )
    # With other members in the store, only the daemon's user's own messages: theirs
    # are decided by their own rules, and a sample must not show what is hidden.
    owner = ctx.viewer if await ctx.store.users.count() > 1 else None
    scope = Scope(since_ts=_since(params.since), ids=ids, owner=owner)
    return await redecide_messages(
        ctx.store,
        ctx.sync,
        scope,
        dry_run=params.dry_run,
        preview=_preview(params),
        user_id=ctx.viewer,
    )


def _preview(params: t.MessagesRedecideParams) -> Preview:
    """The never-log lists a dry run decides with in place of the saved ones."""
    lists = {"never_log": params.never_log, "team_never_log": params.team_never_log}
    given = {name: value for name, value in lists.items() if value is not None}
    if given and not params.dry_run:
        raise RpcError(
            ErrorCode.INVALID_PARAMS,
            "Invalid params",
            f"{', '.join(given)}: only with dry_run (save the list, then apply)",
        )
    for name, value in given.items():
        try:
            check_never_log(value, name)
        except SettingInvalid as exc:
            raise RpcError(ErrorCode.INVALID_PARAMS, "Invalid params", str(exc)) from None
    return Preview(
        never_log=None if params.never_log is None else normalise_list(params.never_log),
        team_never_log=(
            None if params.team_never_log is None else normalise_list(params.team_never_log)
        ),
    )


async def retry(ctx: Context, params: t.MessageRefParams) -> t.Message:
    message = await _resolve(ctx, params)
    await require_owner_or_admin(ctx, message, "fetch its body again")
    if await ctx.store.messages.awaits_original(message):
        # A forward whose body could not be read in its sync: read its original now (R8).
        body = await _fetch_body(ctx, message, forward=True)
        await ctx.store.messages.replace_body(message, body, await _rules_for(ctx, message))
    else:
        await ctx.store.messages.replace_body(message, await _fetch_body(ctx, message))
    return await ctx.store.messages.get(message, ctx.viewer)


async def set_visibility(ctx: Context, params: t.MessagesSetVisibilityParams) -> t.VisibilitySet:
    message = await ctx.store.messages.resolve(params.id, params.message_id, ctx.viewer)
    await ctx.store.messages.set_visibility(message, params.visibility, ctx.viewer)
    return t.VisibilitySet(id=message, visibility=params.visibility)


async def _rules_for(ctx: Context, message: int) -> RuleSettings:
    """The rules a sync of the message's mailbox decides with."""
    location = await ctx.store.messages.location(message, ctx.viewer)
    assert location is not None, "a message whose body was just fetched has a location"
    mailbox = await ctx.store.mailboxes.get_row(location["mailbox_id"])
    return rule_settings(
        await ctx.store.settings.get(mailbox.user_id),
        mailbox.address,
        await ctx.store.users.can_log(mailbox.user_id),
        team=await ctx.store.team.get(),
        kind=mailbox.kind,
    )


async def _fetch_body(ctx: Context, message: int, *, forward: bool = False) -> StoredBody:
    """The message's body, fetched from its mailbox and parsed off the loop."""
    location = await ctx.store.messages.location(message, ctx.viewer)
    if location is None:
        raise RpcError(
            ErrorCode.MAILBOX_UNAVAILABLE, "The message's mailbox is gone", {"id": message}
        )
    settings = await ctx.store.settings.get(ctx.viewer)
    try:
        reduced = await ctx.sync.read_message(
            location["mailbox_id"],
            location["folder"],
            location["role"],
            location["remote_id"],
            settings.attachment_limit_bytes,
            settings.body_limit_bytes,
        )
    except BackendError as exc:
        raise RpcError(ErrorCode.MAILBOX_UNAVAILABLE, "Cannot read the message", str(exc)) from None
    return await build_body_async(
        reduced.raw,
        ctx.store.blobs,
        settings.attachment_limit_bytes,
        settings.body_limit_bytes,
        reduced.skipped,
        forward=forward,
    )


async def search(ctx: Context, params: t.MessagesSearchParams) -> t.SearchResult:
    if not params.query.strip():
        raise RpcError(ErrorCode.INVALID_PARAMS, "Invalid params", "query is empty")
    return await ctx.store.messages.search(params.query, params.limit, ctx.viewer)


async def list_(ctx: Context, params: t.MessagesListParams) -> RawMessageList:
    """The page's summaries are the database's JSON (`RawMessageList`): a `MessageList`."""
    page = await ctx.store.messages.recent_json(
        params.logged, params.reason, params.mailbox_id, params.limit, params.before, ctx.viewer
    )
    return RawMessageList(messages=page.items, next=page.next)


async def attachment(ctx: Context, params: t.AttachmentGetParams) -> t.AttachmentContent:
    """A piece of at most `ATTACHMENT_PIECE_BYTES`, so any attachment fits in a line."""
    message = await ctx.store.messages.resolve(params.id, None, ctx.viewer)
    row = await ctx.store.messages.attachment_blob(message, params.index)
    if row["status"] != "stored" or not row["sha256"]:
        raise RpcError(
            ErrorCode.NOT_FOUND,
            "Attachment not stored",
            {"status": row["status"], "filename": row["filename"]},
        )
    length = min(params.length or t.ATTACHMENT_PIECE_BYTES, t.ATTACHMENT_PIECE_BYTES)
    found = await ctx.store.db.read_blob(row["sha256"], params.offset, length)
    if found is None:
        raise RpcError(
            ErrorCode.NOT_FOUND, "Attachment file missing", {"filename": row["filename"]}
        )
    size, data = found
    if params.offset > size:
        raise RpcError(
            ErrorCode.INVALID_PARAMS,
            "Invalid params",
            f"offset {params.offset} is past the end of the attachment ({size} bytes)",
        )
    end = params.offset + len(data)
    return t.AttachmentContent(
        filename=row["filename"],
        content_type=row["content_type"],
        size=size,
        data_base64=base64.b64encode(data).decode(),
        offset=params.offset,
        next_offset=end if end < size else None,
    )


HANDLERS: dict[str, Handler] = {
    "messages.get": get,
    "messages.headers": headers,
    "messages.explain": explain,
    "messages.log": log,
    "messages.search": search,
    "messages.list": list_,
    "messages.retry": retry,
    "messages.unlog": unlog,
    "messages.redecide": redecide,
    "messages.set_visibility": set_visibility,
    "attachments.get": attachment,
}
