"""What the engine makes of the backend contract, through a real `loggbokd`, for
every provider: a resync after the remote ids changed (a new UIDVALIDITY, a
Maildir fetched again under new names) logs nothing twice, and a message
moved to another folder stays on its timeline."""

from __future__ import annotations

from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from tests.backends.harnesses import Harness
from tests.conftest import DaemonProcess
from tests.support.mail import make_message
from tests.support.store_rows import value

ME = "maja@firma.example"
BCC = "log-1@bcc.loggbok.example"


def counts(daemon: DaemonProcess) -> tuple[int, int, int]:
    return (
        value(daemon.data_dir, "SELECT count(*) FROM messages"),
        value(daemon.data_dir, "SELECT count(*) FROM timeline_entries"),
        value(daemon.data_dir, "SELECT count(*) FROM decisions"),
    )


async def connect(client: Client, harness: Harness) -> int:
    """Settings, a tracked thread (offer sent with the BCC address, two replies), sync."""
    await client.call(m.SETTINGS_SET, t.SettingsSetParams(bcc_address=BCC, own_addresses=[ME]))
    harness.deliver(
        "Sent",
        make_message(ME, ["anna@kund.example"], "Offer", "<offer@firma.example>", bcc=[BCC]),
    )
    for n in (1, 2):
        harness.deliver(
            "INBOX",
            make_message(
                "anna@kund.example", [ME], "Re: Offer", f"<reply{n}@kund.example>",
                in_reply_to="<offer@firma.example>", references=["<offer@firma.example>"],
            ),
        )  # fmt: skip
    added = await client.call(m.MAILBOXES_ADD, harness.add_params(ME))
    await harness.sign_in(client, added.id)
    result = await client.call(m.MAILBOXES_SYNC, t.IdParams(id=added.id))
    assert result.errors == 0
    return added.id


async def logged(client: Client, message_id: str) -> bool:
    return (await client.call(m.MESSAGES_EXPLAIN, t.MessageRefParams(message_id=message_id))).logged


async def test_a_resync_under_new_remote_ids_logs_nothing_twice(
    harness: Harness, daemon: DaemonProcess, client: Client
) -> None:
    mailbox = await connect(client, harness)
    before = counts(daemon)
    assert before[0] == 3 and before[1] == 3
    harness.renumber("INBOX")
    harness.renumber("Sent")
    result = await client.call(m.MAILBOXES_SYNC, t.IdParams(id=mailbox))
    assert result.errors == 0
    assert counts(daemon) == before


async def test_a_move_to_another_folder_is_not_a_delete(
    harness: Harness, daemon: DaemonProcess, client: Client
) -> None:
    mailbox = await connect(client, harness)
    before = counts(daemon)
    harness.move("<reply1@kund.example>", "INBOX", "Archive")
    await client.call(m.MAILBOXES_SYNC, t.IdParams(id=mailbox))
    assert await logged(client, "<reply1@kund.example>")
    assert counts(daemon)[:2] == before[:2]
