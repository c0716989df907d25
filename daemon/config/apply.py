"""Making the store match a valid config file: its settings and its mailboxes.

Settings: the keys the file names are set to the file's values (the file wins at
every load; keys it does not name keep whatever the socket set).

Mailboxes are matched by provider and address. One the file declares and the
store lacks is added (without the probe `mailboxes.add` makes: a server that is
down now shows in the mailbox's status instead of refusing the file); one it
declares differently is reconfigured and its worker restarted; one added over
the socket that the file now declares is adopted (it keeps its stored secret).
One that came from the file and is no longer in it is removed, as
`mailboxes.remove` does; mailboxes added over the socket are never touched.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from loggbok.daemon.config.parse import PASSWORD_COMMAND, ConfigFile
from loggbok.daemon.secrets import SecretStore, mailbox_secret_key
from loggbok.daemon.store.store import Store
from loggbok.daemon.sync.providers.registry import provider_for
from loggbok.daemon.sync.service import SyncService

log = logging.getLogger(__name__)

CONFIG = "config"


async def apply(
    config: ConfigFile, store: Store, sync: SyncService, secrets: SecretStore
) -> list[int]:
    """Apply `config`; returns the ids of the mailboxes it declares."""
    if config.settings_keys:
        await store.settings.update(config.settings)
    existing = {(row.provider, row.address.lower()): row for row in await store.mailboxes.active()}
    declared: list[int] = []
    for entry in config.mailboxes:
        provider = provider_for(entry.params)
        wanted: dict[str, Any] = provider.config_of(entry.params)
        if entry.password_command:
            wanted[PASSWORD_COMMAND] = entry.password_command
        address = entry.params.address.strip().lower()
        row = existing.pop((provider.name, address), None)
        if row is None:
            mailbox_id = await store.mailboxes.add(provider.name, address, wanted, origin=CONFIG)
            log.info("config file: mailbox %s (%s) added as %d", address, provider.name, mailbox_id)
            await sync.added(mailbox_id)
        else:
            mailbox_id = row.id
            if row.config != wanted or row.origin != CONFIG:
                await store.mailboxes.reconfigure(mailbox_id, wanted, CONFIG)
            if row.config != wanted:
                log.info("config file: mailbox %d reconfigured", mailbox_id)
                await sync.removed(mailbox_id)
                await sync.added(mailbox_id)
        declared.append(mailbox_id)
    for row in existing.values():
        if row.origin == CONFIG:
            log.info("config file: mailbox %d (%s) left the file: removed", row.id, row.address)
            await store.mailboxes.remove(row.id)
            await sync.removed(row.id)
            await asyncio.to_thread(secrets.delete, mailbox_secret_key(row.id))
    return declared
