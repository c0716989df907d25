"""`loggbokd --demo`: the demo mailbox is built, synced, and every message gets the
reason the demo's stories were written to show (replies_only, contacts imported)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from loggbok.daemon.demo import build_demo
from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from tests.conftest import DaemonProcess

NOW = "2026-11-02T09:30:00+00:00"


async def test_demo_decisions_match_the_stories(workdir: Path) -> None:
    expected = (
        await asyncio.to_thread(
            build_demo, workdir / "reference", datetime.fromisoformat(NOW).astimezone(UTC)
        )
    ).expected
    assert len(expected) > 50
    (workdir / "data").mkdir()
    daemon = DaemonProcess(
        workdir / "d.sock", workdir / "data", args=["--demo"], env={"LOGGBOK_DEMO_NOW": NOW}
    )
    daemon.start()
    try:
        client = await daemon.client()
        boxes = (await client.call(m.MAILBOXES_LIST)).mailboxes
        assert [b.provider for b in boxes] == ["maildir"]
        await client.call(m.MAILBOXES_SYNC, t.IdParams(id=boxes[0].id))
        got = {}
        for message_id in expected:
            explanation = await client.call(
                m.MESSAGES_EXPLAIN, t.MessageRefParams(message_id=message_id)
            )
            got[message_id] = explanation.reason
            assert "?" not in explanation.summary, explanation.summary
        assert got == expected
        contacts = (await client.call(m.CONTACTS_LIST, t.ContactsListParams(limit=100))).contacts
        assert len(contacts) == 12, [c.emails for c in contacts]
        vcard = str(workdir / "data" / "demo-mail" / "contacts.vcf")
        again = await client.call(m.CONTACTS_IMPORT, t.ContactsImportParams(path=vcard))
        assert (again.created, again.updated, again.skipped) == (0, 0, 12)
        await client.close()
    finally:
        daemon.stop()
