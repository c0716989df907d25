"""`Checklist`: the first-run steps on the Contacts screen, ticked as they are done.

It shows `data/first_run.py`'s steps (a tick, the key, what to do) and the
rule every new user needs to know: rules apply to mail as it is decided, so
past mail is re-checked (p) after contacts or settings change. The screen
hides it once every step is done.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from loggbok.tui.data.first_run import Step

NOTE = (
    "Rules apply to mail as it is decided: mail decided before a change of contacts or"
    " settings stays as it was until you re-check past mail (p)."
)


def checklist_content(steps: list[Step]) -> Content:
    lines: list[Content] = [Content.assemble(("Getting started", "bold"))]
    for step in steps:
        mark = ("✓", "bold $success") if step.done else ("☐", "bold $warning")
        lines.append(
            Content.assemble(
                mark,
                "  ",
                (step.key, "bold $accent"),
                "  ",
                (step.title, "bold" if not step.done else "$text-muted"),
                ": ",
                (step.how, "$text-muted"),
            )
        )
    lines.append(Content.assemble((NOTE, "$text-muted")))
    return Content("\n").join(lines)


class Checklist(Static):
    """The first-run checklist (hidden while `steps` is empty or all done)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.steps: list[Step] = []

    def show_steps(self, steps: list[Step]) -> None:
        self.steps = steps
        self.update(checklist_content(steps))
        self.display = bool(steps) and not all(s.done for s in steps)
