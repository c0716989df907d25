"""The rules engine: `decide(facts, context) -> Decision`, a pure function.

Order of evaluation (first match wins):

  R12  the user may not log                      -> seat_cannot_log
  R7   outbound with `X-Loggbok-Log: no`          -> log_flag_off (even with the BCC address)
  R8   sent to the forwarding address            -> forwarded_to_log (contacts from the body:
                                                    rules/forwarded.py)
  R15  any other mail of a team mailbox           -> team_inbox (rules/team_inbox.py; never-log
                                                    lists do not apply)
  R2/R7 outbound with `X-Loggbok-Log: yes`        -> log_flag    (as the BCC address does)
  R2/R7 outbound with the logging (BCC) address   -> bcc_address (creates contacts, tracks)
  R17  bounce, auto-reply, calendar, bulk         -> bounce / auto_reply / calendar / bulk
  R17  only the user's own addresses/colleagues   -> internal_only
  R4   reply in a tracked thread, subject changed -> subject_changed (new untracked thread);
       compared with the message it answers, else the thread's subjects (subjects.py)
  R3   reply in a tracked thread                  -> reply_in_tracked_thread
  R16  every contact participant is never-logged  -> never_log
  R6   no participant is a contact                -> no_contact_participant
  R5   a contact, no tracked thread               -> not_in_tracked_thread | contact_email

R16 also applies inside R2/R3/R5: never-logged participants are dropped from
the contacts the message lands on, and listed in `never_logged`. Two lists count:
the user's own and the team's list for everyone (`RuleSettings.never_list`); the
addresses the one for everyone holds are named in the details, `never_log_everyone`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from loggbok.daemon.mime.facts import Address, HeaderFacts
from loggbok.daemon.rules.classify import classify
from loggbok.daemon.rules.context import Decision, RuleContext, RuleSettings
from loggbok.daemon.rules.forwarded import forward_received, is_forward
from loggbok.daemon.rules.subjects import compare_subject
from loggbok.daemon.rules.team_inbox import decide_team


def domain_of(email: str) -> str:
    return email.rpartition("@")[2]


def is_never_logged(email: str, never_log: frozenset[str]) -> bool:
    return email in never_log or ("@" + domain_of(email)) in never_log


def is_outbound(facts: HeaderFacts, settings: RuleSettings) -> bool:
    return facts.from_.email in settings.own_addresses


def _logging_addresses(settings: RuleSettings) -> set[str]:
    return {a for a in (settings.bcc_address, settings.forwarding_address) if a}


def uses_logging_address(facts: HeaderFacts, settings: RuleSettings) -> bool:
    if not settings.bcc_address:
        return False
    seen = {a.email for a in (*facts.to, *facts.cc, *facts.bcc)} | set(facts.delivered_to)
    return settings.bcc_address in seen


def other_participants(facts: HeaderFacts, settings: RuleSettings) -> list[Address]:
    """Everyone on the message but the user and the logging addresses, once each."""
    skip = settings.own_addresses | _logging_addresses(settings)
    seen: set[str] = set()
    result: list[Address] = []
    for address in (facts.from_, *facts.to, *facts.cc, *facts.bcc):
        if address.email and address.email not in skip and address.email not in seen:
            seen.add(address.email)
            result.append(address)
    return result


def _unique(ids: Iterable[int]) -> tuple[int, ...]:
    return tuple(dict.fromkeys(ids))


def decide(facts: HeaderFacts, ctx: RuleContext) -> Decision:
    decision = _decide(facts, ctx)
    everyone = [e for e in decision.never_logged if ctx.settings.never_list(e) == "everyone"]
    if not everyone:
        return decision
    details = {**decision.details, "never_log_everyone": ", ".join(everyone)}
    return replace(decision, details=details)


def _decide(facts: HeaderFacts, ctx: RuleContext) -> Decision:
    settings = ctx.settings
    if not settings.can_log:
        return Decision(False, "seat_cannot_log", "R12")

    others = other_participants(facts, settings)
    blocked = tuple(a.email for a in others if settings.never_list(a.email))
    allowed = [a for a in others if a.email not in blocked]
    known = _unique(ctx.contacts[a.email] for a in allowed if a.email in ctx.contacts)
    outbound = is_outbound(facts, settings)

    if outbound and facts.log_flag is False:
        return Decision(
            False, "log_flag_off", "R7", never_logged=blocked, details={"log_flag": "no"}
        )
    if is_forward(facts, settings):
        return forward_received(settings)
    if settings.team_inbox:
        return decide_team(facts, ctx, others, blocked, outbound=outbound)
    if outbound and (facts.log_flag or uses_logging_address(facts, settings)):
        return _logged_by_bcc(facts, ctx, allowed, known, blocked)

    reason = classify(facts)
    if reason is not None:
        return Decision(False, reason, "R17")
    if not others or (
        settings.colleague_domains
        and all(domain_of(a.email) in settings.colleague_domains for a in others)
    ):
        return Decision(False, "internal_only", "R17")

    thread = ctx.thread
    if thread is not None and thread.tracked:
        verdict = compare_subject(facts, thread)
        details = verdict.details
        if not verdict.kept:
            if settings.mode == "all_with_contacts" and known:
                return Decision(
                    True,
                    "contact_email",
                    "R5",
                    known,
                    new_thread=True,
                    never_logged=blocked,
                    details=details,
                )
            return Decision(
                False,
                "subject_changed",
                "R4",
                new_thread=True,
                never_logged=blocked,
                details=details,
            )
        ids = list(known)
        if not outbound and facts.from_.email not in ctx.contacts:
            ids.extend(thread.contact_ids)
        if not ids and blocked:
            return Decision(False, "never_log", "R16", never_logged=blocked)
        if not ids:
            ids.extend(thread.contact_ids)
        return Decision(
            True,
            "reply_in_tracked_thread",
            "R3",
            _unique(ids),
            track_thread=True,
            never_logged=blocked,
            details=details,
        )

    if not known:
        if any(email in ctx.contacts for email in blocked):
            return Decision(False, "never_log", "R16", never_logged=blocked)
        return Decision(False, "no_contact_participant", "R6", never_logged=blocked)
    if settings.mode == "replies_only":
        return Decision(
            False,
            "not_in_tracked_thread",
            "R5",
            known,
            never_logged=blocked,
            details=_untracked_reply(facts, settings.bcc_address),
        )
    return Decision(True, "contact_email", "R5", known, never_logged=blocked)


def _untracked_reply(facts: HeaderFacts, logging_address: str | None) -> dict[str, str]:
    """What Why? needs to tell a reply in a thread that is not tracked from a new
    email: the message it answers and the logging address its thread lacked."""
    answers = facts.in_reply_to[:1] or facts.references[-1:]
    if not answers:
        return {}
    return {"answers": f"<{answers[0]}>", "logging_address": logging_address or ""}


def _logged_by_bcc(
    facts: HeaderFacts,
    ctx: RuleContext,
    allowed: list[Address],
    known: tuple[int, ...],
    blocked: tuple[str, ...],
) -> Decision:
    rule = "R7" if facts.in_reply_to and not (ctx.thread and ctx.thread.tracked) else "R2"
    colleagues = ctx.settings.colleague_domains
    customers = [a for a in allowed if domain_of(a.email) not in colleagues]
    if not customers and not known:
        reason = "never_log" if blocked else "internal_only"
        return Decision(False, reason, "R16" if blocked else "R17", never_logged=blocked)
    # Colleagues on Cc are participants, not customers: no contact is made for them.
    new_contacts = tuple(a for a in customers if a.email not in ctx.contacts)
    if facts.log_flag:
        reason, details = "log_flag", {"log_flag": "yes"}
    else:
        reason, details = "bcc_address", {"bcc": ctx.settings.bcc_address or ""}
    return Decision(
        True,
        reason,
        rule,
        known,
        new_contacts=new_contacts,
        track_thread=True,
        never_logged=blocked,
        details=details,
    )
