"""`loggbokd --demo`: on a fresh data dir, build the demo Maildir and contacts,
set the demo user's logging addresses and connect the Maildir. A data dir that
already has a mailbox is left as it is, so restarting the demo keeps its state.
"""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import UTC, datetime
from pathlib import Path

from loggbok.daemon.demo import build_demo
from loggbok.daemon.importing import import_contacts
from loggbok.daemon.store.store import Store
from loggbok.protocol.types import SettingsSetParams

log = logging.getLogger(__name__)


def demo_now() -> datetime | None:
    """LOGGBOK_DEMO_NOW (ISO-8601) pins the demo's clock, for repeatable snapshots."""
    value = os.environ.get("LOGGBOK_DEMO_NOW")
    return datetime.fromisoformat(value).astimezone(UTC) if value else None


async def seed_demo(store: Store, data_dir: Path, user_id: int = 1) -> None:
    """Runs before the server and the sync service start, so clients see it whole."""
    if await store.mailboxes.active(user_id):
        return
    demo = await asyncio.to_thread(build_demo, data_dir / "demo-mail", demo_now())
    result = await import_contacts(store, demo.contacts_file)
    await store.settings.update(
        SettingsSetParams(bcc_address=demo.bcc_address, own_addresses=demo.own_addresses),
        user_id,
    )
    await store.mailboxes.add("maildir", demo.address, {"path": str(demo.maildir)}, user_id=user_id)
    log.info("demo ready: %d contacts, Maildir %s", result.created, demo.maildir)
