"""The IMAP backend watches every synced folder and the folder list: mail filed into
another folder, and a folder created, end a wait (polled between IDLE spans on the
Sent connection; LIST-STATUS on Dovecot)."""

from __future__ import annotations

import asyncio

from loggbok.daemon.sync.folder_choice import chosen
from tests.imap.conftest import MakeBackend
from tests.servers.dovecot import DovecotServer
from tests.support.mail import make_message

WAKE_TIMEOUT = 30.0


def mail(n: int) -> bytes:
    return make_message("a@kund.example", ["me@firma.example"], "Hej", f"<f{n}@kund.example>")


async def test_mail_filed_into_another_folder_ends_the_wait(
    dovecot: DovecotServer, make_backend: MakeBackend
) -> None:
    user = dovecot.add_user()
    dovecot.create_folder(user, "Customers/ACME")
    backend = make_backend(user, poll_interval=0.5)
    await backend.connect()
    synced = chosen(await backend.folders(), [], labels=backend.labels)
    assert {f.name for f in synced} == {"INBOX", "Sent", "Archive", "Customers/ACME"}
    backend.watch(synced)
    for folder in synced:
        await backend.changes(folder, None)
    waiting = asyncio.create_task(backend.wait_for_changes(3600.0))
    await asyncio.sleep(1.0)
    assert not waiting.done()
    await asyncio.to_thread(dovecot.append, user, "Customers/ACME", mail(1))
    assert await asyncio.wait_for(waiting, WAKE_TIMEOUT) is True


async def test_a_new_folder_ends_the_wait(
    dovecot: DovecotServer, make_backend: MakeBackend
) -> None:
    user = dovecot.add_user()
    backend = make_backend(user, poll_interval=0.5)
    await backend.connect()
    synced = chosen(await backend.folders(), [], labels=backend.labels)
    backend.watch(synced)
    for folder in synced:
        await backend.changes(folder, None)
    waiting = asyncio.create_task(backend.wait_for_changes(3600.0))
    await asyncio.sleep(1.0)
    assert not waiting.done()
    await asyncio.to_thread(dovecot.create_folder, user, "Projects")
    assert await asyncio.wait_for(waiting, WAKE_TIMEOUT) is True
    assert "Projects" in {f.name for f in await backend.folders()}
