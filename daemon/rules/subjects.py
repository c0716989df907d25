"""R3/R4: which subject a reply in a tracked thread is compared with, and the verdict.

R4 is about the sender of a reply changing the subject line, so a reply is
compared with the message it answers (`ThreadSnapshot.parent`: the one named
by In-Reply-To, else the newest stored References entry). A thread can be
tracked under several subjects (a follow-up sent with the logging address
under a new subject, each patch of a series sent with `git send-email --bcc`);
a reply that carries one of them has not started anything new either. So a
reply keeps the subject line when its normalised subject is its parent's or
one the thread is tracked under; when the parent is not stored, only the
thread's subjects are there to compare with.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from loggbok.daemon.mime.facts import HeaderFacts
from loggbok.daemon.rules.context import SubjectRef, ThreadSnapshot

ANSWERED = "the message it answers"
TRACKED = "a subject the thread is tracked under"


@dataclass(frozen=True, slots=True)
class SubjectVerdict:
    kept: bool
    """True when the reply kept the subject it is compared with."""
    compared: SubjectRef
    basis: str
    """`ANSWERED` or `TRACKED`."""
    details: dict[str, str]
    """Evidence for the decision: the subject compared with and its message."""


def compare_subject(facts: HeaderFacts, thread: ThreadSnapshot) -> SubjectVerdict:
    """Did the reply `facts` keep the subject line, within `thread` (tracked)?"""
    subjects = thread.subjects or (SubjectRef(thread.subject_norm, ""),)
    subject = facts.subject_norm
    tracked = next((s for s in subjects if s.subject_norm == subject), None)
    parent = thread.parent
    if parent is not None and (parent.subject_norm == subject or tracked is None):
        compared, basis = parent, ANSWERED
    else:
        compared, basis = tracked or subjects[0], TRACKED
    details = {
        "compared_with": basis,
        "compared_subject": compared.subject_norm,
        "compared_message_id": compared.message_id or "?",
        "subject": subject,
        "thread_subjects": json.dumps([s.subject_norm for s in subjects], ensure_ascii=False),
    }
    return SubjectVerdict(compared.subject_norm == subject, compared, basis, details)
