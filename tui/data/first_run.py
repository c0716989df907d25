"""The first-run checklist as data: which setup steps are done, read from the daemon.

`setup_steps` is pure: it takes what `contacts.list`, `settings.get` and
`mailboxes.list` said and gives the steps in order, each with the key on the
Contacts screen that starts it and whether it is done. `checklist_state` asks
the daemon for those three answers.
"""

from __future__ import annotations

from dataclasses import dataclass

from loggbok.protocol import methods
from loggbok.protocol import types as t
from loggbok.tui.data.link import DaemonLink


@dataclass(frozen=True)
class Step:
    key: str
    """The key that starts the step (on the Contacts screen)."""
    title: str
    how: str
    done: bool


def setup_steps(has_contacts: bool, settings: t.Settings, mailboxes: int) -> list[Step]:
    """The setup steps, in the order a new user takes them."""
    logging_address = settings.bcc_address or settings.forwarding_address
    return [
        Step(
            "1",
            "Contacts",
            "import a vCard or CSV file (1 or i), or add one by hand (a)",
            has_contacts,
        ),
        Step(
            "2",
            "Logging address",
            f"set to {logging_address}"
            if logging_address
            else "set the BCC or forwarding address (2)",
            bool(logging_address),
        ),
        Step(
            "3",
            "Your own addresses",
            ", ".join(settings.own_addresses)
            if settings.own_addresses
            else "so mail among yourselves is not logged (3)",
            bool(settings.own_addresses),
        ),
        Step(
            "4",
            "Mailbox",
            f"{mailboxes} connected" if mailboxes else "connect the mailbox to read mail from (4)",
            mailboxes > 0,
        ),
    ]


async def checklist_state(link: DaemonLink) -> list[Step]:
    """The steps as the daemon's state says now."""
    contacts = await link.call(methods.CONTACTS_LIST, t.ContactsListParams(limit=1))
    settings = await link.call(methods.SETTINGS_GET)
    boxes = await link.call(methods.MAILBOXES_LIST)
    return setup_steps(bool(contacts.contacts), settings, len(boxes.mailboxes))
