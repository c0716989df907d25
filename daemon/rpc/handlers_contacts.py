"""Handlers: contacts.create/get/list/update/import/delete/merge and timeline.get.

Contacts are the team's shared records; what they show of email (last activity,
blind threads) counts only the mail the daemon's user may see (`records.VISIBLE`)."""

from __future__ import annotations

import asyncio

from msgspec import UNSET

from loggbok.daemon.importing import import_contacts
from loggbok.daemon.rpc.access import is_admin
from loggbok.daemon.rpc.context import Context
from loggbok.daemon.rpc.dispatch import Handler
from loggbok.daemon.rpc.hangup import cancel_on_hangup
from loggbok.daemon.rpc.raw_results import RawTimeline
from loggbok.daemon.store.errors import Invalid
from loggbok.daemon.store.timeline import require_contact
from loggbok.protocol import methods as m
from loggbok.protocol import types as t


async def create(ctx: Context, params: t.ContactCreateParams) -> t.Created:
    return t.Created(id=await ctx.store.contacts.create(params.email, params.name, params.emails))


async def get(ctx: Context, params: t.IdParams) -> t.Contact:
    contact = await ctx.store.contacts.get(params.id, ctx.viewer)
    return (await ctx.store.outages.with_blind([contact], ctx.viewer))[0]


async def list_(ctx: Context, params: t.ContactsListParams) -> t.ContactList:
    # the page's statement carries each contact's blind threads already
    return await ctx.store.contacts.search(params.query, params.limit, params.cursor, ctx.viewer)


async def update(ctx: Context, params: t.ContactUpdateParams) -> t.Contact:
    return await ctx.store.contacts.update(
        params.id,
        None if params.name is UNSET else params.name,
        None if params.emails is UNSET else params.emails,
        ctx.viewer,
    )


async def import_(ctx: Context, params: t.ContactsImportParams) -> t.ImportResult:
    """Streams the file; progress goes to clients as `contacts.import_progress`, and
    the import stops (what it wrote so far stays) when its client hangs up."""
    cancel_on_hangup()

    async def progress(update: t.ContactsImportProgress) -> None:
        await ctx.sync.notify(m.CONTACTS_IMPORT_PROGRESS.name, update)

    return await import_contacts(ctx.store, params.path, progress)


async def delete(ctx: Context, params: t.IdParams) -> t.ContactDeleteResult:
    async with ctx.sync.edits:
        member = None if await is_admin(ctx) else ctx.viewer
        done = await ctx.store.by_hand.delete_contact(params.id, member, ctx.viewer)
    await ctx.sync.notify(
        "timeline.changed",
        t.TimelineChanged(contact_ids=done.contact_ids, entries=done.entries_removed),
    )
    return t.ContactDeleteResult(
        id=params.id,
        entries_removed=done.entries_removed,
        messages_unlogged=done.messages_unlogged,
    )


async def merge(ctx: Context, params: t.ContactMergeParams) -> t.Contact:
    async with ctx.sync.edits:
        done = await ctx.store.by_hand.merge_contacts(params.id, params.into, ctx.viewer)
    await ctx.sync.notify(
        "timeline.changed",
        t.TimelineChanged(
            contact_ids=sorted({params.id, params.into}),
            entries=done.entries_moved + done.duplicates,
        ),
    )
    merged = await ctx.store.contacts.get(params.into, ctx.viewer)
    return (await ctx.store.outages.with_blind([merged], ctx.viewer))[0]


async def timeline(ctx: Context, params: t.TimelineGetParams) -> RawTimeline:
    """The page and (first page) the blind threads are read at once, on two readers.
    A page with entries proves the contact exists (its entries go with it): only
    an empty page (or a refused cursor, NOT_FOUND first as ever) asks. The page's
    entries are the database's JSON (`RawTimeline`), a `Timeline` on the wire."""
    page_read = ctx.store.timeline.page_json(
        params.contact_id, params.limit, params.before, ctx.viewer
    )
    blind: list[t.BlindThread] = []
    try:
        if params.before is None:
            page, blind = await asyncio.gather(
                page_read,
                ctx.store.outages.blind_threads_of_contact(params.contact_id, ctx.viewer),
            )
        else:
            page = await page_read
    except Invalid:
        await require_contact(ctx.store.db, params.contact_id)
        raise
    if not page.count:
        await require_contact(ctx.store.db, params.contact_id)
    return RawTimeline(entries=page.items, next=page.next, blind=blind)


HANDLERS: dict[str, Handler] = {
    "contacts.create": create,
    "contacts.get": get,
    "contacts.list": list_,
    "contacts.update": update,
    "contacts.import": import_,
    "contacts.delete": delete,
    "contacts.merge": merge,
    "timeline.get": timeline,
}
