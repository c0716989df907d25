"""A message as Microsoft Defender's Dynamic Delivery serves it: first with a
placeholder for its attachment ("ATP Scan In Progress.eml"), minutes later with
the real file, under the same Message-ID (R11)."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.support.mail import make_message

PDF = b"%PDF-1.4 the signed contract\n" * 40
PLACEHOLDER = (
    "ATP Scan In Progress.eml",
    "text/plain",
    b"Your attachments are currently being scanned by Safe Attachments (Dynamic Delivery).",
)
DATE = datetime(2025, 3, 5, 9, 0, tzinfo=UTC)


def dynamic_delivery(
    message_id: str,
    *,
    scanned: bool,
    sender: str = "Anna <anna@kund.example>",
    to: str = "me@firma.example",
) -> bytes:
    """The placeholder copy (`scanned=False`) or the final one, with Safe Attachments'
    header on both."""
    attachment = ("contract.pdf", "application/pdf", PDF) if scanned else PLACEHOLDER
    return make_message(
        sender,
        [to],
        "Signed contract",
        message_id,
        date=DATE,
        body="Here is the signed contract.\n",
        headers={"X-MS-Exchange-AtpMessageProperties": "SA|SL"},
        attachments=[attachment],
    )
