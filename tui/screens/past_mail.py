"""`PastMailScreen`: a screen that can re-check past mail (`messages.redecide`).

Contacts and Settings derive from it: after an import or a change to the
rules' settings (or on a key), it asks the daemon for a dry run, shows what
would change (`PastMailPreview`) when anything would, and applies it only
when the user says so.
"""

from __future__ import annotations

from textual import work

from loggbok.protocol import methods
from loggbok.protocol import types as t
from loggbok.protocol.errors import RpcError
from loggbok.tui.data.link import DaemonUnreachable
from loggbok.tui.data.text import plural
from loggbok.tui.dialogs.past_mail import PastMailPreview
from loggbok.tui.screens.base import DaemonScreen


class PastMailScreen(DaemonScreen):
    def action_recheck_past_mail(self) -> None:
        """Ask what re-deciding past mail would change; say so when nothing would."""
        self.recheck_past_mail()

    @work(exclusive=True, group="past-mail")
    async def recheck_past_mail(self, quiet: bool = False) -> None:
        """Preview; `quiet` (after an import or a settings change) says nothing when
        nothing would change."""
        try:
            preview = await self.link.call(
                methods.MESSAGES_REDECIDE, t.MessagesRedecideParams(dry_run=True)
            )
        except (RpcError, DaemonUnreachable) as exc:
            self.report(exc, "Re-checking past mail")
            return
        if not preview.changed:
            if not quiet:
                self.notify("Past mail: nothing would change.", markup=False)
            return
        self.app.push_screen(PastMailPreview(preview), self._answered)

    def _answered(self, apply: bool | None) -> None:
        if apply:
            self.apply_past_mail()

    @work(exclusive=True, group="past-mail-apply")
    async def apply_past_mail(self) -> None:
        self.notify("Re-checking past mail…", markup=False)
        try:
            done = await self.link.call(
                methods.MESSAGES_REDECIDE, t.MessagesRedecideParams(dry_run=False)
            )
        except (RpcError, DaemonUnreachable) as exc:
            self.report(exc, "Re-checking past mail")
            return
        self.notify(
            f"Past mail re-checked: {plural(done.changed, 'message')} changed, "
            f"{plural(done.entries_added, 'timeline entry', 'timeline entries')} added, "
            f"{done.entries_removed} removed.",
            markup=False,
        )
        self.load()
