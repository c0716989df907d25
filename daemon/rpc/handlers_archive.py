"""Handlers: archive.export, archive.import, archive.backup (`docs/export.md`).

Export reads each message's original bytes from its mailbox (one connection per
mailbox a page needs), and rebuilds them from what is stored when that cannot
be done (`rebuild.py`). Import parses the bytes it is given the way a sync
does (attachments into the blob store), keeps the exported text, and writes a
batch in one transaction (`store/archive.py`). Backup runs `backup.py` on a
thread.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from loggbok.daemon.mime.headers import parse_headers, split_header_block
from loggbok.daemon.mime.msgids import normalise_id
from loggbok.daemon.rebuild import rebuild
from loggbok.daemon.rpc.access import is_admin, require_admin, require_can_log
from loggbok.daemon.rpc.context import Context
from loggbok.daemon.rpc.dispatch import Handler
from loggbok.daemon.store import backup as backups
from loggbok.daemon.store.archive import ImportItem
from loggbok.daemon.store.bodies import StoredAttachment, StoredBody
from loggbok.daemon.store.db import Row
from loggbok.daemon.store.sqlite_db import SqliteDatabase
from loggbok.daemon.sync.backend import BackendError, Folder
from loggbok.daemon.sync.bodies import build_body_async
from loggbok.protocol import types as t
from loggbok.protocol.errors import ErrorCode, RpcError

log = logging.getLogger(__name__)


def _invalid(why: str) -> RpcError:
    return RpcError(ErrorCode.INVALID_PARAMS, "Invalid params", why)


def _since(value: str | None) -> float | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise _invalid(f"since: {value!r} is not an ISO date (2025-01-31) or date-time") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


async def export(ctx: Context, params: t.ArchiveExportParams) -> t.ArchivePage:
    messages, contacts, next_cursor, headers = await ctx.store.archive.page(
        params.contact_id, _since(params.since), params.after, params.limit, ctx.viewer
    )
    if params.raw and messages:
        raws = await _originals(ctx, [m.id for m in messages])
        filled = []
        for message in messages:
            raw = raws.get(message.id)
            source = "mailbox"
            if raw is None:
                raw = await _rebuilt(ctx, message, headers[message.id])
                source = "rebuilt"
            filled.append(
                msgspec.structs.replace(
                    message, raw_base64=base64.b64encode(raw).decode(), raw_source=source
                )
            )
        messages = filled
    return t.ArchivePage(messages=messages, contacts=contacts, next=next_cursor)


async def _originals(ctx: Context, ids: list[int]) -> dict[int, bytes]:
    """The original bytes of whichever of the messages their mailboxes still give."""
    by_mailbox: dict[int, list[tuple[int, Row]]] = {}
    for message in ids:
        location = await ctx.store.messages.location(message, ctx.viewer)
        if location is not None:
            by_mailbox.setdefault(location["mailbox_id"], []).append((message, location))
    found: dict[int, bytes] = {}
    for mailbox_id, wanted in by_mailbox.items():
        try:
            async with ctx.sync.open_backend(mailbox_id) as backend:
                for message, where in wanted:
                    try:
                        found[message] = await backend.fetch_message(
                            Folder(where["folder"], where["role"]), where["remote_id"]
                        )
                    except BackendError as exc:
                        log.info("export: message %d not readable (%s): rebuilt", message, exc)
        except (BackendError, RpcError) as exc:
            log.info("export: mailbox %d not readable (%s): rebuilt", mailbox_id, exc)
    return found


async def _rebuilt(ctx: Context, message: t.ArchiveMessage, raw_headers: bytes) -> bytes:
    files: list[tuple[str, str, bytes]] = []
    for a in message.attachments:
        if a.status == "stored" and a.sha256:
            found = await ctx.store.db.read_blob(a.sha256)
            if found is not None:
                files.append((a.filename, a.content_type, found[1]))
    return rebuild(raw_headers, message.body_text, files)


async def _import_item(ctx: Context, message: t.ArchiveMessage, settings: t.Settings) -> ImportItem:
    attachments: tuple[StoredAttachment, ...] = ()
    facts = None
    raw_headers = b""
    if message.raw_base64:
        try:
            raw = base64.b64decode(message.raw_base64, validate=True)
        except (binascii.Error, ValueError):
            raise _invalid(f"message {message.message_id}: raw_base64 is not base64") from None
        raw_headers = split_header_block(raw)[0]
        facts = parse_headers(raw_headers)
        parsed = await build_body_async(
            raw, ctx.store.blobs, settings.attachment_limit_bytes, settings.body_limit_bytes
        )
        attachments = parsed.attachments
    key = facts.message_key if facts is not None else normalise_id(message.message_id)
    if not key:
        raise _invalid(f"message {message.id}: no Message-ID and no raw bytes to key it by")
    body = StoredBody(
        body_text=message.body_text,
        new_text=message.new_text,
        snippet=message.snippet,
        attachments=attachments,
    )
    return ImportItem(message, key, raw_headers, facts, body)


async def import_(ctx: Context, params: t.ArchiveImportParams) -> t.ArchiveImportResult:
    await require_can_log(ctx, "import logged email")
    settings = await ctx.store.settings.get(ctx.viewer)
    items = [await _import_item(ctx, m, settings) for m in params.messages]
    return await ctx.store.archive.import_batch(
        params.contacts, items, ctx.viewer, admin=await is_admin(ctx)
    )


PG_DUMP = "pg_dump --format=custom --file=loggbok-$(date +%F).dump"
"""How a team's PostgreSQL store is backed up (docs/team.md): the database holds
everything, attachments too."""


def _backed_up_with_pg_dump(where: str) -> RpcError:
    """archive.backup on a PostgreSQL store: -32007 Unsupported, `data.reason`
    "use_pg_dump" and the command (the URL without its password)."""
    url = where.replace(":***@", "@")
    return RpcError(
        ErrorCode.UNSUPPORTED,
        "The team's PostgreSQL database is backed up with pg_dump, not archive.backup: it"
        " holds everything, attachments included",
        {"reason": "use_pg_dump", "command": f"{PG_DUMP} '{url}'"},
    )


async def backup(ctx: Context, params: t.ArchiveBackupParams) -> t.ArchiveBackupResult:
    """Admin only: a backup holds every member's mail, whatever its visibility."""
    await require_admin(ctx)
    db = ctx.store.db
    if not isinstance(db, SqliteDatabase):
        raise _backed_up_with_pg_dump(db.where)
    target = Path(params.path)
    if not target.is_absolute():
        raise _invalid("path must be absolute (the daemon's working folder is not yours)")
    try:
        inside = await asyncio.to_thread(
            lambda: any(
                target.resolve().is_relative_to(d.resolve()) for d in (ctx.data_dir, db.path.parent)
            )
        )
    except (OSError, ValueError) as exc:
        raise _invalid(f"path: {exc}") from None
    if inside:
        raise _invalid("path is inside the data dir (or the database's folder)")
    try:
        return await asyncio.to_thread(backups.backup, db.path, target)
    except backups.BackupRefused as exc:
        raise RpcError(ErrorCode.BAD_INPUT, "Cannot write the backup", str(exc)) from None
    except ValueError as exc:  # a NUL in the path
        raise _invalid(f"path: {exc}") from None
    except OSError as exc:
        raise RpcError(
            ErrorCode.BAD_INPUT, "Cannot write the backup", f"{target}: {exc.strerror or exc}"
        ) from None


HANDLERS: dict[str, Handler] = {
    "archive.export": export,
    "archive.import": import_,
    "archive.backup": backup,
}
