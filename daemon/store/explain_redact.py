"""What `messages.explain` may name of other messages: only what the caller may see.

A decision's evidence names other messages of its thread: the message a reply
answers (`matched_id`, `matched_message_id`), the one its subject was compared
with (`compared_message_id`, `compared_subject`), the subjects the thread is
tracked under (`thread_subject`, `thread_subjects`). Those may be a colleague's
mail the caller may not see (`records.VISIBLE`). `Redactor` reads, in one
query, which messages of the thread (and the matched one) are hidden from the
viewer, and the evidence is told without them: a hidden message is "a
colleague's message" with neither its Message-ID nor its subject, and the
details say `hidden`. A subject that a visible message of the thread also
carries (the message explained, most often) is no secret and stays.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from loggbok.daemon.mime.msgids import normalise_id
from loggbok.daemon.store.db import Database, Row
from loggbok.daemon.store.records import VISIBLE

HIDDEN_REF = "a colleague's message you cannot see"
"""What stands for a hidden message's Message-ID in an explanation."""
HIDDEN_NOTE = "the thread holds a colleague's email you may not see: it is not named here"


@dataclass(slots=True)
class Redactor:
    hidden_ids: set[int] = field(default_factory=set)
    hidden_keys: set[str] = field(default_factory=set)
    hidden_subjects: set[str] = field(default_factory=set)

    @property
    def hides(self) -> bool:
        return bool(self.hidden_ids)

    def message(self, id_: int | None, message_id: str | None) -> bool:
        """Whether a message named by store id or Message-ID is hidden."""
        return (id_ is not None and id_ in self.hidden_ids) or (
            bool(message_id) and normalise_id(message_id or "") in self.hidden_keys
        )

    def subject(self, subject: str | None) -> bool:
        return subject is not None and subject in self.hidden_subjects

    def details(self, details: dict[str, str]) -> dict[str, str]:
        """The evidence details without what names a hidden message."""
        if not self.hides:
            return details
        told = dict(details)
        hidden = False
        if self.message(None, told.get("compared_message_id")):
            told["compared_message_id"] = HIDDEN_REF
            hidden = True
        if self.subject(told.get("compared_subject")):
            told.pop("compared_subject")
            hidden = True
        if "thread_subjects" in told:
            subjects = json.loads(told["thread_subjects"])
            kept = [s for s in subjects if not self.subject(s)]
            if kept != subjects:
                told["thread_subjects"] = json.dumps(kept, ensure_ascii=False)
                hidden = True
        if hidden:
            told["hidden"] = HIDDEN_NOTE
        return told


async def redactor(
    db: Database, row: Row, thread_ids: set[int | None], matched: int | None, viewer: int
) -> Redactor:
    """Which messages of the threads (the message's own, the one its decision names)
    and the matched message are hidden from `viewer`."""
    threads = sorted(t for t in thread_ids if t is not None)
    params: dict[str, object] = {f"t{i}": t for i, t in enumerate(threads)}
    where = [f"m.thread_id IN ({', '.join(':' + k for k in params)})"] if params else []
    if matched is not None:
        where.append("m.id = :matched")
        params["matched"] = matched
    if not where:
        return Redactor()
    rows = await db.fetchall(
        f"""SELECT m.id, m.message_key, m.subject_norm,
                CASE WHEN {VISIBLE} THEN 1 ELSE 0 END AS seen
            FROM messages m WHERE {" OR ".join(where)}""",
        {**params, "viewer": viewer},
    )
    seen_subjects = {r["subject_norm"] for r in rows if r["seen"]} | {row["subject_norm"]}
    found = Redactor()
    for r in rows:
        if not r["seen"]:
            found.hidden_ids.add(int(r["id"]))
            found.hidden_keys.add(str(r["message_key"]))
            if r["subject_norm"] not in seen_subjects:
                found.hidden_subjects.add(str(r["subject_norm"]))
    return found
