"""R17: recognise mail that is never logged: auto-replies, bounces, bulk and list
mail, calendar invitations. Header facts only."""

from __future__ import annotations

import re

from loggbok.daemon.mime.facts import HeaderFacts

_AUTO_SUBJECT = re.compile(
    r"^\s*(automatic reply|auto(matic)?[- ]?reply|autosvar|out of (the )?office|"
    r"abwesenheitsnotiz|automatische antwort|frånvaromeddelande|réponse automatique|"
    r"respuesta automática)\b",
    re.IGNORECASE,
)
_BOUNCE_SENDERS = ("mailer-daemon@", "postmaster@")
_BOUNCE_SUBJECT = re.compile(
    r"^\s*(undeliverable|undelivered mail|delivery status notification|"
    r"mail delivery (failed|failure|subsystem)|returned mail|olevererbart|"
    r"unzustellbar)",
    re.IGNORECASE,
)


def is_bounce(facts: HeaderFacts) -> bool:
    if facts.content_type == "multipart/report" and (
        facts.content_type_params.get("report-type", "").lower() == "delivery-status"
    ):
        return True
    sender = facts.from_.email
    if sender.startswith(_BOUNCE_SENDERS) and _BOUNCE_SUBJECT.search(facts.subject):
        return True
    return facts.return_path.strip() == "<>" and bool(_BOUNCE_SUBJECT.search(facts.subject))


def is_auto_reply(facts: HeaderFacts) -> bool:
    auto = facts.auto_submitted.strip().lower()
    if auto and auto != "no":
        return True
    if facts.precedence.strip().lower() == "auto_reply":
        return True
    if any(h.lower() in ("x-autoreply", "x-autorespond") for h in facts.autoreply_headers):
        return True
    return bool(_AUTO_SUBJECT.search(facts.subject))


def is_bulk(facts: HeaderFacts) -> bool:
    if facts.precedence.strip().lower() in ("bulk", "list", "junk"):
        return True
    return bool(facts.list_id) or facts.list_unsubscribe


def is_calendar(facts: HeaderFacts) -> bool:
    if facts.content_type == "text/calendar":
        return True
    if "calendarmessage" in facts.content_class.lower():
        return True
    return "method" in facts.content_type_params and facts.content_type.startswith("multipart/")


def classify(facts: HeaderFacts) -> str | None:
    """The R17 reason code for mail that is never logged, or None."""
    if is_bounce(facts):
        return "bounce"
    if is_auto_reply(facts):
        return "auto_reply"
    if is_calendar(facts):
        return "calendar"
    if is_bulk(facts):
        return "bulk"
    return None
