"""Forwards to review: forwards whose original sender could not be read (R8).

A forward to the forwarding address whose block shows the sender by name only
(or shows no block at all) is not logged and waits here (`forward_unparsed`).
The user opens it (enter), reads why (w), and chooses the contact by hand (l):
the picker starts from the name the block shows; the forward is then logged as
`manual` and leaves the list.
"""

from __future__ import annotations

from textual import work

from loggbok.protocol import methods
from loggbok.protocol import types as t
from loggbok.protocol.errors import RpcError
from loggbok.tui.data.link import DaemonUnreachable
from loggbok.tui.screens.unlogged import UnloggedScreen


class ForwardReviewScreen(UnloggedScreen):
    REASON = "forward_unparsed"
    SUBTITLE = "Forwards to review"
    NOTHING = "No forwards to review: every forward's original sender was read."

    def action_log(self) -> None:
        msg = self.current
        if msg is not None:
            self.choose_contact(msg)

    @work(group="review-pick")
    async def choose_contact(self, msg: t.MessageSummary) -> None:
        named = ""
        try:
            why = await self.link.call(methods.MESSAGES_EXPLAIN, t.MessageRefParams(id=msg.id))
            named = why.evidence.details.get("named_sender", "")
        except (RpcError, DaemonUnreachable) as exc:
            self.report(exc, "Reading the forward")
        self.pick_contacts(msg, f"Who sent the original of “{msg.subject}”? Log it onto…", named)
