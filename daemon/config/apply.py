"""Making the store match a valid config file: its settings and its mailboxes.

Settings: the keys the file names are set to the file's values (the file wins at
every load; keys it does not name keep whatever the socket set).

Mailboxes are matched by provider and address. One that came from the file and
is no longer in it is removed first, as `mailboxes.remove` does (so one declared
for the same address with another provider replaces it, R13: its tracked threads
move to the new one); mailboxes added over the socket are never touched. One
the file declares and the store lacks is added (without the probe
`mailboxes.add` makes: a server that is down now shows in the mailbox's status
instead of refusing the file); one it declares differently is reconfigured and
its worker restarted; one added over the socket that the file now declares is
adopted (it keeps its stored secret). A new server or account (`moved_source`:
host, path, username, EWS or Graph URL) is a replacement (R13): the tracked
threads are blind from the last sync until the first round on the new source,
which reads every folder anew.
Everything is the daemon's user's (`SyncService.user_id`): their settings, their
mailboxes; a view-only or deactivated member's declared mailboxes are not
connected (R12, logged as a warning).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from loggbok.daemon.config.parse import PASSWORD_COMMAND, ConfigFile, ConfigInvalid
from loggbok.daemon.secrets import SecretStore, mailbox_secret_key
from loggbok.daemon.store.errors import Forbidden
from loggbok.daemon.store.store import Store
from loggbok.daemon.sync.providers.base import Provider, moved_source
from loggbok.daemon.sync.providers.registry import provider_for
from loggbok.daemon.sync.service import SyncService
from loggbok.protocol.errors import RpcError

log = logging.getLogger(__name__)

CONFIG = "config"


@dataclass(frozen=True)
class Planned:
    """A declared mailbox as it is to be stored: its provider and config."""

    provider: Provider
    address: str
    config: dict[str, Any]
    visibility: str | None = None
    line: int | None = None
    kind: str = "personal"


def plan(config: ConfigFile) -> list[Planned]:
    """Each declared mailbox's stored config, as `mailboxes.add` would make it; a
    provider that refuses its params (Graph without a client id) is ConfigInvalid
    at the entry's line, before anything is applied."""
    planned = []
    for entry in config.mailboxes:
        provider = provider_for(entry.params)
        try:
            wanted: dict[str, Any] = provider.config_of(entry.params)
        except RpcError as exc:
            why = exc.data if isinstance(exc.data, str) else exc.message
            raise ConfigInvalid(f"mailbox: {why}", entry.line) from None
        if entry.password_command:
            wanted[PASSWORD_COMMAND] = entry.password_command
        planned.append(
            Planned(
                provider,
                entry.params.address.strip().lower(),
                wanted,
                entry.params.visibility,
                entry.line,
                entry.params.kind,
            )
        )
    return planned


async def apply(
    config: ConfigFile, store: Store, sync: SyncService, secrets: SecretStore
) -> list[int]:
    """Apply `config` (ConfigInvalid before any change when a mailbox cannot be
    planned); returns the ids of the mailboxes it declares."""
    planned = plan(config)
    if config.settings_keys:
        await store.settings.update(config.settings, sync.user_id)
    existing = {
        (row.provider, row.address.lower()): row
        for row in await store.mailboxes.active(sync.user_id)
    }
    wanted_keys = {(item.provider.name, item.address) for item in planned}
    for key, gone in list(existing.items()):
        if key not in wanted_keys and gone.origin == CONFIG:
            del existing[key]
            log.info("config file: mailbox %d (%s) left the file: removed", gone.id, gone.address)
            await store.mailboxes.remove(gone.id)
            await sync.removed(gone.id)
            await asyncio.to_thread(secrets.delete, mailbox_secret_key(gone.id))
    declared: list[int] = []
    can_log = await store.users.can_log(sync.user_id)  # R12: no mailbox for a view-only seat
    for item in planned:
        provider, wanted, address = item.provider, item.config, item.address
        row = existing.pop((provider.name, address), None)
        if row is None:
            if not can_log:
                log.warning(
                    "config file: mailbox %s not connected: the user's seat cannot log"
                    " (view-only or deactivated: seat_cannot_log)",
                    address,
                )
                continue
            try:
                mailbox_id = await store.mailboxes.add(
                    provider.name,
                    address,
                    wanted,
                    origin=CONFIG,
                    user_id=sync.user_id,
                    visibility=item.visibility,
                    kind=item.kind,
                )
            except Forbidden as exc:  # another member's address; a team mailbox, no admin
                log.warning(
                    "config file: mailbox %s not connected: %s (%s)",
                    address,
                    exc.message,
                    exc.data["reason"],
                )
                continue
            log.info("config file: mailbox %s (%s) added as %d", address, provider.name, mailbox_id)
            await sync.added(mailbox_id)
        else:
            mailbox_id = row.id
            moved = moved_source(row.config, wanted)
            if moved:
                await sync.removed(mailbox_id)  # no round of the old source ends the outage
                await store.mailboxes.repoint(
                    mailbox_id, wanted, CONFIG, item.visibility,
                    f"the config file changed its {', '.join(moved)}",
                )  # fmt: skip
                log.info(
                    "config file: mailbox %d reads another %s: its threads are blind until"
                    " the first round there",
                    mailbox_id,
                    ", ".join(moved),
                )
            elif row.config != wanted or row.origin != CONFIG or row.visibility != item.visibility:
                await store.mailboxes.reconfigure(mailbox_id, wanted, CONFIG, item.visibility)
            if row.kind != item.kind:
                try:
                    await store.mailboxes.set_kind(mailbox_id, item.kind)
                except Forbidden as exc:
                    log.warning("config file: mailbox %s: %s", address, exc.message)
            if row.config != wanted:
                log.info("config file: mailbox %d reconfigured", mailbox_id)
                await sync.removed(mailbox_id)
                await sync.added(mailbox_id)
        declared.append(mailbox_id)
    return declared
