"""The command palette's `ActionsProvider`: every action of loggbok, searchable.

It lists the app-wide actions (open a view, add a contact, import, add a
mailbox, Why? by Message-ID, …) and every key binding of the screen the
palette was opened from (not the focused widget's cursor keys), so anything
reachable by a screen's key is reachable by name too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from loggbok.tui.app import LoggbokApp

GLOBAL_ACTIONS: list[tuple[str, str | None, str | None, str]] = [
    ("Contacts", "contacts", None, "The contact list, by last activity · key: c"),
    ("Add contact", "contacts", "add_contact", "Create a contact by name and address"),
    ("Import contacts (vCard/CSV)", "contacts", "import_contacts", "Import a .vcf or .csv file"),
    ("Unlogged mail", "unlogged", None, "Recent mail that was not logged, by reason · key: u"),
    (
        "Forwards to review",
        "review",
        None,
        "Forwards whose original sender could not be read: choose the contact · key: v",
    ),
    ("Mailboxes", "mailboxes", None, "Connected mailboxes, status and sync · key: m"),
    ("Add mailbox", "mailboxes", "add_mailbox", "Connect a mailbox after a connection test"),
    ("Search logged mail", "search", None, "Full-text search over logged mail · key: /"),
    ("Settings", "settings", None, "Logging mode, BCC and forwarding, never-log, cap · key: ,"),
    ("Why? for a Message-ID", None, "why_message_id", "Why any message was or was not logged"),
]
"""(title, view to open or None for an app action, action to run there, help)."""

Command = Callable[[], Awaitable[object]]


class ActionsProvider(Provider):
    """Every loggbok action for the command palette."""

    def _commands(self) -> Iterator[tuple[str, Command, str]]:
        app = cast("LoggbokApp", self.app)
        for title, mode, action, help_text in GLOBAL_ACTIONS:
            yield title, partial(_open, app, mode, action), help_text
        seen: set[str] = set()
        for active in self.screen.active_bindings.values():
            binding = active.binding
            if active.node is not self.screen:
                continue
            if not binding.description or not active.enabled or binding.action in seen:
                continue
            if (
                binding.action.startswith(("switch_mode", "open_view"))
                or binding.action == "command_palette"
            ):
                continue
            seen.add(binding.action)
            yield (
                f"{binding.description} (this screen)",
                partial(self.app.run_action, binding.action, active.node),
                f"key: {binding.key_display or binding.key}",
            )

    async def discover(self) -> Hits:
        for title, command, help_text in self._commands():
            yield DiscoveryHit(title, command, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, command, help_text in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), command, help=help_text)


async def _open(app: LoggbokApp, mode: str | None, action: str | None) -> None:
    if mode is None:
        if action is not None:
            await app.run_action(action)
        return
    await app.action_open_view(mode)  # the view's top screen, as its key opens it
    if action is not None:
        await app.screen.run_action(action)
